import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from scipy.special import log_softmax
from sklearn.datasets import make_classification

from skdistill.students._boosters import (
    LGBMStudent,
    XGBStudent,
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
