"""Small gradient-boosted students (LightGBM, XGBoost) on soft labels.

Binary targets use the boosters' own cross-entropy objectives, which accept
labels in [0, 1]. Multiclass targets use a softmax cross-entropy with soft
labels as a custom objective: gradient ``p - q`` and hessian ``p (1 - p)`` per
class. Both start from the log of the targets' weighted mean (an init score),
so that a few small trees refine the prior rather than build it.

With a temperature scheduler the targets change from round to round, so binary
targets use a custom soft binary cross-entropy too, and the custom objective
steps the scheduler with the gap measured on the current raw scores.
"""

from numbers import Integral, Real

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from joblib import effective_n_jobs
from scipy.special import expit, log_softmax, logit, softmax
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from tqdm.auto import tqdm

from ._base import (
    BaseStudent,
    check_temperature,
    distillation_gap,
    log_proba_to_proba,
    mixed_targets,
)
from ._docstrings import with_shared_docstring

_MIN_HESSIAN = 1e-6
_PROBA_FLOOR = 1e-12


def softmax_cross_entropy_grad_hess(raw, targets, weight):
    """Gradient and diagonal hessian of the weighted soft softmax cross-entropy.

    The loss is ``sum_i w_i * -sum_k q_ik log softmax(raw_i)_k``.

    Parameters
    ----------
    raw : ndarray of shape (n_samples, n_classes)
        Raw scores (margins).
    targets : ndarray of shape (n_samples, n_classes)
        Target distributions ``q``; rows sum to one.
    weight : ndarray of shape (n_samples,)
        Row weights.

    Returns
    -------
    grad : ndarray of shape (n_samples, n_classes)
        ``w * (p - q)``.
    hess : ndarray of shape (n_samples, n_classes)
        ``w * max(p (1 - p), 1e-6)``.
    """
    proba = log_proba_to_proba(raw)
    grad = weight[:, None] * (proba - targets)
    hess = weight[:, None] * np.maximum(proba * (1.0 - proba), _MIN_HESSIAN)
    return grad, hess


def binary_cross_entropy_grad_hess(raw, targets, weight):
    """Gradient and hessian of the weighted soft binary cross-entropy.

    The loss is ``sum_i w_i * -(q_i log p_i + (1 - q_i) log(1 - p_i))`` with
    ``p = expit(raw)``.

    Parameters
    ----------
    raw : ndarray of shape (n_samples,)
        Raw scores (logits of the positive class).
    targets : ndarray of shape (n_samples,)
        Target probabilities ``q`` of the positive class, in [0, 1].
    weight : ndarray of shape (n_samples,)
        Row weights.

    Returns
    -------
    grad : ndarray of shape (n_samples,)
        ``w * (p - q)``.
    hess : ndarray of shape (n_samples,)
        ``w * max(p (1 - p), 1e-6)``.
    """
    proba = expit(raw)
    grad = weight * (proba - targets)
    hess = weight * np.maximum(proba * (1.0 - proba), _MIN_HESSIAN)
    return grad, hess


def logit_squared_error_grad_hess(raw, hard, logit_targets, alpha, weight):
    """Gradient and diagonal hessian of ``distill_loss="logit_mse"``.

    The loss of row ``i`` is ``w_i * (alpha * mean_k (rc_ik - t_ik)^2 + (1 -
    alpha) * CE(hard_i, softmax(raw_i)))``, with ``rc`` the raw scores centred
    per row and ``t`` the teachers' centred log-probabilities (Ba and Caruana,
    2014; :class:`~skdistill.students.LinearStudent` minimises the same).

    Parameters
    ----------
    raw : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Raw scores: the logit of the positive class for two classes.
    hard : ndarray of shape (n_samples, n_classes)
        One-hot labels.
    logit_targets : ndarray of shape (n_samples, n_classes)
        :func:`~skdistill.students._base.centred_log_proba` of the teachers'
        probabilities.
    alpha : float
        Weight of the squared error, in (0, 1].
    weight : ndarray of shape (n_samples,)
        Row weights.

    Returns
    -------
    grad, hess : ndarrays of the shape of ``raw``
    """
    n_classes = hard.shape[1]
    curvature = 2.0 * alpha / n_classes * (1.0 - 1.0 / n_classes)
    if n_classes == 2:  # one score, the logits (0, raw) centred: (-raw/2, raw/2)
        proba = expit(raw)
        residual = raw - (logit_targets[:, 1] - logit_targets[:, 0])
        grad = alpha / 2.0 * residual + (1 - alpha) * (proba - hard[:, 1])
        hess = curvature + (1 - alpha) * proba * (1.0 - proba)
        return weight * grad, weight * np.maximum(hess, _MIN_HESSIAN)
    proba = log_proba_to_proba(raw)
    residual = raw - raw.mean(axis=1, keepdims=True) - logit_targets
    grad = 2.0 * alpha / n_classes * residual + (1 - alpha) * (proba - hard)
    hess = curvature + (1 - alpha) * proba * (1.0 - proba)
    return weight[:, None] * grad, weight[:, None] * np.maximum(hess, _MIN_HESSIAN)


def _soft_cross_entropy(raw, targets, weight):
    """Binary or softmax soft cross-entropy, by the number of target columns."""
    if targets.shape[1] == 2:
        return binary_cross_entropy_grad_hess(raw, targets[:, 1], weight)
    return softmax_cross_entropy_grad_hess(raw, targets, weight)


def _raw_to_log_proba(raw):
    """Log-probabilities of raw scores of shape (n,) (binary) or (n, n_classes)."""
    raw = raw.reshape(raw.shape[0], -1)
    if raw.shape[1] == 1:
        raw = np.column_stack([np.zeros(raw.shape[0]), raw[:, 0]])
    return log_softmax(raw, axis=1)


class _ScheduledObjective:
    """Soft cross-entropy whose targets follow a temperature scheduler.

    The booster calls it once per round with the raw scores of the training
    rows. From the second call on, those scores are the student after the
    previous round: their gap to the teacher (:func:`distillation_gap`, with the
    scores sharpened back by the temperature they were fitted at, as
    ``predict_proba`` would) goes to ``step``, whose answer softens this round's
    targets. ``history`` holds the temperature of every call.
    """

    def __init__(self, soft, hard, alpha, weight, schedule, initial):
        self.soft, self.hard, self.alpha, self.weight = soft, hard, alpha, weight
        self.schedule, self.initial, self.history = schedule, initial, []

    def targets(self, temperature):
        return mixed_targets(self.soft, self.hard, temperature, self.alpha)

    def step(self, raw):
        """Consult the scheduler with the gap of the scores after the last round."""
        log_q = _raw_to_log_proba(self.history[-1] * np.asarray(raw, dtype=np.float64))
        gap = distillation_gap(self.soft, log_q, self.weight)
        return check_temperature(self.schedule.step(len(self.history) - 1, gap))

    def __call__(self, raw, data):
        self.history.append(self.step(raw) if self.history else self.initial)
        return _soft_cross_entropy(raw, self.targets(self.history[-1]), self.weight)


def _constant_objective(targets, weight):
    def objective(raw, data):
        return _soft_cross_entropy(raw, targets, weight)

    return objective


def prior_init_score(targets, sample_weight):
    """Raw score of the targets' weighted mean: a logit, or log-probabilities.

    Returns an array of shape (1,) for two classes, (n_classes,) otherwise.
    """
    if sample_weight.sum() <= 0:
        sample_weight = np.ones_like(sample_weight)
    prior = np.average(targets, axis=0, weights=sample_weight)
    prior = np.clip(prior, _PROBA_FLOOR, 1.0 - _PROBA_FLOOR)
    if targets.shape[1] == 2:
        return np.array([logit(prior[1])])
    return np.log(prior)


def _init_rows(init_score, n_samples):
    """The init score on every row: shape (n,) for binary, (n, n_classes) otherwise."""
    rows = np.tile(init_score, (n_samples, 1))
    return rows[:, 0] if rows.shape[1] == 1 else rows


def _progress_bar(n_rounds, verbose):
    return tqdm(total=n_rounds, desc="boosting", unit="round", disable=not verbose)


class _BoosterStudent(BaseStudent):
    """Shared fit/predict of the boosted students: init score, link, seed."""

    accepts_temperature_schedule = True

    def _fit_distribution(self, X, targets, sample_weight, objective=None):
        self._validate_params()
        self.init_score_ = prior_init_score(targets, sample_weight)
        init = _init_rows(self.init_score_, X.shape[0])
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        with _progress_bar(self.n_estimators, self.verbose) as bar:
            self.booster_ = self._train(X, targets, sample_weight, init, int(seed), bar,
                                        objective)
        self.temperature_history_ = [self.temperature_] * self.n_estimators_

    def _fit_scheduled(self, X, soft, hard, alpha, schedule, initial, sample_weight):
        objective = _ScheduledObjective(soft, hard, alpha, sample_weight, schedule,
                                        initial)
        self.temperature_ = initial
        self._fit_distribution(X, objective.targets(initial), sample_weight, objective)
        objective.step(self._raw(X))  # the gap after the last round, as MLPStudent
        self.temperature_history_ = objective.history[:self.n_estimators_]
        self.temperature_ = self.temperature_history_[-1]

    def _fit_logits(self, X, hard, logit_targets, alpha, sample_weight):
        """``distill_loss="logit_mse"``: boosting on
        :func:`logit_squared_error_grad_hess`, from the init score of the
        distribution the two terms aim at."""
        def objective(raw, data):
            return logit_squared_error_grad_hess(raw, hard, logit_targets, alpha,
                                                 sample_weight)

        aimed = alpha * softmax(logit_targets, axis=1) + (1 - alpha) * hard
        self._fit_distribution(X, aimed, sample_weight, objective)

    def _raw(self, X):
        return self._raw_score(X).reshape(X.shape[0], -1) + self.init_score_

    def _predict_distribution(self, X):
        return np.exp(_raw_to_log_proba(self._raw(X)))


@with_shared_docstring
class LGBMStudent(_BoosterStudent):
    """Small LightGBM booster trained on the target distribution.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of boosting rounds.
    num_leaves : int, default=15
        Maximum number of leaves per tree.
    max_depth : int, default=-1
        Maximum depth of a tree; -1 for no limit.
    learning_rate : float, default=0.1
        Shrinkage of each tree.
    min_child_samples : int, default=20
        Minimum number of rows in a leaf.
    subsample : float, default=1.0
        Fraction of rows drawn (without replacement) for each round.
    colsample_bytree : float, default=1.0
        Fraction of features drawn for each tree.
    reg_lambda : float, default=0.0
        L2 penalty on leaf values.
    n_jobs : int or None, default=1
        Threads used by LightGBM; -1 for all cores.
    random_state : int, RandomState instance or None, default=None
        Seeds the row and feature sampling.
    verbose : int, default=0
        0 is silent; 1 shows a progress bar over the boosting rounds.
    {booster_distill_loss}

    Attributes
    ----------
    {fitted_attributes}
    {booster_attributes}
    booster_ : lightgbm.Booster
        The fitted booster. Its raw scores exclude ``init_score_``.
    n_estimators_ : int
        Boosting rounds actually run (LightGBM stops early when no leaf can be
        split any more).

    See Also
    --------
    XGBStudent : The same student on XGBoost.

    Notes
    -----
    Binary targets use LightGBM's ``cross_entropy`` objective with the soft
    probability of the positive class as label. Multiclass targets use
    :func:`softmax_cross_entropy_grad_hess` as a custom objective, one tree per
    class and round. With ``distill_loss="logit_mse"`` every target uses
    :func:`logit_squared_error_grad_hess` as a custom objective on the raw
    scores, and ``temperature`` is not used.

    ``temperature`` may be a scheduler (see ``skdistill._temperature``):
    ``initial()`` is called once, ``step(round, gap)`` after every round, and
    its answer softens the targets of the next round. The objective is then a
    custom one for two classes too (:func:`binary_cross_entropy_grad_hess`);
    with a constant scheduler it fits what the float fits. ``gap`` is
    :func:`~skdistill.students._base.distillation_gap` on the training rows of
    the probabilities ``predict_proba`` would give at that point: the scores
    sharpened back by the temperature of the round.

    Prediction sharpens back by the last round's temperature: the last trees
    chased the targets of that temperature, and the last gap the scheduler saw
    is that of ``predict_proba`` on the training rows. Earlier rounds chased
    targets of other temperatures, and shrinkage lets the scores catch up
    with a new temperature only over several rounds; a schedule that ends
    settled (as annealing does) leaves little of that lag. The lag matters
    most with ``alpha=1``, where the targets' log-odds scale as ``1 / T``: there
    a drop of ``T`` in the last rounds leaves the scores too flat. (Fitting on
    logits at ``T = 1`` instead, each round's step scaled by its ``T``, would
    remove that lag at ``alpha=1`` but multiplies the hard-label share of the
    targets by ``T`` in logit space, which costs more at ``alpha < 1``.)

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdistill.students._boosters import LGBMStudent
    >>> X, y = load_iris(return_X_y=True)
    >>> student = LGBMStudent(n_estimators=20, random_state=0).fit(X, y)
    >>> student.predict_proba(X[:1]).argmax()
    np.int64(0)
    """

    _parameter_constraints = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "num_leaves": [Interval(Integral, 2, 131072, closed="both")],
        "max_depth": [
            Options(Integral, {-1}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "min_child_samples": [Interval(Integral, 1, None, closed="left")],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "distill_loss": [StrOptions({"kl", "logit_mse"})],
    }

    def __init__(self, n_estimators=100, num_leaves=15, max_depth=-1, learning_rate=0.1,
                 min_child_samples=20, subsample=1.0, colsample_bytree=1.0,
                 reg_lambda=0.0, n_jobs=1, random_state=None, verbose=0,
                 distill_loss="kl"):
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.distill_loss = distill_loss

    def _params(self, seed):
        return {
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": int(self.subsample < 1.0),
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "num_threads": effective_n_jobs(self.n_jobs),
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }

    def _train(self, X, targets, sample_weight, init, seed, bar, objective=None):
        params = self._params(seed)
        if targets.shape[1] == 2 and objective is None:
            params["objective"] = "cross_entropy"
            label, weight = targets[:, 1], sample_weight
        else:
            objective = objective or _constant_objective(targets, sample_weight)
            # a closure: lgb.train deep-copies its params, and with them objects
            params["objective"] = lambda raw, data: objective(raw, data)
            if targets.shape[1] > 2:
                params["num_class"] = targets.shape[1]
            label, weight = targets.argmax(axis=1), None  # weights are in the objective
        data = lgb.Dataset(X, label=label, weight=weight, init_score=init,
                           params={"verbosity": -1, "feature_pre_filter": False})
        booster = lgb.train(params, data, num_boost_round=self.n_estimators,
                            callbacks=[lambda env: bar.update(1)])
        self.n_estimators_ = booster.current_iteration()
        return booster

    def _raw_score(self, X):
        return self.booster_.predict(X, raw_score=True)


@with_shared_docstring
class XGBStudent(_BoosterStudent):
    """Small XGBoost booster trained on the target distribution.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of boosting rounds.
    max_depth : int, default=4
        Maximum depth of a tree.
    learning_rate : float, default=0.1
        Shrinkage of each tree (XGBoost's ``eta``).
    min_child_weight : float, default=1.0
        Minimum sum of hessians in a leaf.
    subsample : float, default=1.0
        Fraction of rows drawn for each round.
    colsample_bytree : float, default=1.0
        Fraction of features drawn for each tree.
    reg_lambda : float, default=1.0
        L2 penalty on leaf values.
    n_jobs : int or None, default=1
        Threads used by XGBoost; -1 for all cores.
    random_state : int, RandomState instance or None, default=None
        Seeds the row and feature sampling.
    verbose : int, default=0
        0 is silent; 1 shows a progress bar over the boosting rounds.
    {booster_distill_loss}

    Attributes
    ----------
    {fitted_attributes}
    {booster_attributes}
    booster_ : xgboost.Booster
        The fitted booster. Its margins exclude ``init_score_``.
    n_estimators_ : int
        Boosting rounds run.

    See Also
    --------
    LGBMStudent : The same student on LightGBM.

    Notes
    -----
    Binary targets use ``binary:logistic`` with the soft probability of the
    positive class as label. Multiclass targets use
    :func:`softmax_cross_entropy_grad_hess` as a custom objective (``obj=``),
    one tree per class and round. The init score is passed as ``base_margin``
    and added back at prediction, so ``base_score`` is neutral. With
    ``distill_loss="logit_mse"`` the objective is
    :func:`logit_squared_error_grad_hess`, as in :class:`LGBMStudent`.

    ``temperature`` may be a scheduler, stepped after every round and undone at
    prediction by the last round's temperature, exactly as in
    :class:`LGBMStudent` (see its Notes).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdistill.students._boosters import XGBStudent
    >>> X, y = load_iris(return_X_y=True)
    >>> student = XGBStudent(n_estimators=20, random_state=0).fit(X, y)
    >>> student.predict_proba(X[:1]).argmax()
    np.int64(0)
    """

    _input_dtype = np.float32  # XGBoost stores its data as float32

    _parameter_constraints = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_depth": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "min_child_weight": [Interval(Real, 0, None, closed="left")],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "distill_loss": [StrOptions({"kl", "logit_mse"})],
    }

    def __init__(self, n_estimators=100, max_depth=4, learning_rate=0.1,
                 min_child_weight=1.0, subsample=1.0, colsample_bytree=1.0,
                 reg_lambda=1.0, n_jobs=1, random_state=None, verbose=0,
                 distill_loss="kl"):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.distill_loss = distill_loss

    def _params(self, seed):
        return {
            "tree_method": "hist",
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "lambda": self.reg_lambda,
            "nthread": effective_n_jobs(self.n_jobs),
            "seed": seed,
            "verbosity": 0,
        }

    def _train(self, X, targets, sample_weight, init, seed, bar, objective=None):
        params = self._params(seed)
        if targets.shape[1] == 2 and objective is None:
            params.update(objective="binary:logistic", base_score=0.5)
            data = xgb.DMatrix(X, label=targets[:, 1], weight=sample_weight,
                               base_margin=init, nthread=params["nthread"])
        else:
            params.update(base_score=0.0, disable_default_eval_metric=1)
            if targets.shape[1] > 2:
                params["num_class"] = targets.shape[1]
            # with a custom objective XGBoost uses these weights for its quantile
            # sketch only; the objective applies them to gradients and hessians
            data = xgb.DMatrix(X, weight=sample_weight, base_margin=init,
                               nthread=params["nthread"])
            objective = objective or _constant_objective(targets, sample_weight)
        booster = xgb.train(params, data, num_boost_round=self.n_estimators,
                            obj=objective, callbacks=[_XGBProgress(bar)])
        self.n_estimators_ = booster.num_boosted_rounds()
        return booster

    def _raw_score(self, X):
        data = xgb.DMatrix(X, nthread=effective_n_jobs(self.n_jobs))
        return self.booster_.predict(data, output_margin=True)


class _XGBProgress(xgb.callback.TrainingCallback):
    """Advances a progress bar after each boosting round."""

    def __init__(self, bar):
        super().__init__()
        self.bar = bar

    def after_iteration(self, model, epoch, evals_log):
        self.bar.update(1)
        return False
