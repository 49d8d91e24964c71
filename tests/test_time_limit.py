"""``time_limit``: the search and the checks are cut to stay within it, and
``report_`` says what was cut; the search's rows are capped at large n."""

import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skdistill import HPMDistiller
from skdistill import _configure as configure_module
from skdistill._task import ClassificationTask
from skdistill._teacher_outputs import PROCESS_CACHE, _fold_jobs, copies_within
from skdistill._time_budget import FIRST_RUNG_SHARE, TimeBudget
from skdistill.exceptions import SkdistillWarning


@pytest.fixture(scope="module")
def rows():
    X, y = make_classification(n_samples=500, n_features=8, n_informative=5,
                               random_state=0)
    teacher = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    return FrozenEstimator(teacher), X, y


def _distiller(teacher, **params):
    return HPMDistiller(teacher, search_budget=6, random_state=0, **params)


def test_a_tiny_limit_cuts_the_search_and_the_check_and_says_so(rows):
    teacher, X, y = rows
    limited = _distiller(teacher, time_limit=1e-3).fit(X, y)
    details = limited.report_.details
    cuts = details["time_limit"]["cut"]
    assert any(cut.startswith("configuration search stopped") for cut in cuts)
    assert any(cut.startswith("augmentation check skipped") for cut in cuts)
    assert details["configuration"]["n_fits"] == 0
    assert limited.predict(X).shape == (len(X),)
    free = _distiller(teacher).fit(X, y)
    assert free.report_.details["time_limit"] is None
    assert free.report_.details["configuration"]["n_fits"] > 0


# The heaviest of the default step (about 6 s each): CI's slow step runs it.
@pytest.mark.slow
def test_a_limit_never_reached_changes_nothing(rows):
    teacher, X, y = rows
    free = _distiller(teacher).fit(X, y)
    roomy = _distiller(teacher, time_limit=1e6).fit(X, y)
    assert roomy.report_.details["time_limit"]["cut"] == []
    np.testing.assert_array_equal(roomy.predict_proba(X), free.predict_proba(X))


def test_the_budget_lets_work_through_only_while_it_fits():
    budget = TimeBudget(10.0)
    assert budget.allows(None) and budget.allows(5.0) and not budget.allows(20.0)
    budget._start -= 10.0 * (1 - FIRST_RUNG_SHARE) + 0.5  # most of it spent
    assert not budget.allows(None) and budget.allows(1.0)
    budget.reserve(1.0)  # the report's share of what is left
    assert not budget.allows(1.0)
    assert TimeBudget(None).allows(1e9) and TimeBudget(None).summary() is None


def test_the_search_rows_are_capped(rows, monkeypatch):
    teacher, X, y = rows
    monkeypatch.setattr(configure_module, "MAX_SEARCH_ROWS", 120)
    details = HPMDistiller(teacher, search_budget=3, augment=None,
                           random_state=0).fit(X, y).report_.details
    searched = [c["rows"] for c in details["candidates"]]
    assert searched and max(searched) == 120


class _SlowTeacher(ClassifierMixin, BaseEstimator):
    """A logistic regression whose fit takes 0.2 s more, counting its fits."""

    fits = 0

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y):
        type(self).fits += 1
        time.sleep(0.2)
        self.model_ = LogisticRegression(C=self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_prefit_teachers_copies_that_the_limit_cannot_pay_are_skipped(rows):
    # Five copies at 0.2 s each would take most of a 1.2 s limit: one copy is
    # timed, and the prefit teacher labels its rows as it is.
    _, X, y = rows
    teacher = FrozenEstimator(_SlowTeacher().fit(X, y))

    def fit(limit):
        _SlowTeacher.fits = 0
        return HPMDistiller(teacher, student="tree", augment=None, cv=5,
                            random_state=0, time_limit=limit).fit(X, y)

    limited = fit(1.2)
    assert _SlowTeacher.fits == 1
    assert any(cut.startswith("prefit teachers' copies skipped")
               for cut in limited.report_.details["time_limit"]["cut"])
    assert "prefit_checks" not in limited.report_.details
    roomy = fit(60.0)
    assert _SlowTeacher.fits == 5  # the probe is the first of the five copies
    assert roomy.report_.details["time_limit"]["cut"] == []
    assert "prefit_checks" in roomy.report_.details
    PROCESS_CACHE.clear()  # the same copies fitted again, without the limit
    free = fit(None)
    assert _SlowTeacher.fits == 5
    assert roomy.report_.details["prefit_checks"] == free.report_.details[
        "prefit_checks"]
    np.testing.assert_array_equal(roomy.predict_proba(X), free.predict_proba(X))


class _OnceTeacher(_SlowTeacher):
    """Fits once; its copies raise, as an early-stopping booster's do without
    the eval_set it was given."""

    def fit(self, X, y):
        if type(self).fits:
            raise ValueError("needs its eval_set")
        type(self).fits += 1
        self.model_ = LogisticRegression(C=self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        return self


def test_a_prefit_teacher_whose_copies_fail_falls_back_under_a_limit(rows):
    _, X, y = rows
    _OnceTeacher.fits = 0
    teacher = FrozenEstimator(_OnceTeacher().fit(X, y))
    with pytest.warns(SkdistillWarning, match="could not fit copies"):
        fitted = HPMDistiller(teacher, student="tree", augment=None,
                              random_state=0, time_limit=30.0).fit(X, y)
    assert fitted.predict(X).shape == (len(X),)


class _RowsTeacher(_SlowTeacher):
    """Remembers the rows it was fitted on (no sleep)."""

    def fit(self, X, y):
        self.rows_ = X.copy()
        self.model_ = LogisticRegression(C=self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        return self


def test_the_probe_is_fitted_on_the_rows_of_the_first_copy(rows):
    # With held-out rows and a class too small for cv folds, the probe must be
    # the very copy the cross-fit would fit first, or its outputs would be
    # another copy's.
    _, X, y = rows
    y = y.copy()
    y[:3] = 2  # three rows of a third class: the folds are capped at 3
    task = ClassificationTask(np.unique(y))
    held_out = np.arange(10, 60)
    within, probes = copies_within(TimeBudget(1e6), [_RowsTeacher()], [0], X, y,
                                   None, task, 5, 0, held_out)
    (teacher, (fit_rows, _), _), *rest = _fold_jobs(
        [_RowsTeacher()], task.strata(y), 5, 0, held_out)
    assert within and len(rest) == 2  # three folds, not five
    assert not np.isin(fit_rows, held_out).any()
    np.testing.assert_array_equal(probes[0].rows_, X[fit_rows])
