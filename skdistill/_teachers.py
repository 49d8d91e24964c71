"""Teacher adapters: which teachers to use, their names, fitting one, its output.

Every teacher's output becomes a probability matrix whose columns follow the
distiller's ``classes_``: ``predict_proba`` where it exists, else
``decision_function`` through a sigmoid or softmax, else ``predict`` as one-hot
(with a warning, since hard votes carry no dark knowledge).
"""

import sys
import warnings

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    clone,
    is_classifier,
    is_regressor,
)
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._parallel import capped_estimator_threads
from .exceptions import SkdistillWarning

_PREDICT_METHODS = ("predict_proba", "decision_function", "predict")


def default_teacher(random_state):
    """The strong teacher fitted when the user gives none."""
    return HistGradientBoostingClassifier(random_state=random_state)


def default_regression_teacher(random_state):
    """The strong regression teacher fitted when the user gives none."""
    return HistGradientBoostingRegressor(random_state=random_state)


def named_teachers(teachers, random_state, default=None):
    """The ``teachers`` parameter as a non-empty list of ``(name, estimator)``.

    ``None`` gives the default teacher (``default(random_state)``, by default
    :func:`default_teacher`); a single estimator, or a list of
    estimators, gets names made from their class names (lowercased, ``-1``,
    ``-2``... on repeats, as :func:`~sklearn.pipeline.make_pipeline` does); a
    list of ``(name, estimator)`` pairs keeps its names. Torch modules are
    wrapped in :class:`TorchModuleTeacher`.

    Raises
    ------
    ValueError
        An empty list, repeated names, or a name containing ``"__"``.
    TypeError
        A list mixing pairs and bare estimators, or a name that is not a string.
    """
    if teachers is None:
        teachers = [(default or default_teacher)(random_state)]
    elif not isinstance(teachers, (list, tuple)):
        teachers = [teachers]
    if len(teachers) == 0:
        raise ValueError("teachers must not be an empty list; use None for a "
                         "default teacher.")
    return [(name, _wrap_torch(t)) for name, t in teacher_pairs(teachers)]


def teacher_pairs(teachers):
    """A list of teachers as ``(name, teacher)``: given names checked, or made.

    Raises
    ------
    ValueError
        Repeated names, or a name containing ``"__"``.
    TypeError
        A list mixing pairs and bare estimators, or a name that is not a string.
    """
    pairs = [is_pair(t) for t in teachers]
    if any(pairs) and not all(pairs):
        raise TypeError("teachers mixes (name, estimator) pairs and bare "
                        "estimators; give all of them as pairs or none.")
    if all(pairs):
        _check_names([name for name, _ in teachers])
        return list(teachers)
    return list(zip(_generated_names(teachers), teachers, strict=True))


def _generated_names(estimators):
    """Names from the estimators' class names, numbered where they repeat."""
    names = [type(_unwrapped(e)).__name__.lower() for e in estimators]
    counts = {name: names.count(name) for name in names}
    seen = dict.fromkeys(names, 0)
    numbered = []
    for name in names:
        if counts[name] > 1:
            seen[name] += 1
            name = f"{name}-{seen[name]}"
        numbered.append(name)
    return numbered


def is_pair(teacher):
    return (isinstance(teacher, tuple) and len(teacher) == 2
            and not hasattr(teacher[0], "fit"))


def _check_names(names):
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"teacher names must be strings; got {name!r}.")
        if "__" in name:
            raise ValueError(f"teacher name {name!r} must not contain '__'.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"teacher names must be unique; repeated: {repeated}.")


def _unwrapped(teacher):
    """What adapters and frozen wrappers hold."""
    while True:
        if isinstance(teacher, (EncodedLabelsClassifier, FrozenEstimator)):
            teacher = teacher.estimator
        elif isinstance(teacher, TorchModuleTeacher):
            teacher = teacher.module
        else:
            return teacher


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


def unfitted_twin(teacher):
    """An unfitted estimator with a prefit teacher's parameters, or None.

    What cross-fitting a prefit teacher clones: for a
    :class:`~sklearn.frozen.FrozenEstimator`, the twin of the estimator it holds
    (cloning the frozen wrapper gives the fitted wrapper back); otherwise
    :func:`~sklearn.base.clone` of the teacher (parameters kept, fitted state
    dropped), :class:`EncodedLabelsClassifier` included. None when there is no
    such estimator: a torch module, an object without ``get_params``, a clone
    that raises or that comes back fitted.
    """
    if isinstance(teacher, FrozenEstimator):
        return unfitted_twin(teacher.estimator)
    if isinstance(teacher, TorchModuleTeacher) or not hasattr(teacher, "get_params"):
        return None
    try:
        twin = clone(teacher)
    except Exception:
        return None
    if twin is teacher or not hasattr(twin, "fit") or is_fitted(twin):
        return None
    return twin


def check_teacher_methods(teachers, names=None):
    """Raise a TypeError naming the first teacher with no way to predict.

    A regressor (by its scikit-learn tags) is refused too: its predictions are
    numbers, not classes.
    """
    for index, teacher in enumerate(teachers):
        if _is_regressor(teacher):
            name = f"{names[index]!r}" if names is not None else str(index)
            raise TypeError(
                f"teacher {name} ({type(_unwrapped(teacher)).__name__}) is a "
                "regressor; HPMDistiller distils classifiers (teachers with "
                "predict_proba, decision_function or class predictions).")
    check_can_label(teachers)


def check_can_label(teachers):
    """Raise a TypeError naming the first teacher that cannot predict or be fitted."""
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


def _is_regressor(teacher):
    """Whether scikit-learn's tags call ``teacher`` a regressor (False: no tags)."""
    try:
        return is_regressor(teacher)
    except (AttributeError, TypeError):
        return False


def check_regression_teachers(teachers):
    """Raise a TypeError naming the first teacher that cannot be a regressor's.

    A teacher must predict (a torch module's output is its prediction), be
    fitted or fittable, and not be a classifier: its ``predict`` gives labels,
    not the numbers a regressor distils.
    """
    check_can_label(teachers)
    for index, teacher in enumerate(teachers):
        if isinstance(teacher, TorchModuleTeacher):
            continue
        name = type(_unwrapped(teacher)).__name__
        if is_classifier(teacher) or hasattr(_unwrapped(teacher), "classes_"):
            raise TypeError(
                f"teacher {index} ({name}) is a classifier; HPMRegressor distils "
                "regressors (use HPMDistiller for a classification target).")
        if not hasattr(teacher, "predict"):
            raise TypeError(
                f"teacher {index} ({name}) has no predict method; a regression "
                "teacher must predict the target.")


def teacher_prediction(teacher, X):
    """One regression teacher's predictions on ``X``, as a column.

    ``predict``, or a torch module's output (which must have one column).

    Returns
    -------
    ndarray of shape (n_samples, 1)
    """
    if isinstance(teacher, TorchModuleTeacher):
        out = teacher.decision_function(X)
    else:
        out = teacher.predict(X)
    out = np.asarray(out, dtype=np.float64)
    out = out.reshape(out.shape[0], -1)
    if out.shape[1] != 1:
        raise ValueError(
            f"{type(_unwrapped(teacher)).__name__} predicts {out.shape[1]} "
            "outputs per row; HPMRegressor distils one target.")
    return out


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


def encoded_if_needed(teacher, y):
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


def fit_one(teacher, X, y, sample_weight, task):
    """Fit an unfitted teacher, as the task wraps it, weighted if it can.

    ``task.teacher_to_fit`` wraps it (a classifier learns labels coded where
    needed); its own thread count is capped to the running job's share of the
    cores.
    """
    with capped_estimator_threads(teacher) as original_threads:
        fitted = _fit_weighted(task.teacher_to_fit(teacher, y), X, y, sample_weight)
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
            SkdistillWarning,
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
        SkdistillWarning,
        stacklevel=2,
    )
    predicted = np.asarray(teacher.predict(X))
    column = {c: i for i, c in enumerate(classes.tolist())}
    unknown = set(predicted.tolist()) - set(column)
    if unknown:
        raise ValueError(
            f"{type(teacher).__name__} predicted values that are not classes of "
            f"y (e.g. {sorted(map(repr, unknown))[0]}); a teacher must predict "
            f"class labels among {classes.tolist()[:10]}.")
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


