import numpy as np
import pytest
from scipy.optimize import check_grad
from scipy.special import softmax
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skdistill.students._linear import LinearStudent, soft_cross_entropy


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_on_hard_labels_it_is_multinomial_logistic_regression(iris):
    X, y = iris
    student = LinearStudent(C=0.5, tol=1e-10, max_iter=1000).fit(X, y)
    reference = LogisticRegression(C=0.5, tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(
        student.predict_proba(X), reference.predict_proba(X), atol=1e-5
    )
    assert student.coef_.shape == (3, 4)
    assert student.intercept_.shape == (3,)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_analytic_gradient_matches_finite_differences(fit_intercept):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 4))
    targets = rng.dirichlet(np.ones(3), size=30)
    weight = rng.uniform(0, 2, size=30)
    weight /= weight.sum()
    params = rng.normal(size=12 + 3 * fit_intercept)
    args = (X, targets, weight, 0.3, fit_intercept)

    def loss(p):
        return soft_cross_entropy(p, *args)[0]

    def grad(p):
        return soft_cross_entropy(p, *args)[1]

    assert check_grad(loss, grad, params) < 1e-6


def test_recovers_softmax_linear_teacher_exactly():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 3))
    proba = softmax(X @ rng.normal(size=(3, 4)) + 0.5, axis=1)
    y = proba.argmax(axis=1)
    student = LinearStudent(C=1e6).fit(X, y, soft_targets=proba)
    assert np.abs(student.predict_proba(X) - proba).max() < 1e-3


def test_max_iter_reached_warns_convergence(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        student = LinearStudent(max_iter=2).fit(X, y)
    assert student.n_iter_ == 2


def test_no_intercept_means_zero_intercepts(iris):
    X, y = iris
    student = LinearStudent(fit_intercept=False).fit(X, y)
    np.testing.assert_array_equal(student.intercept_, np.zeros(3))
    assert student.score(X, y) > 0.8


def test_smaller_C_shrinks_the_weights(iris):
    X, y = iris
    strong = LinearStudent(C=0.01).fit(X, y)
    weak = LinearStudent(C=10.0).fit(X, y)
    assert np.linalg.norm(strong.coef_) < 0.2 * np.linalg.norm(weak.coef_)


def test_logit_mse_gradient_matches_finite_differences():
    from skdistill.students._base import centred_log_proba
    from skdistill.students._linear import logit_squared_error

    rng = np.random.RandomState(0)
    X, hard = rng.randn(30, 4), np.eye(3)[rng.randint(0, 3, 30)]
    targets = centred_log_proba(rng.dirichlet([1, 1, 1], 30))
    args = (X, hard, targets, 0.7, rng.rand(30), 0.1, True)
    params = rng.randn(15)
    error = check_grad(lambda p: logit_squared_error(p, *args)[0],
                       lambda p: logit_squared_error(p, *args)[1], params)
    assert error < 1e-4


def test_logit_mse_recovers_a_linear_teacher_s_centred_logits(iris):
    X, y = iris
    rng = np.random.RandomState(0)
    coef = rng.randn(3, 4) * 0.5
    teacher = softmax(X @ coef.T, axis=1)
    student = LinearStudent(C=1e6, tol=1e-10, max_iter=1000,
                            distill_loss="logit_mse").fit(
        X, y, soft_targets=teacher, alpha=1.0)
    np.testing.assert_allclose(student.coef_ - student.coef_.mean(axis=0),
                               coef - coef.mean(axis=0), atol=1e-4)
    assert student.temperature_ == 1.0


def test_logit_mse_is_another_loss_and_learns(iris):
    from sklearn.ensemble import RandomForestClassifier

    X, y = iris
    soft = RandomForestClassifier(20, random_state=0).fit(X, y).predict_proba(X)
    students = {loss: LinearStudent(distill_loss=loss).fit(
        X, y, soft_targets=soft, temperature=2.0, alpha=0.7)
        for loss in ("kl", "logit_mse")}
    assert students["logit_mse"].score(X, y) > 0.85  # chance: 1/3
    assert not np.allclose(students["logit_mse"].predict_proba(X),
                           students["kl"].predict_proba(X), atol=1e-3)
