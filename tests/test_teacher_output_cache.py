"""No repeated teacher work: the process keeps the teachers' outputs."""

import numpy as np
import pytest
from counting_teacher import CountingTeacher
from lightgbm import LGBMClassifier
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier

from skdistill import HPMDistiller, MLPStudent, OptimizationMemory
from skdistill._teacher_outputs import (
    PROCESS_CACHE,
    PROCESS_COPIES,
    ProcessCache,
    ProcessCopies,
    _fits_at_random,
)


@pytest.fixture
def counting():
    return CountingTeacher.reset_counts()


@pytest.fixture(scope="module")
def problem():
    return make_classification(400, 6, n_informative=4, random_state=0)


def _distiller(teacher, **params):
    params = {"augment": None, "random_state": 0, **params}
    return HPMDistiller(teacher, MLPStudent(hidden_layer_sizes=(4,), max_epochs=5),
                        **params)


def test_a_refit_on_the_same_rows_does_not_run_the_teacher_again(problem,
                                                                  counting):
    X, y = problem
    teacher = CountingTeacher().fit(X, y)
    first = _distiller(teacher).fit(X, y)
    assert counting["predict_proba"] > 0
    counting["predict_proba"] = 0
    second = _distiller(teacher, alpha=0.3).fit(X, y)
    assert counting["predict_proba"] == 0
    np.testing.assert_array_equal(_distiller(teacher, alpha=0.3).fit(X, y)
                                  .predict_proba(X), second.predict_proba(X))
    assert second.report_.teacher_accuracy == first.report_.teacher_accuracy
    _distiller(teacher).fit(X[:300], y[:300])  # other rows: run again
    assert counting["predict_proba"] > 0


def test_cached_outputs_give_the_fit_they_replace(problem):
    X, y = problem
    teacher = CountingTeacher().fit(X, y)
    warm = _distiller(teacher, augment="munge").fit(X, y)
    warm_again = _distiller(teacher, augment="munge").fit(X, y)
    PROCESS_CACHE.clear()
    cold = _distiller(teacher, augment="munge").fit(X, y)
    np.testing.assert_array_equal(warm_again.predict_proba(X), cold.predict_proba(X))
    np.testing.assert_array_equal(warm.predict_proba(X), cold.predict_proba(X))


def test_a_grid_over_frozen_teachers_costs_the_teachers_of_one_candidate(
        problem, counting):
    X, y = problem
    frozen = FrozenEstimator(CountingTeacher().fit(X, y))

    def calls_of(grid):
        PROCESS_CACHE.clear()
        counting["predict_proba"] = 0
        GridSearchCV(_distiller(frozen, augment="munge", augment_ratio=1.0),
                     grid, cv=2).fit(X, y)
        return counting["predict_proba"]

    one = calls_of({"alpha": [0.5]})
    four = calls_of({"alpha": [0.3, 0.7], "temperature": [1.0, 3.0]})
    assert four == one > 0


def test_a_grid_fits_the_copies_of_each_fold_once(problem, counting):
    # GridSearchCV fits every candidate on each fold in turn: the prefit
    # teacher's copies of fold 1 must still be there when the second
    # candidate comes back to it (augment="auto"'s check labels with them).
    X, y = problem
    frozen = FrozenEstimator(CountingTeacher().fit(X, y))

    def copies_fitted(grid):
        PROCESS_CACHE.clear()
        PROCESS_COPIES.clear()
        counting["fit"] = 0
        GridSearchCV(_distiller(frozen, augment="auto", augment_ratio=1.0, cv=3),
                     grid, cv=5).fit(X, y)
        return counting["fit"]

    one = copies_fitted({"alpha": [0.5]})
    assert one == 6 * 3  # five folds and the refit, three copies each
    assert copies_fitted({"alpha": [0.3, 0.5, 0.7]}) == one


def test_the_copies_kept_are_bounded_in_bytes():
    # per teacher, its fold copies (or None); each copy here about 950 bytes
    copies = ProcessCopies(max_bytes=2_500)
    for key in "abc":
        copies.put(key, [[np.zeros(100)], None])
    assert copies.get("a") is None and copies.get("b") is not None
    copies.put("two", [[np.zeros(100), np.zeros(100)]])  # counted twice
    assert copies.get("c") is None and copies.get("two") is not None
    assert 1_800 < copies.n_bytes < 2_500
    copies.put("huge", [[np.zeros(1_000)]])  # over the bound: kept alone
    assert copies.get("huge") is not None and copies.get("two") is None
    assert copies.n_bytes > 2_500
    copies.put(None, [[np.zeros(1)]])
    assert copies.get(None) is None


def test_teachers_fitted_at_random_are_fitted_again(problem, counting):
    X, y = problem
    _distiller(CountingTeacher(random_state=None)).fit(X, y)
    counting["fit"] = 0
    distiller = _distiller(CountingTeacher(random_state=None)).fit(X, y)
    assert counting["fit"] == 1 + distiller.cv  # the teacher and its folds
    counting["fit"] = 0
    _distiller(CountingTeacher(random_state=0)).fit(X, y)
    _distiller(CountingTeacher(random_state=0)).fit(X, y)
    assert counting["fit"] == 2 + distiller.cv  # the seeded one's folds once


def test_a_memory_with_its_cache_off_turns_the_process_cache_off(
        problem, counting, tmp_path):
    X, y = problem
    teacher = CountingTeacher().fit(X, y)
    memory = OptimizationMemory(tmp_path / "memory.db", cache=False)
    _distiller(teacher, memory=memory).fit(X, y)
    counting["predict_proba"] = 0
    _distiller(teacher, memory=memory).fit(X, y)
    assert counting["predict_proba"] > 0


def test_the_process_cache_forgets_the_least_recently_used_beyond_its_bytes():
    cache = ProcessCache(max_bytes=3 * 80)  # three arrays of ten float64
    for key in "abc":
        cache.put(key, np.zeros(10))
    cache.get("a")  # used: "b" is now the oldest
    cache.put("d", np.ones(10))
    assert cache.get("b") is None and cache.get("a") is not None
    assert len(cache) == 3 and cache.n_bytes == 240
    cache.put("huge", np.zeros(100))  # over the bound on its own: not kept
    assert cache.get("huge") is None and len(cache) == 3


def test_the_process_cache_hands_out_copies():
    cache = ProcessCache(max_bytes=1_000)
    original = np.zeros(3)
    cache.put("a", original)
    original[0] = 1.0
    got = cache.get("a")
    got[1] = 2.0
    np.testing.assert_array_equal(cache.get("a"), np.zeros(3))


class _RowsSeen(LogisticRegression):
    """Remembers the row counts it predicted on."""

    seen = []

    def predict_proba(self, X):
        type(self).seen.append(len(X))
        return super().predict_proba(X)


def test_the_reports_latency_is_timed_on_a_bounded_sample(problem, monkeypatch):
    from skdistill import _measure

    X, y = problem
    monkeypatch.setattr(_measure, "LATENCY_MAX_ROWS", 20)
    teacher = _RowsSeen().fit(X, y)
    _RowsSeen.seen = []
    # as_is: the teacher itself labels the training rows (no cross-fitted twins)
    report = _distiller(teacher, prefit_teachers="as_is").fit(X, y).report_
    # the training rows, the validation rows, then three timings on 20 rows
    n_valid = report.n_validation
    assert _RowsSeen.seen == [len(X) - n_valid, n_valid, 20, 20, 20]
    assert report.teacher_latency_s > 0 and report.student_latency_s > 0


@pytest.mark.parametrize(("teacher", "at_random"), [
    # scikit-learn draws from numpy's global state when random_state is None.
    (RandomForestClassifier(n_estimators=5), True),
    (make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5)), True),
    (RandomForestClassifier(n_estimators=5, random_state=0), False),
    # XGBoost and LightGBM read None as their own fixed default seed.
    (XGBClassifier(n_estimators=5), False),
    (LGBMClassifier(n_estimators=5, verbose=-1), False),
    (make_pipeline(StandardScaler(), XGBClassifier(n_estimators=5)), False),
])
def test_only_teachers_whose_fits_differ_are_kept_out_of_the_cache(
        problem, teacher, at_random):
    X, y = problem
    if not at_random:  # the claim the cache rests on: two fits, one output
        first, second = (clone(teacher).fit(X, y).predict_proba(X)
                         for _ in range(2))
        np.testing.assert_array_equal(first, second)
    assert _fits_at_random(teacher) is at_random
