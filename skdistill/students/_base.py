"""What every student shares: learning from hard labels or from soft targets.

A student is a scikit-learn classifier whose ``fit`` also takes, as keyword-only
arguments, a probability matrix from the teachers (``soft_targets``, columns aligned
to ``np.unique(y)``), a ``temperature`` and an ``alpha``. Without ``soft_targets`` it
is an ordinary classifier trained on ``y``.

Students that cannot put the KD loss inside their training loop (trees, boosters,
linear models) fit the *target distribution*

    alpha * soften(p_teacher, T) + (1 - alpha) * onehot(y)

and undo the softening at prediction time (``sharpen(q, T)``), so that a perfect
fit of ``alpha=1`` targets returns the teacher's own probabilities.
"""

from numbers import Real

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

# Floor of probabilities before a log, and of row sums before renormalising;
# the ONNX export writes the same floor into its graphs.
PROBA_FLOOR = 1e-12
# distill_loss="logit_mse": the floor of the teachers' probabilities before the
# log (MLPStudent's too).
LOGIT_FLOOR = 1e-4


def soften(proba, temperature):
    """Soften a probability matrix with a temperature.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Rows of probabilities.
    temperature : float
        ``T > 1`` flattens the distributions, ``T < 1`` sharpens them.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        ``softmax(log(proba) / T)`` row by row.
    """
    if temperature == 1.0:
        return np.asarray(proba, dtype=np.float64)
    logits = np.log(np.clip(proba, PROBA_FLOOR, 1.0))
    return softmax(logits / temperature, axis=1)


def sharpen(proba, temperature):
    """Undo :func:`soften`: ``sharpen(soften(p, T), T) == p``."""
    return soften(proba, 1.0 / temperature)


def distribution_to_proba(distribution, temperature):
    """What ``predict_proba`` makes of a student's predicted distribution.

    Clipped at zero, each row divided by its sum (at least ``PROBA_FLOOR``),
    then :func:`sharpen` by ``temperature``.

    Parameters
    ----------
    distribution : ndarray of shape (n_samples, n_classes)
        ``_predict_distribution``'s rows.
    temperature : float
        The student's ``temperature_``.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
    """
    proba = np.clip(distribution, 0.0, None)
    proba = proba / np.maximum(proba.sum(axis=1, keepdims=True), PROBA_FLOOR)
    return sharpen(proba, temperature)


def mixed_targets(soft_targets, hard_targets, temperature, alpha):
    """The distribution a distribution student fits.

    ``alpha * soften(soft_targets, T) + (1 - alpha) * hard_targets``, with
    ``hard_targets`` the one-hot labels.
    """
    return (alpha * soften(soft_targets, temperature)
            + (1 - alpha) * hard_targets)


def centred_log_proba(proba):
    """``log(max(proba, LOGIT_FLOOR))`` minus its row mean: the logits that
    ``distill_loss="logit_mse"`` students match."""
    log_proba = np.log(np.clip(proba, LOGIT_FLOOR, 1.0))
    return log_proba - log_proba.mean(axis=1, keepdims=True)


def is_temperature_schedule(temperature):
    """Whether ``temperature`` is a scheduler (``initial()``, ``step(epoch, gap)``)."""
    return callable(getattr(temperature, "initial", None)) and callable(
        getattr(temperature, "step", None)
    )


def check_temperature(value):
    """``value`` as a float, or a ValueError unless it is a finite number > 0."""
    if not isinstance(value, Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"temperature must be a finite number > 0 (a scheduler must return one); "
            f"got {value!r}."
        )
    return float(value)


def distillation_gap(teacher_proba, student_log_proba, sample_weight=None):
    """The measured student-teacher gap that drives a temperature scheduler.

    The weighted mean over rows of ``KL(p || q)`` at ``T = 1``: the quantity
    ``MLPStudent`` hands to ``step(epoch, gap)``.

    Parameters
    ----------
    teacher_proba : ndarray of shape (n_samples, n_classes)
        Teacher probabilities ``p`` (not softened).
    student_log_proba : ndarray of shape (n_samples, n_classes)
        Log of the student's predicted probabilities ``q``.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights; ``None`` (or weights summing to zero) weighs rows equally.

    Returns
    -------
    float
        ``sum_i w_i sum_k p_ik (log p_ik - log q_ik) / sum_i w_i``.
    """
    log_p = np.log(np.clip(teacher_proba, PROBA_FLOOR, 1.0))
    kl = np.sum(teacher_proba * (log_p - student_log_proba), axis=1)
    if sample_weight is None or np.sum(sample_weight) <= 0:
        return float(np.mean(kl))
    return float(np.average(kl, weights=sample_weight))


def log_proba_to_proba(logits):
    """Row-wise softmax of raw scores, numerically safe."""
    return np.exp(log_softmax(logits, axis=1))


def one_hot(y_encoded, n_classes):
    """One-hot matrix of integer labels ``0 .. n_classes - 1``."""
    out = np.zeros((len(y_encoded), n_classes))
    out[np.arange(len(y_encoded)), y_encoded] = 1.0
    return out


def validate_fit_targets(y, soft_targets, temperature, alpha, n_samples):
    """Check what a student is asked to learn and encode it.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Hard labels.
    soft_targets : array-like of shape (n_samples, n_classes) or None
        Teacher probabilities, columns aligned to ``np.unique(y)``.
    temperature : float
        Softening temperature, > 0.
    alpha : float
        Weight of the soft targets, in [0, 1].
    n_samples : int
        Rows of ``X``.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
    y_encoded : ndarray of shape (n_samples,)
    soft_targets : ndarray of shape (n_samples, n_classes) or None
        Validated teacher probabilities (rows sum to one), not yet softened.
    """
    check_classification_targets(y)
    classes, y_encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"A classifier needs at least 2 classes in y; got 1 class: {classes[0]!r}."
        )
    if not isinstance(temperature, Real) or temperature <= 0:
        raise ValueError(f"temperature must be a number > 0; got {temperature!r}.")
    if not isinstance(alpha, Real) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be a number in [0, 1]; got {alpha!r}.")
    if soft_targets is None:
        return classes, y_encoded, None
    soft_targets = np.asarray(soft_targets, dtype=np.float64)
    expected = (n_samples, len(classes))
    if soft_targets.shape != expected:
        raise ValueError(
            f"soft_targets must have shape {expected} (rows of X, classes in y); "
            f"got {soft_targets.shape}."
        )
    if not np.all(np.isfinite(soft_targets)) or np.any(soft_targets < 0):
        raise ValueError("soft_targets must be finite and non-negative.")
    row_sums = soft_targets.sum(axis=1, keepdims=True)
    if np.any(row_sums <= 0):
        raise ValueError("every row of soft_targets must have a positive sum.")
    return classes, y_encoded, soft_targets / row_sums


class BaseStudent(ClassifierMixin, BaseEstimator):
    """Base class of students that fit a target distribution (not a KD loss).

    Subclasses implement ``_fit_distribution(X, targets, sample_weight)`` and
    ``_predict_distribution(X)``; this class handles labels, soft targets,
    temperature and alpha, and the final sharpening. A subclass that sets
    ``accepts_temperature_schedule`` also implements ``_fit_scheduled(X, soft,
    hard, alpha, schedule, initial, sample_weight)``, which builds its targets
    from ``soft`` at the scheduler's temperatures and sets ``temperature_``. A
    subclass with a ``distill_loss`` parameter implements ``_fit_logits(X,
    hard, logit_targets, alpha, sample_weight)`` for ``distill_loss=
    "logit_mse"``: it matches the teachers' centred log-probabilities
    (:func:`centred_log_proba`) instead of a distribution, and ignores the
    temperature (``temperature_`` is 1).
    """

    # Whether ``fit`` follows a temperature scheduler (see ``_fit_scheduled``).
    accepts_temperature_schedule = False
    # The dtype the student's library computes in: the fit converts to it once,
    # and a caller that builds large inputs can build them in it (no copy).
    _input_dtype = np.float64

    def fit(self, X, y, sample_weight=None, *, soft_targets=None, temperature=1.0,
            alpha=1.0):
        """Fit on hard labels, or on the teachers' soft targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Hard labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.
        soft_targets : array-like of shape (n_samples, n_classes), default=None
            Teacher probabilities, columns aligned to ``np.unique(y)``. ``None``
            trains on ``y`` alone.
        temperature : float or scheduler, default=1.0
            Softening temperature for the soft targets; a scheduler (an object
            with ``initial()`` and ``step(epoch, gap)``) only for students whose
            ``accepts_temperature_schedule`` is true. Not used with
            ``distill_loss="logit_mse"``.
        alpha : float, default=1.0
            Weight of the soft targets against the one-hot labels.

        Returns
        -------
        self : object
            The fitted student.
        """
        X, y = validate_data(self, X, y, dtype=self._input_dtype)
        schedule = None
        if self.accepts_temperature_schedule and is_temperature_schedule(temperature):
            schedule, temperature = temperature, temperature.initial()
        classes, y_encoded, soft_targets = validate_fit_targets(
            y, soft_targets, temperature, alpha, X.shape[0]
        )
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        self.classes_ = classes
        targets = one_hot(y_encoded, len(classes))
        if soft_targets is None or alpha == 0:
            self.temperature_ = 1.0
        elif getattr(self, "distill_loss", "kl") == "logit_mse":
            self.temperature_ = 1.0
            self._fit_logits(X, targets, centred_log_proba(soft_targets), alpha,
                             sample_weight)
            return self
        elif schedule is not None:
            self._fit_scheduled(X, soft_targets, targets, alpha, schedule,
                                check_temperature(temperature), sample_weight)
            return self
        else:
            targets = mixed_targets(soft_targets, targets, temperature, alpha)
            self.temperature_ = float(temperature)
        self._fit_distribution(X, targets, sample_weight)
        return self

    def _validate_predict_X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def predict_proba(self, X):
        """Class probabilities of the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        X = self._validate_predict_X(X)
        return distribution_to_proba(self._predict_distribution(X),
                                     self.temperature_)

    def predict(self, X):
        """Most probable class of each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
