"""The adaptive configuration (HPM-KD component i) against a grid-searched baseline.

Question: does ``HPMDistiller()`` with no tuning at all match a KD baseline whose
student was tuned by a grid search, and at what cost in fit time? And what does a
memory of past experiments on other datasets change?

Datasets: five of the benchmark suite (``benchmarks/datasets.py``): hpc_data,
mlc_churn, credit_data, email and digits, each a stratified sample of at most
:data:`MAX_ROWS` rows. Per seed a stratified 75/25 train/test split; the test rows
are only scored, never used to choose anything.

The prior that ships with the package was made on other datasets
(``PRIOR_DATASETS``, ``benchmarks/make_prior.py``): every dataset here is a task
the shipped ranker has never seen, so no leave-one-out of the prior is needed
(:func:`check_prior_is_disjoint` asserts it).

Configurations, all with the default teacher (``teachers=None``, a
HistGradientBoostingClassifier fitted and cross-fitted by the distiller):

- ``default``: ``HPMDistiller(random_state=seed)``: the ranking, then
  successive halving with the default ``search_budget=12``; its evaluations are
  recorded in a memory of D.
- ``no search``: ``search_budget=None``: the best ranked candidate alone.
- ``warm memory``: the default with ``memory=`` holding the ``default``
  evaluations of the other datasets, same seed (leave one dataset out).
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
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from skdistill import HPMDistiller, OptimizationMemory, _configure
from skdistill._candidates import Candidate

from .common import RESULTS, log, one_thread, write_json
from .datasets import DATASETS as SUITE
from .datasets import load

COMMAND = "python -m benchmarks.configure"
DATASETS = ("hpc_data", "mlc_churn", "credit_data", "email", "digits")
MAX_ROWS = 3_000
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


def check_prior_is_disjoint(datasets):
    """Fail when the shipped prior holds experiments on one of ``datasets``."""
    tasks = {e["extra"]["task"].split("@")[0] for e in _configure.load_prior()}
    overlap = tasks & set(datasets)
    if overlap:
        raise RuntimeError(f"the prior was made on {sorted(overlap)}: regenerate it "
                           "with python -m benchmarks.make_prior")


def fit_and_score(params, data):
    """Fit one distiller; its test accuracy, fit time and chosen configuration."""
    X_train, y_train, X_test, y_test = data
    start = time.perf_counter()
    distiller = HPMDistiller(n_jobs=1, **params).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    report = distiller.report_
    return {
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
    check_prior_is_disjoint(datasets)
    records, memories, splits = [], {}, {}
    for name, seed in itertools.product(datasets, seeds):
        X, y, _ = load(name, max_rows=MAX_ROWS, random_state=seed)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed)
        splits[name, seed] = (X_train, y_train, X_test, y_test)
        memories[name, seed] = OptimizationMemory(Path(folder) / f"{name}-{seed}.db")
        records.append(_record(name, seed, "default", fit_and_score(
            {"random_state": seed, "memory": memories[name, seed]},
            splits[name, seed])))
        records.append(_record(name, seed, "no search", fit_and_score(
            {"random_state": seed, "search_budget": None}, splits[name, seed])))
    for name, seed in itertools.product(datasets, seeds):
        warm = merged_memory(
            Path(folder) / f"warm-{name}-{seed}.db",
            [memory for (other, s), memory in memories.items()
             if other != name and s == seed])
        family = next(r for r in records if r["dataset"] == name
                      and r["seed"] == seed and r["config_name"] == "default"
                      )["config"]["family"]
        records.append(_record(name, seed, "warm memory", fit_and_score(
            {"random_state": seed, "memory": warm}, splits[name, seed])))
        records.append(_record(name, seed, f"grid ({family})", grid_search(
            family, seed, splits[name, seed])))
    return records


def _record(name, seed, config_name, result):
    record = {"dataset": name, "seed": seed, "config_name": config_name, **result}
    summary = {k: v for k, v in record.items() if k != "grid"}
    log(json.dumps(summary))
    return record


def _chosen(config):
    config = config or {}
    training = "".join(f" {key}={config[key]}" for key in ("learning_rate", "epochs")
                       if key in config)
    return (f"{config.get('family')} {tuple(config.get('size', ()))} "
            f"T={config.get('temperature')} a={config.get('alpha')}{training}")


def summary(records):
    """A markdown table: per dataset and configuration, mean ± std over seeds."""
    names = list(dict.fromkeys(r["config_name"].split(" (")[0] for r in records))
    lines = ["| dataset | teacher | " + " | ".join(names) + " |",
             "|---|---|" + "---|" * len(names)]
    for dataset in dict.fromkeys(r["dataset"] for r in records):
        rows = [r for r in records if r["dataset"] == dataset]
        teacher = [r["teacher_test_accuracy"] for r in rows
                   if r["config_name"] == "default"]
        cells = []
        for name in names:
            chosen = [r for r in rows if r["config_name"].split(" (")[0] == name]
            accuracy = [100 * r["test_accuracy"] for r in chosen]
            seconds = [r["fit_s"] for r in chosen]
            cells.append(f"{np.mean(accuracy):.1f} ± {np.std(accuracy):.1f} "
                         f"({np.mean(seconds):.0f} s)")
        lines.append(f"| {dataset} | {100 * np.mean(teacher):.1f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def table(records):
    """A markdown table: one row per dataset, seed and configuration."""
    lines = ["| dataset | seed | configuration | chosen | test accuracy | "
             "teacher | fidelity | student bytes | fit s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        lines.append(
            f"| {r['dataset']} | {r['seed']} | {r['config_name']} | "
            f"{_chosen(r['config'])} | {r['test_accuracy']:.4f} | "
            f"{r['teacher_test_accuracy']:.4f} | {r['test_fidelity']:.4f} | "
            f"{r['student_bytes']} | {r['fit_s']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run the benchmark and write its results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS),
                        choices=sorted(SUITE))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    args = parser.parse_args(argv)
    with one_thread(), tempfile.TemporaryDirectory() as folder:
        records = run(args.datasets, args.seeds, folder)
    write_json(RESULTS / "configure.json", {"command": COMMAND, "records": records},
               indent=1)
    text = (f"Command: `{COMMAND}`\n\nTest accuracy (%), mean ± std over seeds "
            f"{args.seeds}, and mean fit seconds:\n\n{summary(records)}\n"
            f"Every fit:\n\n{table(records)}")
    (RESULTS / "configure.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
