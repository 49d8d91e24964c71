"""``time_limit``: the search and the checks are cut to stay within it, and
``report_`` says what was cut; the search's rows are capped at large n."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator

from skdistill import HPMDistiller
from skdistill import _configure as configure_module
from skdistill._time_budget import FIRST_RUNG_SHARE, TimeBudget


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
