"""The small_data_time benchmark runs end to end on one case, and pairs seeds."""

import pytest

from benchmarks import small_data_time


def test_paired_compares_each_library_with_the_first_by_seed():
    rows = [{"library": lib, "dataset": "d", "seed": seed, "n_train": 10,
             "fit_s": fit, "test_accuracy": acc, "n_search_fits": 1}
            for lib, seed, fit, acc in (("a", 0, 4.0, 0.9), ("a", 1, 2.0, 0.8),
                                        ("b", 0, 1.0, 0.8), ("b", 1, 1.0, 0.9))]
    base, new = small_data_time.paired(rows, ["a", "b"])
    assert base["fit_ratio_median"] == 1.0 and base["accuracy_diff_mean"] == 0.0
    assert new["fit_ratio_median"] == pytest.approx(0.375)
    assert new["accuracy_diff_mean"] == pytest.approx(0.0)


@pytest.mark.slow  # a benchmark run, end to end
def test_small_data_time_on_breast_cancer(tmp_path):
    document = small_data_time.main(
        ["--datasets", "breast_cancer", "--seeds", "0", "--libraries", ".",
         "--output", str(tmp_path / "small")])
    (row,) = document["rows"]
    assert row["n_train"] == 398 and row["n_search_fits"] <= 4
    assert "| breast_cancer | 398 |" in (tmp_path / "small.md").read_text()
