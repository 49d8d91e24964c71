"""The epoch-time benchmark runs end to end on a tiny problem and writes its JSON."""

import json

import pytest

from benchmarks import epoch_time

pytestmark = pytest.mark.slow  # a benchmark run, end to end


def test_writes_both_timings_and_the_ratio(tmp_path):
    out = tmp_path / "epoch_time.json"
    returned = epoch_time.main(["--rows", "300", "--features", "5", "--classes", "3",
                                "--hidden", "8", "--epochs", "2", "--repeats", "2",
                                "--out", str(out)])
    written = json.loads(out.read_text())
    assert written == json.loads(json.dumps(returned))
    for side in ("library", "bare", "bare_default_adam"):
        timing = written["results"][side]
        assert timing["epoch_s_median"] > 0
        assert len(timing["epoch_s_median_per_repeat"]) == 2
    assert written["ratio_library_to_bare"] > 0
    assert written["within_target"] == (
        written["ratio_library_to_bare"] <= written["target"])
    assert written["config"]["epochs"] == 2
