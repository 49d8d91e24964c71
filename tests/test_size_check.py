"""The search's size check: a winner grown one size up while it beats the noise."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from skdistill import HPMDistiller, _configure, _halving
from skdistill._candidates import LGBM_SIZES, SIZE_LADDERS, Candidate
from skdistill._configure import Request
from skdistill._halving import (
    Evaluation,
    Limits,
    SearchData,
    plan_rungs,
    successive_halving,
)
from skdistill._task import ClassificationTask, RegressionTask
from skdistill._time_budget import unlimited
from skdistill._transfer import TransferSet

_BINARY = ClassificationTask(np.array([0, 1]))
_PLAIN = {"temperature": 1.0, "alpha": 0.0, "learning_rate": 0.1}
_SMALL, _MEDIUM = (Candidate("lgbm", size, **_PLAIN) for size in LGBM_SIZES[:2])
_SPACE = [Candidate("lgbm", size, **_PLAIN) for size in LGBM_SIZES]
_STUMP = Candidate("tree", (1,), 1.0, 0.0)  # a size the check does not grow


def _search_data(noise_seed=None, n_train=3_000, n_select=1_500):
    """A boundary of many clusters, which 10 trees of 7 leaves underfit; or,
    with a ``noise_seed``, labels that have nothing to do with the rows."""
    X, y = make_classification(n_train + n_select, n_features=10, n_informative=8,
                               n_clusters_per_class=6, random_state=0)
    if noise_seed is not None:
        y = np.random.RandomState(noise_seed).randint(0, 2, len(y))
    targets = np.eye(2)[y]
    transfer = TransferSet(X, y, targets, None, task=_BINARY)
    train = np.arange(n_train)
    return SearchData(transfer.subset(train), X[n_train:], y[n_train:],
                      targets[n_train:])


def _race(data, rival=_STUMP):
    """A one-rung race between the smallest LightGBM and a ``rival``."""
    ranked = [_SMALL, rival, *_SPACE[1:]]
    plan = plan_rungs(2, 2, len(data.training.y), max_rungs=1)
    return successive_halving(ranked, plan, data, Limits(), {"random_state": 0}, 1,
                              0)


def test_larger_climbs_the_family_ladder_within_the_search_space():
    assert _SMALL.larger(_SPACE) == _MEDIUM
    assert Candidate("lgbm", LGBM_SIZES[-1], **_PLAIN).larger(_SPACE) is None
    assert _SMALL.larger([_SMALL]) is None  # the larger sizes are over the budget
    # 100 x 15 is not in the space; a larger size of the ladder is
    middle = Candidate("lgbm", (50, 15), **_PLAIN)
    assert middle.larger(_SPACE).size == (100, 15)
    assert middle.larger(_SPACE[:3]) is None
    tree = Candidate("tree", (3,), 2.0, 0.7)
    assert tree.larger([Candidate("tree", (5,))]) == Candidate("tree", (5,), 2.0, 0.7)
    assert Candidate("mlp", (16,)).larger([Candidate("mlp", (32, 16))]) is None


def test_the_winner_grows_while_the_larger_student_beats_the_noise():
    data = _search_data()
    winner, evaluations = _race(data)
    grown = [e for e in evaluations if e.grown_from is not None]
    assert grown[0].grown_from == _SMALL and grown[0].candidate == _MEDIUM
    assert SIZE_LADDERS["lgbm"].index(tuple(winner.size)) >= 1
    raced = next(e for e in evaluations if e.candidate == _SMALL)
    served = next(e for e in grown if e.candidate == winner)
    assert served.accuracy > raced.accuracy + 0.02
    check = _halving.size_check(evaluations, winner)
    assert check["grown"] and check["from"] == _SMALL.as_dict()


def test_no_size_check_on_few_selection_rows():
    winner, evaluations = _race(_search_data(n_select=500))
    assert winner == _SMALL
    assert all(e.grown_from is None for e in evaluations)
    assert _halving.size_check(evaluations, winner) is None


def test_the_winner_keeps_its_size_when_the_gain_is_noise():
    # Labels of coin flips, where the larger student scores 0.6 points higher on
    # the 1,500 selection rows by chance: not beyond the noise, so it stays.
    winner, evaluations = _race(_search_data(noise_seed=6), rival=_MEDIUM)
    grown = [e for e in evaluations if e.grown_from is not None]
    assert len(grown) == 1 and grown[0].grown_from == winner
    raced = next(e for e in evaluations if e.candidate == winner)
    assert grown[0].accuracy > raced.accuracy
    assert _halving.size_check(evaluations, winner)["grown"] is False


@pytest.mark.parametrize("task", [ClassificationTask(np.array([0, 1, 2])),
                                  RegressionTask()])
def test_row_scores_average_to_the_score(task):
    rng = np.random.RandomState(0)
    if isinstance(task, RegressionTask):
        _, y = make_regression(200, 3, noise=5.0, random_state=0)
        predicted = y + rng.normal(scale=20.0, size=len(y))
    else:
        y, predicted = rng.randint(0, 3, 200), rng.randint(0, 3, 200)
    assert task.row_scores(y, predicted).mean() == pytest.approx(
        task.score(y, predicted))


def test_the_size_check_grows_beyond_the_candidates_probed_for_serving_limits():
    # With max_student_bytes the probe keeps only the race's two candidates;
    # the larger sizes it did not probe are still within the size budget.
    data = _search_data()
    ranked = [_SMALL, _STUMP, *_SPACE[1:]]
    request = Request.from_params({**HPMDistiller().get_params(deep=False),
                                   "max_student_bytes": 10**8, "alpha": 0.0})
    plan = plan_rungs(2, 2, len(data.training.y), max_rungs=1)
    winner, evaluations = _configure._race(
        ranked, plan, data, request, {"random_state": 0}, 0, None, False,
        unlimited(), (2, 1))
    assert {e.candidate for e in evaluations if e.rung == "probe"} == {_SMALL,
                                                                      _STUMP}
    grown = [e for e in evaluations if e.grown_from is not None]
    # the race's winner (here the reference, 50 x 15, which beat the small
    # LightGBM) grew to sizes no probe measured
    assert grown and all(e.within_limits for e in grown)
    assert grown[0].grown_from.size == (50, 15)
    assert SIZE_LADDERS["lgbm"].index(tuple(winner.size)) >= 3


def test_a_size_check_step_is_priced_with_the_refit_and_the_larger_size():
    best = Evaluation(_SMALL, 0, 1_000, 0.8, 0.8, None, 1_000, 70, 0.1, 1.0, True)
    # 10 x 7 -> 25 x 7: the larger fit at 2.5 times the rate, on the rung's
    # 1,000 rows and then as the final student on 4,000
    first = _halving._growth_seconds(best, _MEDIUM, 1_000, 4_000, refit=True)
    later = _halving._growth_seconds(best, _MEDIUM, 1_000, 4_000, refit=False)
    assert first == pytest.approx(1.0 + 2.5 + 10.0)
    assert later == pytest.approx(first - 1.0)
    # more than one fit at the winner's rate, as the race's own estimate says
    assert first > _halving._fit_seconds([best], 1_000, 4_000) + 2.0


def _measured(candidate, score, twin=False, grown_from=None):
    return Evaluation(candidate, 0, 1_000, score, score, None, 1_000, 70, 0.1, 0.1,
                      True, twin, grown_from)


@pytest.mark.parametrize("twin_won", [True, False])
def test_the_distil_or_not_check_reports_the_race_winner_the_size_check_grew(
        twin_won):
    distilled = Candidate("lgbm", LGBM_SIZES[0], 2.0, 0.5, learning_rate=0.3)
    twin = distilled.plain_twin()
    raced = twin if twin_won else distilled
    grown = raced.larger(_SPACE)
    evaluations = [_measured(distilled, 0.80), _measured(_STUMP, 0.70),
                   _measured(twin, 0.85 if twin_won else 0.75, twin=True),
                   _measured(grown, 0.90, grown_from=raced)]
    check = _halving.distillation_check(evaluations, grown)
    assert check["twin_won"] is twin_won
    assert check["kept_distillation"] is not twin_won
    assert check["distilled"]["config"] == distilled.as_dict()
    assert _halving.size_check(evaluations, grown)["from"] == raced.as_dict()
