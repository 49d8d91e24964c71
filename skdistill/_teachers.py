"""Teacher adapters: which teachers to use, fitting the unfitted, probabilities.

Every teacher's output becomes a probability matrix whose columns follow the
distiller's ``classes_``: ``predict_proba`` where it exists, else
``decision_function`` through a sigmoid or softmax, else ``predict`` as one-hot
(with a warning, since hard votes carry no dark knowledge).
"""

import sys
import warnings

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import _safe_indexing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._parallel import capped_estimator_threads, estimated_cost, run_jobs

_PREDICT_METHODS = ("predict_proba", "decision_function", "predict")


def default_teacher(random_state):
    """The strong teacher fitted when the user gives none."""
    return HistGradientBoostingClassifier(random_state=random_state)


def as_teacher_list(teachers, random_state):
    """Normalise the ``teachers`` parameter into a non-empty list of estimators."""
    if teachers is None:
        return [default_teacher(random_state)]
    if isinstance(teachers, (list, tuple)):
        if len(teachers) == 0:
            raise ValueError("teachers must not be an empty list; use None for a "
                             "default teacher.")
        return [_wrap_torch(t) for t in teachers]
    return [_wrap_torch(teachers)]


def _is_torch_module(obj):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _wrap_torch(teacher):
    if _is_torch_module(teacher):
        return TorchModuleTeacher(teacher)
    return teacher


class TorchModuleTeacher:
    """A trained ``torch.nn.Module`` used as a frozen teacher.

    The module maps a float32 tensor of shape (n, n_features) to logits of shape
    (n, n_classes), columns in the order of the distiller's ``classes_``.

    Parameters
    ----------
    module : torch.nn.Module
        The trained network; used in eval mode, never trained.
    batch_size : int, default=4096
        Rows per forward pass.
    """

    def __init__(self, module, batch_size=4096):
        self.module = module
        self.batch_size = batch_size

    def __sklearn_is_fitted__(self):
        return True

    def decision_function(self, X):
        """Logits of the module, computed in batches without gradients."""
        import torch

        X = np.asarray(X, dtype=np.float32)
        device = next(self.module.parameters()).device
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.inference_mode():
                out = [
                    self.module(torch.from_numpy(X[i:i + self.batch_size]).to(device))
                    .cpu().numpy()
                    for i in range(0, len(X), self.batch_size)
                ]
        finally:
            self.module.train(was_training)
        return np.concatenate(out).astype(np.float64)


def is_fitted(estimator):
    """Whether a teacher is already fitted (and so must be used frozen)."""
    if not hasattr(estimator, "fit"):
        return bool(getattr(estimator, "__sklearn_is_fitted__", lambda: False)())
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        return False
    return True


def check_teacher_methods(teachers):
    """Raise a TypeError naming the first teacher with no way to predict."""
    for index, teacher in enumerate(teachers):
        if not any(hasattr(teacher, m) for m in _PREDICT_METHODS):
            raise TypeError(
                f"teacher {index} ({type(teacher).__name__}) has none of "
                f"{', '.join(_PREDICT_METHODS)}; it cannot label rows."
            )
        if not is_fitted(teacher) and not hasattr(teacher, "fit"):
            raise TypeError(
                f"teacher {index} ({type(teacher).__name__}) is neither fitted nor "
                "has a fit method."
            )


def check_teacher_classes(teachers, classes):
    """Raise a ValueError when a fitted teacher's label set differs from the data's.

    Teachers without ``classes_`` (a torch module) are checked later, on the
    number of columns they output.
    """
    known = set(classes.tolist())
    for index, teacher in enumerate(teachers):
        teacher_classes = getattr(teacher, "classes_", None)
        if teacher_classes is None or not is_fitted(teacher):
            continue
        theirs = set(np.asarray(teacher_classes).tolist())
        if theirs - known:
            raise ValueError(
                f"teacher {index} ({type(teacher).__name__}) knows classes the "
                f"training data lacks: {sorted(map(str, theirs - known))}. "
                f"The data has {sorted(map(str, known))}."
            )
        if known - theirs:
            raise ValueError(
                f"teacher {index} ({type(teacher).__name__}) was fitted without "
                f"classes {sorted(map(str, known - theirs))} present in the "
                "training data, so it cannot give them probabilities."
            )


def fit_and_cross_fit(teachers, X, y, sample_weight, classes, cv, random_state,
                      n_jobs, cross_fit=True):
    """Fit the unfitted teachers and their cross-fitted copies in one dispatch.

    One queue, longest first, for the teachers and their fold copies: the
    workers stay busy until the last job instead of waiting, between two
    queues, for the slowest teacher.

    Returns
    -------
    fitted : list of estimators
        Same order as ``teachers``; prefit ones are the very same objects.
    fitted_here : list of bool
        Whether HPMDistiller fitted each teacher itself.
    oof : ndarray of shape (n_teachers, n_samples, n_classes) or None
        What :func:`out_of_fold_proba` returns, when ``cross_fit``.
    """
    fitted_here = [not is_fitted(t) for t in teachers]
    to_fit = [t for t, here in zip(teachers, fitted_here, strict=True) if here]
    n_rows, n_features = _shape(X)
    jobs = [(_fit_one, clone(t), X, y, sample_weight) for t in to_fit]
    costs = [estimated_cost(t, n_rows, n_features) for t in to_fit]
    kinds = [_job_kind("fit", t) for t in to_fit]
    folds = []
    if cross_fit and to_fit:
        folds = _fold_jobs(teachers, fitted_here, y, cv, random_state)
        fold_jobs, fold_costs, fold_kinds = _fold_dispatch(
            teachers, folds, X, y, sample_weight, classes)
        jobs, costs, kinds = jobs + fold_jobs, costs + fold_costs, kinds + fold_kinds
    results = run_jobs(_apply, jobs, costs, n_jobs, kinds=kinds)
    fitted_clones = iter(results[:len(to_fit)])
    fitted = [next(fitted_clones) if fit_it else t
              for t, fit_it in zip(teachers, fitted_here, strict=True)]
    if not (cross_fit and to_fit):
        return fitted, fitted_here, None
    oof = _assemble_oof(teachers, fitted_here, X, len(y), classes, folds,
                        results[len(to_fit):], n_jobs)
    return fitted, fitted_here, oof


def _apply(function, *args):
    return function(*args)


def _encoded_if_needed(teacher, y):
    """Wrap ``teacher`` to learn labels coded 0..k-1 unless ``y`` already is."""
    labels = np.unique(y)
    if (isinstance(teacher, EncodedLabelsClassifier)
            or np.array_equal(labels, np.arange(len(labels)))):
        return teacher
    return EncodedLabelsClassifier(teacher)


class EncodedLabelsClassifier(ClassifierMixin, BaseEstimator):
    """A classifier fitted on labels coded ``0 .. k-1``, answering in the originals.

    Some libraries (XGBoost) accept only such labels. HPMDistiller fits the
    teachers it fits itself through this adapter whenever the labels are
    anything else (strings, ``{1, 2}``, or a cross-fitting fold that lacks a
    class), so that any classifier works with any labels.

    Parameters
    ----------
    estimator : classifier
        The unfitted classifier to fit on the codes.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    labels_ : ndarray
        The sorted labels seen in ``fit``; code ``i`` stands for ``labels_[i]``.
    classes_ : ndarray
        The labels the fitted classifier knows, in its column order.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y, sample_weight=None):
        """Fit a clone of ``estimator`` on the codes of ``y``."""
        self.labels_, codes = np.unique(y, return_inverse=True)
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_ = clone(self.estimator).fit(X, codes, **kwargs)
        self.classes_ = self._decode(self.estimator_.classes_)
        return self

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, X):
        """The fitted classifier's probabilities, columns following ``classes_``."""
        return self.estimator_.predict_proba(X)

    @available_if(lambda self: hasattr(self.estimator, "decision_function"))
    def decision_function(self, X):
        """The fitted classifier's scores, columns following ``classes_``."""
        return self.estimator_.decision_function(X)

    def predict(self, X):
        """Predicted labels, in the original labels."""
        return self._decode(self.estimator_.predict(X))

    def _decode(self, codes):
        return self.labels_[np.asarray(codes, dtype=int)]


def _fit_one(teacher, X, y, sample_weight):
    """Fit an unfitted teacher, its labels coded where needed, weighted if it can.

    Its own thread count is capped to the running job's share of the cores.
    """
    with capped_estimator_threads(teacher) as original_threads:
        fitted = _fit_weighted(_encoded_if_needed(teacher, y), X, y, sample_weight)
    if original_threads and isinstance(fitted, EncodedLabelsClassifier):
        # the adapter fitted a clone, which kept the capped values
        fitted.estimator_.set_params(**original_threads)
    return fitted


def _fit_weighted(teacher, X, y, sample_weight):
    if sample_weight is None:
        return teacher.fit(X, y)
    try:
        return teacher.fit(X, y, sample_weight=sample_weight)
    except TypeError as exc:
        if "sample_weight" not in str(exc):
            raise
        name = type(getattr(teacher, "estimator", teacher)).__name__
        warnings.warn(
            f"{name}.fit does not accept sample_weight; the teacher is fitted "
            "unweighted.",
            UserWarning,
            stacklevel=3,
        )
        return teacher.fit(X, y)


def teacher_proba(teacher, X, classes):
    """Probabilities of one teacher on ``X``, columns aligned to ``classes``."""
    if hasattr(teacher, "predict_proba"):
        return _align(np.asarray(teacher.predict_proba(X), dtype=np.float64),
                      teacher, classes)
    if hasattr(teacher, "decision_function"):
        scores = np.asarray(teacher.decision_function(X), dtype=np.float64)
        if scores.ndim == 1 or scores.shape[1] == 1:
            positive = expit(scores.reshape(-1))
            proba = np.column_stack([1.0 - positive, positive])
        else:
            proba = softmax(scores, axis=1)
        return _align(proba, teacher, classes)
    warnings.warn(
        f"{type(teacher).__name__} has neither predict_proba nor decision_function; "
        "its hard predictions are used as one-hot targets, which carry no soft "
        "information.",
        UserWarning,
        stacklevel=2,
    )
    predicted = np.asarray(teacher.predict(X))
    column = {c: i for i, c in enumerate(classes.tolist())}
    proba = np.zeros((len(predicted), len(classes)))
    proba[np.arange(len(predicted)), [column[p] for p in predicted.tolist()]] = 1.0
    return proba


def _align(proba, teacher, classes):
    """Reorder columns to ``classes``; a class the teacher never saw gets 0.

    Only cross-fitted copies can miss a class (a fold without it): prefit teachers
    were checked by :func:`check_teacher_classes` before any work.
    """
    teacher_classes = getattr(teacher, "classes_", None)
    if teacher_classes is None:
        if proba.shape[1] != len(classes):
            raise ValueError(
                f"{type(teacher).__name__} outputs {proba.shape[1]} columns but the "
                f"data has {len(classes)} classes."
            )
        return proba
    column = {c: i for i, c in enumerate(np.asarray(teacher_classes).tolist())}
    aligned = np.zeros((proba.shape[0], len(classes)))
    for j, label in enumerate(classes.tolist()):
        if label in column:
            aligned[:, j] = proba[:, column[label]]
    return aligned


def out_of_fold_proba(teachers, fitted_here, X, y, sample_weight, classes, cv,
                      random_state, n_jobs):
    """Honest probabilities of the teachers on their own training rows.

    A teacher that HPMDistiller fitted on ``X`` labels each row with a copy fitted
    on the other folds (cross-fitting), so that its targets are not the memorised
    hard labels. Prefit teachers cannot be cross-fitted: they label ``X`` as they
    are.

    Returns
    -------
    ndarray of shape (n_teachers, n_samples, n_classes)
    """
    folds = _fold_jobs(teachers, fitted_here, y, cv, random_state)
    jobs, costs, kinds = _fold_dispatch(teachers, folds, X, y, sample_weight,
                                        classes)
    results = run_jobs(_apply, jobs, costs, n_jobs, kinds=kinds)
    return _assemble_oof(teachers, fitted_here, X, len(y), classes, folds, results,
                         n_jobs)


def _fold_jobs(teachers, fitted_here, y, cv, random_state):
    """``(teacher index, (fit rows, predict rows))`` for every cross-fitted copy."""
    n_splits = max(2, min(cv, np.bincount(np.unique(y, return_inverse=True)[1]).min()))
    folds = list(StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
                 .split(np.zeros(len(y)), y))
    return [(t, fold) for t, here in enumerate(fitted_here) if here
            for fold in folds]


def _fold_dispatch(teachers, folds, X, y, sample_weight, classes):
    """Jobs (for :func:`_apply`), costs and kinds of the cross-fitted copies."""
    n_features = _shape(X)[1]
    jobs = [(_fold_proba, teachers[t], X, y, sample_weight, fit_rows, predict_rows,
             classes) for t, (fit_rows, predict_rows) in folds]
    costs = [estimated_cost(teachers[t], len(fit_rows), n_features)
             for t, (fit_rows, _) in folds]
    kinds = [_job_kind("fit", teachers[t]) for t, _ in folds]
    return jobs, costs, kinds


def _assemble_oof(teachers, fitted_here, X, n_samples, classes, folds, results,
                  n_jobs):
    prefit = [t for t, here in enumerate(fitted_here) if not here]
    proba = np.empty((len(teachers), n_samples, len(classes)))
    if prefit:
        proba[prefit] = teachers_proba([teachers[t] for t in prefit], X, classes,
                                       n_jobs)
    for (t, (_, predict_rows)), fold_proba in zip(folds, results, strict=True):
        proba[t, predict_rows] = fold_proba
    return proba


def _fold_proba(teacher, X, y, sample_weight, fit_rows, predict_rows, classes):
    weight = None if sample_weight is None else sample_weight[fit_rows]
    copy = _fit_one(clone(teacher), _safe_indexing(X, fit_rows), y[fit_rows], weight)
    return teacher_proba(copy, _safe_indexing(X, predict_rows), classes)


def teachers_proba(teachers, X, classes, n_jobs, chunk_size=50_000):
    """Probabilities of every teacher on ``X``, chunked and in parallel.

    Returns
    -------
    ndarray of shape (n_teachers, n_samples, n_classes)
    """
    n_samples, n_features = _shape(X)
    chunks = [np.arange(start, min(start + chunk_size, n_samples))
              for start in range(0, n_samples, chunk_size)]
    jobs = [(t, rows) for t in range(len(teachers)) for rows in chunks]
    results = run_jobs(
        teacher_proba,
        [(teachers[t], _safe_indexing(X, rows), classes) for t, rows in jobs],
        [estimated_cost(teachers[t], len(rows), n_features) for t, rows in jobs],
        n_jobs, kinds=[_job_kind("predict", teachers[t]) for t, _ in jobs])
    per_teacher = [np.concatenate(results[t * len(chunks):(t + 1) * len(chunks)])
                   for t in range(len(teachers))]
    return np.stack(per_teacher)


def _shape(X):
    """Rows and columns of an array or DataFrame."""
    return X.shape[0], (X.shape[1] if len(X.shape) > 1 else 1)


def _job_kind(action, teacher):
    """``"fit:ClassName"``: what the memory times jobs by."""
    inner = teacher.estimator if isinstance(teacher, EncodedLabelsClassifier) \
        else teacher
    return f"{action}:{type(inner).__name__}"
