"""The augment='auto' benchmark runs end to end on a tiny subset, writes its files."""

import json

import pytest

pytest.importorskip("pandas")

from benchmarks import augment_auto  # noqa: E402

pytestmark = pytest.mark.slow  # a benchmark run, end to end


def test_small_setting_on_digits(tmp_path):
    returned = augment_auto.main([
        "--setting", "small", "--datasets", "digits", "--seeds", "0",
        "--max-rows", "300", "--teacher-estimators", "3", "--out", str(tmp_path)])
    written = json.loads((tmp_path / "augment_auto.json").read_text())
    assert written == json.loads(json.dumps(returned))
    assert [f["method"] for f in written["fits"]] == list(augment_auto.METHODS["small"])
    auto = [f for f in written["fits"] if f["method"] == "auto"][0]
    assert auto["chosen"] in ("munge", None)
    assert (auto["n_synthetic_rows"] > 0) == (auto["chosen"] == "munge")
    summary = {row["method"]: row for row in written["summary"]}
    assert summary["default"]["delta_vs_default"] == 0.0
    assert summary["auto"]["munge_chosen"] == int(auto["chosen"] == "munge")
    assert "| digits |" in (tmp_path / "augment_auto.md").read_text()
