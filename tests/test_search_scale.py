"""Cost in proportion to the data: the search's fits and rungs scale with the
rows, the augmentation check reuses the search's fit, and ``X_val`` is split
between the choice and the report."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skdistill import HPMDistiller, _augment, _base, _configure, _halving
from skdistill._candidates import Candidate, candidate_space
from skdistill._configure import Request
from skdistill._halving import Limits, SearchData, plan_rungs, scaled_search
from skdistill._task import ClassificationTask
from skdistill._transfer import TransferSet

_BINARY = ClassificationTask(np.array([0, 1]))


@pytest.fixture
def cheap_space(monkeypatch):
    """Trees and linear students only: fits of a few milliseconds."""
    monkeypatch.setattr(_configure, "candidate_space", lambda families, kind: [
        c for c in candidate_space(families, kind) if c.family in ("tree", "linear")])


def _data(n_samples, seed=0):
    return make_classification(n_samples=n_samples, n_features=6, n_informative=4,
                               flip_y=0.05, random_state=seed)


def test_the_rule_gives_small_data_few_fits_in_one_rung():
    assert scaled_search(12, 254) == (4, 1)
    assert scaled_search(12, 1_000) == (4, 1)
    assert scaled_search(12, 1_001) == (8, 2)
    assert scaled_search(12, 5_001) == (12, _halving.MAX_RUNGS)
    assert scaled_search(3, 500) == (3, 1)  # never more than search_budget
    assert plan_rungs(40, 3, 254, max_rungs=1) == [(3, 254)]
    assert plan_rungs(40, 8, 2_400, max_rungs=2) == [(5, 1_200), (3, 2_400)]


def _search(n_rows):
    """The search of 10 tree and linear candidates on ``n_rows`` training rows."""
    X, y = _data(n_rows + 200)
    targets = np.column_stack([1 - y * 0.8 - 0.1, y * 0.8 + 0.1])
    transfer = TransferSet(X, y, targets, None, task=_BINARY)
    data = SearchData(transfer.subset(np.arange(n_rows)), X[n_rows:], y[n_rows:],
                      targets[n_rows:])
    ranked = ([Candidate("tree", (depth,), 1.0, 0.5) for depth in range(2, 11)]
              + [Candidate("linear", (), 1.0, 0.5)])
    request = Request(student="auto", temperature=1.0, alpha=0.5,
                      distill_loss=None, chain=False, min_compression=None,
                      search_budget=12, limits=Limits(), device="cpu", verbose=0,
                      n_jobs=1)
    return _configure.search(ranked, lambda: data, request, seed=0, on_rung=None)[1]


def test_tiny_data_gets_fewer_candidates_and_rungs_than_larger_data():
    tiny, larger = _search(300), _search(2_400)
    assert len(tiny) == 4 and {e.rung for e in tiny} == {0}
    assert {e.n_rows for e in tiny} == {300}
    assert len(larger) == 8 and {e.rung for e in larger} == {0, 1}
    assert len({e.candidate for e in larger}) == 5


def test_the_report_says_how_many_fits_and_rungs_the_search_made(cheap_space):
    X, y = _data(400)
    teacher = LogisticRegression().fit(X, y)
    details = HPMDistiller(teacher, augment=None, random_state=0).fit(
        X, y).report_.details
    configuration = details["configuration"]
    assert configuration["search_budget"] == 12
    assert configuration["n_fits"] == len(details["candidates"]) <= 4
    assert configuration["rungs"] == 1


def test_the_augmentation_check_reusing_the_search_decides_as_without(
        monkeypatch, cheap_space):
    X, y = _data(400, seed=3)
    teacher = LogisticRegression().fit(X, y)
    branches = []
    fit_branches = _augment.fit_branches

    def counting(student, capacity, pairs, *args):
        branches.append(len(pairs))
        return fit_branches(student, capacity, pairs, *args)

    monkeypatch.setattr(_augment, "fit_branches", counting)
    checks, fits = [], []
    for reuse in (True, False):
        if not reuse:
            monkeypatch.setattr(_base, "searched_evaluation", lambda *args: None)
        distiller = HPMDistiller(teacher, augment="auto", augment_ratio=1.0,
                                 random_state=0).fit(X, y)
        checks.append(distiller.report_.details["configuration"][
            "augmentation_check"])
        fits.append(distiller)
    reused, refitted = checks
    # the search's fit (or the check's) is the report's student either way;
    # the served one is refitted on every row, the same
    for fitted in fits:
        assert "check's fit" in fitted.report_.details["final_rows"][
            "report_student"]
    np.testing.assert_array_equal(fits[0].predict_proba(X),
                                  fits[1].predict_proba(X))
    assert fits[0].report_.student_accuracy == fits[1].report_.student_accuracy
    # reused: only the fit with MUNGE rows is new; refitted: the fit without
    # them first (one worker), then the one with them
    assert branches == [1, 1, 1]
    assert reused["reused_search_fit"] and not refitted["reused_search_fit"]
    assert reused["accuracy_without"] == refitted["accuracy_without"]
    assert reused["accuracy_munge"] == refitted["accuracy_munge"]
    assert reused["selection_score_without"] == refitted["selection_score_without"]
    assert reused["chosen"] == refitted["chosen"]


def _rows_of(Z, table):
    """Index in ``table`` of each row of ``Z`` (-1 where absent)."""
    index = {row.tobytes(): i for i, row in enumerate(table)}
    return {index.get(np.asarray(row, dtype=table.dtype).tobytes(), -1)
            for row in Z}


def test_with_x_val_the_choice_is_made_on_half_of_it_and_the_report_on_the_other(
        monkeypatch, cheap_space):
    X, y = _data(500, seed=1)
    X_fit, y_fit, X_val, y_val = X[:300], y[:300], X[300:], y[300:]
    teacher = LogisticRegression().fit(X_fit, y_fit)
    scored, reported, checked = [], [], []
    score, measure = _halving.score, _base.measure
    selection_split = _augment.selection_split

    def recording_score(model, Z, *args):
        scored.append(Z)
        return score(model, Z, *args)

    def recording_measure(X_valid, *args, **kwargs):
        reported.append(np.asarray(X_valid))
        return measure(X_valid, *args, **kwargs)

    def recording_split(transfer, seed):
        training, select = selection_split(transfer, seed)
        checked.append(transfer.Z[select])
        return training, select

    monkeypatch.setattr(_halving, "score", recording_score)
    monkeypatch.setattr(_base, "measure", recording_measure)
    monkeypatch.setattr(_augment, "selection_split", recording_split)
    distiller = HPMDistiller(teacher, augment="auto", augment_ratio=1.0,
                             random_state=0).fit(X_fit, y_fit, X_val=X_val,
                                                 y_val=y_val)
    details = distiller.report_.details
    assert details["selection"] == {"source": "X_val", "n_selection": 100,
                                    "n_report": 100}
    assert distiller.report_.n_validation == 100
    Z_val = distiller.student_[0].transform(X_val)
    chosen_on = set().union(*(_rows_of(Z, Z_val) for Z in scored + checked))
    report_rows = _rows_of(reported[0], X_val)
    assert scored and checked and -1 not in chosen_on | report_rows
    assert len(chosen_on) == 100 and len(report_rows) == 100
    assert chosen_on.isdisjoint(report_rows)


def test_too_few_x_val_rows_to_split_measure_the_report_alone(cheap_space):
    X, y = _data(360, seed=2)
    teacher = LogisticRegression().fit(X[:300], y[:300])
    distiller = HPMDistiller(teacher, augment=None, random_state=0).fit(
        X[:300], y[:300], X_val=X[300:], y_val=y[300:])
    selection = distiller.report_.details["selection"]
    assert selection["source"] == "X" and "too few to split" in selection["note"]
    assert distiller.report_.n_validation == 60
