"""Multi-teacher fusion of regression teachers (HPM-KD component iii, regression).

The regression twin of :mod:`._fusion`: every fusion maps the teachers'
predictions, shape (n_teachers, n_samples, 1), to one target per row through
weights over the teachers. :class:`MeanRegressionFusion` and
:class:`ErrorFusion` use one global weight vector; :class:`AttentionRegressionFusion`
is the gate of :mod:`._gate` (the one :class:`~._fusion.AttentionFusion`
uses: same inputs' standardisation, same priors, same L-BFGS-B fit) reading
the row's features, the teachers' predictions and their disagreement, and
fitted against the true target with a squared loss. Like the classification
fusions they learn from the true target, so they must be fitted on rows the
teachers did not fit (out-of-fold).
"""

import numpy as np
from scipy.special import softmax

from ._fusion_base import BaseFusion, GlobalWeights, UniformWeights, make_named_fusion
from ._gate import Gate

# An error variance below this share of the target's variance counts as this:
# a teacher that repeats the target exactly must not take every weight at once.
_MIN_ERROR_SHARE = 1e-6


def make_regression_fusion(name, random_state=None):
    """The fusion named ``name``: ``"attention"``, ``"mean"`` or ``"accuracy"``."""
    return make_named_fusion(name, random_state, attention=AttentionRegressionFusion,
                             mean=MeanRegressionFusion, accuracy=ErrorFusion)


class _RegressionFusion(BaseFusion):
    """The checks of the regression fusions: predictions and a finite target."""

    _outputs_name = "output"

    @staticmethod
    def _check_outputs(outputs):
        return _check_predictions(outputs)

    @staticmethod
    def _check_target(y, outputs):
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (outputs.shape[1],) or not np.all(np.isfinite(y)):
            raise ValueError(
                f"y must be {outputs.shape[1]} finite numbers to match the "
                f"predictions; got shape {y.shape}.")
        return y

    def _remember_outputs(self, outputs):
        pass  # one prediction per teacher and row

    def _n_outputs(self):
        return 1


class MeanRegressionFusion(UniformWeights, _RegressionFusion):
    """The plain average of the teachers' predictions.

    Attributes
    ----------
    n_teachers_ : int
        Number of teachers seen in ``fit``.
    n_features_in_ : int
        Number of feature columns (0 when ``features`` is None).
    """


class ErrorFusion(GlobalWeights, _RegressionFusion):
    """Global weights proportional to each teacher's inverse squared error.

    ``fusion="accuracy"`` of :class:`~skdistill.HPMRegressor`: the regression
    counterpart of :class:`~skdistill._fusion.AccuracyFusion`.

    Attributes
    ----------
    mse_ : ndarray of shape (n_teachers,)
        Weighted mean squared error of each teacher on the rows given to ``fit``.
    teacher_weights_ : ndarray of shape (n_teachers,)
        ``(1 / mse_) / sum(1 / mse_)``.
    n_teachers_ : int
        Number of teachers seen in ``fit``.
    n_features_in_ : int
        Number of feature columns (0 when ``features`` is None).

    Notes
    -----
    Inverse-variance weighting is the best linear unbiased combination of
    unbiased, uncorrelated estimates; correlated teachers make it a heuristic,
    but a bounded one: a teacher with half the error weighs twice as much, never
    all. Errors are floored at 1e-6 of the target's variance.
    """

    def fit(self, features, predictions, y, sample_weight=None):
        """Measure each teacher's squared error against ``y``.

        Parameters
        ----------
        features : array-like of shape (n_samples, n_features) or None
            The rows' numeric features (unused beyond shape checks).
        predictions : array-like of shape (n_teachers, n_samples, 1)
            The teachers' predictions on rows they did not fit.
        y : array-like of shape (n_samples,)
            The true target.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the errors.

        Returns
        -------
        self : ErrorFusion
        """
        _, predictions, y, sample_weight = self._check_fit_input(
            features, predictions, y, sample_weight)
        errors = (predictions[:, :, 0] - y) ** 2
        self.mse_ = errors @ sample_weight / sample_weight.sum()
        variance = np.average((y - np.average(y, weights=sample_weight)) ** 2,
                              weights=sample_weight)
        inverse = 1.0 / np.maximum(self.mse_, _MIN_ERROR_SHARE * max(variance, 1e-300))
        self.teacher_weights_ = inverse / inverse.sum()
        return self


class AttentionRegressionFusion(Gate, _RegressionFusion):
    """A gate that weighs the teachers row by row, fitted with a squared loss.

    The gate of :mod:`skdistill._gate` (that of
    :class:`~skdistill._fusion.AttentionFusion`: its parameters, priors and
    fit) over regression inputs.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the L2 penalty on the gate's coefficients (as in
        :class:`~skdistill._fusion.AttentionFusion`); ``np.inf`` fits one
        global weighting.
    max_iter : int, default=200
        Maximum number of L-BFGS-B iterations.
    random_state : int, RandomState instance or None, default=None
        Accepted for a uniform signature; the fit is deterministic.

    Attributes
    ----------
    coef_ : ndarray of shape (n_teachers, n_gate_inputs)
        The gate's coefficients on the standardised inputs.
    intercept_ : ndarray of shape (n_teachers,)
        The gate's intercepts, centred to sum to zero.
    n_iter_ : int
        L-BFGS-B iterations (0 with one teacher).
    mean_, scale_ : ndarray of shape (n_gate_inputs,)
        Weighted mean and standard deviation of each raw gate input.
    target_scale_ : float
        Weighted standard deviation of ``y``: the loss is measured in it.
    n_teachers_ : int
        Number of teachers seen in ``fit``.
    n_features_in_ : int
        Number of feature columns (0 when ``features`` is None).

    Notes
    -----
    The gate's inputs are the row's features, each teacher's prediction, each
    teacher's absolute distance to the teachers' mean, and the teachers'
    standard deviation. With ``w(x) = softmax(b + V phi(x))`` and
    ``m(x) = sum_t w_t(x) f_t(x)``, the fit minimises

    ``sum_i s_i (m(x_i) - y_i)^2 / (2 sigma^2) + alpha * k / 2 ||V||^2
    + ||b||^2 / 2``

    with ``sigma`` the target's standard deviation (so the penalties mean what
    they mean for classification) and ``s`` the row weights, normalised.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill._fusion_regression import AttentionRegressionFusion
    >>> rng = np.random.RandomState(0)
    >>> x = rng.normal(size=(400, 1))
    >>> y = np.where(x[:, 0] > 0, x[:, 0], 0.0)
    >>> predictions = np.stack([np.zeros((400, 1)), x])  # right on one side each
    >>> gate = AttentionRegressionFusion().fit(x, predictions, y)
    >>> rows = np.array([[[0.0], [0.0]], [[-2.0], [2.0]]])
    >>> gate.weights([[-2.0], [2.0]], rows).round(1)
    array([[1., 0.],
           [0., 1.]])
    """

    @staticmethod
    def _gate_inputs(features, predictions):
        return regression_gate_inputs(features, predictions)

    def _evidence(self, predictions, y, sample_weight):
        """The predictions and the target, standardised by the target's weighted
        mean and deviation (``target_scale_``)."""
        center = np.average(y, weights=sample_weight)
        scale = np.sqrt(np.average((y - center) ** 2, weights=sample_weight))
        self.target_scale_ = float(scale) if scale > 0 else 1.0
        return ((predictions[:, :, 0].T - center) / self.target_scale_,
                (y - center) / self.target_scale_)

    @staticmethod
    def _gate_loss(*args):
        return squared_gate_loss(*args)


def regression_gate_inputs(features, predictions):
    """The regression gate's raw inputs, before standardisation.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    predictions : ndarray of shape (n_teachers, n_samples, 1)

    Returns
    -------
    ndarray of shape (n_samples, n_features + 2 * n_teachers + 1)
        The features, each teacher's prediction, its absolute distance to the
        teachers' mean, and the teachers' standard deviation.
    """
    values = predictions[:, :, 0].T
    distance = np.abs(values - values.mean(axis=1, keepdims=True))
    return np.hstack([features, values, distance, values.std(axis=1, keepdims=True)])


def squared_gate_loss(params, phi, evidence, sample_weight, penalty,
                      bias_penalty=0.0):
    """Penalised squared error of the gate's mixture, and its gradient.

    Parameters
    ----------
    params : ndarray of shape (n_teachers * (1 + n_inputs),)
        The intercepts ``b``, then ``V`` row-major ``(n_teachers, n_inputs)``.
    phi : ndarray of shape (n_samples, n_inputs)
        Standardised gate inputs.
    evidence : tuple of ndarray
        The teachers' predictions, shape (n_samples, n_teachers), and the
        target, shape (n_samples,), both standardised.
    sample_weight : ndarray of shape (n_samples,)
        Row weights, summing to one.
    penalty, bias_penalty : float
        Strengths of ``penalty / 2 ||V||^2`` and ``bias_penalty / 2 ||b||^2``.

    Returns
    -------
    loss : float
        ``sum_i s_i (sum_t w_it f_it - y_i)^2 / 2`` plus the penalties.
    grad : ndarray of the shape of ``params``
        ``d loss / d z_it = s_i r_i w_it (f_it - m_i)``, ``r_i = m_i - y_i``.
    """
    predictions, target = evidence
    n_teachers = predictions.shape[1]
    bias, coef = params[:n_teachers], params[n_teachers:].reshape(n_teachers, -1)
    weights = softmax(bias + phi @ coef.T, axis=1)
    mixture = np.sum(weights * predictions, axis=1)
    residual = mixture - target
    loss = (0.5 * sample_weight @ residual**2 + 0.5 * penalty * np.sum(coef**2)
            + 0.5 * bias_penalty * np.sum(bias**2))
    dz = (sample_weight * residual)[:, None] * weights * (
        predictions - mixture[:, None])
    grad = np.concatenate([dz.sum(axis=0) + bias_penalty * bias,
                           (dz.T @ phi + penalty * coef).ravel()])
    return loss, grad


def _check_predictions(predictions):
    predictions = np.asarray(predictions, dtype=np.float64)
    if predictions.ndim != 3 or predictions.shape[2] != 1 or 0 in predictions.shape:
        raise ValueError(
            "predictions must have shape (n_teachers, n_samples, 1); got shape "
            f"{predictions.shape}.")
    if not np.all(np.isfinite(predictions)):
        raise ValueError("the teachers' predictions contain NaN or infinity.")
    return predictions
