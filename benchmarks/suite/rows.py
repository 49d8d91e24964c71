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
    LEVERS,
    LGBM_DIRECT,
    LGBM_DIRECT_BYTES,
    LGBM_LEAVES,
    LGBM_TREES,
    PREFIT,
    REFERENCE,
    ROW_GROUPS,
    STUDENTS,
    TEACHER_NAMES,
)
from .fit import (
    Teachers,
    ablations,
    curve_width,
    failed,
    fit_distiller,
    fit_prefit_teachers,
    lever_rows,
    lgbm_direct,
    make_teachers,
    measure,
    measure_distiller,
    resolve_student,
    trees_for_bytes,
)


def row_groups():
    """The rows of each group of ``--rows``, in the table's order.

    Returns
    -------
    dict
        Group name -> list of row names.
    """
    return {"baselines": [*BASELINES, LGBM_DIRECT, LGBM_DIRECT_BYTES],
            "ablations": list(ablations()), "prefit": list(PREFIT),
            "levers": list(LEVERS), "reference": [REFERENCE]}


def selected_rows(names=None):
    """The rows ``--rows`` selects: group names or row names (None: every row).

    Parameters
    ----------
    names : list of str or None

    Returns
    -------
    set of str

    Raises
    ------
    ValueError
        For a name that is neither a group nor a row.
    """
    groups = row_groups()
    every = [row for rows in groups.values() for row in rows]
    if names is None:
        return set(every)
    unknown = [n for n in names if n not in groups and n not in every]
    if unknown:
        raise ValueError(f"unknown rows {unknown}; groups: {list(ROW_GROUPS)}; "
                         f"rows: {every}")
    return {row for n in names for row in groups.get(n, [n])}


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
        for row in _row_names(getattr(options, "rows", None)):
            record(row, failure, "failed")
        return rows, []
    record(FUSED, _fused_row(ref), "teacher")
    for teacher_name, teacher in zip(TEACHER_NAMES, default.teachers_, strict=True):
        record(f"teacher: {teacher_name}",
               measure(teacher, teacher.predict_proba, split, ref), "teacher")
    record(DEFAULT, measure_distiller(default, fit_s, split, ref), "hpm")
    chosen = selected_rows(getattr(options, "rows", None))
    student = default.student_[-1]
    for row, (which, params) in BASELINES.items():
        if row in chosen:
            record(row, _fit_and_measure(
                split, ref, make_teachers(seed, n_est, which),
                {**params, "student": clone(student)}), "baseline")
    for row, figures in _lgbm_rows(split, ref, default, chosen):
        record(row, figures, "baseline")
    for row, params in ablations().items():
        if row not in chosen:
            continue
        if params is None:
            record(row, {"status": "skipped",
                         "error": "parameter not in this version"}, "ablation")
            continue
        record(row, _fit_and_measure(split, ref, make_teachers(seed, n_est),
                                     params), "ablation")
    for row, figures in _prefit_rows(split, ref, default, chosen, n_est):
        record(row, figures, "prefit")
    for row, figures in _lever_rows(split, ref, default, chosen, n_est):
        record(row, figures, "lever")
    if REFERENCE in chosen:
        try:
            figures = run_reference(default, split, ref, options)
        except Exception as error:
            figures = failed(error)
        record(REFERENCE, figures, "reference")
    curve = run_curve(name, split, default, ref, options) if with_curve else []
    return rows, curve


def _row_names(names=None):
    chosen = selected_rows(names)
    return [FUSED, *(f"teacher: {t}" for t in TEACHER_NAMES), DEFAULT,
            *(row for rows in row_groups().values() for row in rows
              if row in chosen)]


def _lgbm_rows(split, ref, default, chosen):
    """The plain LightGBM rows: 50 x 15 and the default student's bytes."""
    if not {LGBM_DIRECT, LGBM_DIRECT_BYTES} & chosen:
        return
    try:
        model, fit_s = lgbm_direct(split, LGBM_TREES, split.seed)
        figures = measure(model, model.predict_proba, split, ref, fit_s)
        trees = trees_for_bytes(
            measure(default.student_, default.student_.predict_proba, split,
                    ref)["n_bytes"], figures["n_bytes"] / LGBM_TREES)
    except Exception as error:
        yield LGBM_DIRECT, failed(error)
        yield LGBM_DIRECT_BYTES, failed(error)
        return
    if LGBM_DIRECT in chosen:
        yield LGBM_DIRECT, {**figures, "student": _lgbm_name(LGBM_TREES)}
    if LGBM_DIRECT_BYTES in chosen:
        try:
            model, fit_s = lgbm_direct(split, trees, split.seed)
            yield LGBM_DIRECT_BYTES, {
                **measure(model, model.predict_proba, split, ref, fit_s),
                "student": _lgbm_name(trees)}
        except Exception as error:
            yield LGBM_DIRECT_BYTES, failed(error)


def _lgbm_name(trees):
    return f"LGBMClassifier(n_estimators={trees}, num_leaves={LGBM_LEAVES})"


def _prefit_rows(split, ref, default, chosen, n_est):
    """The rows with teachers fitted here on the training rows, then frozen."""
    wanted = [row for row in PREFIT if row in chosen]
    if not wanted:
        return
    try:
        frozen, teachers_s = fit_prefit_teachers(
            make_teachers(split.seed, n_est), split)
    except Exception as error:
        for row in wanted:
            yield row, failed(f"fitting the teachers failed: {failed(error)['error']}")
        return
    for row in wanted:
        which, params = PREFIT[row]
        params = _with_student(params, default, split, ref)
        figures = _fit_and_measure(split, ref,
                                   frozen[:1] if which == "xgb" else frozen, params)
        yield row, {**figures, "prefit_teachers_fit_s": teachers_s}


def _lever_rows(split, ref, default, chosen, n_est):
    """The lever ablations the installed version takes; the others skipped."""
    for row, params in lever_rows().items():
        if row not in chosen:
            continue
        if isinstance(params, str):
            yield row, {"status": "skipped", "error": params}
            continue
        yield row, _fit_and_measure(
            split, ref, make_teachers(split.seed, n_est),
            _with_student(params, default, split, ref))


def _with_student(params, default, split, ref):
    """``params`` with a named student (a key of ``STUDENTS``) made for the split."""
    if params.get("student") not in STUDENTS:
        return params
    return {**params, "student": resolve_student(params["student"], default,
                                                 split, ref)}


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
        width = curve_width(split, ref, ratio, len(default.classes_))
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
