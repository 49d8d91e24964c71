"""Teachers as named pairs, the way StackingClassifier takes its estimators."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skdistill import HPMDistiller


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=240, n_features=5, random_state=0)


def _distiller(teachers, **params):
    return HPMDistiller(teachers, student="linear", augment=None, random_state=0,
                        **params)


def test_named_teachers_are_reported_and_weighed_by_name(data):
    X, y = data
    distiller = _distiller([("hgb", HistGradientBoostingClassifier(max_iter=10)),
                            ("lr", LogisticRegression())]).fit(X, y)
    assert list(distiller.teacher_names_) == ["hgb", "lr"]
    assert list(distiller.report_.teacher_accuracies) == ["hgb", "lr"]
    assert list(distiller.report_.details["teacher_weights"]) == ["hgb", "lr"]
    assert distiller.named_teachers_.lr is distiller.teachers_[1]
    assert distiller.teacher_weights(X[:4]).shape == (4, 2)


def test_a_bare_list_gets_names_from_the_class_numbered_on_repeats(data):
    X, y = data
    distiller = _distiller([RandomForestClassifier(n_estimators=5, random_state=0),
                            RandomForestClassifier(n_estimators=5, random_state=1),
                            LogisticRegression()]).fit(X, y)
    assert list(distiller.teacher_names_) == [
        "randomforestclassifier-1", "randomforestclassifier-2",
        "logisticregression"]


def test_set_params_reaches_a_named_teacher_and_fit_uses_it(data):
    X, y = data
    distiller = _distiller([("hgb", HistGradientBoostingClassifier(max_iter=10)),
                            ("lr", LogisticRegression())])
    params = distiller.get_params()
    assert params["teachers__hgb__max_iter"] == 10
    assert params["teachers__lr"] is distiller.teachers[1][1]
    distiller.set_params(teachers__hgb__max_iter=3)
    fitted = distiller.fit(X, y).named_teachers_.hgb
    assert fitted.n_iter_ == 3


def test_set_params_replaces_a_named_teacher_keeping_the_pairs(data):
    distiller = _distiller([("hgb", HistGradientBoostingClassifier()),
                            ("lr", LogisticRegression())])
    forest = RandomForestClassifier(n_estimators=3)
    distiller.set_params(teachers__lr=forest)
    assert distiller.teachers[1] == ("lr", forest)
    assert distiller.get_params()["teachers__lr__n_estimators"] == 3


def test_grid_search_tunes_a_teacher_by_name(data):
    X, y = data
    distiller = _distiller([("hgb", HistGradientBoostingClassifier(max_iter=5)),
                            ("lr", LogisticRegression())])
    search = GridSearchCV(distiller, {"teachers__lr__C": [0.01, 1.0]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["teachers__lr__C"] in (0.01, 1.0)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_clone_keeps_the_names_and_unfits_nothing_given(data):
    distiller = _distiller([("hgb", HistGradientBoostingClassifier(max_iter=7))])
    copy = clone(distiller)
    assert copy.teachers[0][0] == "hgb"
    assert copy.get_params()["teachers__hgb__max_iter"] == 7


@pytest.mark.parametrize(("teachers", "error", "match"), [
    ([("a", LogisticRegression()), ("a", LogisticRegression())], ValueError,
     "unique"),
    ([("a__b", LogisticRegression())], ValueError, "__"),
    ([("a", LogisticRegression()), LogisticRegression()], TypeError, "mixes"),
    ([(1, LogisticRegression())], TypeError, "strings"),
])
def test_bad_teacher_names_are_rejected_before_any_fit(data, teachers, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        _distiller(teachers).fit(X, y)


def test_an_unknown_teacher_name_in_set_params_names_the_teachers():
    distiller = _distiller([("hgb", HistGradientBoostingClassifier())])
    with pytest.raises(ValueError, match=r"No teacher named 'xgb'.*\['hgb'\]"):
        distiller.set_params(teachers__xgb__max_depth=3)
