"""HPMRegressor's alpha="auto" for a named student: the default alpha, or 0
where the student fitted on the true target alone is more accurate."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_friedman1
from sklearn.dummy import DummyRegressor
from sklearn.metrics import r2_score

from skdistill import HPMDistiller, HPMRegressor, LGBMRegressionStudent, MLPStudent


class _Oracle(RegressorMixin, BaseEstimator):
    """A prefit teacher that knows the noiseless Friedman #1 function."""

    def fit(self, X, y):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        X = np.asarray(X)
        return (10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2
                + 10 * X[:, 3] + 5 * X[:, 4])


@pytest.fixture(scope="module")
def noisy():
    X, y = make_friedman1(n_samples=1200, noise=6.0, random_state=0)
    return X[:800], y[:800], X[800:], y[800:]


def _fit(teacher, X, y, **params):
    params = {"augment": None, "prefit_teachers": "as_is", **params}
    return HPMRegressor(teacher, LGBMRegressionStudent(n_estimators=50,
                                                       random_state=0),
                        random_state=0, **params).fit(X, y)


def test_a_useless_teacher_is_left_out(noisy):
    X, y, X_test, y_test = noisy
    useless = DummyRegressor().fit(X, y)  # the mean, whatever the row
    auto = _fit(useless, X, y)
    check = auto.report_.details["configuration"]["distillation_check"]
    assert check["kept_distillation"] is False
    assert check["hard_labels"]["r2"] > check["distilled"]["r2"]
    # Exactly the student of alpha=0, which beats the default alpha's.
    direct = _fit(useless, X, y, alpha=0.0)
    np.testing.assert_array_equal(auto.predict(X_test), direct.predict(X_test))
    default = _fit(useless, X, y, alpha=0.7)
    assert (r2_score(y_test, auto.predict(X_test))
            > r2_score(y_test, default.predict(X_test)) + 0.1)


def test_a_teacher_that_knows_more_than_the_labels_is_kept(noisy):
    X, y, X_test, y_test = noisy
    auto = _fit(_Oracle().fit(X, y), X, y)
    check = auto.report_.details["configuration"]["distillation_check"]
    assert check["kept_distillation"] is True
    np.testing.assert_array_equal(
        auto.predict(X_test), _fit(_Oracle().fit(X, y), X, y,
                                   alpha=0.7).predict(X_test))


def test_a_given_alpha_and_the_classifier_are_not_checked(noisy):
    X, y, _, _ = noisy
    given = _fit(DummyRegressor().fit(X, y), X, y, alpha=0.7)
    assert "distillation_check" not in given.report_.details["configuration"]
    assert "distillation_check" not in given.report_.timings_s
    labels = (y > np.median(y)).astype(int)
    classifier = HPMDistiller(student=MLPStudent(max_epochs=3), augment=None,
                              random_state=0).fit(X[:300], labels[:300])
    assert "distillation_check" not in classifier.report_.details["configuration"]


def test_the_augmentation_check_reuses_the_chosen_fit(noisy):
    X, y, _, _ = noisy
    auto = _fit(DummyRegressor().fit(X, y), X, y, augment="auto")
    details = auto.report_.details["configuration"]
    assert details["augmentation_check"]["reused_search_fit"] is True
    assert (details["augmentation_check"]["accuracy_without"]
            == details["distillation_check"]["hard_labels"]["r2"])
    assert auto.report_.timings_s["distillation_check"] > 0
