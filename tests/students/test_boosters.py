import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from scipy.special import expit, log_softmax
from sklearn.datasets import make_classification

from skdistill._temperature import AdaptiveTemperature, AnnealingTemperature
from skdistill.students._base import centred_log_proba, distillation_gap
from skdistill.students._boosters import (
    LGBMStudent,
    XGBStudent,
    binary_cross_entropy_grad_hess,
    logit_squared_error_grad_hess,
    softmax_cross_entropy_grad_hess,
)

BOOSTERS = [LGBMStudent, XGBStudent]


def _soft_problem(n_classes, n_samples=300, seed=0):
    X, y = make_classification(
        n_samples, 6, n_informative=4, n_classes=n_classes, random_state=seed
    )
    rng = np.random.RandomState(seed)
    noise = rng.dirichlet(np.ones(n_classes), n_samples)
    soft = 0.6 * np.eye(n_classes)[y] + 0.4 * noise
    return X, y, soft


def test_softmax_objective_is_the_derivative_of_soft_cross_entropy():
    rng = np.random.RandomState(0)
    raw = rng.normal(size=(6, 4))
    targets = rng.dirichlet(np.ones(4), size=6)
    weight = rng.uniform(0.5, 2.0, size=6)

    def loss(scores):
        return -np.sum(weight[:, None] * targets * log_softmax(scores, axis=1))

    grad, hess = softmax_cross_entropy_grad_hess(raw, targets, weight)
    step = 1e-6
    for i, k in np.ndindex(raw.shape):
        shift = np.zeros_like(raw)
        shift[i, k] = step
        numeric = (loss(raw + shift) - loss(raw - shift)) / (2 * step)
        assert grad[i, k] == pytest.approx(numeric, abs=1e-7)
        grad_up = softmax_cross_entropy_grad_hess(raw + shift, targets, weight)[0]
        grad_down = softmax_cross_entropy_grad_hess(raw - shift, targets, weight)[0]
        numeric_hess = (grad_up[i, k] - grad_down[i, k]) / (2 * step)
        assert hess[i, k] == pytest.approx(numeric_hess, rel=1e-5)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("booster", BOOSTERS)
def test_boosting_starts_from_the_weighted_prior(booster, n_classes):
    X, y, soft = _soft_problem(n_classes)
    weight = np.random.RandomState(1).uniform(0.0, 3.0, size=len(y))
    student = booster(n_estimators=1, learning_rate=1e-9, random_state=0)
    student.fit(X, y, sample_weight=weight, soft_targets=soft)
    prior = np.average(soft, axis=0, weights=weight)
    np.testing.assert_allclose(student.predict_proba(X), np.tile(prior, (len(y), 1)),
                               atol=1e-6)


@pytest.mark.parametrize("booster", BOOSTERS)
def test_fitted_booster_is_native_and_counts_its_rounds(booster):
    X, y, soft = _soft_problem(3)
    student = booster(n_estimators=7, random_state=0).fit(X, y, soft_targets=soft)
    assert isinstance(student.booster_, (lgb.Booster, xgb.Booster))
    assert student.n_estimators_ == 7
    assert student.init_score_.shape == (3,)


def test_lgbm_reports_fewer_rounds_when_nothing_can_be_split():
    X, y, soft = _soft_problem(3, n_samples=30)
    student = LGBMStudent(n_estimators=10, min_child_samples=20).fit(X, y)
    assert student.n_estimators_ < 10
    np.testing.assert_allclose(student.predict_proba(X).std(axis=0), 0.0, atol=1e-12)


@pytest.mark.parametrize("booster", BOOSTERS)
def test_random_state_drives_row_and_feature_sampling(booster):
    X, y, soft = _soft_problem(3)
    sampled = {"n_estimators": 10, "subsample": 0.6, "colsample_bytree": 0.5}

    def proba(seed):
        student = booster(**sampled, random_state=seed)
        return student.fit(X, y, soft_targets=soft).predict_proba(X)

    np.testing.assert_array_equal(proba(3), proba(3))
    assert np.abs(proba(3) - proba(4)).max() > 1e-3


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("booster", BOOSTERS)
def test_verbose_zero_is_silent(booster, n_classes, capfd):
    X, y, soft = _soft_problem(n_classes, n_samples=40)
    booster(n_estimators=5, verbose=0).fit(X, y, soft_targets=soft)
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


@pytest.mark.parametrize("booster", BOOSTERS)
def test_verbose_one_shows_a_progress_bar_over_rounds(booster, capfd):
    X, y, soft = _soft_problem(3, n_samples=60)
    booster(n_estimators=5, verbose=1).fit(X, y, soft_targets=soft)
    assert "5/5" in capfd.readouterr().err


def test_binary_objective_is_the_derivative_of_soft_cross_entropy():
    rng = np.random.RandomState(0)
    raw = rng.normal(scale=2.0, size=8)
    targets = rng.uniform(size=8)
    weight = rng.uniform(0.5, 2.0, size=8)

    def loss(scores):
        p = expit(scores)
        return -np.sum(weight * (targets * np.log(p) + (1 - targets) * np.log(1 - p)))

    grad, hess = binary_cross_entropy_grad_hess(raw, targets, weight)
    step = 1e-6
    for i in range(len(raw)):
        shift = np.zeros_like(raw)
        shift[i] = step
        numeric = (loss(raw + shift) - loss(raw - shift)) / (2 * step)
        assert grad[i] == pytest.approx(numeric, abs=1e-7)
        grad_up = binary_cross_entropy_grad_hess(raw + shift, targets, weight)[0]
        grad_down = binary_cross_entropy_grad_hess(raw - shift, targets, weight)[0]
        assert hess[i] == pytest.approx((grad_up[i] - grad_down[i]) / (2 * step),
                                        rel=1e-5)


class _Recording:
    """Wraps a scheduler (or a constant) and records every ``step`` call."""

    def __init__(self, inner):
        self.inner = inner

    def initial(self):
        self.calls = []
        return self.inner if np.isscalar(self.inner) else self.inner.initial()

    def step(self, epoch, gap):
        new = self.inner if np.isscalar(self.inner) else self.inner.step(epoch, gap)
        self.calls.append((epoch, gap, new))
        return new


SAMPLED = {"n_estimators": 12, "subsample": 0.8, "random_state": 0}


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("booster", BOOSTERS)
def test_constant_schedule_matches_the_float_temperature(booster, n_classes):
    # the scheduled path (custom objectives, binary included) fits what the
    # float path (the boosters' own binary objectives) fits
    X, y, soft = _soft_problem(n_classes)
    weight = np.random.RandomState(1).uniform(0.2, 2.0, size=len(y))
    fit = dict(sample_weight=weight, soft_targets=soft, alpha=0.7)
    fixed = booster(**SAMPLED).fit(X, y, temperature=2.5, **fit)
    schedule = _Recording(2.5)
    scheduled = booster(**SAMPLED).fit(X, y, temperature=schedule, **fit)
    np.testing.assert_allclose(scheduled.predict_proba(X), fixed.predict_proba(X),
                               atol=1e-6)
    assert fixed.temperature_history_ == scheduled.temperature_history_ == [2.5] * 12
    assert [epoch for epoch, _, _ in schedule.calls] == list(range(12))


class _GapDriven:
    """``T = 1 + 10 * gap``: a temperature that moves with every change of the gap."""

    def initial(self):
        return 4.0

    def step(self, epoch, gap):
        return 1.0 + 10.0 * gap


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("booster", BOOSTERS)
def test_schedule_is_stepped_each_round_with_the_gap(booster, n_classes):
    X, y, soft = _soft_problem(n_classes)
    weight = np.random.RandomState(1).uniform(0.2, 2.0, size=len(y))
    schedule = _Recording(_GapDriven())
    student = booster(**SAMPLED).fit(X, y, sample_weight=weight, soft_targets=soft,
                                     temperature=schedule)
    epochs, gaps, answers = map(list, zip(*schedule.calls, strict=True))
    assert epochs == list(range(12))
    assert student.temperature_history_ == [4.0] + answers[:-1]
    assert np.ptp(student.temperature_history_) > 0.5
    assert student.temperature_ == student.temperature_history_[-1]
    # the gap after the last round is that of predict_proba on the training
    # rows: prediction sharpens back by the last round's temperature
    log_q = np.log(student.predict_proba(X))
    assert gaps[-1] == pytest.approx(distillation_gap(soft, log_q, weight), rel=1e-6)


@pytest.mark.parametrize("booster, stumps", [(LGBMStudent, {"num_leaves": 2}),
                                             (XGBStudent, {"max_depth": 1})])
def test_adaptive_schedule_sharpens_once_the_gap_stalls(booster, stumps):
    # stumps soon stop closing the gap on three classes
    X, y, soft = _soft_problem(3)
    student = booster(n_estimators=25, learning_rate=1.0, random_state=0, **stumps)
    student.fit(X, y, soft_targets=soft, temperature=AdaptiveTemperature(start=4.0))
    history = student.temperature_history_
    assert len(history) == student.n_estimators_ == 25
    assert history[0] == 4.0 and history[-1] < 2.0
    assert np.all(np.diff(history) <= 0)


@pytest.mark.parametrize("booster", BOOSTERS)
def test_annealing_schedule_decays_per_round(booster):
    X, y, soft = _soft_problem(3)
    student = booster(n_estimators=6, random_state=0).fit(
        X, y, soft_targets=soft, temperature=AnnealingTemperature(5.0, decay=0.5)
    )
    np.testing.assert_allclose(student.temperature_history_,
                               1.0 + 4.0 * 0.5 ** np.arange(6))


@pytest.mark.parametrize("booster", BOOSTERS)
def test_schedule_without_soft_targets_keeps_temperature_one(booster):
    X, y, soft = _soft_problem(2)
    hard = booster(**SAMPLED).fit(X, y)
    ignored = booster(**SAMPLED).fit(X, y, soft_targets=soft, alpha=0.0,
                                     temperature=AdaptiveTemperature())
    np.testing.assert_array_equal(ignored.predict_proba(X), hard.predict_proba(X))
    assert ignored.temperature_history_ == [1.0] * 12


def test_bad_scheduler_output_is_rejected():
    X, y, soft = _soft_problem(2)

    class Broken(AdaptiveTemperature):
        def step(self, epoch, gap):
            return float("nan")

    with pytest.raises(ValueError, match="temperature must be a finite number"):
        LGBMStudent(n_estimators=3).fit(X, y, soft_targets=soft, temperature=Broken())


def _logit_mse_loss(raw, hard, logit_targets, alpha, weight):
    """The loss of ``distill_loss="logit_mse"`` written from its definition,
    on the full logits (a binary raw score is the logits ``(0, raw)``)."""
    logits = raw if raw.ndim == 2 else np.column_stack([np.zeros_like(raw), raw])
    centred = logits - logits.mean(axis=1, keepdims=True)
    squared = np.mean((centred - logit_targets) ** 2, axis=1)
    cross_entropy = -np.sum(hard * log_softmax(logits, axis=1), axis=1)
    return np.sum(weight * (alpha * squared + (1 - alpha) * cross_entropy))


@pytest.mark.parametrize("n_classes", [2, 4])
def test_logit_mse_objective_is_the_derivative_of_its_loss(n_classes):
    rng = np.random.RandomState(0)
    shape = (6, n_classes) if n_classes > 2 else (6,)
    raw = rng.normal(size=shape)
    hard = np.eye(n_classes)[rng.randint(0, n_classes, 6)]
    logit_targets = centred_log_proba(rng.dirichlet(np.ones(n_classes), size=6))
    weight = rng.uniform(0.5, 2.0, size=6)
    args = (hard, logit_targets, 0.7, weight)
    grad, hess = logit_squared_error_grad_hess(raw, *args)
    step = 1e-6
    for index in np.ndindex(raw.shape):
        shift = np.zeros_like(raw)
        shift[index] = step
        numeric = (_logit_mse_loss(raw + shift, *args)
                   - _logit_mse_loss(raw - shift, *args)) / (2 * step)
        assert grad[index] == pytest.approx(numeric, abs=1e-6)
        grad_up = logit_squared_error_grad_hess(raw + shift, *args)[0]
        grad_down = logit_squared_error_grad_hess(raw - shift, *args)[0]
        assert hess[index] == pytest.approx(
            (grad_up[index] - grad_down[index]) / (2 * step), rel=1e-4)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("booster", BOOSTERS)
def test_logit_mse_fits_the_teacher_s_margins_closer_than_kl(booster, n_classes):
    # A teacher whose log-odds are linear in the features and run far beyond
    # what its probabilities show: the cross-entropy learns the probabilities,
    # which saturate, the squared error on the logits learns the margins.
    X, y = make_classification(600, 6, n_informative=4, n_classes=n_classes,
                               random_state=0)
    coef = np.random.RandomState(1).normal(scale=2.0, size=(n_classes, 6))
    teacher = np.exp(log_softmax(X @ coef.T, axis=1))
    target = centred_log_proba(teacher)
    error = {}
    for loss in ("kl", "logit_mse"):
        student = booster(n_estimators=200, random_state=0, distill_loss=loss).fit(
            X, y, soft_targets=teacher, alpha=1.0)
        margins = centred_log_proba(student.predict_proba(X))
        error[loss] = np.mean((margins - target) ** 2)
        assert student.temperature_ == 1.0
    assert error["logit_mse"] < 0.5 * error["kl"]


@pytest.mark.parametrize("booster", BOOSTERS)
def test_logit_mse_ignores_the_temperature_and_mixes_in_the_labels(booster):
    X, y, soft = _soft_problem(3)
    fit = {}
    for temperature, alpha in ((1.0, 0.7), (4.0, 0.7), (1.0, 0.2)):
        student = booster(n_estimators=20, random_state=0, distill_loss="logit_mse")
        fit[temperature, alpha] = student.fit(
            X, y, soft_targets=soft, temperature=temperature, alpha=alpha
        ).predict_proba(X)
    np.testing.assert_allclose(fit[1.0, 0.7], fit[4.0, 0.7])
    assert not np.allclose(fit[1.0, 0.7], fit[1.0, 0.2], atol=1e-3)
