"""HPMDistiller(distill_loss=...) reaches the students that take one."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skdistill import HPMDistiller, MLPStudent


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=200, n_features=5, random_state=0)


def _distil(data, student, **params):
    X, y = data
    return HPMDistiller(LogisticRegression(), student=student, augment=None, cv=2,
                        soft_targets="in_sample", random_state=0, n_jobs=1,
                        **params).fit(X, y)


def test_the_distiller_s_loss_replaces_the_student_s(data):
    distiller = _distil(data, MLPStudent(hidden_layer_sizes=(4,), max_epochs=5),
                        distill_loss="logit_mse")
    assert distiller.student_[-1].distill_loss == "logit_mse"
    kl = _distil(data, "linear")
    logit = _distil(data, "linear", distill_loss="logit_mse")
    assert logit.student_[-1].distill_loss == "logit_mse"
    X, _ = data
    assert not np.allclose(kl.predict_proba(X), logit.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("student", ["lgbm", "xgb"])
def test_the_distiller_s_loss_reaches_the_boosters(data, student):
    kl = _distil(data, student)
    logit = _distil(data, student, distill_loss="logit_mse")
    assert logit.student_[-1].distill_loss == "logit_mse"
    assert logit.student_[-1].temperature_ == 1.0
    X, _ = data
    assert not np.allclose(kl.predict_proba(X), logit.predict_proba(X), atol=1e-4)


def test_a_student_without_the_parameter_keeps_its_own_loss(data):
    distiller = _distil(data, "tree", distill_loss="logit_mse")
    assert "distill_loss" not in distiller.student_[-1].get_params()


def test_an_unknown_loss_is_refused_before_work(data):
    with pytest.raises(ValueError, match="distill_loss"):
        _distil(data, "linear", distill_loss="mse")
