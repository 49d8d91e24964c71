"""The default preprocessing on 10,000 rows: the fast path against scikit-learn's.

``HPMDistiller``'s default student preprocessing is fitted by scikit-learn
(imputers, scaler, one-hot or ordinal encoder in a ``ColumnTransformer``) and served
by ``_FastTransform``'s numpy path. This times both ``transform`` calls of the same
fitted object on the same rows, alternating, best of ``--repeats``, and checks that
their outputs are equal. Run::

    python -m benchmarks.preprocess_speed   # about a minute on one core

Results: ``results/preprocess_speed.json``.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skdistill._preprocess import default_preprocessor

from .common import RESULTS, write_json
from .datasets import DATASETS, load

FAMILIES = ("mlp", "tree")


def _seconds(function, X):
    start = time.perf_counter()
    function(X)
    return time.perf_counter() - start


def measure(dataset, family, fit_rows, rows, repeats):
    """Both transforms of one fitted preprocessing, on ``rows`` drawn rows.

    Returns
    -------
    dict
        Milliseconds of each, their ratio, the output width, and whether the
        outputs are equal.
    """
    X, _, _ = load(dataset)
    rng = np.random.default_rng(0)
    fitted = default_preprocessor(family, X).fit(
        X.iloc[rng.choice(len(X), min(fit_rows, len(X)), replace=False)])
    X_rows = X.iloc[rng.integers(0, len(X), rows)]
    fast = fitted.transform(X_rows)
    equal = bool(np.array_equal(fast, fitted.transformer_.transform(X_rows),
                                equal_nan=True))
    fast_s = scikit_learn_s = np.inf
    for _ in range(repeats):  # alternate, so that both see the same machine
        fast_s = min(fast_s, _seconds(fitted.transform, X_rows))
        scikit_learn_s = min(scikit_learn_s,
                             _seconds(fitted.transformer_.transform, X_rows))
    return {"dataset": dataset, "family": family, "n_columns": X.shape[1],
            "n_outputs": fast.shape[1], "fast_ms": 1e3 * fast_s,
            "scikit_learn_ms": 1e3 * scikit_learn_s,
            "speedup": scikit_learn_s / fast_s, "equal": equal}


def main(argv=None):
    """Run the comparison and write ``preprocess_speed.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS),
                        choices=list(DATASETS))
    parser.add_argument("--fit-rows", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args(argv)
    results = []
    with threadpool_limits(limits=1):
        for dataset in options.datasets:
            for family in FAMILIES:
                result = measure(dataset, family, options.fit_rows, options.rows,
                                 options.repeats)
                print(f"{dataset:14s} {family:5s} scikit-learn "
                      f"{result['scikit_learn_ms']:6.1f} ms  fast "
                      f"{result['fast_ms']:5.1f} ms  {result['speedup']:5.1f}x  "
                      f"equal={result['equal']}", flush=True)
                results.append(result)
    document = {"command": "python -m benchmarks.preprocess_speed",
                "rows": options.rows, "fit_rows": options.fit_rows,
                "repeats": options.repeats, "results": results}
    write_json(options.out / "preprocess_speed.json", document)
    return document


if __name__ == "__main__":
    main()
