"""The progressive chain of HPMRegressor: regression assistants, R² scores."""

import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor

from skdistill import HPMRegressor
from skdistill._chain import scalable_capacity, with_capacity
from skdistill.students import (
    REGRESSION_STUDENT_FAMILIES,
    LGBMRegressionStudent,
    TreeRegressionStudent,
)


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=600, n_features=8, noise=1.0, random_state=0)
    return X, y


def _regressor(student, chain, **params):
    teacher = RandomForestRegressor(n_estimators=30, random_state=0, n_jobs=1)
    # alpha given: the chain's assistants act through the soft targets, which
    # the distil-or-not check of alpha="auto" may leave out on this data.
    params = {"alpha": 0.7, **params}
    return HPMRegressor(teacher, student, chain=chain, augment=None, cv=2,
                        random_state=0, **params)


def test_chain_of_two_builds_two_regression_assistants(friedman):
    X, y = friedman
    student = LGBMRegressionStudent(n_estimators=20, num_leaves=7)
    alone = _regressor(student, False).fit(X, y)
    chained = _regressor(student, 2).fit(X, y)
    steps = chained.report_.details["chain"]
    assert [s["role"] for s in steps] == ["assistant", "assistant", "student"]
    capacities = [s["capacity"] for s in steps]
    assert capacities == sorted(capacities, reverse=True)
    assert all("r2" in s and "accuracy" not in s for s in steps)
    assert [s["role"] for s in alone.report_.details["chain"]] == ["student"]
    # the assistants' predictions became the student's targets
    assert not np.allclose(chained.predict(X), alone.predict(X))
    assert type(chained.student_[-1]) is LGBMRegressionStudent


def test_chain_auto_searches_by_r2_against_the_teachers(friedman):
    X, y = friedman
    student = LGBMRegressionStudent(n_estimators=10, num_leaves=4)
    fitted = _regressor(student, "auto", chain_min_improvement=0.0).fit(X, y)
    search = fitted.report_.details["chain_search"]
    assert 0 in search and 1 in search
    assert all(-1 < score <= 1 for score in search.values())
    assert len(fitted.report_.details["chain"]) - 1 in search


def test_a_student_of_one_size_is_refused_before_any_work(friedman):
    X, y = friedman
    with pytest.raises(ValueError, match="single size"):
        _regressor("linear", 1).fit(X, y)


@pytest.mark.parametrize("family", ["mlp", "tree", "lgbm", "xgb"])
def test_regression_students_scale_to_a_capacity(family):
    student = REGRESSION_STUDENT_FAMILIES[family]()
    if family == "tree":
        student = TreeRegressionStudent(max_depth=4)
    own = scalable_capacity(student, n_inputs=8, n_classes=1)
    bigger = with_capacity(student, 8 * own, n_inputs=8, n_classes=1)
    assert type(bigger) is type(student)
    assert scalable_capacity(bigger, n_inputs=8, n_classes=1) > 3 * own
