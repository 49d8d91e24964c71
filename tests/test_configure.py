"""The adaptive configuration: meta-features, ranking, prior, memory, search."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier

from skdistill import (
    HPMDistiller,
    LGBMStudent,
    OptimizationMemory,
    TreeStudent,
    _base,
    _candidates,
    _configure,
    _halving,
    _ranker,
)
from skdistill._candidates import Candidate, candidate_space
from skdistill._halving import (
    Evaluation,
    Limits,
    SearchData,
    pareto_front,
    plan_rungs,
    successive_halving,
)
from skdistill._ranker import load_prior, meta_features, prior_ranker, ranker_for
from skdistill._task import ClassificationTask
from skdistill._transfer import TransferSet
from skdistill.metrics import model_size

# A configuration the prior does not put first on the tasks below.
_BINARY = ClassificationTask(np.array([0, 1]))
_WINNER = Candidate("tree", (3,), 4.0, 0.5)


def _data(seed=0, n_samples=300):
    return make_classification(n_samples=n_samples, n_features=6, n_informative=4,
                               random_state=seed)


def _teacher():
    return HistGradientBoostingClassifier(max_iter=15)


def _fast(*args, **params):
    """A distiller with a fast teacher; every student size allowed (no
    ``min_compression``: the teacher of 15 small trees leaves room for the linear
    students alone). No search unless asked: the ranking alone decides."""
    params.setdefault("search_budget", None)
    return HPMDistiller(_teacher(), *args, min_compression=None, random_state=0,
                        **params)


@pytest.fixture
def cheap_space(monkeypatch):
    """Trees and linear students only: the search tests then take a second."""
    monkeypatch.setattr(_configure, "candidate_space", lambda families, kind: [
        c for c in candidate_space(families, kind) if c.family in ("tree", "linear")])


def _meta(**changes):
    meta = {"n_rows": 240, "n_features": 6, "n_inputs": 6, "n_classes": 2,
            "class_entropy": 1.0, "categorical_fraction": 0.0, "n_teachers": 1,
            "teacher_accuracy": 0.9, "teacher_confidence": 0.85,
            "teacher_disagreement": 0.0}
    return {**meta, **changes}


def _memory_where_one_config_wins(path, meta, n_tasks=6, seed=0):
    """A memory of past searches on tasks like ``meta`` where _WINNER won."""
    rng = np.random.RandomState(seed)
    space = [c for c in candidate_space() if c != _WINNER]
    memory = OptimizationMemory(path)
    for task in range(n_tasks):
        task_meta = {**meta, "teacher_accuracy": meta["teacher_accuracy"]
                     + rng.uniform(-0.02, 0.02)}
        others = [space[i] for i in rng.choice(len(space), 15, replace=False)]
        for candidate in [_WINNER, *others]:
            accuracy = 0.92 if candidate == _WINNER else rng.uniform(0.78, 0.84)
            memory.record({
                "dataset": task_meta, "config": candidate.as_dict(),
                "val_accuracy": accuracy, "extra": {"group": f"task{task}"}})
    return memory


def test_meta_features_describe_the_rows_and_the_teachers():
    X = pd.DataFrame({"x": [0.1, 0.5, 0.2, 0.9], "level": [1, 2, 1, 3],
                      "color": pd.Categorical(["a", "b", "a", "b"])})
    y = np.array([0, 0, 1, 1])
    proba = np.array([
        [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]],
        [[0.7, 0.3], [0.4, 0.6], [0.2, 0.8], [0.6, 0.4]],
    ])
    meta = meta_features(X, y, n_inputs=5, teacher_outputs=proba,
                         task=ClassificationTask(np.array([0, 1])))
    assert meta["n_rows"] == 4 and meta["n_features"] == 3 and meta["n_inputs"] == 5
    assert meta["class_entropy"] == pytest.approx(1.0)
    assert meta["categorical_fraction"] == pytest.approx(2 / 3)
    assert meta["n_teachers"] == 2
    assert meta["teacher_accuracy"] == pytest.approx(0.75)     # mean proba
    assert meta["teacher_disagreement"] == pytest.approx(0.25)  # row 2 only
    assert meta["teacher_confidence"] == pytest.approx(np.mean([0.8, 0.6, 0.75,
                                                                0.6]))


def test_candidates_round_trip_and_make_their_student():
    for candidate in candidate_space():
        assert Candidate.from_dict(candidate.as_dict()) == candidate
    student = Candidate("lgbm", (25, 7), "adaptive", 0.9).make_student()
    assert isinstance(student, LGBMStudent)
    assert (student.n_estimators, student.num_leaves) == (25, 7)


def test_the_space_varies_training_and_holds_one_twin_without_distillation():
    space = candidate_space()
    structures = {}
    for candidate in space:
        key = (candidate.family, candidate.size, candidate.learning_rate,
               candidate.epochs)
        structures.setdefault(key, []).append(candidate)
    for members in structures.values():
        twins = [c for c in members if c.alpha == 0]
        assert len(twins) == 1 and twins[0].temperature == 1.0
        assert all(c.alpha > 0 for c in members if c is not twins[0])
    mlps = [c for c in space if c.family == "mlp"]
    assert {c.learning_rate for c in mlps} == set(_candidates.LEARNING_RATES["mlp"])
    assert {c.epochs for c in mlps} == set(_candidates.MLP_EPOCHS)
    student = Candidate("mlp", (8,), learning_rate=3e-3, epochs=300).make_student()
    assert (student.learning_rate, student.max_epochs,
            student.n_iter_no_change) == (3e-3, 300, 30)
    booster = Candidate("lgbm", (10, 7), learning_rate=0.3).make_student()
    assert booster.learning_rate == 0.3
    assert Candidate("tree", (3,)).training() == (None, None)


def test_the_learning_rate_changes_what_the_mlp_learns():
    data = _search_data()
    fitted = [_halving.fit_candidate(
        Candidate("mlp", (8,), 2.0, 0.7, learning_rate=rate, epochs=100),
        data.training, {"random_state": 0})[0] for rate in (1e-3, 1e-2)]
    slow, fast = (model.predict_proba(data.Z_select) for model in fitted)
    assert np.abs(slow - fast).max() > 0.05


def _race(ranked, budget, data, limits, *args, check_distillation=False):
    """Successive halving of ``ranked`` within ``budget`` fits."""
    plan = plan_rungs(len(ranked), budget - check_distillation, len(data.training.y))
    return successive_halving(ranked, plan, data, limits, *args,
                              check_distillation=check_distillation)


def _misled_search_data(flip_labels=0.0, invert_targets=True):
    """Rows whose soft targets point to the wrong class, or whose training
    labels are noisy while the soft targets are right."""
    X, y = _data(seed=1, n_samples=500)
    rng = np.random.RandomState(0)
    labels = np.where(rng.uniform(size=len(y)) < flip_labels, 1 - y, y)
    pointed = 1 - y if invert_targets else y
    targets = np.column_stack([1 - pointed * 0.8 - 0.1, pointed * 0.8 + 0.1])
    transfer = TransferSet(X, labels, targets, None, task=_BINARY)
    return SearchData(transfer.subset(np.arange(350)), X[350:], y[350:],
                      targets[350:])


def test_the_search_drops_distillation_when_the_soft_targets_mislead():
    ranked = [Candidate("tree", (3,), 1.0, 0.9), Candidate("linear", (), 1.0, 0.9),
              Candidate("tree", (5,), 1.0, 0.9)]
    data = _misled_search_data()
    winner, evaluations = _race(ranked, 4, data, Limits(), {}, 1, 0,
                                             check_distillation=True)
    assert winner.alpha == 0.0 and winner == evaluations[-1].candidate
    distilled = [e for e in evaluations if e.candidate.alpha > 0]
    assert evaluations[-1].accuracy > max(e.accuracy for e in distilled) + 0.3
    assert len(evaluations) <= 4  # the twin is one fit of the budget
    unchecked, evaluations = _race(ranked, 4, data, Limits(), {}, 1, 0)
    assert unchecked.alpha == 0.9 and all(e.candidate.alpha > 0
                                          for e in evaluations)


def test_the_search_keeps_distillation_when_it_beats_the_noisy_labels():
    ranked = [Candidate("tree", (5,), 1.0, 0.9), Candidate("linear", (), 1.0, 0.9),
              Candidate("tree", (3,), 1.0, 0.9)]
    data = _misled_search_data(flip_labels=0.3, invert_targets=False)
    winner, evaluations = _race(ranked, 4, data, Limits(), {}, 1, 0,
                                             check_distillation=True)
    twin = evaluations[-1]
    assert twin.candidate == winner.without_distillation()
    assert winner.alpha == 0.9
    final = [e for e in evaluations if e.candidate == winner and e.rung == twin.rung]
    assert final[0].accuracy > twin.accuracy
    check = _halving.distillation_check(evaluations, winner)
    assert check["kept_distillation"] is True and twin.twin
    assert check["twin_won"] is False
    assert check["distilled"] == final[0].as_dict()


def test_a_lightgbm_twin_trains_at_lightgbms_default_learning_rate():
    """The distil-or-not check races a LightGBM winner against the plain
    LightGBM a user would fit: hard labels at 0.1, whatever rate the winner
    took; so a winner already on the hard labels at another rate still gets
    its check, and the better of the two on the selection rows serves."""
    slow = Candidate("lgbm", (10, 7), 1.0, 0.0, learning_rate=0.02)
    assert slow.plain_twin() == Candidate("lgbm", (10, 7), 1.0, 0.0,
                                          learning_rate=0.1)
    network = Candidate("mlp", (8,), 2.0, 0.7, learning_rate=1e-2, epochs=100)
    assert network.plain_twin() == network.without_distillation()
    ranked = [slow, Candidate("tree", (1,), 1.0, 0.0)]
    data = _misled_search_data(invert_targets=False)
    winner, evaluations = _race(ranked, 3, data, Limits(), {}, 1, 0,
                                check_distillation=True)
    twin = evaluations[-1]
    assert twin.twin and twin.candidate.learning_rate == 0.1
    raced = next(e for e in evaluations if e.candidate == slow)
    assert twin.accuracy != raced.accuracy
    assert (winner == twin.candidate) == (twin.accuracy > raced.accuracy)
    check = _halving.distillation_check(evaluations, winner)
    assert check["distilled"] == raced.as_dict()
    assert check["twin_won"] == (winner == twin.candidate)
    assert check["kept_distillation"] is False  # neither distils


def test_the_distiller_trains_on_hard_labels_when_its_teacher_misleads(monkeypatch):
    # Distilled trees only: the twin without distillation comes from the search.
    monkeypatch.setattr(_configure, "candidate_space", lambda families, kind: [
        c for c in candidate_space(families, kind)
        if c.family == "tree" and c.alpha > 0])
    X_all, y_all = _data(n_samples=1200)
    X, y, X_test, y_test = X_all[:600], y_all[:600], X_all[600:], y_all[600:]
    wrong = HistGradientBoostingClassifier(max_iter=15).fit(X, 1 - y)
    # A constant temperature of 1 keeps the teacher's wrong targets sharp.
    # as_is: copies cross-fitted on these rows would learn the right labels
    misled = HPMDistiller(wrong, search_budget=6, temperature=1.0,
                          min_compression=None, prefit_teachers="as_is",
                          random_state=0).fit(X, y)
    details = misled.report_.details
    assert details["configuration"]["config"]["alpha"] == 0.0
    check = details["configuration"]["distillation_check"]
    assert check["kept_distillation"] is False
    assert check["hard_labels"]["accuracy"] > check["distilled"]["accuracy"]
    assert check["distilled"]["config"]["alpha"] > 0
    twin = details["candidates"][-1]
    assert twin["config"]["alpha"] == 0.0 and twin["rung"] == max(
        c["rung"] for c in details["candidates"])
    assert misled.score(X_test, y_test) > 0.8
    fixed = HPMDistiller(wrong, search_budget=6, temperature=1.0, alpha=0.7,
                         min_compression=None, prefit_teachers="as_is",
                         random_state=0).fit(X, y)
    assert all(c["config"]["alpha"] == 0.7
               for c in fixed.report_.details["candidates"])
    assert fixed.report_.details["configuration"]["distillation_check"] is None


def test_the_prior_ships_as_package_data_and_ranks_without_a_memory():
    prior = load_prior()
    groups = {e["extra"]["group"] for e in prior}
    assert len(groups) >= 5 and len(prior) > 200
    ranker, source = ranker_for([])
    assert source == "prior" and ranker is prior_ranker()
    ranked, scores = ranker.rank(_meta(), candidate_space())
    assert sorted(ranked, key=repr) == sorted(candidate_space(), key=repr)
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]


def test_a_memory_of_similar_tasks_puts_their_best_configuration_first(tmp_path):
    meta = _meta()
    prior_first = prior_ranker().rank(meta, candidate_space())[0][0]
    assert prior_first != _WINNER
    memory = _memory_where_one_config_wins(tmp_path / "memory.db", meta)
    ranker, source = ranker_for(memory.experiments(), meta)
    assert source == "memory+prior"
    assert ranker.rank(meta, candidate_space())[0][0] == _WINNER


def test_a_memory_of_unrelated_tasks_weighs_little(tmp_path):
    meta = _meta()
    far = _meta(n_rows=5_000, n_features=64, n_inputs=64, n_classes=10,
                teacher_accuracy=0.6, categorical_fraction=0.8)
    memory = _memory_where_one_config_wins(tmp_path / "memory.db", far)
    ranker, source = ranker_for(memory.experiments(), meta)
    assert source == "memory+prior"
    assert ranker.rank(meta, candidate_space())[0][0] != _WINNER
    prior_rows = _ranker._training_rows(load_prior())[0]
    near, unrelated = _ranker._memory_weights(
        [_ranker.meta_vector(m) + _WINNER.features(6, 2) for m in (meta, far)],
        prior_rows, meta)
    assert near == pytest.approx(_ranker.MEMORY_WEIGHT)
    assert unrelated < 0.1 * near


def test_groups_of_a_single_configuration_teach_the_ranker_nothing():
    single = [{"dataset": _meta(), "config": _WINNER.as_dict(), "val_accuracy": 1.0,
               "extra": {"group": f"fit{i}"}} for i in range(5)]
    ranker, source = ranker_for(single)
    assert source == "prior" and ranker is prior_ranker()


@pytest.mark.slow  # two searches
def test_the_distiller_proposes_the_remembered_winner_on_a_new_similar_task(
        tmp_path):
    X, y = _data(seed=0)
    first = _fast().fit(X, y)
    meta = first.report_.details["configuration"]["meta_features"]
    memory = _memory_where_one_config_wins(tmp_path / "memory.db", meta)
    X_new, y_new = _data(seed=1)
    distiller = _fast(memory=memory)
    configuration = distiller.fit(X_new, y_new).report_.details["configuration"]
    assert configuration["source"] == "memory+prior"
    assert configuration["config"] == _WINNER.as_dict()
    assert isinstance(distiller.student_[-1], TreeStudent)
    assert distiller.student_[-1].max_depth == 3
    assert distiller.student_[-1].temperature_ == 4.0
    assert memory.experiments()[-1]["extra"]["kind"] == "fit"  # recorded too


def test_an_empty_memory_falls_back_to_the_prior(tmp_path):
    X, y = _data()
    distiller = _fast(memory=tmp_path / "memory.db")
    configuration = distiller.fit(X, y).report_.details["configuration"]
    expected = prior_ranker().rank(configuration["meta_features"],
                                   configuration_space(distiller, X, y))[0][0]
    assert configuration["source"] == "prior"
    assert configuration["config"] == expected.as_dict()


def configuration_space(distiller, X, y):
    """The candidates the fitted distiller could choose from."""
    meta = distiller.report_.details["configuration"]["meta_features"]
    return _configure.candidates(
        _configure.Request.from_params(distiller.get_params(deep=False)),
        distiller.report_.teacher_size, model_size(distiller.student_[0]),
        meta["n_inputs"], meta["n_classes"])


def test_the_search_scores_only_training_rows_never_the_validation_rows(
        monkeypatch, cheap_space):
    scored, validation = [], []
    score, measure = _halving.score, _base.measure

    def recording_score(model, Z, *args):
        scored.append(np.array(Z))
        return score(model, Z, *args)

    def recording_measure(X_valid, *args, **kwargs):
        validation.append(np.array(X_valid))
        return measure(X_valid, *args, **kwargs)

    monkeypatch.setattr(_halving, "score", recording_score)
    monkeypatch.setattr(_base, "measure", recording_measure)
    X, y = _data(n_samples=400)
    distiller = _fast(search_budget=6).fit(X, y)
    row_of = {row.tobytes(): i for i, row in enumerate(distiller.student_[0]
                                                        .transform(X))}
    scored_rows = {row_of.get(row.tobytes(), -1) for Z in scored for row in Z}
    validation_rows = {i for i, row in enumerate(X)
                       if any((row == v).all() for v in validation[0])}
    assert len(scored) == distiller.report_.details["configuration"]["n_fits"] > 0
    assert -1 not in scored_rows  # every scored row is a row of X
    assert len(validation_rows) == distiller.report_.n_validation
    assert scored_rows.isdisjoint(validation_rows)


@pytest.mark.parametrize("budget", range(1, 31))
def test_a_halving_plan_spends_at_most_its_budget(budget):
    plan = plan_rungs(40, budget, n_rows=1000)
    assert sum(count for count, _ in plan) <= budget
    if budget >= 2:
        counts, rows = zip(*plan, strict=True)
        assert list(counts) == sorted(counts, reverse=True) and counts[-1] >= 2
        assert list(rows) == sorted(rows) and rows[-1] == 1000
        assert all(math.ceil(a / 2) == b
                   for a, b in zip(counts, counts[1:], strict=False))
    else:
        assert plan == []


def test_the_search_fits_at_most_its_budget(monkeypatch, cheap_space):
    calls = []
    fit_candidate = _halving.fit_candidate

    def counting(*args):
        calls.append(args[0])
        return fit_candidate(*args)

    monkeypatch.setattr(_halving, "fit_candidate", counting)
    monkeypatch.setattr(_halving, "SEARCH_SCALE", ())  # halving on tiny data
    X, y = _data(n_samples=400)
    report = _fast(search_budget=10, n_jobs=1).fit(X, y).report_
    assert 0 < len(calls) <= 10
    assert len(report.details["candidates"]) == len(calls)
    rungs = [c["rung"] for c in report.details["candidates"]]
    assert max(rungs) >= 1


def test_without_a_budget_the_best_ranked_candidate_is_fitted_once(monkeypatch,
                                                                    cheap_space):
    calls = []
    monkeypatch.setattr(_halving, "fit_candidate", lambda *a: calls.append(a))
    X, y = _data()
    report = _fast().fit(X, y).report_
    assert calls == [] and report.details["candidates"] == []
    assert report.details["configuration"]["n_fits"] == 0


def _search_data(n_rows=300, seed=0):
    X, y = _data(seed=seed, n_samples=n_rows)
    targets = np.column_stack([1 - y * 0.8 - 0.1, y * 0.8 + 0.1])
    transfer = TransferSet(X, y, targets, None, task=_BINARY)
    return SearchData(transfer.subset(np.arange(200)), X[200:], y[200:],
                      targets[200:])


def test_the_race_starts_with_one_candidate_of_each_structure_per_family():
    ranked = [Candidate("tree", (7,), 1.0), Candidate("tree", (7,), 2.0),
              Candidate("tree", (5,), 1.0), Candidate("mlp", (16,)),
              Candidate("tree", (7,), 4.0), Candidate("linear", (), 1.0),
              Candidate("mlp", (8,))]
    order = _halving.diverse_order(ranked)
    assert order == [ranked[0], ranked[3], ranked[5], ranked[2], ranked[6],
                     ranked[1], ranked[4]]


def test_a_candidate_over_the_byte_limit_cannot_win():
    big, small = Candidate("lgbm", (100, 31), 2.0), Candidate("tree", (3,), 2.0)
    data = _search_data()
    _, evaluations = _race([big, small], 2, data, Limits(), {}, 1, 0)
    sizes = {e.candidate: e.n_bytes for e in evaluations}
    assert sizes[big] > sizes[small]
    limit = Limits(max_bytes=(sizes[big] + sizes[small]) / 2)
    winner, evaluations = _race([big, small], 2, data, limit, {}, 1, 0)
    assert winner == small
    assert [e.within_limits for e in evaluations] == [False, True]


def test_a_candidate_over_the_latency_limit_cannot_win(monkeypatch, cheap_space):
    # Trees "take" 1 s per call: only the linear students are within 50 ms.
    monkeypatch.setattr(_halving, "predict_latency", lambda predict, X: (
        1.0 if isinstance(predict.__self__, TreeStudent) else 1e-6))
    X, y = _data(n_samples=400)
    for budget in (None, 6):
        distiller = _fast(search_budget=budget, max_latency_ms=50.0)
        details = distiller.fit(X, y).report_.details
        assert details["configuration"]["config"]["family"] == "linear"
        assert all(c["within_limits"] == (c["config"]["family"] == "linear")
                   for c in details["candidates"])


def test_explicit_student_temperature_and_alpha_win(cheap_space):
    X, y = _data()
    tree = _fast("tree", temperature=3.0, alpha=0.4, search_budget=6).fit(X, y)
    assert isinstance(tree.student_[-1], TreeStudent)
    assert tree.student_[-1].max_depth == TreeStudent().max_depth
    assert tree.student_[-1].temperature_ == 3.0
    assert tree.report_.details["configuration"]["source"] == "user"
    assert tree.report_.details["candidates"] == []
    auto = _fast(temperature=3.0, alpha=0.4, search_budget=6).fit(
        *_data(n_samples=400))
    details = auto.report_.details
    configs = [details["configuration"]["config"],
               *(c["config"] for c in details["candidates"])]
    assert len(configs) > 1
    assert all(c["temperature"] == 3.0 and c["alpha"] == 0.4 for c in configs)


def _evaluation(name, score, n_bytes, latency_ms):
    return Evaluation(Candidate("tree", (name,)), 0, 100, score, score, score,
                      n_bytes, None, latency_ms, 0.0, True)


def test_the_pareto_front_keeps_exactly_the_non_dominated_candidates():
    evaluations = [_evaluation(1, 0.80, 1_000, 1.0),
                   _evaluation(2, 0.85, 2_000, 0.5),
                   _evaluation(3, 0.84, 3_000, 3.0),   # dominated by 2 on both
                   _evaluation(4, 0.90, 9_000, 2.0),
                   _evaluation(5, 0.80, 1_500, 4.0)]   # dominated by 1 on both
    by_size = [e.candidate.size[0] for e in pareto_front(evaluations, "n_bytes")]
    by_latency = [e.candidate.size[0] for e in pareto_front(evaluations,
                                                            "latency_ms")]
    assert by_size == [1, 2, 4]
    assert by_latency == [2, 4]


def test_the_reported_pareto_front_is_not_dominated(cheap_space):
    X, y = _data(n_samples=400)
    details = _fast(search_budget=10).fit(
        X, y).report_.details
    latest = {}
    for entry in details["candidates"]:
        latest[repr(entry["config"])] = entry
    for name, cost in (("bytes", "bytes"), ("latency_ms", "latency_ms")):
        front = details["pareto_front"][name]
        assert front
        for member in front:
            assert not any(
                other["accuracy"] >= member["accuracy"]
                and other[cost] <= member[cost]
                and (other["accuracy"] > member["accuracy"]
                     or other[cost] < member[cost])
                for other in latest.values())


def test_the_search_records_every_evaluation_in_the_memory(tmp_path, cheap_space):
    memory = OptimizationMemory(tmp_path / "memory.db")
    X, y = _data(n_samples=400)
    report = _fast(memory=memory, search_budget=6).fit(X, y).report_
    rows = memory.experiments()
    searched = [r for r in rows if r["extra"]["kind"] == "configuration_search"]
    assert len(searched) == len(report.details["candidates"]) > 0
    assert len(rows) == len(searched) + 1
    assert {r["dataset"]["n_rows"] for r in searched} == {
        c["rows"] for c in report.details["candidates"]}



def test_the_search_and_the_limits_work_on_a_column_subset(cheap_space):
    X, y = _data(n_samples=400)
    distiller = _fast(student_features=[0, 1, 2], search_budget=6,
                      max_latency_ms=1_000.0).fit(X, y)
    details = distiller.report_.details
    assert details["configuration"]["meta_features"]["n_features"] == 3
    assert details["candidates"]
    assert distiller.student_.predict(X[:, :3]).shape == (400,)
