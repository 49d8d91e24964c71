"""The gate of the attention fusions (HPM-KD component iii): per-row weights.

``w(x) = softmax(b + V phi(x))`` over the teachers, ``phi(x)`` the
standardised gate inputs (the row's features and what the teachers say of
it), fitted by one L-BFGS-B run from ``b = 0, V = 0`` under Gaussian priors on
``V`` and ``b`` (see :class:`~._fusion.AttentionFusion`'s Notes). What the
gate reads and the loss it minimises are the task's:
:class:`~._fusion.AttentionFusion` (class probabilities, mixture
cross-entropy) and :class:`~._fusion_regression.AttentionRegressionFusion`
(predictions, squared error) implement ``_gate_inputs(features, outputs)``,
``_evidence(outputs, y, sample_weight)`` and ``_gate_loss``.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

# Rows per block where the gate reads its inputs a block at a time: a few MB of
# temporaries instead of copies of the whole (n_rows, n_inputs) matrix (3 of them
# for the statistics: at 800,000 rows and 59 inputs, 1.2 GB).
BLOCK_ROWS = 32_768


def row_blocks(n_rows, block=None):
    """Slices of ``block`` consecutive rows (default :data:`BLOCK_ROWS`) over
    ``n_rows`` rows."""
    block = BLOCK_ROWS if block is None else block
    return [slice(start, start + block) for start in range(0, n_rows, block)]


def weighted_mean_std(raw, sample_weight):
    """Weighted mean and standard deviation of each column, a block of rows at
    a time (no temporaries of the whole matrix's size).

    Parameters
    ----------
    raw : ndarray of shape (n_samples, n_columns)
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, with a positive sum.

    Returns
    -------
    mean, std : ndarray of shape (n_columns,)
        As ``np.average(raw, axis=0, weights=sample_weight)`` and the square root
        of the weighted average of the squared deviations from it.
    """
    total = sample_weight.sum()
    blocks = row_blocks(len(raw))
    mean = sum(sample_weight[rows] @ raw[rows] for rows in blocks) / total
    variance = sum(sample_weight[rows] @ (raw[rows] - mean) ** 2
                   for rows in blocks) / total
    return mean, np.sqrt(variance)


class Gate:
    """Fit and apply the gate: a mixin of a :class:`~._fusion_base.BaseFusion`."""

    def __init__(self, alpha=1.0, max_iter=200, random_state=None):
        self.alpha = alpha
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, features, outputs, y, sample_weight=None):
        """Learn the gate on rows the teachers did not fit.

        Parameters
        ----------
        features : array-like of shape (n_samples, n_features) or None
            The rows' numeric features, already preprocessed; ``None`` lets the
            gate read the teachers' outputs only.
        outputs : array-like of shape (n_teachers, n_samples, n_outputs)
            The teachers' outputs on those rows (probabilities, or
            predictions).
        y : array-like of shape (n_samples,)
            The true targets (integer-encoded labels, or numbers).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the loss; their sum plays the number of rows
            against the penalty, as in scikit-learn's linear models.

        Returns
        -------
        self : object
        """
        self._check_params()
        features, outputs, y, sample_weight = self._check_fit_input(
            features, outputs, y, sample_weight)
        if self.n_teachers_ == 1:
            return self._fit_one_teacher(features, outputs)
        return self._fit_gate(self._gate_inputs(features, outputs),
                              self._evidence(outputs, y, sample_weight),
                              sample_weight)

    def weights(self, features, outputs):
        """The gate's weights over the teachers, shape (n_samples, n_teachers).

        The gate's inputs are built a block of rows at a time, so that no
        temporary of the whole matrix's size is made; with one teacher, every
        weight is 1 and none is built.
        """
        features, outputs = self._check_input(features, outputs)
        if self.n_teachers_ == 1:
            return np.ones((outputs.shape[1], 1))
        return np.vstack([
            self._gate_weights(self._gate_inputs(features[rows], outputs[:, rows]))
            for rows in row_blocks(outputs.shape[1])])

    def _fit_one_teacher(self, features, outputs):
        """One teacher: weights of 1, learned from nothing; the gate's inputs of
        one row give its shape (no matrix of every row's inputs is built)."""
        n_inputs = self._gate_inputs(features[:1], outputs[:, :1]).shape[1]
        self.mean_, self.scale_ = np.zeros(n_inputs), np.ones(n_inputs)
        self.coef_, self.intercept_ = np.zeros((1, n_inputs)), np.zeros(1)
        self.n_iter_ = 0
        return self

    def _fit_gate(self, raw, evidence, sample_weight):
        """Fit ``b`` and ``V`` on the raw gate inputs against ``evidence``.

        ``evidence`` is what :meth:`_gate_loss` scores a mixture with (the
        log-probability each teacher gives the true label; the standardised
        predictions and target).
        """
        self.mean_, scale = weighted_mean_std(raw, sample_weight)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        n_inputs = raw.shape[1]
        bias_only = np.isinf(self.alpha)
        phi = (raw - self.mean_) / self.scale_
        total = sample_weight.sum()
        params, self.n_iter_ = self._minimize(
            phi[:, :0] if bias_only else phi, evidence, sample_weight / total,
            0.0 if bias_only else self.alpha * n_inputs / total, 1.0 / total)
        bias = params[:self.n_teachers_]
        self.intercept_ = bias - bias.mean()
        self.coef_ = (np.zeros((self.n_teachers_, n_inputs)) if bias_only else
                      params[self.n_teachers_:].reshape(self.n_teachers_, n_inputs))
        return self

    def _gate_weights(self, raw):
        """Softmax of the fitted gate on raw gate inputs (a block of rows: see
        :meth:`weights`)."""
        phi = (raw - self.mean_) / self.scale_
        return softmax(self.intercept_ + phi @ self.coef_.T, axis=1)

    def _check_params(self):
        if not isinstance(self.alpha, Real) or not self.alpha >= 0:
            raise ValueError(f"alpha must be a number >= 0; got {self.alpha!r}.")
        if not isinstance(self.max_iter, Integral) or self.max_iter < 1:
            raise ValueError(
                f"max_iter must be an integer >= 1; got {self.max_iter!r}.")

    def _minimize(self, phi, evidence, sample_weight, penalty, bias_penalty):
        start = np.zeros(self.n_teachers_ * (1 + phi.shape[1]))
        # The products are thin (n x m by m x T): extra BLAS threads only
        # contend, which costs 100x on a busy machine.
        with threadpool_limits(limits=1, user_api="blas"):
            result = minimize(self._gate_loss, start, jac=True, method="L-BFGS-B",
                              args=(phi, evidence, sample_weight, penalty,
                                    bias_penalty),
                              options={"maxiter": self.max_iter})
        if not result.success and result.nit >= self.max_iter:
            warnings.warn(
                f"{type(self).__name__}'s gate did not converge in max_iter="
                f"{self.max_iter} iterations; increase max_iter.",
                ConvergenceWarning, stacklevel=3,
            )
        return result.x, result.nit

