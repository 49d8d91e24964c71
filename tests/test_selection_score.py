"""The search ranks students against the labels and the teachers together.

On a few hundred selection rows two students differ only where they disagree,
and there the rows' own labels are noisy: the better student often scores
lower. The teachers' outputs on those rows (from copies that never saw them)
average the noise away. Here the better of two models is known, and the
selection score must find it more often than the plain score does.
"""

import numpy as np
from sklearn.datasets import make_classification

from skdistill import HPMDistiller
from skdistill._candidates import Candidate
from skdistill._halving import Limits, SearchData, plan_rungs, successive_halving
from skdistill._task import ClassificationTask, RegressionTask, teachers_trusted
from skdistill._transfer import TransferSet

N_ROWS = 240  # the suite's selection rows on 2,000-row samples
N_DRAWS = 300


def _pick_rates(task, draw_labels, outputs, better, worse):
    """How often each score ranks ``better`` strictly above ``worse`` over
    draws of the labels."""
    rng = np.random.RandomState(0)
    plain = selection = 0
    for _ in range(N_DRAWS):
        y = draw_labels(rng)
        plain += task.score(y, better) > task.score(y, worse)
        selection += (task.selection_score(y, better, outputs)
                      > task.selection_score(y, worse, outputs))
    return plain / N_DRAWS, selection / N_DRAWS


def test_classification_finds_the_better_model_more_often():
    rng = np.random.RandomState(1)
    p_one = rng.uniform(0.05, 0.95, N_ROWS)
    teacher = np.clip(p_one + rng.normal(0, 0.1, N_ROWS), 0.01, 0.99)
    outputs = np.column_stack([1 - teacher, teacher])
    better = (p_one > 0.5).astype(int)
    # Wrong on an eighth of the uncertain rows: 1.2 points less accurate.
    uncertain = np.flatnonzero(np.abs(p_one - 0.5) < 0.2)
    worse = better.copy()
    worse[uncertain[: len(uncertain) // 8]] ^= 1

    def labels(rng):
        return (rng.uniform(size=N_ROWS) < p_one).astype(int)

    plain, selection = _pick_rates(ClassificationTask(np.array([0, 1])), labels,
                                   outputs, better, worse)
    assert selection > plain + 0.15
    assert selection > 0.9


def test_regression_finds_the_better_model_more_often():
    rng = np.random.RandomState(2)
    truth = rng.normal(size=N_ROWS)
    outputs = (truth + rng.normal(0, 0.3, N_ROWS))[:, None]
    better, worse = truth, truth + 0.07  # a bias of 7 % of the noise's std

    def targets(rng):
        return truth + rng.normal(size=N_ROWS)

    plain, selection = _pick_rates(RegressionTask(), targets, outputs, better, worse)
    assert selection > plain + 0.15
    assert selection > 0.9


def test_the_labels_still_count():
    """A model that beats the teachers where they are wrong scores higher."""
    task = ClassificationTask(np.array([0, 1]))
    y = np.array([0, 1, 1, 0])
    outputs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    like_teachers = np.array([0, 1, 0, 0])
    right = y
    assert task.selection_score(y, right, outputs) > task.selection_score(
        y, like_teachers, outputs)


def test_the_search_ranks_by_the_selection_score(binary_data):
    X, y = binary_data
    details = HPMDistiller(random_state=0).fit(X, y).report_.details
    configuration, candidates = details["configuration"], details["candidates"]
    last_rung = max(c["rung"] for c in candidates if c["rung"] != "probe")
    finalists = [c for c in candidates
                 if c["rung"] == last_rung and c["within_limits"]]
    assert all(c["selection_score"] != c["accuracy"] for c in finalists)
    best = max(finalists, key=lambda c: c["selection_score"])
    assert configuration["distillation_check"]["kept_distillation"]
    assert configuration["config"] == best["config"]


class _BlindTask(ClassificationTask):
    """A selection score that sees no difference between students."""

    def selection_score(self, y_true, y_pred, outputs):
        return 0.5


class _ContraryTask(ClassificationTask):
    """A selection score that prefers the least accurate student."""

    def selection_score(self, y_true, y_pred, outputs):
        return 1.0 - self.score(y_true, y_pred)


def _search_data(task, wrong_targets=False):
    X, y = make_classification(n_samples=500, n_features=6, n_informative=4,
                               random_state=1)
    pointed = 1 - y if wrong_targets else y
    targets = np.column_stack([0.9 - 0.8 * pointed, 0.1 + 0.8 * pointed])
    transfer = TransferSet(X, y, targets, None, task=task)
    return SearchData(transfer.subset(np.arange(350)), X[350:], y[350:],
                      targets[350:])


def test_the_race_follows_the_selection_score():
    ranked = [Candidate("tree", (1,), 1.0, 0.9), Candidate("tree", (5,), 1.0, 0.9),
              Candidate("linear", (), 1.0, 0.9)]
    winner, evaluations = successive_halving(
        ranked, plan_rungs(len(ranked), 3, 350), _search_data(
            _ContraryTask(np.array([0, 1]))), Limits(), {}, 1, 0)
    least_accurate = min(evaluations, key=lambda e: e.accuracy)
    assert len({e.accuracy for e in evaluations}) > 1
    assert winner == least_accurate.candidate


def test_the_twin_without_distillation_is_judged_on_the_labels():
    """Whether to keep the teachers is not decided by a score that leans on
    them where they are worse than the students: with soft targets that point
    to the wrong class, the twin trained on the labels wins on accuracy even
    where the selection score ties."""
    data = _search_data(_BlindTask(np.array([0, 1])), wrong_targets=True)
    ranked = [Candidate("tree", (3,), 1.0, 0.9), Candidate("linear", (), 1.0, 0.9)]
    winner, evaluations = successive_halving(
        ranked, plan_rungs(len(ranked), 2, 350), data, Limits(), {}, 1, 0,
        check_distillation=True)
    twin = evaluations[-1]
    assert twin.twin and winner == twin.candidate and winner.alpha == 0.0
    assert all(e.score == 0.5 for e in evaluations)


def test_the_teachers_are_trusted_only_where_they_are_as_accurate():
    task = ClassificationTask(np.array([0, 1]))
    y = np.array([0, 1, 1, 0, 1])
    outputs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3], [0.6, 0.4]])
    assert teachers_trusted(task, y, outputs, [0.8, 0.6])  # teachers: 0.8
    assert not teachers_trusted(task, y, outputs, [0.6, 1.0])
    useless = np.full((5, 2), 0.5)  # predicts class 0 everywhere: 0.4
    assert not teachers_trusted(task, y, useless, [0.6, 0.6])
    # Regression's checks keep the labels alone, however good the teachers.
    target = np.array([1.0, 2.0, 3.0, 4.0])
    assert not teachers_trusted(RegressionTask(), target, target[:, None],
                                [0.5, 0.5])


def test_trusted_teachers_let_the_selection_score_judge_the_twin():
    """Where the teachers are at least as accurate as both students, the twin
    is judged on the selection score (here one that prefers the less accurate
    student), not on accuracy."""
    data = _search_data(_ContraryTask(np.array([0, 1])))
    ranked = [Candidate("tree", (3,), 1.0, 0.9), Candidate("linear", (), 1.0, 0.9)]
    winner, evaluations = successive_halving(
        ranked, plan_rungs(len(ranked), 2, 350), data, Limits(), {}, 1, 0,
        check_distillation=True)
    twin = evaluations[-1]
    distilled = next(e for e in evaluations if not e.twin
                     and e.candidate.without_distillation() == twin.candidate)
    task = data.training.task
    assert teachers_trusted(task, data.y_select, data.outputs_select,
                            [twin.accuracy, distilled.accuracy])
    assert twin.accuracy != distilled.accuracy
    assert (winner == twin.candidate) == (twin.accuracy < distilled.accuracy)
