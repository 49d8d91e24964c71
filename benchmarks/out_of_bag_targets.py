"""Out-of-bag targets against cross-fitted copies, with the student fixed.

One prefit teacher, the suite's random forest (``OrdinalEncoder`` then
``RandomForestClassifier``, 100 trees) fitted on the training rows, given
through ``FrozenEstimator`` with ``prefit_teachers="cross_fit"``; a fixed
student (``LGBMStudent(50, 15)`` or ``MLPStudent((32,))``), ``augment=None``,
so that only the targets differ. Three ways to label the training rows:

- ``copies``: five cross-fitted copies (the library before ``_out_of_bag``);
- ``oob1x``: the library's default, one forest fitted on every row
  with the teacher's 100 trees, its out-of-bag outputs (each row labelled by
  about 37 trees);
- ``matched``: the same with :func:`matched_trees` trees (each row labelled
  by about 100; the default from commit ``830607a`` until the switch to the
  teacher's count, 2026-11-28).

The process cache of teacher outputs is cleared between the ways (it keys on
the teacher and the rows, not on how they were labelled). Medium-suite
datasets (2,000-row samples, the suite's 75/25 split), seeds 0-2.

Run::

    nice -n 5 python -m benchmarks.out_of_bag_targets --student lgbm
    nice -n 5 python -m benchmarks.out_of_bag_targets --student mlp

Results: ``results/out_of_bag_targets_<student>.json``.
"""

import argparse
import json
import math
import warnings
from pathlib import Path

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

from skdistill import (
    HPMDistiller,
    LGBMStudent,
    MLPStudent,
    _out_of_bag,
    _teacher_outputs,
)

from .datasets import load
from .suite.fit import make_teachers

RESULTS = Path(__file__).parent / "results"
DATASETS = ("wa_churn", "mlc_churn", "credit_data", "stackoverflow", "hpc_data",
            "diamonds", "caravan", "digits", "email", "flights")
WAYS = ("copies", "oob1x", "matched")


def labelled_by(way, monkeypatch_targets):
    """Set the library to label the forest's rows ``way``."""
    capable, trees = monkeypatch_targets
    _teacher_outputs.out_of_bag_capable = (
        (lambda template, n_rows: False) if way == "copies" else capable)
    # _out_of_bag reads the count through its own module's name
    _out_of_bag.out_of_bag_trees = matched_trees if way == "matched" else trees
    _teacher_outputs.PROCESS_CACHE.clear()


def matched_trees(template, n_rows):
    """Enough trees that each of ``n_rows`` rows is left out of as many, on
    average, as the template's forest has (about 2.7x)."""
    forest = _out_of_bag._forest_step(template)
    return math.ceil(forest.n_estimators
                     / _out_of_bag._left_out_fraction(forest, n_rows))


def student_of(name):
    """The fixed student."""
    if name == "lgbm":
        return LGBMStudent(n_estimators=50, num_leaves=15)
    return MLPStudent(hidden_layer_sizes=(32,))


def run(student, datasets, seeds=(0, 1, 2)):
    """Test accuracy per dataset, seed and way."""
    originals = (_out_of_bag.out_of_bag_capable, _out_of_bag.out_of_bag_trees)
    rows = []
    try:
        for name in datasets:
            for seed in seeds:
                X, y, _ = load(name, 2_000, random_state=seed)
                X_train, X_test, y_train, y_test = train_test_split(
                    X, y, test_size=0.25, stratify=y, random_state=seed)
                forest = make_teachers(seed)[2].fit(X_train, y_train)
                for way in WAYS:
                    labelled_by(way, originals)
                    distiller = HPMDistiller(
                        FrozenEstimator(forest), student=student_of(student),
                        prefit_teachers="cross_fit", augment=None,
                        random_state=seed).fit(X_train, y_train)
                    rows.append({"dataset": name, "seed": seed, "way": way,
                                 "accuracy": float(distiller.score(X_test, y_test))})
                print(name, seed, [r["accuracy"] for r in rows[-len(WAYS):]],
                      flush=True)
    finally:
        labelled_by("oob1x", originals)
    return rows


def summary(rows):
    """Mean differences in points between the ways, per dataset."""
    by = {(r["dataset"], r["seed"], r["way"]): r["accuracy"] for r in rows}
    datasets = sorted({r["dataset"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    lines = []
    for a, b in (("oob1x", "copies"), ("matched", "copies"), ("oob1x", "matched")):
        per = [100 * np.mean([by[(d, s, a)] - by[(d, s, b)] for s in seeds])
               for d in datasets]
        lines.append(
            f"{a} - {b}: mean {np.mean(per):+.2f} points; better on "
            f"{sum(p > 0.05 for p in per)}, worse on {sum(p < -0.05 for p in per)}; "
            + ", ".join(f"{d} {p:+.1f}" for d, p in zip(datasets, per, strict=True)))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", choices=("lgbm", "mlp"), default="lgbm")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--output", default=None,
                        help="results file (default: "
                        "out_of_bag_targets_<student>.json)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = run(args.student, args.datasets, tuple(args.seeds))
    lines = summary(rows)
    print("\n".join(lines))
    output = args.output or RESULTS / f"out_of_bag_targets_{args.student}.json"
    with open(output, "w") as file:
        json.dump({"rows": rows, "summary": lines}, file, indent=1)


if __name__ == "__main__":
    main()
