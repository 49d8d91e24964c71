"""Regression students: learn ``alpha * teacher + (1 - alpha) * y``.

The regression twins of the tree, booster and linear students. A regression
student's ``fit`` takes, like a classification student's, the teachers' output
as ``soft_targets`` (here their fused prediction, one number per row) and an
``alpha``; without ``soft_targets`` it is an ordinary regressor of ``y``. There
is no temperature: a prediction has no distribution to soften.

Every student learns a standardized target (weighted mean 0, standard
deviation 1) and ``predict`` returns the user's units, so that penalties,
learning rates and early stopping mean the same whatever the target's scale.
The tree and booster students reuse the parameters (and their constraints) of
their classification twins, which describe the same models.
"""

from numbers import Real

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._boosters import LGBMStudent, XGBStudent, _progress_bar, _XGBProgress
from ._docstrings import with_shared_docstring
from ._tree import TreeStudent


def regression_targets(y, soft_targets, alpha, n_samples):
    """Check a regression student's targets; the teachers' as a 1-D array.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        The true target.
    soft_targets : array-like of shape (n_samples,) or (n_samples, 1), or None
        The (fused) teachers' predictions.
    alpha : float
        Weight of ``soft_targets``, in [0, 1].
    n_samples : int
        Rows of ``X``.

    Returns
    -------
    ndarray of shape (n_samples,) or None
    """
    if not isinstance(alpha, Real) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be a number in [0, 1]; got {alpha!r}.")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity.")
    if soft_targets is None:
        return None
    soft = np.asarray(soft_targets, dtype=np.float64)
    if soft.ndim == 2 and soft.shape[1] == 1:
        soft = soft[:, 0]
    if soft.shape != (n_samples,):
        raise ValueError(
            f"soft_targets must have shape ({n_samples},) or ({n_samples}, 1) "
            f"(one teacher prediction per row of X); got {soft.shape}.")
    if not np.all(np.isfinite(soft)):
        raise ValueError("soft_targets contain NaN or infinity.")
    return soft


def weighted_standardization(values, sample_weight):
    """Weighted mean and standard deviation of ``values`` (a zero deviation is 1)."""
    weight = sample_weight if sample_weight.sum() > 0 else np.ones_like(values)
    mean = float(np.average(values, weights=weight))
    scale = float(np.sqrt(np.average((values - mean) ** 2, weights=weight)))
    return mean, (scale if scale > 0 else 1.0)


class BaseRegressionStudent(RegressorMixin, BaseEstimator):
    """Base class of the regression students that fit one mixed target.

    ``fit`` checks the rows and targets, mixes ``alpha * soft_targets +
    (1 - alpha) * y``, standardizes it and calls
    ``_fit_standardized(X, target, sample_weight)``; ``predict`` scales
    ``_predict_standardized(X)`` back. Subclasses implement those two (a
    student with its own loss, the MLP, overrides ``fit`` and reuses the
    standardization and ``predict``).
    """

    # What ``fit`` and ``predict`` read X as (the dtype the student computes in).
    _input_dtype = np.float64

    def fit(self, X, y, sample_weight=None, *, soft_targets=None, alpha=1.0):
        """Fit on ``y``, or on the teachers' predictions mixed with it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            The true target.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.
        soft_targets : array-like of shape (n_samples,) or (n_samples, 1), \
                default=None
            The teachers' predictions. ``None`` trains on ``y`` alone.
        alpha : float, default=1.0
            Weight of ``soft_targets``: the student learns
            ``alpha * soft_targets + (1 - alpha) * y``.

        Returns
        -------
        self : object
            The fitted student.
        """
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=self._input_dtype, y_numeric=True)
        soft = regression_targets(y, soft_targets, alpha, X.shape[0])
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        target = self._set_standardization(y, soft, alpha, sample_weight)
        self._fit_standardized(X, self._standardized(target), sample_weight)
        return self

    def _set_standardization(self, y, soft, alpha, sample_weight):
        """The mixed target; ``target_mean_`` and ``target_scale_`` set to its
        weighted mean and deviation."""
        target = y if soft is None else alpha * soft + (1 - alpha) * y
        self.target_mean_, self.target_scale_ = weighted_standardization(
            target, sample_weight)
        return target

    def _standardized(self, values):
        return (values - self.target_mean_) / self.target_scale_

    def predict(self, X):
        """Predicted target of each row of ``X``, in the units of ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self._input_dtype)
        return (np.asarray(self._predict_standardized(X), dtype=np.float64).ravel()
                * self.target_scale_ + self.target_mean_)


@with_shared_docstring(parameters_of=TreeStudent)
class TreeRegressionStudent(BaseRegressionStudent):
    """A shallow regression tree on the mixed target.

    The parameters are :class:`~skdistill.TreeStudent`'s.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    {regression_attributes}
    tree_model_ : DecisionTreeRegressor
        The fitted tree (on the standardized target).

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skdistill.students import TreeRegressionStudent
    >>> X, y = load_diabetes(return_X_y=True)
    >>> student = TreeRegressionStudent(max_depth=3, random_state=0).fit(X, y)
    >>> round(student.score(X, y), 2)
    0.5
    """

    _input_dtype = np.float32  # scikit-learn's trees split float32 values

    _parameter_constraints = TreeStudent._parameter_constraints
    __init__ = TreeStudent.__init__

    def _fit_standardized(self, X, target, sample_weight):
        self.tree_model_ = DecisionTreeRegressor(
            max_depth=self.max_depth, min_samples_leaf=self.min_samples_leaf,
            max_leaf_nodes=self.max_leaf_nodes, random_state=self.random_state,
        ).fit(X, target, sample_weight=sample_weight)

    def _predict_standardized(self, X):
        return self.tree_model_.predict(X)


@with_shared_docstring
class LinearRegressionStudent(BaseRegressionStudent):
    """Ridge regression on the mixed target.

    Parameters
    ----------
    C : float, default=1.0
        Inverse strength of the L2 penalty: :class:`~sklearn.linear_model.Ridge`
        with ``alpha = 1 / C`` on the standardized target (named ``C`` as in
        :class:`~skdistill.LinearStudent`, since ``alpha`` is the weight of the
        teachers in ``fit``).
    fit_intercept : bool, default=True
        Whether to learn an unpenalised intercept.

    Attributes
    ----------
    {regression_attributes}
    coef_ : ndarray of shape (n_features,)
        Weights, in the units of ``y``.
    intercept_ : float
        Intercept, in the units of ``y``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skdistill.students import LinearRegressionStudent
    >>> X, y = load_diabetes(return_X_y=True)
    >>> student = LinearRegressionStudent(C=100.0).fit(X, y)
    >>> round(student.score(X, y), 2)
    0.52
    """

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
    }

    def __init__(self, C=1.0, fit_intercept=True):
        self.C = C
        self.fit_intercept = fit_intercept

    def _fit_standardized(self, X, target, sample_weight):
        ridge = Ridge(alpha=1.0 / self.C, fit_intercept=self.fit_intercept).fit(
            X, target, sample_weight=sample_weight)
        self.coef_ = ridge.coef_ * self.target_scale_
        self.intercept_ = float(ridge.intercept_ * self.target_scale_
                                + self.target_mean_)

    def predict(self, X):
        """``X @ coef_ + intercept_``, in the units of ``y`` (as the ONNX graph)."""
        check_is_fitted(self)
        return validate_data(self, X, reset=False) @ self.coef_ + self.intercept_


class _BoosterRegressionStudent(BaseRegressionStudent):
    """Seed and progress bar of the booster students; squared error from 0."""

    def _fit_standardized(self, X, target, sample_weight):
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        with _progress_bar(self.n_estimators, self.verbose) as bar:
            self.booster_ = self._train(X, target, sample_weight, int(seed), bar)


@with_shared_docstring(parameters_of=LGBMStudent)
class LGBMRegressionStudent(_BoosterRegressionStudent):
    """A small LightGBM booster (squared error) on the mixed target.

    The parameters are :class:`~skdistill.LGBMStudent`'s.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    {regression_attributes}
    booster_ : lightgbm.Booster
        The fitted booster (on the standardized target).

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skdistill.students import LGBMRegressionStudent
    >>> X, y = load_diabetes(return_X_y=True)
    >>> student = LGBMRegressionStudent(n_estimators=20, random_state=0).fit(X, y)
    >>> student.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints = LGBMStudent._parameter_constraints
    __init__ = LGBMStudent.__init__
    _params = LGBMStudent._params

    def _train(self, X, target, sample_weight, seed, bar):
        params = {**self._params(seed), "objective": "regression"}
        data = lgb.Dataset(X, label=target, weight=sample_weight,
                           params={"verbosity": -1, "feature_pre_filter": False})
        return lgb.train(params, data, num_boost_round=self.n_estimators,
                         callbacks=[lambda env: bar.update(1)])

    def _predict_standardized(self, X):
        return self.booster_.predict(X)


@with_shared_docstring(parameters_of=XGBStudent)
class XGBRegressionStudent(_BoosterRegressionStudent):
    """A small XGBoost booster (squared error) on the mixed target.

    The parameters are :class:`~skdistill.XGBStudent`'s.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    {regression_attributes}
    booster_ : xgboost.Booster
        The fitted booster (on the standardized target).

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skdistill.students import XGBRegressionStudent
    >>> X, y = load_diabetes(return_X_y=True)
    >>> student = XGBRegressionStudent(n_estimators=20, random_state=0).fit(X, y)
    >>> student.predict(X[:2]).shape
    (2,)
    """

    _input_dtype = np.float32  # XGBoost stores its data as float32

    _parameter_constraints = XGBStudent._parameter_constraints
    __init__ = XGBStudent.__init__
    _params = XGBStudent._params

    def _train(self, X, target, sample_weight, seed, bar):
        params = {**self._params(seed), "objective": "reg:squarederror",
                  "base_score": 0.0}
        data = xgb.DMatrix(X, label=target, weight=sample_weight,
                           nthread=params["nthread"])
        return xgb.train(params, data, num_boost_round=self.n_estimators,
                         callbacks=[_XGBProgress(bar)])

    def _predict_standardized(self, X):
        return self.booster_.predict(xgb.DMatrix(
            X, nthread=effective_n_jobs(self.n_jobs)))
