"""HPMRegressor's progressive chain: does it pay at a large capacity gap?

Per dataset and seed: a 75/25 split; a 300-tree random forest teacher fitted
once on the training rows and given through ``FrozenEstimator`` (predicting
the training rows as it is); then ``HPMRegressor`` with the same teacher,
split and seed, ``augment=None``, and each ``chain`` of :data:`CHAINS`, for
two small students (a LightGBM of 20 rounds of 4 leaves, a tree of depth 3).
Test R² and fidelity (R² against the teacher's test predictions), and the fit
time relative to ``chain=False`` in the same run. One thread.

Datasets: make_friedman1 (2,000 rows) and Ecdat/Cigar sales (1,380 rows), both
outside the regression suite.

Run::

    nice -n 10 python -m benchmarks.regression_chain

Results: ``results/regression_chain.json`` (printed as a table).
"""

import time

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

from skdistill import HPMRegressor
from skdistill.students import LGBMRegressionStudent, TreeRegressionStudent

from .common import RESULTS, load_average, log, mean_std, one_thread, write_json
from .make_regression_prior import RegressionDataset, load_regression

COMMAND = "nice -n 10 python -m benchmarks.regression_chain"
DATASETS = {
    "friedman1": RegressionDataset("sklearn/make_friedman1", "target",
                                   "synthetic, 2,000 rows"),
    "cigar": RegressionDataset("Ecdat/Cigar", "sales",
                               "cigarette sales per state and year"),
}
STUDENTS = {"lgbm(20x4)": lambda: LGBMRegressionStudent(n_estimators=20,
                                                        num_leaves=4),
            "tree(d3)": lambda: TreeRegressionStudent(max_depth=3)}
CHAINS = (False, 1, 2, "auto")
SEEDS = (0, 1, 2)


def run(name, seed):
    """Every student and chain on one split of one dataset."""
    X, y = load_regression(name, DATASETS)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed)
    teacher = RandomForestRegressor(n_estimators=300, random_state=seed,
                                    n_jobs=1).fit(X_train, y_train)
    teacher_test = teacher.predict(X_test)
    rows = []
    for student_name, make in STUDENTS.items():
        for chain in CHAINS:
            started = time.perf_counter()
            fitted = HPMRegressor(FrozenEstimator(teacher), make(), chain=chain,
                                  augment=None, n_jobs=1,
                                  random_state=seed).fit(X_train, y_train)
            predicted = fitted.predict(X_test)
            rows.append({
                "dataset": name, "seed": seed, "student": student_name,
                "chain": str(chain), "fit_s": time.perf_counter() - started,
                "r2": r2_score(y_test, predicted),
                "fidelity": r2_score(teacher_test, predicted),
                "n_assistants": len(fitted.report_.details["chain"]) - 1})
    log(f"{name} seed {seed} done")
    return rows


def summary(rows):
    """Per dataset, student and chain: R², fidelity and time against False."""
    table = []
    keys = dict.fromkeys((r["dataset"], r["student"]) for r in rows)
    for dataset, student in keys:
        mine = [r for r in rows if (r["dataset"], r["student"]) == (dataset,
                                                                   student)]
        base = {r["seed"]: r for r in mine if r["chain"] == "False"}
        for chain in map(str, CHAINS):
            these = [r for r in mine if r["chain"] == chain]
            table.append({
                "dataset": dataset, "student": student, "chain": chain,
                "r2": mean_std([r["r2"] for r in these]),
                "r2_minus_none": mean_std([r["r2"] - base[r["seed"]]["r2"]
                                           for r in these]),
                "fidelity": mean_std([r["fidelity"] for r in these]),
                "time_ratio": float(np.median([r["fit_s"] / base[r["seed"]]
                                               ["fit_s"] for r in these])),
                "assistants": sorted({r["n_assistants"] for r in these})})
    return table


def main():
    before = load_average()
    with one_thread():
        rows = [row for name in DATASETS for seed in SEEDS
                for row in run(name, seed)]
    table = summary(rows)
    after = load_average()
    write_json(RESULTS / "regression_chain.json", {
        "command": COMMAND, "load_average": {"before": before, "after": after},
        "rows": rows, "summary": table})
    print(f"load average before {before}, after {after}")
    print("| dataset | student | chain | test R² | R² - chain=False | fidelity "
          "| fit time / chain=False | assistants |")
    print("|---|---|---|---|---|---|---|---|")
    for row in table:
        print(f"| {row['dataset']} | {row['student']} | {row['chain']} | "
              f"{row['r2']['mean']:.4f} ± {row['r2']['std']:.4f} | "
              f"{row['r2_minus_none']['mean']:+.4f} ± "
              f"{row['r2_minus_none']['std']:.4f} | "
              f"{row['fidelity']['mean']:.4f} | {row['time_ratio']:.1f}x | "
              f"{row['assistants']} |")


if __name__ == "__main__":
    main()
