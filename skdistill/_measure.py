"""The fit's last step: measure the report on the validation rows, and record it.

:func:`measure` builds the :class:`~skdistill.report.DistillationReport` of a
fitted distillation; :func:`experiment` is what the optimization memory keeps of
it; :func:`check_serving_budget` warns when the student is over the user's
serving limits.
"""

import time
import warnings
from contextlib import contextmanager
from numbers import Real

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples

from ._chain import chain_report
from ._configure import family_of
from ._halving import LATENCY_ROWS, pareto_front
from ._progress import log_phase
from ._served_latency import served_seconds
from ._teacher_outputs import cached_output, teachers_outputs_cached
from .exceptions import SkdistillWarning
from .metrics import model_size, predict_latency, retention

# The report's latencies are timed on at most this many validation rows and
# scaled to all of them: more rows cost time and tell nothing more.
LATENCY_MAX_ROWS = 10_000
# The distiller's parameters the memory records with each fit.
RECORDED_PARAMS = ("temperature", "alpha", "fusion", "soft_targets",
                   "prefit_teachers", "chain", "augment", "augment_ratio")


@contextmanager
def timed(timings, phase, progress=None):
    """Time the block as ``timings[phase]`` (seconds), and log it at INFO.

    ``progress`` (a :class:`~skdistill._progress.PhaseBar`) shows the phase
    while it runs and counts it when it ends.
    """
    if progress is not None:
        progress.start(phase)
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    timings[phase] = seconds
    log_phase(phase, seconds)
    if progress is not None:
        progress.done(phase, seconds)


def measure(X_valid, y_valid, fused, student, *, teacher_names, teacher_size,
            timings, configuration, chain, chain_search, n_synthetic, details,
            memory, out_of_sample=None):
    """The report of a fitted distillation, measured on the validation rows.

    Parameters
    ----------
    X_valid, y_valid
        The validation rows (every column) and their labels.
    fused : FusedTeachers
        The teachers, their fusion and the inputs of gate and student.
    student : Pipeline
        The fitted student with its preprocessing (the student's columns).
    teacher_names : list of str
        The teachers' names, in order.
    teacher_size : ModelSize
        The teachers' size, measured once.
    timings : dict of str to float
        Seconds per phase of the fit.
    configuration : Configuration
        How the student was chosen.
    chain : list of ChainStep
        The assistants, then the student.
    chain_search : dict
        Selection fidelity per number of assistants (``chain="auto"``).
    n_synthetic : int
        Synthetic rows the student learned from.
    details : dict
        Settings reported as they are (fusion, soft targets, student features).
    memory : OptimizationMemory or None
        Caches the teachers' outputs and latency.
    out_of_sample : HeldOutTeachers, default=None
        The fused teachers with each prefit teacher that memorised its
        training rows (and most likely the validation rows, drawn from the
        same ``X``) replaced by its cross-fitted copies, which never saw them
        (:func:`~._held_out.validation_labeller`): their score on the
        validation rows is reported in ``details["teachers_out_of_sample"]``.

    Returns
    -------
    DistillationReport
    """
    task = fused.task
    valid_outputs = teachers_outputs_cached(memory, fused.teachers, X_valid, task,
                                            fused.n_jobs)
    Z_gate = fused.gate_inputs(X_valid)
    weights = fused.fusion.weights(Z_gate, valid_outputs)
    teacher_pred = task.predictions(fused.fusion.fuse(Z_gate, valid_outputs))
    X_student = fused.student_columns(X_valid)
    student_pred = student.predict(X_student)
    teacher_acc = task.score(y_valid, teacher_pred)
    student_acc = task.score(y_valid, student_pred)
    student_size = model_size(student)
    teacher_latency = _teacher_latency(fused, X_valid, memory)
    student_latency = student_latency_seconds(student, X_student, task,
                                              details.get("latency_measure"))
    return task.report_type(
        n_validation=len(y_valid),
        teacher_accuracy=teacher_acc,
        teacher_accuracies={
            name: task.score(y_valid, task.predictions(outputs))
            for name, outputs in zip(teacher_names, valid_outputs, strict=True)},
        student_accuracy=student_acc,
        fidelity=task.agreement(student_pred, teacher_pred),
        retention=retention(student_acc, teacher_acc),
        teacher_size=teacher_size,
        student_size=student_size,
        compression=teacher_size.n_bytes / student_size.n_bytes,
        parameter_compression=_ratio(teacher_size.n_parameters,
                                     student_size.n_parameters),
        teacher_latency_s=teacher_latency,
        student_latency_s=student_latency,
        speedup=teacher_latency / max(student_latency, 1e-9),
        timings_s=timings,
        **task.report_scores(y_valid, teacher_pred, student_pred),
        details={
            "fusion": details["fusion"],
            "teacher_weights": dict(zip(teacher_names, weights.mean(axis=0).tolist(),
                                        strict=True)),
            "soft_targets": details["soft_targets"],
            "prefit_teachers": details["prefit_teachers"],
            **({"prefit_checks": details["prefit_checks"]}
               if "prefit_checks" in details else {}),
            "n_synthetic_rows": n_synthetic,
            "prediction_spread": {"teachers": task.spread(teacher_pred),
                                  "student": task.spread(student_pred)},
            "student_features": details["student_features"],
            **_out_of_sample_score(out_of_sample, X_valid, y_valid, task,
                                   student_acc),
            "time_limit": details.get("time_limit"),
            "latency_measure": details.get("latency_measure", "python"),
            **({"selection": details["selection"]} if "selection" in details
               else {}),
            "temperature_schedule": _temperature_schedule(
                student[-1], configuration.temperature),
            "chain": chain_report(chain,
                                  fused.student_inputs(X_valid, Z_gate), y_valid,
                                  teacher_pred, task),
            "chain_search": chain_search,
            "configuration": configuration.details,
            "candidates": [e.as_dict(task.score_name)
                           for e in configuration.evaluations],
            "pareto_front": {
                name: [e.as_dict(task.score_name) for e in pareto_front(
                    configuration.evaluations, cost)]
                for name, cost in (("bytes", "n_bytes"), ("latency_ms", "latency_ms"))},
        },
    )


def _out_of_sample_score(labeller, X_valid, y_valid, task, student_score):
    """``{"teachers_out_of_sample": ...}``: the score on the validation rows
    of the teachers as ``labeller`` labels them, and the student's retention
    of it; empty without one."""
    if labeller is None:
        return {}
    _, outputs = labeller.label(X_valid)
    score = task.score(y_valid, task.predictions(outputs))
    return {"teachers_out_of_sample": {
        task.score_name: score, "retention": retention(student_score, score),
        "measured_by": ("the fused teachers, each prefit teacher cross-fitted "
                        "as fitted on the training rows replaced by its "
                        "cross-fitted copies, which never saw these rows")}}


def _teacher_latency(fused, X_valid, memory):
    """Seconds of the fused teachers' predict on the validation rows.

    Cached with the teachers' outputs: measuring it means running them. The key
    holds all that runs: the teachers, the gate, its inputs' columns.
    """
    return float(cached_output(
        memory, "latency", fused.teachers,
        (X_valid, fused.fusion, fused.gate_preprocessor, fused.n_jobs),
        lambda: np.array([latency_on_all_rows(
            lambda rows: fused.fusion.fuse(fused.gate_inputs(rows),
                                           fused.outputs(rows)),
            X_valid)]))[0])


def student_latency_seconds(student, X, task, latency_measure="python"):
    """Seconds of the student's outputs on the rows ``X``: its Python method
    (``task.serving_method``), or its ONNX graph in onnxruntime
    (``latency_measure="onnx"``, :mod:`._served_latency`)."""
    if latency_measure == "onnx":
        n_rows = _num_samples(X)
        sample = _safe_indexing(X, np.arange(min(n_rows, LATENCY_MAX_ROWS)))
        return served_seconds(student, sample) * n_rows / _num_samples(sample)
    return latency_on_all_rows(task.serving_method(student), X)


def latency_on_all_rows(predict, X):
    """Seconds of ``predict(X)``, timed on at most :data:`LATENCY_MAX_ROWS` rows.

    Beyond that many rows the time of the first ones is scaled to all: a
    prediction's time grows with the rows, and timing all of them (three times)
    would cost a large fit more than its teachers' outputs.
    """
    n_rows = _num_samples(X)
    if n_rows <= LATENCY_MAX_ROWS:
        return predict_latency(predict, X)
    sample = _safe_indexing(X, np.arange(LATENCY_MAX_ROWS))
    return predict_latency(predict, sample) * n_rows / LATENCY_MAX_ROWS


def _temperature_schedule(student, temperature):
    history = getattr(student, "temperature_history_", None)
    if history is not None:
        return [float(t) for t in history]
    return [float(temperature)] if isinstance(temperature, Real) else []


def _ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def experiment(report, student, meta, params, n_rows, n_features, n_classes):
    """What the memory keeps of a fit.

    Parameters
    ----------
    report : DistillationReport
        The fit's report.
    student : estimator
        The fitted student (without its preprocessing).
    meta : dict
        The task's meta-features.
    params : dict
        The distiller's parameters (those of :data:`RECORDED_PARAMS` are kept;
        None for one the estimator does not take, the regressor's temperature).
    n_rows, n_features, n_classes : int
        Training rows, columns and classes.

    Returns
    -------
    dict
        An experiment in the memory's format.
    """
    configuration = report.details["configuration"]
    return {
        "dataset": {**meta, "n_rows": n_rows, "n_features": n_features,
                    "n_classes": n_classes,
                    "n_synthetic_rows": report.details["n_synthetic_rows"]},
        "teachers": {"names": list(report.teacher_accuracies),
                     "accuracy": report.teacher_accuracy,
                     "n_parameters": report.teacher_size.n_parameters},
        "config": {
            "family": family_of(student),
            "student": {k: v for k, v in student.get_params(deep=False).items()
                        if isinstance(v, (int, float, str, bool, tuple,
                                          type(None)))},
            **{name: _recorded(params.get(name)) for name in RECORDED_PARAMS},
            "n_assistants": len(report.details["chain"]) - 1,
        },
        "val_accuracy": report.student_accuracy,
        "val_fidelity": report.fidelity,
        "student_bytes": report.student_size.n_bytes,
        "student_params": report.student_size.n_parameters,
        "latency_ms": 1e6 * report.student_latency_s / report.n_validation,
        "fit_seconds": sum(report.timings_s.values()),
        "extra": {"kind": "fit", "configuration": {
            key: configuration.get(key) for key in ("source", "config")}},
    }


def _recorded(value):
    """A parameter as the memory keeps it: plain values, else the type's name."""
    if isinstance(value, (int, float, str, bool, type(None))):
        return value
    return type(value).__name__


def check_serving_budget(student, report, X_valid, task, max_bytes,
                         max_latency_ms, latency_measure="python"):
    """Warn when the fitted student is over ``max_student_bytes`` or latency.

    ``X_valid`` are the validation rows, in the student's columns; ``task``
    says what the student serves (``task.serving_method``); the latency is
    measured as ``latency_measure`` says.
    """
    latency_ms = None
    if max_latency_ms is not None:
        latency_ms = latency_per_1000_rows(student, X_valid, task,
                                           latency_measure)
    for name, limit, value in (
            ("max_student_bytes", max_bytes, report.student_size.n_bytes),
            ("max_latency_ms", max_latency_ms, latency_ms)):
        if limit is not None and value > limit:
            warnings.warn(f"The student is over {name}={limit}: {value:.4g} "
                          "measured on the validation rows.", SkdistillWarning,
                          stacklevel=5)


def latency_per_1000_rows(student, X_valid, task, latency_measure="python"):
    """Milliseconds of the student's outputs on 1,000 validation rows."""
    rows = _safe_indexing(X_valid, np.resize(np.arange(_num_samples(X_valid)),
                                             LATENCY_ROWS))
    if latency_measure == "onnx":
        return 1000.0 * served_seconds(student, rows)
    return 1000.0 * predict_latency(task.serving_method(student), rows)
