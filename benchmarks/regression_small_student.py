"""A smaller default regression student, on datasets the suite does not score.

On ``regression_auto.py``'s four held-out regression datasets (neither the
regression prior nor the regression suite uses them): per dataset and seed, a
75/25 split, then ``HPMRegressor`` with the default teacher
(HistGradientBoosting) and two students, each distilled (every default) and
direct (``alpha=0``): ``"lgbm"`` (``LGBMRegressionStudent()``, 100 rounds of
15 leaves at learning rate 0.1) and ``LGBMRegressionStudent(n_estimators=20,
learning_rate=0.3)``. One thread; test R² of each.

Run::

    nice -n 10 python -m benchmarks.regression_small_student

Results: ``results/regression_small_student.json`` (printed as a table).
"""

from sklearn.model_selection import train_test_split

from skdistill import HPMRegressor, LGBMRegressionStudent

from .common import RESULTS, log, mean_std, rows_by_dataset, write_json
from .make_regression_prior import load_regression
from .regression_auto import DATASETS, held_out_rows

COMMAND = "nice -n 10 python -m benchmarks.regression_small_student"
STUDENTS = {"100x15": "lgbm",
            "20x15": LGBMRegressionStudent(n_estimators=20, learning_rate=0.3)}


def run(name, seed):
    """Each student, distilled and direct, on one split of one dataset."""
    X, y = load_regression(name, DATASETS)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed)
    row = {"dataset": name, "seed": seed}
    for label, student in STUDENTS.items():
        for kind, params in (("distilled", {}), ("direct", {"alpha": 0.0})):
            fitted = HPMRegressor(student=student, n_jobs=1, random_state=seed,
                                  **params).fit(X_train, y_train)
            row[f"{label}_{kind}"] = fitted.score(X_test, y_test)
    log(f"{name} seed {seed}: " + ", ".join(
        f"{key} {value:.4f}" for key, value in row.items()
        if key not in ("dataset", "seed")))
    return row


def main(argv=None):
    rows, before, after = held_out_rows(run, argv, __doc__.splitlines()[0])
    columns = [f"{label}_{kind}" for label in STUDENTS
               for kind in ("distilled", "direct")]
    table = {name: {column: mean_std([r[column] for r in mine])
                    for column in columns}
             for name, mine in rows_by_dataset(rows).items()}
    write_json(RESULTS / "regression_small_student.json", {
        "command": COMMAND, "load_average": {"before": before, "after": after},
        "rows": rows, "summary": table})
    print(f"load average before {before}, after {after}")
    print("| dataset | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(
            f"{row[c]['mean']:.4f} ± {row[c]['std']:.4f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
