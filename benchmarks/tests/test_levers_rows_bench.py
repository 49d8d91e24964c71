"""The levers_rows benchmark runs end to end on a tiny subset, writes its files."""

import json

import pytest

pytest.importorskip("pandas")

from benchmarks import levers_rows  # noqa: E402

pytestmark = pytest.mark.slow  # a benchmark run, end to end


def test_every_method_on_digits(tmp_path):
    returned = levers_rows.main([
        "--datasets", "digits", "--seeds", "0", "--max-rows", "300",
        "--teacher-estimators", "3", "--width", "4", "--out", str(tmp_path)])
    written = json.loads((tmp_path / "levers_rows.json").read_text())
    assert written == json.loads(json.dumps(returned))
    assert [f["method"] for f in written["fits"]] == list(levers_rows.METHODS)
    by = {f["method"]: f for f in written["fits"]}
    assert by["all"]["final_rows"]["refit"]
    assert by["ratio_auto"]["chosen_ratio"] in (None, 4.0, 16.0, 64.0)
    summary = {row["method"]: row for row in written["summary"]}
    assert summary["baseline"]["delta"] == [0.0]
    assert "| digits |" in (tmp_path / "levers_rows.md").read_text()
