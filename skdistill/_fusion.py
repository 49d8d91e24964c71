"""Multi-teacher fusion (HPM-KD component iii): weights over teachers, fused targets.

Every fusion maps the teachers' probabilities, shape (n_teachers, n_samples,
n_classes), to one target distribution per row through weights over the
teachers. :class:`MeanFusion` and :class:`AccuracyFusion` use one global weight
vector; :class:`AttentionFusion` is a small gate that weighs the teachers row by
row, from the row's features and the teachers' outputs. The gate learns from
true labels, so it must be fitted on rows the teachers did not fit (out-of-fold
or held out). What every fusion shares is in :mod:`._fusion_base`, the gate's
fit in :mod:`._gate`.
"""

import numpy as np
from scipy.special import entr, logsumexp

from ._fusion_base import (
    BaseFusion,
    GlobalWeights,
    UniformWeights,
    make_named_fusion,
    mix,
)
from ._gate import Gate

_PROBA_TOL = 1e-3
_LOG_FLOOR = 1e-12


def fuse(weights, teacher_proba):
    """Mix the teachers' probabilities with global or per-row weights.

    Parameters
    ----------
    weights : array-like of shape (n_teachers,) or (n_samples, n_teachers)
        Non-negative weights summing to one (per row when 2-D).
    teacher_proba : array-like of shape (n_teachers, n_samples, n_classes)
        The teachers' probabilities.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        ``sum_t weights[i, t] * teacher_proba[t, i]`` for each row ``i``.
    """
    return mix(weights, _check_proba(teacher_proba))


def make_fusion(name, random_state=None):
    """The fusion named ``name``: ``"attention"``, ``"mean"`` or ``"accuracy"``."""
    return make_named_fusion(name, random_state, attention=AttentionFusion,
                             mean=MeanFusion, accuracy=AccuracyFusion)


class _Fusion(BaseFusion):
    """The checks of the classification fusions: probabilities and labels."""

    _outputs_name = "classes"

    @staticmethod
    def _check_outputs(outputs):
        return _check_proba(outputs)

    @staticmethod
    def _check_target(y, outputs):
        return _check_labels(y, outputs.shape[1], outputs.shape[2])

    def _remember_outputs(self, outputs):
        self.n_classes_ = outputs.shape[2]

    def _n_outputs(self):
        return self.n_classes_


class MeanFusion(UniformWeights, _Fusion):
    """The plain average of the teachers: every teacher weighs ``1 / n_teachers``.

    Attributes
    ----------
    n_teachers_ : int
        Number of teachers seen in ``fit``.
    n_classes_ : int
        Number of classes.
    n_features_in_ : int
        Number of feature columns (0 when ``features`` is None).
    """

class AccuracyFusion(GlobalWeights, _Fusion):
    """Global weights proportional to each teacher's accuracy on the fit rows.

    Attributes
    ----------
    accuracies_ : ndarray of shape (n_teachers,)
        Weighted accuracy of each teacher's arg-max on the rows given to ``fit``.
    teacher_weights_ : ndarray of shape (n_teachers,)
        ``accuracies_ / accuracies_.sum()`` (uniform if every accuracy is 0).
    n_teachers_ : int
        Number of teachers seen in ``fit``.
    n_classes_ : int
        Number of classes.
    n_features_in_ : int
        Number of feature columns (0 when ``features`` is None).

    See Also
    --------
    AttentionFusion : Per-row weights; its bias-only limit is the
        likelihood-optimal global weighting.

    Notes
    -----
    The rule is ``w_t = acc_t / sum_s acc_s``. Proportional weights stay
    bounded: a teacher twice as accurate weighs twice as much, never all. The
    alternatives that follow the likelihood (a softmax of the summed
    log-likelihood, Bayesian model averaging) give nearly all the weight to one
    teacher as soon as there are a few hundred rows, which throws away the
    other teachers' dark knowledge; the likelihood-optimal *mixture* is what
    :class:`AttentionFusion` learns when its gate is regularised to a constant.
    """

    def fit(self, features, teacher_proba, y, sample_weight=None):
        """Measure each teacher's accuracy against ``y``.

        Parameters
        ----------
        features : array-like of shape (n_samples, n_features) or None
            The rows' numeric features (unused beyond shape checks).
        teacher_proba : array-like of shape (n_teachers, n_samples, n_classes)
            The teachers' probabilities on rows they did not fit.
        y : array-like of shape (n_samples,)
            Integer-encoded labels in ``0 .. n_classes - 1``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the accuracies.

        Returns
        -------
        self : AccuracyFusion
        """
        _, teacher_proba, y, sample_weight = self._check_fit_input(
            features, teacher_proba, y, sample_weight)
        correct = teacher_proba.argmax(axis=2) == y
        self.accuracies_ = correct @ sample_weight / sample_weight.sum()
        total = self.accuracies_.sum()
        self.teacher_weights_ = (self.accuracies_ / total if total > 0 else
                                 np.full(self.n_teachers_, 1.0 / self.n_teachers_))
        return self

class AttentionFusion(Gate, _Fusion):
    """A gate that weighs the teachers row by row, learned against true labels.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the L2 penalty on the gate's coefficients ``V``; see Notes
        for its scale. Larger values pull the gate towards one global
        weighting; ``np.inf`` fits that global weighting alone (``V = 0``).
    max_iter : int, default=200
        Maximum number of L-BFGS-B iterations.
    random_state : int, RandomState instance or None, default=None
        Accepted for a uniform signature; the fit starts from zero, is
        deterministic and draws no random numbers.

    Attributes
    ----------
    coef_ : ndarray of shape (n_teachers, n_gate_inputs)
        ``V``: the gate's coefficients on the standardised inputs ``phi(x)``.
    intercept_ : ndarray of shape (n_teachers,)
        ``b``: the gate's intercepts, centred to sum to zero.
    n_iter_ : int
        L-BFGS-B iterations (0 with one teacher).
    mean_ : ndarray of shape (n_gate_inputs,)
        Weighted mean of each raw gate input on the fit rows.
    scale_ : ndarray of shape (n_gate_inputs,)
        Weighted standard deviation of each raw gate input (1 where it is
        constant).
    n_teachers_ : int
        Number of teachers seen in ``fit``.
    n_classes_ : int
        Number of classes.
    n_features_in_ : int
        Number of feature columns (0 when ``features`` is None).

    See Also
    --------
    AccuracyFusion : Global weights from each teacher's accuracy.
    MeanFusion : The plain average.

    Notes
    -----
    The weight of teacher ``t`` on row ``x`` is

    ``w_t(x) = softmax_t(b_t + V_t . phi(x))``

    where ``phi(x)`` is the standardised concatenation of ``x``, every
    teacher's probabilities ``p_t(x)``, their entropies ``H(p_t(x))`` and their
    total-variation distances to the mean prediction,
    ``0.5 * sum_k |p_tk(x) - mean_s p_sk(x)|``. The fit minimises

    ``sum_i s_i * -log(sum_t w_t(x_i) p_t(x_i)[y_i])
    + alpha * m / 2 * ||V||^2 + ||b||^2 / 2``

    with ``m`` the number of gate inputs and ``s_i`` the row weights (1 when
    not given; an integer weight counts as that many copies of the row).
    Probabilities are floored at 1e-12 inside the logarithm.

    The penalty on ``V`` is a Gaussian prior ``V_tj ~ N(0, 1 / (alpha m))``:
    with standardised inputs a teacher's gate logit ``V_t . phi(x)`` has prior
    variance about ``1 / alpha`` however many inputs the gate reads, while the
    data term grows with the number of rows. With a few dozen rows and no
    strong evidence the prior wins and ``V`` stays near 0, so the weights fall
    back to ``softmax(b)``: with ``V = 0`` the optimal ``b`` is the
    likelihood-optimal global mixture of the teachers, not their plain mean.
    With thousands of rows the data decide. The prior ``b_t ~ N(0, 1)`` is
    worth about one row: it only keeps the global weights off 0 and 1 when a
    few rows happen to favour one teacher (the likelihood of a mixture weight
    often peaks on the boundary of the simplex on small samples).

    The fit is one L-BFGS-B run with the analytic gradient, from ``b = 0,
    V = 0`` (the mean of the teachers). With one teacher the weights are 1 and
    nothing is optimised.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill._fusion import AttentionFusion
    >>> rng = np.random.RandomState(0)
    >>> x = rng.normal(size=(400, 1))
    >>> y = (x[:, 0] > 0).astype(int)
    >>> def teacher_proba(n):  # one teacher always says 0, the other 1
    ...     return np.stack([np.tile([0.9, 0.1], (n, 1)),
    ...                      np.tile([0.1, 0.9], (n, 1))])
    >>> gate = AttentionFusion().fit(x, teacher_proba(400), y)
    >>> gate.weights([[-2.0], [2.0]], teacher_proba(2)).round(1)
    array([[1., 0.],
           [0., 1.]])
    """

    @staticmethod
    def _gate_inputs(features, teacher_proba):
        return gate_inputs(features, teacher_proba)

    @staticmethod
    def _evidence(teacher_proba, y, sample_weight):
        """The log-probability each teacher gives the true label."""
        return np.log(np.maximum(
            teacher_proba[:, np.arange(len(y)), y].T, _LOG_FLOOR))

    @staticmethod
    def _gate_loss(*args):
        """The loss the gate minimises (see :func:`gate_loss`)."""
        return gate_loss(*args)

def gate_inputs(features, teacher_proba):
    """The gate's raw inputs ``phi(x)``, before standardisation.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        The rows' numeric features.
    teacher_proba : ndarray of shape (n_teachers, n_samples, n_classes)
        The teachers' probabilities.

    Returns
    -------
    ndarray of shape (n_samples, n_features + n_teachers * (n_classes + 2))
        The features, each teacher's probabilities, each teacher's entropy and
        each teacher's total-variation distance to the mean prediction.
    """
    n_samples = teacher_proba.shape[1]
    entropy = entr(teacher_proba).sum(axis=2)
    distance = 0.5 * np.abs(teacher_proba - teacher_proba.mean(axis=0)).sum(axis=2)
    probabilities = teacher_proba.transpose(1, 0, 2).reshape(n_samples, -1)
    return np.hstack([features, probabilities, entropy.T, distance.T])


def gate_loss(params, phi, log_p, sample_weight, penalty, bias_penalty=0.0):
    """Penalised mixture cross-entropy of the gate, and its gradient.

    Parameters
    ----------
    params : ndarray of shape (n_teachers * (1 + n_inputs),)
        The intercepts ``b``, then ``V`` row-major ``(n_teachers, n_inputs)``.
    phi : ndarray of shape (n_samples, n_inputs)
        Standardised gate inputs.
    log_p : ndarray of shape (n_samples, n_teachers)
        Log-probability each teacher gives the true label.
    sample_weight : ndarray of shape (n_samples,)
        Row weights, summing to one.
    penalty : float
        Strength of the ``penalty / 2 * ||V||^2`` term.
    bias_penalty : float, default=0.0
        Strength of the ``bias_penalty / 2 * ||b||^2`` term.

    Returns
    -------
    loss : float
        ``-sum_i s_i log(sum_t w_it p_it) + penalty / 2 * ||V||^2
        + bias_penalty / 2 * ||b||^2``.
    grad : ndarray of the shape of ``params``
        Its gradient: ``d loss / d z_it = s_i (w_it - r_it)`` with
        ``r_it = w_it p_it / sum_u w_iu p_iu`` the teacher's responsibility.
    """
    n_teachers = log_p.shape[1]
    bias, coef = params[:n_teachers], params[n_teachers:].reshape(n_teachers, -1)
    logits = bias + phi @ coef.T
    log_w = logits - logsumexp(logits, axis=1, keepdims=True)
    joint = log_w + log_p
    log_mix = logsumexp(joint, axis=1, keepdims=True)
    loss = (-sample_weight @ log_mix[:, 0] + 0.5 * penalty * np.sum(coef**2)
            + 0.5 * bias_penalty * np.sum(bias**2))
    residual = sample_weight[:, None] * (np.exp(log_w) - np.exp(joint - log_mix))
    grad = np.concatenate([residual.sum(axis=0) + bias_penalty * bias,
                           (residual.T @ phi + penalty * coef).ravel()])
    return loss, grad


def _check_proba(teacher_proba):
    teacher_proba = np.asarray(teacher_proba, dtype=np.float64)
    if teacher_proba.ndim != 3 or 0 in teacher_proba.shape:
        raise ValueError(
            "teacher_proba must have shape (n_teachers, n_samples, n_classes) "
            f"with no empty axis; got shape {teacher_proba.shape}."
        )
    if not np.all(np.isfinite(teacher_proba)):
        raise ValueError("teacher_proba contains NaN or infinity.")
    if np.any(teacher_proba < -_PROBA_TOL) or np.any(teacher_proba > 1 + _PROBA_TOL):
        raise ValueError("teacher_proba must lie in [0, 1].")
    if np.any(np.abs(teacher_proba.sum(axis=2) - 1.0) > _PROBA_TOL):
        raise ValueError("teacher_proba must sum to one over the classes.")
    return np.clip(teacher_proba, 0.0, 1.0)


def _check_labels(y, n_samples, n_classes):
    y = np.asarray(y)
    if y.shape != (n_samples,):
        raise ValueError(
            f"y must have shape ({n_samples},) to match teacher_proba; "
            f"got {y.shape}."
        )
    if not np.issubdtype(y.dtype, np.number) or np.any(y != np.round(y)):
        raise ValueError("y must hold integer-encoded labels; got "
                         f"dtype {y.dtype}.")
    if np.any(y < 0) or np.any(y >= n_classes):
        raise ValueError(
            f"y must hold labels in 0 .. {n_classes - 1} (the classes of "
            f"teacher_proba); got values from {y.min()} to {y.max()}."
        )
    return y.astype(np.intp)

