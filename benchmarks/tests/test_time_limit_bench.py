"""The time_limit benchmark runs end to end on a tiny subset."""

import pytest

pytest.importorskip("pandas")

from benchmarks import time_limit  # noqa: E402

pytestmark = pytest.mark.slow  # a benchmark run, end to end


def test_time_limit_on_digits(tmp_path):
    document = time_limit.main(["--datasets", "digits", "--limits", "0.001",
                                "--max-rows", "300",
                                "--output", str(tmp_path / "time_limit")])
    unlimited, limited = document["rows"]
    assert unlimited["limit_s"] is None and unlimited["cut"] == []
    assert limited["ratio_to_limit"] == pytest.approx(limited["fit_s"] / 0.001)
    assert any(cut.startswith("configuration search") for cut in limited["cut"])
    assert "| digits | 0.001 |" in (tmp_path / "time_limit.md").read_text()
