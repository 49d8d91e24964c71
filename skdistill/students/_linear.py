"""Softmax regression on soft targets."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseStudent, log_proba_to_proba
from ._docstrings import with_shared_docstring

_TINY = np.finfo(np.float64).tiny


def soft_cross_entropy(params, X, targets, weight, l2, fit_intercept):
    """Penalised soft cross-entropy of softmax regression, and its gradient.

    Parameters
    ----------
    params : ndarray of shape (n_classes * n_features + n_classes * fit_intercept,)
        Coefficients, row-major ``(n_classes, n_features)``, then the intercepts.
    X : ndarray of shape (n_samples, n_features)
        Training rows.
    targets : ndarray of shape (n_samples, n_classes)
        Target distributions; rows sum to one.
    weight : ndarray of shape (n_samples,)
        Row weights, summing to one.
    l2 : float
        Strength of the ``l2 / 2 * ||coef||^2`` penalty (intercepts are free).
    fit_intercept : bool
        Whether ``params`` ends with intercepts.

    Returns
    -------
    loss : float
        ``-sum_i w_i sum_k t_ik log softmax(x_i W^T + b)_k + l2/2 ||W||^2``.
    grad : ndarray of the shape of ``params``
        Its gradient.
    """
    coef, intercept = _unpack(params, targets.shape[1], X.shape[1], fit_intercept)
    log_proba = log_softmax(X @ coef.T + intercept, axis=1)
    loss = -np.sum(weight[:, None] * targets * log_proba)
    loss += 0.5 * l2 * np.sum(coef**2)
    residual = weight[:, None] * (np.exp(log_proba) - targets)
    grad = [(residual.T @ X + l2 * coef).ravel()]
    if fit_intercept:
        grad.append(residual.sum(axis=0))
    return loss, np.concatenate(grad)


def logit_squared_error(params, X, hard, logit_targets, alpha, weight, l2,
                        fit_intercept):
    """``alpha`` times the logits' squared error plus ``1 - alpha`` times the
    cross-entropy with the labels, penalised, and its gradient.

    The squared error of row ``i`` is ``mean_k (zc_ik - t_ik)^2`` with ``zc``
    the logits ``x_i W^T + b`` centred per row and ``t`` the centred
    ``logit_targets``; the other arguments are those of
    :func:`soft_cross_entropy` (``hard``: the one-hot labels).
    """
    loss, grad = soft_cross_entropy(params, X, hard, (1 - alpha) * weight, l2,
                                    fit_intercept)
    coef, intercept = _unpack(params, hard.shape[1], X.shape[1], fit_intercept)
    logits = X @ coef.T + intercept
    residual = logits - logits.mean(axis=1, keepdims=True) - logit_targets
    n_classes = hard.shape[1]
    loss += alpha * np.sum(weight * np.mean(residual**2, axis=1))
    d_logits = (2 * alpha / n_classes) * weight[:, None] * residual
    extra = [(d_logits.T @ X).ravel()]
    if fit_intercept:
        extra.append(d_logits.sum(axis=0))
    return loss, grad + np.concatenate(extra)


def _unpack(params, n_classes, n_features, fit_intercept):
    coef = params[: n_classes * n_features].reshape(n_classes, n_features)
    intercept = params[n_classes * n_features :] if fit_intercept else 0.0
    return coef, intercept


@with_shared_docstring
class LinearStudent(BaseStudent):
    """Softmax regression trained on the target distribution.

    Minimises the weighted soft cross-entropy between the target distribution
    and ``softmax(X W^T + b)``, with an L2 penalty on ``W``, by L-BFGS-B with
    an analytic gradient. On hard labels it is multinomial logistic regression.

    Parameters
    ----------
    C : float, default=1.0
        Inverse strength of the L2 penalty, with the meaning it has in
        :class:`~sklearn.linear_model.LogisticRegression`.
    fit_intercept : bool, default=True
        Whether to learn one unpenalised intercept per class.
    max_iter : int, default=200
        Maximum number of L-BFGS-B iterations.
    tol : float, default=1e-6
        Stop when the largest component of the projected gradient is below it.
    distill_loss : {"kl", "logit_mse"}, default="kl"
        How the soft targets are learned: the cross-entropy with the target
        distribution (see Notes), or ``"logit_mse"``: ``alpha`` times the mean
        squared difference between the logits and the teachers'
        log-probabilities (floored at ``log(1e-4)``), both centred per row (Ba
        and Caruana, 2014), plus ``1 - alpha`` times the cross-entropy with the
        labels; it does not use the temperature (``temperature_`` is 1).

    Attributes
    ----------
    {fitted_attributes}
    {temperature_attribute}
    coef_ : ndarray of shape (n_classes, n_features)
        One weight vector per class (two for a binary problem).
    intercept_ : ndarray of shape (n_classes,)
        Intercepts; zeros when ``fit_intercept=False``.
    n_iter_ : int
        Number of L-BFGS-B iterations run.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same model on hard labels.

    Notes
    -----
    The objective is ``sum_i s_i CE(t_i, q_i) / S + ||W||^2 / (2 C S)``, where
    ``s`` are the sample weights and ``S`` their sum: dividing
    ``C * sum_i s_i CE_i + ||W||^2 / 2`` by ``C S`` keeps the optimum of
    :class:`~sklearn.linear_model.LogisticRegression` while making the scale of
    the loss independent of the number of rows. A binary problem uses the same
    two-class softmax, whose penalty on ``W`` is that of logistic regression
    with ``2 C``. Features on very different scales slow L-BFGS-B down;
    standardise them first.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdistill.students._linear import LinearStudent
    >>> X, y = load_iris(return_X_y=True)
    >>> student = LinearStudent(C=10.0).fit(X, y)
    >>> round(student.score(X, y), 2)
    0.98
    """

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "distill_loss": [StrOptions({"kl", "logit_mse"})],
    }

    def __init__(self, C=1.0, fit_intercept=True, max_iter=200, tol=1e-6,
                 distill_loss="kl"):
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.distill_loss = distill_loss

    def _fit_logits(self, X, hard, logit_targets, alpha, sample_weight):
        """``distill_loss="logit_mse"``: L-BFGS-B on :func:`logit_squared_error`."""
        self._validate_params()
        total = max(sample_weight.sum(), _TINY)
        self._minimize(logit_squared_error, X, hard, sample_weight, (
            X, hard, logit_targets, alpha, sample_weight / total,
            1.0 / (self.C * total), self.fit_intercept))

    def _fit_distribution(self, X, targets, sample_weight):
        self._validate_params()
        total = max(sample_weight.sum(), _TINY)
        self._minimize(soft_cross_entropy, X, targets, sample_weight, (
            X, targets, sample_weight / total, 1.0 / (self.C * total),
            self.fit_intercept))

    def _minimize(self, objective, X, targets, sample_weight, args):
        """L-BFGS-B on ``objective(params, *args)`` (value and gradient) from
        :meth:`_initial_params`; stores the coefficients."""
        result = minimize(
            objective, self._initial_params(targets, sample_weight, X),
            args=args, jac=True, method="L-BFGS-B",
            options={"maxiter": self.max_iter, "gtol": self.tol,
                     "ftol": 64 * np.finfo(np.float64).eps, "maxls": 50},
        )
        self._store(result, targets.shape[1], X.shape[1])

    def _initial_params(self, targets, sample_weight, X):
        """Zero weights; intercepts at the log of the targets' weighted mean."""
        coef = np.zeros(targets.shape[1] * X.shape[1])
        if not self.fit_intercept:
            return coef
        prior = targets.T @ sample_weight / max(sample_weight.sum(), _TINY)
        intercept = np.log(np.clip(prior, 1e-12, None))
        return np.concatenate([coef, intercept - intercept.mean()])

    def _store(self, result, n_classes, n_features):
        coef, intercept = _unpack(result.x, n_classes, n_features, self.fit_intercept)
        self.coef_ = coef.copy()
        self.intercept_ = np.broadcast_to(intercept, (n_classes,)).astype(np.float64)
        self.n_iter_ = int(result.nit)
        if self.n_iter_ >= self.max_iter:
            warnings.warn(
                f"LinearStudent did not converge in max_iter={self.max_iter} "
                "iterations; increase max_iter or standardise the features.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _predict_distribution(self, X):
        return log_proba_to_proba(X @ self.coef_.T + self.intercept_)
