"""Latency of the exported ONNX student against the student and the teachers in Python.

One fixed-seed problem (``make_classification``: 20 features, 3 classes, 5 % missing
values), two teachers fitted beforehand (HistGradientBoosting with 200 rounds, a
random forest of 100 trees), and one ``HPMDistiller`` per student family. For each
family, on 10,000 rows, best of ``--repeats`` runs:

- ``onnx``: ``onnxruntime`` running ``skdistill.export.to_onnx(distiller, ...)``,
- ``served``: ``skdistill.export.serving_model(distiller, ...).predict_proba``
  (the same graph behind a scikit-learn face: column checks and dtype casts),
- ``python``: ``distiller.student_.predict_proba`` (preprocessing + student),
- ``teachers``: ``distiller.teacher_proba`` (both teachers and the fusion; the
  same for every family, so timed once),

plus the same on one row at a time (the serving case: the median of
``--single-rows`` calls). Every figure is a ratio against the Python student of
the same family in the same run. Everything runs on one thread (torch, OpenMP,
BLAS, onnxruntime's intra-op pool), so that the ratios compare the
implementations, not the cores.

Run: ``python -m benchmarks.onnx_latency`` (about half a minute; writes
``benchmarks/results/onnx_latency.json``).
"""

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import sklearn
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

from skdistill import (
    HPMDistiller,
    LGBMStudent,
    LinearStudent,
    MLPStudent,
    TreeStudent,
    XGBStudent,
    __version__,
)
from skdistill.export import serving_model, to_onnx

from .common import RESULTS, one_thread, write_json

N_TEACHER, N_STUDENT, N_PREDICT = 4_000, 2_500, 10_000
STUDENTS = {
    "mlp": lambda: MLPStudent(hidden_layer_sizes=(64, 32), max_epochs=30),
    "tree": lambda: TreeStudent(max_depth=8),
    "lgbm": lambda: LGBMStudent(n_estimators=100),
    "xgb": lambda: XGBStudent(n_estimators=100),
    "linear": lambda: LinearStudent(),
}


def best_time(function, repeats):
    """Best wall time of ``function()`` over ``repeats`` calls, in seconds."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def median_time_per_call(function, rows, n_calls):
    """Median wall time of ``function(row)`` over the first ``n_calls`` rows."""
    times = []
    for row in rows[:n_calls]:
        start = time.perf_counter()
        function(row[None, :])
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def problem(random_state=0):
    X, y = make_classification(
        n_samples=N_TEACHER + N_STUDENT + N_PREDICT, n_features=20, n_informative=12,
        n_redundant=4, n_classes=3, random_state=random_state)
    rng = np.random.RandomState(random_state)
    X[rng.rand(*X.shape) < 0.05] = np.nan
    teacher_rows = slice(0, N_TEACHER)
    student_rows = slice(N_TEACHER, N_TEACHER + N_STUDENT)
    predict_rows = slice(N_TEACHER + N_STUDENT, None)
    teachers = [
        HistGradientBoostingClassifier(max_iter=200, random_state=random_state),
        RandomForestClassifier(n_estimators=100, random_state=random_state),
    ]
    X_teacher, y_teacher = X[teacher_rows], y[teacher_rows]
    # the forest takes no NaN: it learns on the rows' medians
    medians = np.nanmedian(X_teacher, axis=0)
    teachers[0].fit(X_teacher, y_teacher)
    teachers[1] = _Imputed(teachers[1], medians).fit(X_teacher, y_teacher)
    return teachers, (X[student_rows], y[student_rows]), X[predict_rows]


class _Imputed(sklearn.base.ClassifierMixin, sklearn.base.BaseEstimator):
    """A classifier behind a fixed median imputation (the forest rejects NaN)."""

    def __init__(self, estimator, medians):
        self.estimator = estimator
        self.medians = medians

    def _fill(self, X):
        X = np.array(X, dtype=np.float64)
        rows, columns = np.nonzero(np.isnan(X))
        X[rows, columns] = self.medians[columns]
        return X

    def fit(self, X, y):
        self.estimator.fit(self._fill(X), y)
        self.classes_ = self.estimator.classes_
        self.n_features_in_ = self.estimator.n_features_in_
        return self

    def predict_proba(self, X):
        return self.estimator.predict_proba(self._fill(X))


def measure(name, teachers, train, X, repeats, single_rows):
    """Fit, export and time one family; ``distiller`` and the figures."""
    distiller = HPMDistiller(teachers, student=STUDENTS[name](), random_state=0)
    start = time.perf_counter()
    distiller.fit(*train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    model = to_onnx(distiller, X[:10])
    export_s = time.perf_counter() - start
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options)

    def onnx_proba(rows):
        return session.run(None, {"X": rows})[0]

    served_proba = serving_model(distiller, X[:10]).predict_proba
    python_proba = distiller.student_.predict_proba
    max_abs_diff = float(np.abs(onnx_proba(X) - python_proba(X)).max())
    return distiller, {
        "student": repr(distiller.student_[-1]),
        "fit_s": fit_s,
        "export_s": export_s,
        "onnx_bytes": model.ByteSize(),
        "max_abs_diff_onnx_vs_python": max_abs_diff,
        "batch_10k_s": {
            "python": best_time(lambda: python_proba(X), repeats),
            "onnx": best_time(lambda: onnx_proba(X), repeats),
            "served": best_time(lambda: served_proba(X), repeats),
        },
        "one_row_s": {
            "python": median_time_per_call(python_proba, X, single_rows),
            "onnx": median_time_per_call(onnx_proba, X, single_rows),
            "served": median_time_per_call(served_proba, X, single_rows),
        },
    }


def time_teachers(distiller, X, repeats, single_rows):
    """The fused teachers' latency: 10k rows (best of) and one row (median)."""
    return {
        "batch_10k_s": best_time(lambda: distiller.teacher_proba(X), repeats),
        "one_row_s": median_time_per_call(distiller.teacher_proba, X, single_rows),
    }


def add_ratios(figures, teachers):
    """Each latency as a ratio to the Python student of the same family."""
    for fig in figures.values():
        for key in ("batch_10k_s", "one_row_s"):
            times = {**fig[key], "teachers": teachers[key]}
            fig[key.replace("_s", "_ratio_to_python")] = {
                name: value / times["python"] for name, value in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--single-rows", type=int, default=200)
    parser.add_argument("--families", nargs="+", default=list(STUDENTS),
                        choices=list(STUDENTS))
    parser.add_argument("--output", type=Path,
                        default=RESULTS / "onnx_latency.json")
    args = parser.parse_args(argv)
    with one_thread():
        teachers, train, X = problem()
        figures = {}
        for name in args.families:
            distiller, figures[name] = measure(name, teachers, train, X,
                                               args.repeats, args.single_rows)
        teacher_times = time_teachers(distiller, X, max(2, args.repeats // 2),
                                      max(10, args.single_rows // 4))
    add_ratios(figures, teacher_times)
    results = {
        "problem": f"make_classification, 20 features, 3 classes, 5 % NaN; "
                   f"students distilled on {N_STUDENT} rows, timed on {len(X)}",
        "teachers": "HistGradientBoosting (200 rounds) + RandomForest (100 trees), "
                    "prefit on other rows",
        "threads": 1,
        "teachers_latency": teacher_times,
        "versions": {"skdistill": __version__, "onnxruntime": ort.__version__,
                     "torch": torch.__version__, "scikit-learn": sklearn.__version__,
                     "python": platform.python_version()},
        "families": figures,
    }
    write_json(args.output, results)
    for name, fig in figures.items():
        batch, row = fig["batch_10k_ratio_to_python"], fig["one_row_ratio_to_python"]
        print(f"{name:7s} 10k rows: onnx {batch['onnx']:.3f}x, teachers "
              f"{batch['teachers']:.2f}x | one row: onnx {row['onnx']:.3f}x, "
              f"teachers {row['teachers']:.2f}x  (of the Python student; "
              f"python 10k {fig['batch_10k_s']['python'] * 1e3:.1f} ms, "
              f"one row {fig['one_row_s']['python'] * 1e6:.0f} us)")


if __name__ == "__main__":
    main()
