"""The task object: what the shared steps of a fit ask instead of assuming classes.

``ClassificationTask`` is checked for what it answers; a small regression task
written here checks that the shared steps (cross-fitted teacher outputs, the
splits, the search's scoring, the meta-features) work for another task through
the same interface, which is what a regression distiller will reuse.
"""

from contextlib import nullcontext

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.tree import DecisionTreeRegressor

from skdistill._halving import nested_order, score
from skdistill._ranker import meta_features
from skdistill._task import ClassificationTask
from skdistill._teacher_outputs import teacher_outputs
from skdistill._transfer import TransferSet, selection_split, stratified_split


class _QuantileRegressionTask:
    """Outputs of width one, R² as the score, strata by quartile of the target."""

    kind = "regression"
    n_outputs = 1

    def __init__(self, y):
        self.edges = np.quantile(y, [0.25, 0.5, 0.75])

    def cache_key(self):
        return "regression"

    def teacher_to_fit(self, teacher, y):
        return teacher

    def teacher_outputs(self, teacher, X):
        return teacher.predict(X)[:, None]

    def serving_method(self, student):
        return student.predict

    def check_teachers(self, teachers):
        pass

    def predictions(self, outputs):
        return np.asarray(outputs)[:, 0]

    def score(self, y_true, y_pred):
        return r2_score(y_true, y_pred)

    def agreement(self, y_pred, teacher_pred):
        return r2_score(teacher_pred, y_pred)

    def selection_score(self, y_true, y_pred, outputs):
        return r2_score((y_true + outputs[:, 0]) / 2, y_pred)

    def row_scores(self, y_true, y_pred):
        squared = (np.asarray(y_pred) - y_true) ** 2
        return 1.0 - len(y_true) * squared / np.sum((y_true - np.mean(y_true)) ** 2)

    trusts_teachers = False

    def strata(self, y):
        return np.searchsorted(self.edges, y)

    def encode(self, y):
        return np.asarray(y, dtype=float)

    def target_meta(self, y, outputs):
        return {"teacher_r2": self.score(y, outputs.mean(axis=0)[:, 0])}


def _no_timer(phase):
    return nullcontext()


@pytest.fixture(scope="module")
def regression_rows():
    X, y = make_regression(n_samples=400, n_features=5, noise=20.0, random_state=0)
    return X, y


def test_classification_task_reads_labels_from_probabilities():
    task = ClassificationTask(np.array(["ant", "bee", "cat"]))
    outputs = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    assert task.n_outputs == 3
    np.testing.assert_array_equal(task.predictions(outputs), ["bee", "ant", "cat"])
    assert task.score(["bee", "ant", "ant"], task.predictions(outputs)) == \
        pytest.approx(2 / 3)
    np.testing.assert_array_equal(task.encode(np.array(["cat", "ant"])), [2, 0])


def test_cross_fitted_outputs_of_regressors_come_from_the_task(regression_rows):
    X, y = regression_rows
    task = _QuantileRegressionTask(y)
    outputs = teacher_outputs(
        [DecisionTreeRegressor(random_state=0)], X, y, None, task, cv=4,
        soft_targets="oof", gate_learns=False, random_state=0, n_jobs=None,
        memory=None, timed=_no_timer)
    assert outputs.targets.shape == (1, len(y), 1)
    # A deep tree repeats its training targets exactly; out of fold it cannot.
    in_sample = outputs.teachers[0].predict(X)
    assert mean_squared_error(y, in_sample) == pytest.approx(0.0)
    assert mean_squared_error(y, outputs.targets[0, :, 0]) > 100.0


def test_splits_keep_the_tasks_strata_in_proportion(regression_rows):
    _, y = regression_rows
    task = _QuantileRegressionTask(y)
    train, held_out = stratified_split(task.strata(y), 0.2, np.random.RandomState(0))
    assert np.bincount(task.strata(y[held_out])).tolist() == [20, 20, 20, 20]
    transfer = TransferSet(np.zeros((len(y), 1)), y, y[:, None], None, task=task)
    _, select = selection_split(transfer, seed=0)
    assert np.bincount(task.strata(y[select])).tolist() == [20, 20, 20, 20]
    first = nested_order(task.strata(y), seed=0)[:40]
    assert np.bincount(task.strata(y[first])).tolist() == [10, 10, 10, 10]


def test_search_scores_and_meta_features_are_the_tasks(regression_rows):
    X, y = regression_rows
    task = _QuantileRegressionTask(y)
    model = LinearRegression().fit(X[:300], y[:300])
    teacher_pred = model.predict(X[300:]) + 1.0
    measured, selection, agreement = score(model, X[300:], y[300:],
                                           teacher_pred[:, None], task)
    assert selection == pytest.approx(r2_score((y[300:] + teacher_pred) / 2,
                                               model.predict(X[300:])))
    assert measured == pytest.approx(r2_score(y[300:], model.predict(X[300:])))
    assert agreement == pytest.approx(r2_score(teacher_pred,
                                               model.predict(X[300:])))
    meta = meta_features(X, y, 5, model.predict(X)[None, :, None], task)
    assert meta["n_rows"] == len(y) and meta["n_teachers"] == 1
    assert meta["teacher_r2"] == pytest.approx(r2_score(y, model.predict(X)))
