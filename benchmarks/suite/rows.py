"""Every row of the table, and the compression curve, on one dataset and seed."""

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from skdistill import MLPStudent

from .. import reference
from ..common import log
from .config import (
    BASELINES,
    CURVE_METHODS,
    DEFAULT,
    FUSED,
    REFERENCE,
    TEACHER_NAMES,
)
from .fit import (
    Teachers,
    ablations,
    curve_width,
    failed,
    fit_distiller,
    make_teachers,
    measure,
    measure_distiller,
)


def run_split(name, split, options, with_curve):
    """Every row of the table (and the curve) on one dataset and seed.

    Parameters
    ----------
    name : str
        The dataset.
    split : Split
    options : argparse.Namespace
        The run's options (teacher sizes, reference, curve ratios).
    with_curve : bool

    Returns
    -------
    rows : list of dict
    curve : list of dict
    """
    seed, n_est = split.seed, options.teacher_estimators
    rows = []

    def record(row, figures, kind):
        rows.append({"dataset": name, "seed": seed, "row": row, "kind": kind,
                     **figures})
        shown = figures.get("accuracy")
        log(f"  {name} seed={seed} {row}: " + (
            f"acc={shown:.4f} fit={figures.get('fit_s') or 0:.1f}s"
            if shown is not None else figures.get("error", figures["status"])))

    try:
        default, fit_s = fit_distiller(split, make_teachers(seed, n_est), {}, seed)
        ref = Teachers(default, split)
    except Exception as error:  # the whole seed fails, every row says why
        failure = failed(f"HPMDistiller() failed: {failed(error)['error']}")
        for row in _row_names():
            record(row, failure, "failed")
        return rows, []
    record(FUSED, _fused_row(ref), "teacher")
    for teacher_name, teacher in zip(TEACHER_NAMES, default.teachers_, strict=True):
        record(f"teacher: {teacher_name}",
               measure(teacher, teacher.predict_proba, split, ref), "teacher")
    record(DEFAULT, measure_distiller(default, fit_s, split, ref), "hpm")
    student = default.student_[-1]
    for row, (which, params) in BASELINES.items():
        record(row, _fit_and_measure(split, ref, make_teachers(seed, n_est, which),
                                     {**params, "student": clone(student)}),
               "baseline")
    for row, params in ablations().items():
        if params is None:
            record(row, {"status": "skipped",
                         "error": "parameter not in this version"}, "ablation")
            continue
        record(row, _fit_and_measure(split, ref, make_teachers(seed, n_est),
                                     params), "ablation")
    try:
        figures = run_reference(default, split, ref, options)
    except Exception as error:
        figures = failed(error)
    record(REFERENCE, figures, "reference")
    curve = run_curve(name, split, default, ref, options) if with_curve else []
    return rows, curve


def _row_names():
    return [FUSED, *(f"teacher: {t}" for t in TEACHER_NAMES), DEFAULT,
            *BASELINES, *ablations(), REFERENCE]


def _fused_row(ref):
    """The fused teachers' row: the reference of every ratio is itself."""
    return {"status": "ok", "accuracy": ref.accuracy, "retention": 1.0,
            "fidelity": 1.0, "compression": 1.0, "compression_parameters": 1.0,
            "speedup": 1.0, "n_bytes": ref.size.n_bytes,
            "n_parameters": ref.size.n_parameters, "fit_s": ref.fit_s,
            "fit_s_without_teachers": None}


def _fit_and_measure(split, ref, teachers, params):
    """A row's figures, or why its fit failed (a failure never stops the run)."""
    try:
        distiller, fit_s = fit_distiller(split, teachers, params, split.seed)
        return measure_distiller(distiller, fit_s, split, ref)
    except Exception as error:
        return failed(error)


def run_reference(default, split, ref, options):
    """The reference row: deepbridge-distillation fed the fused teachers.

    Parameters
    ----------
    default : HPMDistiller
        The fitted ``HPMDistiller()``, whose fused teachers it is given.
    split : Split
    ref : Teachers
    options : argparse.Namespace

    Returns
    -------
    dict
        The row's figures, or its status and why.
    """
    if options.no_reference:
        return {"status": "skipped", "error": "--no-reference"}
    X_fit, X_val, y_fit, y_val = train_test_split(
        split.X_train, split.y_train, test_size=0.2, stratify=split.y_train,
        random_state=split.seed)
    X_fit_n, X_val_n, X_test_n, X_lat_n = reference.to_numeric(
        X_fit, X_val, split.X_test, split.X_latency)
    data = {"X_train": X_fit_n, "y_train": y_fit, "X_val": X_val_n,
            "y_val": y_val, "teacher_probs": default.teacher_proba(X_fit),
            "X_test": X_test_n, "X_latency": X_lat_n}
    result = reference.run(data, split.seed, options.reference_python)
    if result["status"] != "ok":
        return {"status": "failed", "error": result["error"],
                "version": result.get("version")}
    pred = result["test_pred"]
    if pred.shape != split.y_test.shape:
        return {"status": "failed", "version": result.get("version"),
                "error": f"its predict returned {len(pred)} labels for "
                         f"{len(split.y_test)} test rows ({result['model']} from "
                         f"its {result['source']} phase)"}
    accuracy = float(np.mean(pred == split.y_test))
    return {
        "status": "ok", "accuracy": accuracy,
        "retention": accuracy / ref.accuracy,
        "fidelity": float(np.mean(pred == ref.pred)),
        "compression": ref.size.n_bytes / result["n_bytes"],
        "compression_parameters": None, "n_bytes": result["n_bytes"],
        "speedup": ref.latency_s / result["latency_s"],
        "fit_s": result["fit_s"], "fit_s_without_teachers": result["fit_s"],
        "student": f"{result['model']} (from its {result['source']} phase)",
        "version": result["version"],
    }


def run_curve(name, split, default, ref, options):
    """The compression curve on one dataset and seed.

    Parameters
    ----------
    name : str
    split : Split
    default : HPMDistiller
        The fitted ``HPMDistiller()`` of this split.
    ref : Teachers
    options : argparse.Namespace
        ``curve_ratios`` and ``teacher_estimators``.

    Returns
    -------
    list of dict
        One point per ratio and method.
    """
    points = []
    for ratio in options.curve_ratios:
        width = curve_width(default, split, ref, ratio)
        for method, (which, params) in CURVE_METHODS.items():
            student = MLPStudent(hidden_layer_sizes=(width,),
                                 random_state=split.seed)
            point = {"dataset": name, "seed": split.seed, "ratio": ratio,
                     "hidden": width, "method": method,
                     "teacher_accuracy": ref.accuracy}
            point.update(_fit_and_measure(
                split, ref,
                make_teachers(split.seed, options.teacher_estimators, which),
                {**params, "student": student}))
            points.append(point)
            log(f"  curve {name} seed={split.seed} {ratio}x ({width} units) "
                f"{method}: " + (f"acc={point['accuracy']:.4f}"
                                 if point["status"] == "ok" else point["error"]))
    return points
