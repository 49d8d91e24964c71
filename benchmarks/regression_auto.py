"""HPMRegressor's default student: is ``"auto"`` (the search) worth it over ``"lgbm"``?

On regression datasets that neither the regression prior
(``make_regression_prior``) nor the regression suite uses: per dataset and
seed, a 75/25 split, then ``HPMRegressor(student="auto")`` and
``HPMRegressor(student="lgbm")`` with every other parameter at its default
(the default teacher, HistGradientBoosting), one thread; test R², the ratio
of the two fit times, the chosen student.

Run::

    nice -n 10 python -m benchmarks.regression_auto

Results: ``results/regression_auto.json`` (printed as a table).
"""

import argparse
import time

import numpy as np
from sklearn.model_selection import train_test_split

from skdistill import HPMRegressor

from .common import RESULTS, load_average, log, mean_std, one_thread, write_json
from .make_regression_prior import RegressionDataset, load_regression

COMMAND = "nice -n 10 python -m benchmarks.regression_auto"
DATASETS = {
    "wages1": RegressionDataset("Ecdat/Wages1", "wage",
                                "US hourly wages 1980s, 3,294 rows"),
    "salaries": RegressionDataset("carData/Salaries", "salary",
                                  "professors' salaries, 397 rows, categories"),
    "cigar": RegressionDataset("Ecdat/Cigar", "sales",
                               "cigarette sales per state and year, 1,380 rows"),
    "friedman2": RegressionDataset("sklearn/make_friedman2", "target",
                                   "synthetic: 2,000 rows, 4 features"),
}
STUDENTS = ("lgbm", "auto")
SEEDS = (0, 1, 2)


def run(name, seed):
    """Both students on one split of one dataset."""
    X, y = load_regression(name, DATASETS)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed)
    row = {"dataset": name, "seed": seed}
    for student in STUDENTS:
        started = time.perf_counter()
        fitted = HPMRegressor(student=student, n_jobs=1,
                              random_state=seed).fit(X_train, y_train)
        row[f"{student}_s"] = time.perf_counter() - started
        row[f"{student}_r2"] = fitted.score(X_test, y_test)
        row[f"{student}_student"] = type(fitted.student_[-1]).__name__
    row["auto_source"] = fitted.report_.details["configuration"].get("source")
    log(f"{name} seed {seed}: auto {row['auto_r2']:.4f} "
        f"({row['auto_student']}, {row['auto_s']:.1f} s), lgbm "
        f"{row['lgbm_r2']:.4f} ({row['lgbm_s']:.1f} s)")
    return row


def summary(rows):
    """Per dataset: R² of each, the difference auto - lgbm, the time ratio."""
    table = {}
    for name in dict.fromkeys(row["dataset"] for row in rows):
        mine = [row for row in rows if row["dataset"] == name]
        table[name] = {
            "lgbm_r2": mean_std([r["lgbm_r2"] for r in mine]),
            "auto_r2": mean_std([r["auto_r2"] for r in mine]),
            "auto_minus_lgbm": mean_std([r["auto_r2"] - r["lgbm_r2"]
                                         for r in mine]),
            "time_ratio": float(np.median([r["auto_s"] / r["lgbm_s"]
                                           for r in mine])),
            "auto_students": sorted({r["auto_student"] for r in mine})}
    return table


def held_out_rows(run_one, argv, description):
    """``run_one(name, seed)`` on each held-out dataset and seed the command
    line asks for (``--datasets``, ``--seeds``), one thread; the rows and the
    load averages before and after."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS),
                        choices=list(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    args = parser.parse_args(argv)
    before = load_average()
    with one_thread():
        rows = [run_one(name, seed) for name in args.datasets
                for seed in args.seeds]
    return rows, before, load_average()


def main(argv=None):
    rows, before, after = held_out_rows(run, argv, __doc__.splitlines()[0])
    table = summary(rows)
    write_json(RESULTS / "regression_auto.json", {
        "command": COMMAND, "load_average": {"before": before, "after": after},
        "rows": rows, "summary": table})
    print(f"load average before {before}, after {after}")
    print("| dataset | lgbm R² | auto R² | auto - lgbm | fit time auto/lgbm "
          "| auto's students |")
    print("|---|---|---|---|---|---|")
    for name, row in table.items():
        print(f"| {name} | {row['lgbm_r2']['mean']:.4f} ± {row['lgbm_r2']['std']:.4f}"
              f" | {row['auto_r2']['mean']:.4f} ± {row['auto_r2']['std']:.4f} | "
              f"{row['auto_minus_lgbm']['mean']:+.4f} ± "
              f"{row['auto_minus_lgbm']['std']:.4f} | {row['time_ratio']:.1f}x | "
              f"{', '.join(row['auto_students'])} |")


if __name__ == "__main__":
    main()
