"""A student that learned the labels' prior, not the teachers, is named."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_friedman1
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)

from skdistill import HPMDistiller, HPMRegressor, LinearStudent
from skdistill._checks import warn_if_collapsed
from skdistill._task import ClassificationTask
from skdistill.exceptions import SkdistillWarning
from skdistill.students import LinearRegressionStudent


@pytest.fixture(scope="module")
def imbalanced():
    return make_classification(n_samples=400, n_features=8, n_informative=5,
                               weights=[0.8], random_state=0)


def _fit_quietly_but_for_collapse(estimator, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X, y)
    return [w for w in caught if issubclass(w.category, SkdistillWarning)
            and "learned the labels' prior" in str(w.message)]


def test_a_student_predicting_one_class_is_warned_about(imbalanced):
    X, y = imbalanced
    teacher = HistGradientBoostingClassifier(max_iter=30, random_state=0)
    # a penalty this strong leaves the class prior: always the majority class
    flat = HPMDistiller([teacher], student=LinearStudent(C=1e-8), random_state=0)
    caught = _fit_quietly_but_for_collapse(flat, X, y)
    assert len(caught) == 1
    assert "served student_ predicts a single class" in str(caught[0].message)
    spread = flat.report_.details["prediction_spread"]
    assert spread["student"] == spread["served_student"] == 0.0
    assert spread["teachers"] >= 0.1
    assert len(np.unique(flat.predict(X))) == 1
    # the same student with its default penalty follows the teachers: no warning
    fine = HPMDistiller([teacher], student=LinearStudent(), random_state=0)
    assert _fit_quietly_but_for_collapse(fine, X, y) == []
    assert fine.report_.details["prediction_spread"]["served_student"] > 0.05


def test_teachers_stray_rows_of_another_class_are_no_pattern_to_miss():
    # 3 % of one class: the teachers predict it on one validation row of 120
    # (and are right there), the linear student on none (measured: 0.9667
    # against the teachers' 0.9750)
    X, y = make_classification(n_samples=600, weights=[0.97], class_sep=0.9,
                               random_state=3)
    teacher = RandomForestClassifier(n_estimators=30, random_state=0)
    distiller = HPMDistiller([teacher], student=LinearStudent(), random_state=3)
    assert _fit_quietly_but_for_collapse(distiller, X, y) == []
    spread = distiller.report_.details["prediction_spread"]
    assert spread["served_student"] == 0.0 and 0 < spread["teachers"] < 0.05
    assert distiller.report_.student_accuracy < distiller.report_.teacher_accuracy


def test_a_regression_student_predicting_one_value_is_warned_about():
    X, y = make_friedman1(n_samples=400, random_state=0)
    teacher = RandomForestRegressor(n_estimators=30, random_state=0)
    flat = HPMRegressor([teacher], student=LinearRegressionStudent(C=1e-8),
                        random_state=0)
    caught = _fit_quietly_but_for_collapse(flat, X, y)
    assert len(caught) == 1
    assert "predicts nearly a single value" in str(caught[0].message)
    spread = flat.report_.details["prediction_spread"]
    assert spread["student"] <= 0.05 * spread["teachers"]
    fine = HPMRegressor([teacher], student=LinearRegressionStudent(),
                        random_state=0)
    assert _fit_quietly_but_for_collapse(fine, X, y) == []


def _report(spread, student=0.85, teachers=0.9):
    return SimpleNamespace(details={"prediction_spread": spread},
                           score_label="accuracy", student_accuracy=student,
                           teacher_accuracy=teachers)


@pytest.mark.parametrize("spread, student, expected", [
    # the served student predicts one class: named, whatever the report's did
    ({"teachers": 0.15, "student": 0.05, "served_student": 0.0}, 0.85,
     "The served student_ predicts a single class"),
    # the report's student, out of sample, predicts one class; the refit departs
    # from it on its own training rows only on a few: named, with the refit's share
    ({"teachers": 0.15, "student": 0.0, "served_student": 0.07}, 0.85,
     "The report's student (fitted without the validation rows) predicts a single"),
    # without a refit the report's student is the served one
    ({"teachers": 0.15, "student": 0.0}, 0.85, "The student predicts a single"),
    # the refit follows the teachers on half their share or more: no warning
    ({"teachers": 0.15, "student": 0.0, "served_student": 0.08}, 0.85, None),
    # a student as accurate as the teachers lost nothing by it: no warning
    ({"teachers": 0.15, "student": 0.0, "served_student": 0.0}, 0.9, None),
])
def test_which_student_the_collapse_warning_names(spread, student, expected):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_collapsed(_report(spread, student),
                          ClassificationTask(np.array([0, 1])))
    messages = [str(w.message) for w in caught]
    if expected is None:
        assert messages == []
    else:
        assert len(messages) == 1 and messages[0].startswith(expected)
        assert ("the served student_ (the same configuration refitted"
                in messages[0]) == (expected.startswith("The report's"))
