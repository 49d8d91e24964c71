"""The search ranks students against the labels and the teachers together.

On a few hundred selection rows two students differ only where they disagree,
and there the rows' own labels are noisy: the better student often scores
lower. The teachers' outputs on those rows (from copies that never saw them)
average the noise away. Here the better of two models is known, and the
selection score must find it more often than the plain score does.
"""

import numpy as np

from skdistill import HPMDistiller
from skdistill._task import ClassificationTask, RegressionTask

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
