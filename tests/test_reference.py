"""The race's reference: the plain LightGBM a user would train instead of
distilling races beside the ranker's candidates."""

import numpy as np
from sklearn.datasets import make_classification

from skdistill._candidates import (
    Candidate,
    candidate_space,
    reference_candidate,
    with_fixed,
)
from skdistill._halving import (
    Limits,
    SearchData,
    plan_rungs,
    reference_check,
    successive_halving,
)
from skdistill._task import ClassificationTask
from skdistill._transfer import TransferSet

_PLAIN_50 = Candidate("lgbm", (50, 15), 1.0, 0.0, learning_rate=0.1)


def test_the_reference_is_the_plain_lightgbm_of_the_baseline_size():
    space = candidate_space()
    assert reference_candidate(space) == _PLAIN_50
    # over the size budget: the largest reference size below it
    small = [c for c in space if not (c.family == "lgbm" and c.size[0] >= 50)]
    assert reference_candidate(small) == Candidate("lgbm", (25, 7), 1.0, 0.0,
                                                   learning_rate=0.1)
    # the user fixed alpha: no plain LightGBM in the space, no reference
    assert reference_candidate(with_fixed(space, alpha=0.7)) is None
    assert reference_candidate([c for c in space if c.family != "lgbm"]) is None


def _search_data(noise_seed=None):
    """A boundary of many clusters, which 10 trees of 7 leaves underfit, or
    coin-flip labels (``noise_seed``); 800 selection rows, too few for the
    size check."""
    X, y = make_classification(2_800, n_features=10, n_informative=8,
                               n_clusters_per_class=6, random_state=0)
    if noise_seed is not None:
        y = np.random.RandomState(noise_seed).randint(0, 2, len(y))
    task = ClassificationTask(np.array([0, 1]))
    transfer = TransferSet(X, y, np.eye(2)[y], None, task=task)
    return SearchData(transfer.subset(np.arange(2_000)), X[2_000:], y[2_000:],
                      np.eye(2)[y[2_000:]])


def _race(data, ranked, reference):
    plan = plan_rungs(len(ranked), len(ranked), len(data.training.y), max_rungs=1)
    return successive_halving(ranked, plan, data, Limits(), {"random_state": 0}, 1,
                              0, reference=reference)


def test_the_reference_replaces_a_winner_it_beats_beyond_the_noise():
    data = _search_data()
    tiny = Candidate("lgbm", (10, 7), 4.0, 0.9, learning_rate=0.1)
    ranked = [tiny, Candidate("linear", (), 1.0, 0.5)]
    winner, evaluations = _race(data, ranked, None)
    assert winner == tiny and len(evaluations) == 2
    winner, evaluations = _race(data, ranked, _PLAIN_50)
    checked = evaluations[-1]
    assert checked.reference and checked.candidate == _PLAIN_50
    assert winner == _PLAIN_50
    assert checked.accuracy > evaluations[0].accuracy + 0.02
    assert reference_check(evaluations, winner) == {
        "reference": checked.as_dict(), "replaced_winner": True}
    # it raced to the last rung already: won or lost under the race's rule,
    # nothing more to fit
    for raced in ([_PLAIN_50, tiny], [Candidate("linear", (), 1.0, 0.5),
                                      _PLAIN_50]):
        winner, evaluations = _race(data, raced, _PLAIN_50)
        assert len(evaluations) == 2 and not any(e.reference for e in evaluations)
        assert reference_check(evaluations, winner) is None


def test_the_reference_does_not_replace_a_winner_by_chance():
    # Coin-flip labels, where the reference scores 1.4 points higher than the
    # winner on the 800 selection rows by chance: not beyond the noise.
    linear = Candidate("linear", (), 1.0, 0.5)
    winner, evaluations = _race(_search_data(noise_seed=0),
                                [linear, Candidate("tree", (1,), 1.0, 0.0)],
                                _PLAIN_50)
    checked = evaluations[-1]
    assert checked.reference and winner == linear
    assert checked.accuracy > evaluations[0].accuracy + 0.01
    assert reference_check(evaluations, winner)["replaced_winner"] is False
