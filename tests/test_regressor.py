"""HPMRegressor: the regression twin, its students and its fusions."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_friedman1
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdistill import HPMRegressor, RegressionReport
from skdistill._fusion_regression import (
    AttentionRegressionFusion,
    ErrorFusion,
    MeanRegressionFusion,
)
from skdistill._task import RegressionTask
from skdistill.students import (
    REGRESSION_STUDENT_FAMILIES,
    LGBMRegressionStudent,
    MLPRegressionStudent,
    TreeRegressionStudent,
)

_EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data":
        "row duplication is not weighting for a split-and-minibatch fit",
    "check_sample_weight_equivalence_on_sparse_data":
        "row duplication is not weighting for a split-and-minibatch fit",
}


def _fast_regressor():
    return HPMRegressor(HistGradientBoostingRegressor(max_iter=20),
                        LGBMRegressionStudent(n_estimators=20, num_leaves=7))


@pytest.mark.slow  # check_estimator (the classifier's runs in the default step)
@parametrize_with_checks([_fast_regressor()],
                         expected_failed_checks=lambda _: _EXPECTED_FAILED)
def test_fast_regressor_follows_the_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def friedman():
    """A smooth target under heavy noise, few training rows: what a student
    hears from the teachers is cleaner than the labels."""
    X, y = make_friedman1(n_samples=1600, noise=2.0, random_state=0)
    return X[:600], y[:600], X[600:], y[600:]


def _teachers():
    return [("hgb", HistGradientBoostingRegressor(max_iter=100, learning_rate=0.05,
                                                  random_state=0)),
            ("linear", LinearRegression())]


def test_distilled_tree_beats_the_same_tree_fitted_on_y(friedman):
    X, y, X_test, y_test = friedman
    student = TreeRegressionStudent(max_depth=6, random_state=0)
    direct = clone(student).fit(X, y)
    distilled = HPMRegressor(_teachers(), student, augment="munge", alpha=1.0,
                             random_state=0).fit(X, y)
    direct_r2 = r2_score(y_test, direct.predict(X_test))
    distilled_r2 = r2_score(y_test, distilled.predict(X_test))
    assert distilled_r2 > direct_r2 + 0.03


def test_report_has_regression_scores(friedman):
    X, y, _, _ = friedman
    fitted = HPMRegressor(_teachers(), "linear", augment=None,
                          random_state=0).fit(X, y)
    report = fitted.report_
    assert isinstance(report, RegressionReport)
    assert report.teacher_r2 == report.teacher_accuracy
    assert set(report.teacher_accuracies) == {"hgb", "linear"}
    assert report.student_rmse > 0 and report.teacher_mae > 0
    assert report.retention == pytest.approx(report.student_r2 / report.teacher_r2)
    assert 0 < report.fidelity <= 1
    assert "student RMSE" in repr(report)
    assert fitted.teacher_weights(X[:5]).shape == (5, 2)
    assert fitted.teacher_predict(X[:5]).shape == (5,)


def test_prefit_teachers_stay_frozen_in_a_grid_search(friedman):
    X, y, _, _ = friedman
    teacher = HistGradientBoostingRegressor(max_iter=30, random_state=0).fit(X, y)
    search = GridSearchCV(
        HPMRegressor(FrozenEstimator(teacher), "linear", augment=None,
                     random_state=0),
        {"alpha": [0.5, 1.0]}, cv=2).fit(X, y)
    used = search.best_estimator_.teachers_[0]
    assert used.estimator is teacher
    assert used.estimator.n_iter_ == 30


@pytest.mark.parametrize("teacher", [
    LogisticRegression(),
    HistGradientBoostingClassifier(max_iter=5),
])
def test_a_classifier_as_teacher_is_refused_by_name(friedman, teacher):
    X, y, _, _ = friedman
    name = type(teacher).__name__
    with pytest.raises(TypeError, match=f"teacher 0 \\({name}\\) is a classifier"):
        HPMRegressor(teacher, "linear").fit(X, y)


def test_fitted_classifier_teacher_is_refused(friedman):
    X, y, _, _ = friedman
    teacher = LogisticRegression().fit(X, y > np.median(y))
    with pytest.raises(TypeError, match="is a classifier"):
        HPMRegressor(FrozenEstimator(teacher), "linear").fit(X, y)


@pytest.mark.parametrize("y_bad, message", [
    (np.array(["a", "b"] * 300), "numeric target"),
    (np.r_[np.nan, np.ones(599)], "NaN or infinity"),
])
def test_bad_targets_are_refused_before_any_work(friedman, y_bad, message):
    X, _, _, _ = friedman
    with pytest.raises(ValueError, match=message):
        HPMRegressor(student="linear").fit(X, y_bad)


def test_the_regressor_has_no_temperature():
    assert "temperature" not in HPMRegressor().get_params()


def test_torch_module_teacher(friedman):
    torch = pytest.importorskip("torch")
    X, y, _, _ = friedman
    linear = LinearRegression().fit(X, y)
    module = torch.nn.Linear(X.shape[1], 1)
    with torch.no_grad():
        module.weight.copy_(torch.as_tensor(linear.coef_[None], dtype=torch.float32))
        module.bias.fill_(float(linear.intercept_))
    fitted = HPMRegressor(module, "linear", augment=None, random_state=0).fit(X, y)
    np.testing.assert_allclose(fitted.teacher_predict(X[:5]), linear.predict(X[:5]),
                               rtol=1e-4)


@pytest.mark.parametrize("family", sorted(REGRESSION_STUDENT_FAMILIES))
def test_each_student_alone_fits_predicts_and_pickles(friedman, family):
    X, y, X_test, _ = friedman
    params = {"mlp": {"hidden_layer_sizes": (16,), "max_epochs": 30},
              "lgbm": {"n_estimators": 20}, "xgb": {"n_estimators": 20}}
    student = REGRESSION_STUDENT_FAMILIES[family](**params.get(family, {}))
    if "random_state" in student.get_params():
        student.set_params(random_state=0)
    on_y = clone(student).fit(X, y)
    soft = DecisionTreeRegressor(max_depth=2).fit(X, y).predict(X)
    on_teacher = student.fit(X, y, soft_targets=soft, alpha=1.0)
    restored = pickle.loads(pickle.dumps(on_teacher))
    np.testing.assert_allclose(restored.predict(X_test), on_teacher.predict(X_test))
    assert on_teacher.predict(X_test).shape == (len(X_test),)
    # learning a shallow tree's predictions is learning something else than y
    assert not np.allclose(on_y.predict(X_test), on_teacher.predict(X_test))


def test_student_predicts_in_the_units_of_y(friedman):
    X, y, _, _ = friedman
    student = TreeRegressionStudent(max_depth=3).fit(X, 1000.0 + 50.0 * y)
    assert student.target_scale_ > 10
    assert abs(student.predict(X).mean() - (1000.0 + 50.0 * y).mean()) < 1.0


def test_huber_loss_pulls_less_towards_outliers(friedman):
    X, y, _, _ = friedman
    y_out = y.copy()
    y_out[:30] += 200.0
    fits = {loss: MLPRegressionStudent((16,), loss=loss, max_epochs=40,
                                       random_state=0).fit(X, y_out)
            for loss in ("squared_error", "huber")}
    rest = slice(30, None)
    errors = {loss: np.mean((model.predict(X[rest]) - y[rest]) ** 2)
              for loss, model in fits.items()}
    assert errors["huber"] < errors["squared_error"]


def test_strata_are_quantile_bins_robust_to_few_values():
    task = RegressionTask()
    y = np.arange(100.0)
    assert np.bincount(task.strata(y)).tolist() == [20] * 5
    assert len(np.unique(task.strata(np.r_[np.zeros(95), np.ones(5)]))) == 2
    assert len(np.unique(task.strata(np.ones(10)))) == 1


def _two_regime_teachers(n):
    rng = np.random.RandomState(0)
    x = rng.normal(size=(n, 1))
    y = np.abs(x[:, 0])
    # one teacher is right for x < 0, the other for x > 0
    predictions = np.stack([-x, x])
    return x, predictions, y


def test_attention_gate_picks_the_right_teacher_per_row():
    x, predictions, y = _two_regime_teachers(500)
    gate = AttentionRegressionFusion().fit(x, predictions, y)
    fused = gate.fuse(x, predictions)[:, 0]
    mean = MeanRegressionFusion().fit(x, predictions, y).fuse(x, predictions)[:, 0]
    assert np.mean((fused - y) ** 2) < 0.1 * np.mean((mean - y) ** 2)


def test_error_fusion_weighs_the_better_teacher_more():
    rng = np.random.RandomState(0)
    y = rng.normal(size=300)
    predictions = np.stack([y + 0.1 * rng.normal(size=300),
                            y + 1.0 * rng.normal(size=300)])[:, :, None]
    weights = ErrorFusion().fit(None, predictions, y).teacher_weights_
    assert weights[0] > 0.9


def test_fusion_changes_the_students_targets(friedman):
    X, y, X_test, _ = friedman
    teachers = [HistGradientBoostingRegressor(max_iter=50, random_state=0),
                RandomForestRegressor(n_estimators=20, max_depth=3, random_state=0)]
    fits = {fusion: HPMRegressor(teachers, "linear", fusion=fusion, augment=None,
                                 random_state=0).fit(X, y)
            for fusion in ("mean", "accuracy")}
    weights = fits["accuracy"].report_.details["teacher_weights"]
    assert weights["histgradientboostingregressor"] > 0.5
    assert not np.allclose(fits["mean"].teacher_predict(X_test),
                           fits["accuracy"].teacher_predict(X_test))


def _auto_regressor(memory=None):
    return HPMRegressor(
        HistGradientBoostingRegressor(max_iter=100, random_state=0), "auto",
        augment=None, search_budget=6, memory=memory, random_state=0)


# The heaviest of the default step (about 6 s each): CI's slow step runs it.
@pytest.mark.slow
def test_auto_student_is_searched_and_scored_by_r2(friedman):
    X, y, _, _ = friedman
    fitted = _auto_regressor().fit(X, y)
    configuration = fitted.report_.details["configuration"]
    candidates = fitted.report_.details["candidates"]
    assert configuration["source"] == "prior"
    assert len(candidates) == configuration["n_fits"] >= 4
    assert len({c["config"]["family"] for c in candidates}) >= 2
    assert all("r2" in c and "accuracy" not in c for c in candidates)
    winner = configuration["config"]
    assert type(fitted.student_[-1]) is REGRESSION_STUDENT_FAMILIES[winner["family"]]
    # the winner has the best R² of the last rung
    last = max(c["rung"] for c in candidates)
    best = max((c for c in candidates if c["rung"] == last), key=lambda c: c["r2"])
    assert best["config"]["family"] == winner["family"]


# The heaviest of the default step (about 6 s each): CI's slow step runs it.
@pytest.mark.slow
def test_experiments_are_ranked_with_their_own_kind_only(friedman, tmp_path):
    from skdistill import OptimizationMemory
    from skdistill._candidates import candidate_space
    from skdistill._ranker import ranker_for

    X, y, _, _ = friedman
    memory = OptimizationMemory(tmp_path / "memory.db")
    _auto_regressor(memory).fit(X, y)
    recorded = memory.experiments()
    assert recorded and {e["dataset"]["task"] for e in recorded} == {"regression"}
    meta = recorded[-1]["dataset"]
    _, regression_source = ranker_for(recorded, meta, "regression")
    classification, source = ranker_for(recorded, meta, "classification")
    assert regression_source == "memory+prior"
    assert source == "prior" and classification.n_rows_["memory"] == 0
    # classification experiments (marked, or unmarked as before) never rank a
    # regression task
    group = [{"dataset": {**meta, "n_classes": 2, "task": task},
              "config": candidate.as_dict(), "val_accuracy": 0.5 + 0.01 * i,
              "extra": {"group": f"g-{task}"}}
             for task in ("classification", None)
             for i, candidate in enumerate(candidate_space(("tree",))[:5])]
    for experiment in group[5:]:
        del experiment["dataset"]["task"]
    regression, source = ranker_for(group, meta, "regression")
    assert source == "prior" and regression.n_rows_["memory"] == 0
    ranker, source = ranker_for(group, meta, "classification")
    assert source == "memory+prior" and ranker.n_rows_["memory"] == 10


def test_report_text_html_and_plot_say_r2(friedman):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    X, y, _, _ = friedman
    report = HPMRegressor(_teachers(), "linear", augment=None,
                          random_state=0).fit(X, y).report_
    text, page = repr(report), report._repr_html_()
    assert text.startswith("RegressionReport(") and "student R²" in text
    assert "R²: hgb" in page and "RegressionReport" in page
    assert "accuracy" not in text + page
    figure = report.plot()
    assert figure.axes[0].get_title() == "R² and fidelity"
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert "fidelity (R² vs teachers)" in labels


def test_regression_candidates_have_no_temperature_even_undistilled():
    from skdistill._candidates import candidate_space

    space = candidate_space(kind="regression")
    assert any(c.alpha == 0.0 for c in space)
    assert all(c.temperature is None for c in space)


def test_the_regression_prior_ranks_regression_tasks_only():
    from skdistill._ranker import load_prior, prior_ranker

    prior = load_prior("regression")
    tasks = {e["extra"]["task"] for e in prior}
    assert len(tasks) >= 8 and {e["dataset"]["task"] for e in prior} == {
        "regression"}
    # none of the regression suite's datasets
    assert not tasks & {"diamonds", "ames", "concrete", "flights", "cps1988"}
    assert prior_ranker("regression").n_rows_["prior"] == len(prior)
    assert all(e["dataset"].get("task", "classification") == "classification"
               for e in load_prior())


def test_without_a_regression_prior_the_order_is_fixed(monkeypatch):
    from skdistill import _ranker

    monkeypatch.setitem(_ranker.PRIOR_FILES, "regression", "missing.json")
    _ranker._prior_ranker.cache_clear()
    try:
        ranker, source = _ranker.ranker_for([], None, "regression")
        assert source == "fixed order" and isinstance(ranker, _ranker.FixedOrder)
    finally:
        _ranker._prior_ranker.cache_clear()


def test_the_regression_network_takes_auto_epochs_past_200_on_small_sets():
    # 270 training rows, 2 steps an epoch: a 4-unit network still improves at
    # epoch 200 on each of these three problems
    gains = []
    for seed in range(3):
        X, y = make_friedman1(600, random_state=seed)
        capped = MLPRegressionStudent((4,), max_epochs=200, random_state=0).fit(
            X[:300], y[:300])
        auto = MLPRegressionStudent((4,), random_state=0).fit(X[:300], y[:300])
        assert capped.n_epochs_ == 200 < auto.n_epochs_
        gains.append(auto.score(X[300:], y[300:]) - capped.score(X[300:], y[300:]))
    assert min(gains) > 0.005


def test_the_regression_network_stops_on_tol_as_the_classifier_does():
    # 198 training rows, one step an epoch: the loss still falls at epoch 500
    X, y = make_friedman1(n_samples=220, random_state=0)
    exact, tolerant = (MLPRegressionStudent((16,), tol=tol, random_state=0).fit(X, y)
                       for tol in (0.0, 1e-4))
    assert tolerant.n_epochs_ < exact.n_epochs_  # measured: 507 and 574
    losses = np.array(tolerant.validation_scores_)
    assert tolerant.best_epoch_ == np.argmin(losses)
    best_before = np.minimum.accumulate(np.r_[np.inf, losses[:-1]])
    progress = losses < best_before - 1e-4
    assert not progress[-10:].any() and progress[-11]
