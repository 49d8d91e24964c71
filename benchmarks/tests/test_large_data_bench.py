"""The large-data benchmark's noisy copies and the under-load summary (no timing)."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from benchmarks import large_data, under_load  # noqa: E402


def test_repeated_with_noise_keeps_the_original_then_noisy_copies():
    X = pd.DataFrame({"a": [1, 2, 3, np.nan], "b": [0.5, 1.5, 2.5, 3.5],
                      "c": pd.Categorical(["x", "y", "x", "y"])})
    y = np.array([0, 1, 0, 1])
    X_big, y_big = large_data.repeated_with_noise(X, y, 10, seed=0)
    assert X_big.shape == (10, 3) and y_big.tolist() == [0, 1, 0, 1] * 2 + [0, 1]
    np.testing.assert_array_equal(X_big["a"][:4], X["a"].astype(float))
    assert X_big["c"].dtype == "category"
    assert (X_big["c"].to_numpy() == np.tile(X["c"].to_numpy(), 3)[:10]).all()
    assert np.isnan(X_big["a"][7])  # NaN stays NaN in the copies
    moved = np.abs(X_big["b"][4:8].to_numpy() - X["b"].to_numpy())
    assert (moved > 0).all() and (moved < 0.1).all()  # 1 % of the std (1.29)


def test_under_load_summary_takes_medians_and_ratios():
    records = [{"fit": "demo", "state": state, "seconds": seconds,
                "phases_s": {"teachers": seconds / 2}}
               for state, seconds in (("idle", 10.0), ("idle", 12.0),
                                      ("loaded", 22.0), ("loaded", 30.0))]
    summary = under_load.summarise(records)["demo"]
    assert summary["idle_s"] == 11.0 and summary["loaded_s"] == 26.0
    assert summary["ratio"] == pytest.approx(26 / 11)
    assert summary["phases"]["teachers"]["ratio"] == pytest.approx(26 / 11)
