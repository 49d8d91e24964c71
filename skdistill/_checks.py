"""Checks of a fit's inputs that need more than the parameter constraints.

Each runs in ``fit`` before any teacher is fitted and raises a clear error naming
the problem (the column, the teacher, the parameter), instead of a deep one from
inside a teacher, a fold or the student's training loop.
"""

import warnings

import numpy as np

from ._teachers import TorchModuleTeacher, is_fitted, teacher_pairs
from .exceptions import SkdistillWarning
from .students import STUDENT_FAMILIES


def check_student(student, device):
    """A student instance (or family name) whose parameters a fit can use.

    Raises
    ------
    TypeError
        A student class instead of an instance.
    ValueError
        A parameter the student would refuse in its own ``fit``, or
        ``device="cuda"`` without a CUDA device.
    """
    if isinstance(student, type):
        raise TypeError(
            f"student must be a family name or a student instance; got the class "
            f"{student.__name__}: use student={student.__name__}() instead.")
    if not isinstance(student, str):
        validate = getattr(student, "_validate_params", None)
        if callable(validate) and hasattr(student, "_parameter_constraints"):
            validate()
        check = getattr(student, "_check_params_before_fit", None)
        if callable(check):
            check()
    takes_device = (student in ("auto", "mlp") if isinstance(student, str)
                    else "device" in student.get_params(deep=False))
    if device == "cuda" and takes_device:
        import torch

        if not torch.cuda.is_available():
            raise ValueError(
                "device='cuda' was requested but torch finds no CUDA device; use "
                "device='cpu' or device='auto'.")


def check_nested_student_params(student, params):
    """Refuse ``student__<param>`` while ``student`` is a family name."""
    nested = sorted(key for key in params if key.startswith("student__"))
    if nested and isinstance(student, str):
        family = STUDENT_FAMILIES.get(student)
        example = (f"student={family.__name__}({nested[0].split('__', 1)[1]}=...)"
                   if family is not None else "student=MLPStudent(...)")
        raise ValueError(
            f"Cannot set {', '.join(nested)}: student={student!r} is a family "
            f"name, not an estimator with parameters. Give a student instance "
            f"instead, e.g. set_params({example}).")


def check_default_teacher_columns(X):
    """Columns that the default teacher (HistGradientBoostingClassifier) cannot read.

    It reads numbers, booleans and pandas ``category`` columns; object or string
    columns only when every value is a number.
    """
    if not hasattr(X, "dtypes"):
        return
    import pandas as pd

    dated = [name for name, dtype in X.dtypes.items()
             if pd.api.types.is_datetime64_any_dtype(dtype)
             or pd.api.types.is_timedelta64_dtype(dtype)]
    if dated:
        raise ValueError(
            f"The default teacher (HistGradientBoostingClassifier) cannot read "
            f"the datetime or timedelta column(s) {dated}: turn them into numbers "
            "(e.g. seconds since a date, or the day of the week) or give teachers "
            "that read them.")
    for name, dtype in X.dtypes.items():
        if not (pd.api.types.is_object_dtype(dtype)
                or pd.api.types.is_string_dtype(dtype)):
            continue
        column = X[name].dropna()
        numbers = pd.to_numeric(column, errors="coerce")
        unread = column[numbers.isna()]
        if len(unread):
            raise ValueError(
                f"The default teacher (HistGradientBoostingClassifier) cannot read "
                f"column {name!r}: it holds values that are not numbers (e.g. "
                f"{unread.iloc[0]!r}). Make it a pandas category "
                f"(X[{name!r}].astype('category')), encode it, or give teachers "
                "that read it.")


def check_torch_teachers(names, teachers, X, n_classes):
    """Run each torch teacher on one row: numeric input, the right widths."""
    for name, teacher in zip(names, teachers, strict=True):
        if not isinstance(teacher, TorchModuleTeacher):
            continue
        if hasattr(X, "dtypes"):
            import pandas as pd

            other = [column for column, dtype in X.dtypes.items()
                     if not (pd.api.types.is_numeric_dtype(dtype)
                             or pd.api.types.is_bool_dtype(dtype))]
            if other:
                raise ValueError(
                    f"Teacher {name!r} is a torch module, which reads float32 "
                    f"numbers; the column(s) {other} are not numeric. Encode them "
                    "before fit, or wrap the module in an estimator that does.")
        n_features = X.shape[1]
        row = X.iloc[:1] if hasattr(X, "iloc") else X[:1]
        try:
            logits = teacher.decision_function(row)
        except Exception as error:
            raise ValueError(
                f"Teacher {name!r} (a torch module) failed on a row of "
                f"{n_features} features: {type(error).__name__}: {error}. It must "
                f"map a float32 tensor of shape (n, {n_features}) to logits of "
                f"shape (n, {n_classes}).") from error
        widths = (1, 2) if n_classes == 2 else (n_classes,)
        if logits.ndim != 2 or logits.shape[1] not in widths:
            raise ValueError(
                f"Teacher {name!r} (a torch module) outputs shape "
                f"{tuple(logits.shape)} for one row; the data has {n_classes} "
                f"classes, so it must output logits of shape (n, {n_classes}).")


def warn_if_cv_capped(y, cv):
    """Warn when a class has fewer rows than ``cv``: the folds are fewer."""
    labels, counts = np.unique(y, return_counts=True)
    smallest = counts.min()
    if smallest < cv:
        warnings.warn(
            f"cv={cv} is more than the {smallest} training rows of class "
            f"{labels[counts.argmin()].item()!r}: the teachers are cross-fitted on "
            f"{max(2, smallest)} folds instead.", SkdistillWarning, stacklevel=5)


def warn_if_in_sample(report, prefit, given_valid):
    """Warn when a prefit teacher is perfect on the report's validation rows.

    A teacher scoring 1.0 there most likely was fitted on them: the report's
    teacher accuracy (and the retention) then say little. Where its
    cross-fitted copies measured the teachers on those rows
    (``report.details["teachers_out_of_sample"]``), the warning gives that
    score.
    """
    perfect = [name for (name, accuracy), is_prefit
               in zip(report.teacher_accuracies.items(), prefit, strict=True)
               if is_prefit and accuracy >= 1.0]
    if not perfect:
        return
    where = ("X_val, y_val" if given_valid
             else "the validation rows held out of X")
    honest = report.details.get("teachers_out_of_sample")
    copies = "" if honest is None else (
        " The fused teachers with the cross-fitted copies (which never saw "
        "these rows) in place of the prefit teachers fitted on the training "
        f"rows score {honest[report.score_key]:.4f} there "
        "(report_.details['teachers_out_of_sample']).")
    warnings.warn(
        f"The prefit teacher(s) {perfect} score 1.0 on {where}, as a teacher "
        "does on rows it was fitted on: the report's teacher accuracy and "
        f"retention may be in-sample.{copies} Pass fit(..., X_val=..., "
        "y_val=...) with rows the teachers never saw.", SkdistillWarning,
        stacklevel=5)


def warn_if_collapsed(report, task):
    """Warn when the student predicts one class (or, for regression, nearly
    one value) on the validation rows where the fused teachers do not, and
    scores below them there.

    A student that learned the labels' prior scores the majority class's
    share and tells nothing of what the teachers know; on a few hundred rows
    early stopping on a tenth of them can end a network there. Judged on
    ``report.details["prediction_spread"]``: the served student refitted on
    every row (when there was a refit) predicts the validation rows after
    training on them, so one class there is one class anywhere; the report's
    student never saw them, so one class there is the out-of-sample
    evidence, which counts while the served student's spread there is under
    half the teachers' (for classification: it departs from its most common
    class on fewer than half as many rows as they do; a refit that memorised
    a few of its rows is no better on new ones).
    """
    spread = report.details["prediction_spread"]
    teachers, served = spread["teachers"], spread.get("served_student")
    if not report.student_accuracy < report.teacher_accuracy:
        return
    if served is not None and task.collapsed(served, teachers):
        subject, found, tail = "The served student_", served, ""
    elif (task.collapsed(spread["student"], teachers)
          and (served is None or served < teachers / 2)):
        subject, found = "The student", spread["student"]
        tail = "" if served is None else (
            "; the served student_ (the same configuration refitted on every "
            f"row, these included) {task.spread_words(served)}")
        if served is not None:
            subject = "The report's student (fitted without the validation rows)"
    else:
        return
    words = task.collapse_words(found, teachers)
    warnings.warn(
        f"{subject} {words}{tail}. The report's {report.score_label} there: "
        f"student {report.student_accuracy:.4f}, teachers "
        f"{report.teacher_accuracy:.4f}. It learned the labels' prior, not the "
        "teachers; another student family (student='lgbm' or 'tree'), MUNGE "
        "rows (augment='munge') or more rows may help; "
        "report_.details['prediction_spread'] has the numbers.",
        SkdistillWarning, stacklevel=5)


def warn_if_clone_unfits(teachers):
    """Warn that cloning the distiller unfits its fitted, unfrozen teachers.

    ``clone`` (inside ``GridSearchCV`` or ``cross_validate``) clones every
    parameter: a fitted teacher comes back unfitted and the clone refits it,
    unless it is wrapped in ``FrozenEstimator``.
    """
    from sklearn.frozen import FrozenEstimator

    if teachers is None:
        return
    listed = teachers if isinstance(teachers, (list, tuple)) else [teachers]
    try:
        pairs = teacher_pairs(listed)
    except (TypeError, ValueError):
        return  # fit names the problem
    unfrozen = [name for name, teacher in pairs
                if hasattr(teacher, "get_params")
                and not isinstance(teacher, FrozenEstimator) and is_fitted(teacher)]
    if unfrozen:
        warnings.warn(
            f"Cloning the distiller unfits its fitted teacher(s) {unfrozen}: the "
            "clone (in GridSearchCV, cross_validate...) fits them again on its "
            "own rows. Wrap them in sklearn.frozen.FrozenEstimator to keep them "
            "as they are.", SkdistillWarning, stacklevel=4)
