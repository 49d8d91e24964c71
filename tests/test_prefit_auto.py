"""``prefit_teachers="auto"``: cross-fitted targets for the prefit teachers that
memorised the rows given to ``fit``, their own outputs for the others."""

import warnings
from contextlib import nullcontext

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from skdistill import HPMDistiller, HPMRegressor, MLPStudent, TreeStudent
from skdistill._task import ClassificationTask
from skdistill._teacher_outputs import memorisation_position, teacher_outputs

FAST = MLPStudent(hidden_layer_sizes=(8,), max_epochs=5)


def _booster(X, y):
    return HistGradientBoostingClassifier(max_iter=100, early_stopping=False,
                                          random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def noisy():
    """4,000 rows with 30 % flipped labels: the first 600 are given to ``fit``."""
    X, y = make_classification(n_samples=4000, n_features=10, n_informative=6,
                               n_redundant=2, flip_y=0.3, random_state=0)
    return X, y


def _targets(teachers, X, y, mode, memory=None):
    return teacher_outputs(
        teachers, X, y, None, ClassificationTask(np.unique(y)), cv=5,
        soft_targets="oof", gate_learns=True, random_state=0, n_jobs=None,
        memory=memory, timed=lambda phase: nullcontext(), prefit_teachers=mode,
        names=["same_rows", "other_rows"])


def test_auto_cross_fits_only_the_teacher_fitted_on_the_rows(noisy):
    X, y = noisy
    same = FrozenEstimator(_booster(X[:600], y[:600]))
    other = FrozenEstimator(_booster(X[1000:1600], y[1000:1600]))
    X_fit, y_fit = X[:600], y[:600]
    auto = _targets([same, other], X_fit, y_fit, "auto")
    cross_fit = _targets([same, other], X_fit, y_fit, "cross_fit").targets
    as_is = _targets([same, other], X_fit, y_fit, "as_is").targets
    np.testing.assert_allclose(auto.targets[0], cross_fit[0])
    np.testing.assert_allclose(auto.targets[1], as_is[1])
    # the two modes it chooses between differ on both teachers
    assert np.abs(cross_fit[0] - as_is[0]).mean() > 0.2
    assert np.abs(cross_fit[1] - as_is[1]).mean() > 0.05
    checks = auto.prefit_checks
    assert checks["same_rows"]["cross_fitted"] and checks["same_rows"]["position"] < 0.2
    assert not checks["other_rows"]["cross_fitted"]
    assert checks["other_rows"]["position"] > 0.8
    # the gate learns on the same chosen outputs
    np.testing.assert_allclose(auto.gate, auto.targets)


def test_auto_reports_its_choice_and_reuses_the_cache(noisy, tmp_path):
    from skdistill._memory import OptimizationMemory

    X, y = noisy
    teachers = [FrozenEstimator(_booster(X[:600], y[:600])),
                FrozenEstimator(_booster(X[1000:1600], y[1000:1600]))]
    memory = OptimizationMemory(tmp_path / "memory.db")
    first = _targets(teachers, X[:600], y[:600], "auto", memory)
    again = _targets(teachers, X[:600], y[:600], "auto", memory)
    np.testing.assert_array_equal(again.targets, first.targets)
    assert again.prefit_checks == first.prefit_checks
    distiller = HPMDistiller(teachers[0], student=FAST, augment=None,
                             random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the teacher is perfect on held-out rows
        distiller.fit(X[:600], y[:600])
    check = distiller.report_.details["prefit_checks"]
    assert distiller.report_.details["prefit_teachers"] == "auto"
    assert list(check) == ["histgradientboostingclassifier"]
    assert check["histgradientboostingclassifier"]["cross_fitted"]


@pytest.mark.parametrize(("own", "out_of_fold", "fit_rows", "expected"), [
    (0.05, 0.7, 0.05, 0.0),  # as a copy on its own fit rows
    (0.7, 0.7, 0.05, 1.0),  # as a copy on new rows
    (0.4, 0.41, 0.4, 1.0),  # the copies memorise nothing measurable
    (0.0, 0.7, 0.0, 0.0),  # copies and teacher memorise perfectly (1-NN)
    (0.7, 0.7, 0.0, 1.0),  # perfect copies, a teacher that never saw the rows
])
def test_memorisation_position(own, out_of_fold, fit_rows, expected):
    assert memorisation_position(own, out_of_fold, fit_rows) == pytest.approx(expected)


def test_auto_cross_fits_a_regressor_fitted_on_the_rows():
    X, y = make_regression(n_samples=2600, n_features=8, noise=20, random_state=0)
    checks = {}
    for name, rows in (("same", slice(0, 600)), ("other", slice(1000, 2600))):
        teacher = RandomForestRegressor(n_estimators=30, random_state=0).fit(
            X[rows], y[rows])
        distiller = HPMRegressor(FrozenEstimator(teacher), student="linear",
                                 augment=None, random_state=0).fit(X[:600], y[:600])
        checks[name] = distiller.report_.details["prefit_checks"][
            "randomforestregressor"]
    assert checks["same"]["cross_fitted"] and not checks["other"]["cross_fitted"]


def test_auto_warns_about_an_uncloneable_teacher_only_when_it_memorised(noisy):
    X, y = noisy
    X, y = X[:600], y[:600]
    for teacher, warns in ((_Uncloneable(LogisticRegression()).fit(X, y), False),
                           (_Uncloneable(KNeighborsClassifier(1)).fit(X, y), True)):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            HPMDistiller(teacher, student=FAST, augment=None,
                         random_state=0).fit(X, y)
        said = [str(w.message) for w in record if "cannot be cloned" in str(w.message)]
        assert bool(said) == warns, (teacher, said)


@pytest.mark.slow  # a learning comparison on two seeds
def test_auto_learns_as_cross_fit_from_a_memorising_teacher(noisy):
    X, y = noisy
    teacher = FrozenEstimator(_booster(X[:600], y[:600]))
    for seed in (0, 1):
        scores = {
            mode: HPMDistiller(teacher, student=TreeStudent(max_depth=8),
                               augment=None, prefit_teachers=mode,
                               random_state=seed)
            .fit(X[:600], y[:600]).score(X[1000:], y[1000:])
            for mode in ("as_is", "auto")}
        # as test_prefit_cross_fit measured for "cross_fit": as_is 0.642/0.662,
        # cross-fitted 0.680/0.706
        assert scores["auto"] >= scores["as_is"] + 0.02, (seed, scores)


class _Uncloneable(ClassifierMixin, BaseEstimator):
    """A classifier that refuses to be cloned (so it has no unfitted twin)."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        self.estimator_ = self.estimator.fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    def __sklearn_clone__(self):
        raise TypeError("this teacher has no copies")


def test_auto_falls_back_with_a_warning_when_the_copies_cannot_fit(noisy):
    """A booster fitted with early stopping on its eval_set has copies that
    cannot fit without one: the fit goes on with the teacher as it is."""
    from xgboost import XGBClassifier

    X, y = noisy
    teacher = XGBClassifier(n_estimators=50, early_stopping_rounds=5).fit(
        X[:600], y[:600], eval_set=[(X[600:900], y[600:900])], verbose=False)
    with pytest.warns(UserWarning, match=r"could not fit copies of the prefit "
                      r"teacher\(s\) \['xgbclassifier'\].*ValueError"):
        distiller = HPMDistiller(FrozenEstimator(teacher), student=FAST,
                                 augment=None, random_state=0).fit(X[:600], y[:600])
    assert "prefit_checks" not in distiller.report_.details
    with pytest.raises(ValueError):  # asked for explicitly, the error stands
        HPMDistiller(FrozenEstimator(teacher), student=FAST, augment=None,
                     prefit_teachers="cross_fit", random_state=0).fit(X[:600],
                                                                      y[:600])
