"""augment="auto" after a search tries the runner-up of another family with
MUNGE rows as well: the race runs without them."""

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier

from skdistill import HPMDistiller, LinearStudent, MLPStudent, _augment, _base
from skdistill._candidates import Candidate
from skdistill._configure import Configuration, Request, runner_up
from skdistill._halving import Evaluation


def _evaluation(candidate, n_rows, score, twin=False, rung=0, within=True,
                reference=False):
    return Evaluation(candidate, rung, n_rows, score, score, None, 1_000, 100, 0.1,
                      0.1, within, twin, reference=reference)


def test_the_runner_up_is_the_best_of_another_family_on_the_most_rows():
    linear = Candidate("linear")
    small, large = Candidate("mlp", (8,)), Candidate("mlp", (64, 32))
    tree = Candidate("tree", (4,))
    evaluations = [
        _evaluation(linear, 100, 0.80), _evaluation(small, 100, 0.85),
        _evaluation(large, 100, 0.78), _evaluation(tree, 100, 0.90),
        _evaluation(linear, 200, 0.82), _evaluation(large, 200, 0.81),
        _evaluation(linear.without_distillation(), 200, 0.95, twin=True),
        _evaluation(tree, 200, 0.99, within=False),  # over the serving limits
        # the reference check's fit: not a candidate the ranking chose
        _evaluation(Candidate("lgbm", (50, 15), 1.0, 0.0, learning_rate=0.1), 200,
                    0.97, reference=True)]
    configuration = Configuration(LinearStudent(), None, 0.7,
                                  {"config": linear.as_dict()}, evaluations)
    request = Request.from_params(HPMDistiller().get_params(deep=False))
    runner = runner_up(configuration, request, seed=0)
    # the (64, 32) network went on to the last rung; the tree's fit there
    # broke the limits, and its first one trained on fewer rows
    assert runner.details["config"] == large.as_dict()
    assert isinstance(runner.student, MLPStudent)
    assert runner.student.hidden_layer_sizes == (64, 32)
    assert runner.evaluations is evaluations
    only_linear = Configuration(LinearStudent(), None, 0.7,
                                {"config": linear.as_dict()}, evaluations[:1])
    assert runner_up(only_linear, request, seed=0) is None


def _searched(n_samples, data_seed=0):
    X, y = make_classification(n_samples=n_samples, n_features=10, n_informative=6,
                               n_clusters_per_class=3, random_state=data_seed)
    distiller = HPMDistiller(HistGradientBoostingClassifier(max_iter=50,
                                                            random_state=0),
                             student="auto", augment="auto",
                             random_state=0).fit(X, y)
    return distiller, X, y


def test_a_search_reports_its_runner_up_with_munge_rows():
    # 1,600 rows: 1,280 train, 256 of them choose (RUNNER_UP_MIN_SELECTION_ROWS);
    # data where the teachers beat the winner on them (where it beats them, the
    # check makes no MUNGE fit, the runner-up's neither)
    distiller, X, y = _searched(1_600, data_seed=2)
    configuration = distiller.report_.details["configuration"]
    check = configuration["augmentation_check"]
    runner = check["runner_up"]
    assert runner["config"]["family"] != (
        configuration.get("search_winner") or configuration["config"])["family"]
    replaced = runner["replaces_winner"]
    assert replaced == (runner["selection_score_munge"]
                        > max(check["selection_score_without"],
                              check["selection_score_munge"]))
    served = type(distiller.student_[-1]).__name__.lower()
    assert served.startswith((runner if replaced else configuration)["config"][
        "family"][:3])
    assert np.isfinite(distiller.score(X, y))


def test_no_runner_up_on_few_selection_rows():
    distiller, _, _ = _searched(700)  # 112 selection rows
    check = distiller.report_.details["configuration"]["augmentation_check"]
    assert "accuracy_munge" in check
    assert "runner_up" not in check


def test_a_runner_up_beyond_the_teachers_keeps_the_winner(monkeypatch):
    # The runner-up's own check stops before its MUNGE fit when it is already
    # more accurate than the teachers: it has no score with them to compare.
    real_check = _base.augmentation_check
    calls = []

    def check(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:  # the runner-up's
            monkeypatch.setattr(_augment, "_beyond_the_teachers",
                                lambda transfer, select, without, reused: None
                                if without is None else {
                                    "accuracy_without": without[0],
                                    "selection_score_without": without[1],
                                    "chosen": None, "reason": "beyond"})
        return real_check(*args, **kwargs)

    monkeypatch.setattr(_base, "augmentation_check", check)
    distiller, X, y = _searched(1_600, data_seed=2)
    check = distiller.report_.details["configuration"]["augmentation_check"]
    assert len(calls) == 2 and "accuracy_munge" in check
    runner = check["runner_up"]
    assert runner["reason"] == "beyond" and "selection_score_munge" not in runner
    assert runner["replaces_winner"] is False
    assert "search_winner" not in distiller.report_.details["configuration"]
