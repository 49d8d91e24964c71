"""Prefit teachers fitted on the rows given to ``fit``: cross-fitted or as they are?

The way most people call the library: an XGBoost teacher (400 trees) already
fitted on the very training rows then given to ``HPMDistiller.fit``, through
``FrozenEstimator``. ``prefit_teachers="as_is"`` (the only behaviour before issue
14) labels those rows with the teacher itself, which mostly repeats the hard
labels; ``"cross_fit"`` (the default) labels them with copies of its unfitted
twin fitted on the other folds. Beside them, on the same rows: the same student
trained on the hard labels alone (``alpha=0``, "direct") and a LightGBM of 50
trees x 15 leaves trained directly on all the training rows.

Two fixed students, each in its three rows: an MLP with one hidden layer of 32
units, and a LightGBM student of the LightGBM baseline's size (50 trees x 15
leaves, learning the soft targets); the fit has no synthetic rows and no chain,
so that the rows differ only by their targets.
Protocol: per seed, a stratified sample of ``--max-rows`` rows, a stratified
75/25 split (the suite's ``Split``), everything fitted on the 75 % and scored on
the 25 % only; one thread.

Run::

    nice -n 10 python -m benchmarks.prefit_oof                 # 3 datasets x 3 seeds
    python -m benchmarks.prefit_oof --datasets email --seeds 0

Results: ``results/prefit_oof.json`` (every fit) and ``results/prefit_oof.md``.
"""

import time

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.frozen import FrozenEstimator
from xgboost import XGBClassifier

from skdistill import HPMDistiller, LGBMStudent, MLPStudent

from .common import (
    RESULTS,
    log,
    mean_std,
    pct,
    run_seeded,
)
from .datasets import load
from .suite.fit import Split, warm_up

COMMAND = "nice -n 10 python -m benchmarks.prefit_oof"
DATASETS = ("diamonds", "hpc_data", "email")
STUDENTS = {"mlp": lambda seed: MLPStudent(hidden_layer_sizes=(32,)),
            "lgbm": lambda seed: LGBMStudent(n_estimators=50, num_leaves=15,
                                             random_state=seed)}
FIXED = {"augment": None, "chain": False}
DISTILLED = {"as_is": {"prefit_teachers": "as_is"},
             "cross_fit": {"prefit_teachers": "cross_fit"},
             # the student alone on the hard labels (its targets are unused)
             "direct": {"alpha": 0.0, "prefit_teachers": "as_is"}}
METHODS = ("teacher", "lgbm_50x15",
           *(f"{student} {method}" for student in STUDENTS for method in DISTILLED))


def run_seed(name, seed, max_rows):
    """Every method on one dataset and seed: test accuracy and fit seconds."""
    X, y, _ = load(name, max_rows, random_state=seed)
    split = Split(X, y, seed, latency_rows=1)
    started = time.perf_counter()
    teacher = XGBClassifier(n_estimators=400, n_jobs=1, random_state=seed,
                            enable_categorical=True, tree_method="hist").fit(
        split.X_train, split.y_train)
    fits = {"teacher": (teacher, time.perf_counter() - started)}
    started = time.perf_counter()
    lgbm = LGBMClassifier(n_estimators=50, num_leaves=15, n_jobs=1,
                          random_state=seed, verbose=-1).fit(split.X_train,
                                                             split.y_train)
    fits["lgbm_50x15"] = (lgbm, time.perf_counter() - started)
    for student, make_student in STUDENTS.items():
        for method, params in DISTILLED.items():
            distiller = HPMDistiller(FrozenEstimator(teacher),
                                     student=make_student(seed), n_jobs=1,
                                     random_state=seed, **FIXED, **params)
            started = time.perf_counter()
            fits[f"{student} {method}"] = (
                distiller.fit(split.X_train, split.y_train),
                time.perf_counter() - started)
    row = {"dataset": name, "seed": seed, "n_train": len(split.y_train),
           "n_test": len(split.y_test)}
    for method, (model, seconds) in fits.items():
        row[method] = {"accuracy": float(model.score(split.X_test, split.y_test)),
                       "fit_s": seconds}
    log(f"{name} seed {seed}: " + ", ".join(
        f"{m} {row[m]['accuracy']:.4f}" for m in METHODS))
    return row


def summarise(rows):
    """Per dataset: accuracies, paired differences and fit-time ratios."""
    summary = {}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]

        def acc(method, mine=mine):
            return np.array([r[method]["accuracy"] for r in mine])

        def diff(a, b):
            return mean_std(acc(a) - acc(b))

        summary[name] = {"accuracy": {m: mean_std(acc(m)) for m in METHODS}}
        for student in STUDENTS:
            s = f"{student} "
            summary[name][student] = {
                "cross_fit - as_is": diff(s + "cross_fit", s + "as_is"),
                "cross_fit - direct": diff(s + "cross_fit", s + "direct"),
                "as_is - direct": diff(s + "as_is", s + "direct"),
                "cross_fit - lgbm_50x15": diff(s + "cross_fit", "lgbm_50x15"),
                "as_is - lgbm_50x15": diff(s + "as_is", "lgbm_50x15"),
                "teacher - direct": diff("teacher", s + "direct"),
                "fit_s ratio cross_fit / as_is": float(np.median(
                    [r[s + "cross_fit"]["fit_s"] / r[s + "as_is"]["fit_s"]
                     for r in mine])),
            }
    return summary


def render(document):
    """The markdown of ``results/prefit_oof.md``."""
    lines = [
        "# Prefit teachers: cross-fitted (`prefit_teachers=\"cross_fit\"`) or as "
        "they are (`\"as_is\"`)", "",
        "Written by `benchmarks/prefit_oof.py` (its docstring gives the protocol). "
        "A 400-tree XGBoost teacher fitted on the training rows, given through "
        "`FrozenEstimator`; two fixed students, `MLPStudent(hidden_layer_sizes="
        "(32,))` and `LGBMStudent(n_estimators=50, num_leaves=15)`, "
        "`augment=None`, `chain=False`; direct = the same distiller with "
        "`alpha=0` (hard labels only); LightGBM 50x15 = `LGBMClassifier` of 50 "
        "trees x 15 leaves on the hard labels. Test accuracy in %, mean ± std "
        "over seeds "
        f"{document['seeds']}, {document['max_rows']} rows per dataset (75/25 "
        "split); differences are paired by seed, in points.", "",
        f"- command: `{document['command']}`",
        f"- commit: `{document['library']['commit']}`",
        f"- machine load before / after (`uptime`): `{document['uptime_before']}` "
        f"/ `{document['uptime_after']}`",
        f"- wall time: {document['wall_s'] / 60:.1f} min", "",
        "| dataset | XGB teacher | LightGBM 50x15 | "
        + " | ".join(f"{s} {m}" for s in STUDENTS for m in DISTILLED) + " |",
        "|---|---|---|" + "---|" * (len(STUDENTS) * len(DISTILLED)),
    ]
    for name, s in document["summary"].items():
        lines.append(f"| {name} | " + " | ".join(
            pct(s["accuracy"][m]) for m in METHODS) + " |")
    lines += ["", "Differences (points, paired by seed; LightGBM = the 50x15 "
              "`LGBMClassifier` on the hard labels):", "",
              "| dataset | student | cross_fit − as_is | cross_fit − direct | as_is − "
              "direct | cross_fit − LightGBM | as_is − LightGBM | teacher − direct "
              "| fit time cross_fit / as_is (median) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, s in document["summary"].items():
        for student in STUDENTS:
            d = s[student]
            lines.append(f"| {name} | {student} | " + " | ".join(
                pct(d[k], signed=True) for k in (
                    "cross_fit - as_is", "cross_fit - direct", "as_is - direct",
                    "cross_fit - lgbm_50x15", "as_is - lgbm_50x15",
                    "teacher - direct"))
                + f" | {d['fit_s ratio cross_fit / as_is']:.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    return run_seeded(argv, description=__doc__.splitlines()[0], command=COMMAND,
                      datasets=DATASETS, max_rows=3000, output="prefit_oof",
                      run_seed=run_seed, render=render, results=RESULTS,
                      before=warm_up, summarise=summarise)


if __name__ == "__main__":
    main()
