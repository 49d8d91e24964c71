"""A bagged forest labels its own training rows out of bag: one copy, not cv."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.feature_selection import SelectKBest
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import HPMDistiller, HPMRegressor, LinearStudent, _base, _out_of_bag
from skdistill._out_of_bag import (
    fit_out_of_bag,
    out_of_bag_capable,
    out_of_bag_trees,
)
from skdistill._task import ClassificationTask, RegressionTask
from skdistill._teacher_outputs import fit_and_cross_fit


class CountingForest(RandomForestClassifier):
    """A random forest that counts its fits (class-wide)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture(scope="module")
def noisy():
    """300 rows, 40 % of whose labels are drawn at random: a forest memorises
    them."""
    X, y = make_classification(n_samples=300, n_features=8, n_informative=4,
                               flip_y=0.4, random_state=0)
    return X, y


def test_which_teachers_label_their_rows_out_of_bag():
    forest = RandomForestClassifier(n_estimators=100)
    assert out_of_bag_capable(forest, 1_000)
    assert out_of_bag_capable(make_pipeline(StandardScaler(), forest), 1_000)
    # no bootstrap samples, too few trees for every row to be left out once,
    # not a forest, a step before it that learns from the labels
    assert not out_of_bag_capable(RandomForestClassifier(bootstrap=False), 1_000)
    assert not out_of_bag_capable(RandomForestClassifier(n_estimators=5), 1_000)
    assert not out_of_bag_capable(HistGradientBoostingClassifier(), 1_000)
    assert not out_of_bag_capable(make_pipeline(SelectKBest(k=3), forest), 1_000)


def test_one_forest_replaces_the_cross_fitted_copies(noisy):
    X, y = noisy
    task = ClassificationTask(np.unique(y))
    fits = {}
    for bootstrap in (True, False):
        CountingForest.fits = 0
        oof = fit_and_cross_fit(
            [CountingForest(n_estimators=50, bootstrap=bootstrap, random_state=0)],
            X, y, None, task, cv=5, random_state=0, n_jobs=1).oof
        fits[bootstrap] = CountingForest.fits
        # honest either way: a teacher that memorised the flipped labels
        # would agree with every one of them
        assert np.mean(oof[0].argmax(axis=1) == y) < 0.8
    # the teacher itself, then one forest (out of bag) or five copies
    assert fits == {True: 2, False: 6}


def test_out_of_bag_outputs_follow_the_classes_of_string_labels(noisy):
    X, codes = noisy
    labels = np.array(["yes", "no"])[codes]  # "no" sorts first: code 1
    task = ClassificationTask(np.unique(labels))
    template = RandomForestClassifier(n_estimators=50, random_state=0)
    fitted, outputs = fit_out_of_bag(template, X, labels, None, task)
    trees = out_of_bag_trees(template, len(labels))
    assert trees == 50  # the teacher's own
    reference = RandomForestClassifier(n_estimators=trees, random_state=0,
                                       oob_score=True).fit(X, labels)
    np.testing.assert_allclose(outputs, reference.oob_decision_function_)
    assert list(task.classes) == list(reference.classes_) == ["no", "yes"]
    assert fitted.predict(X[:5]).dtype.kind == "U"


def test_a_row_in_every_bootstrap_sample_sends_the_forest_back_to_copies(
        noisy, monkeypatch):
    X, y = noisy
    task = ClassificationTask(np.unique(y))
    # two trees: most rows sit in both bootstrap samples
    monkeypatch.setattr(_out_of_bag, "MAX_EXPECTED_UNCOVERED", float("inf"))
    assert fit_out_of_bag(RandomForestClassifier(n_estimators=2, random_state=0),
                          X, y, None, task) == (None, None)
    CountingForest.fits = 0
    oof = fit_and_cross_fit(
        [CountingForest(n_estimators=2, random_state=0)], X, y, None, task, cv=5,
        random_state=0, n_jobs=1).oof
    assert CountingForest.fits == 1 + 1 + 5  # teacher, failed forest, copies
    assert np.isfinite(oof).all()
    assert np.allclose(oof[0].sum(axis=1), 1.0)


def test_a_prefit_regression_forest_labels_its_rows_out_of_bag():
    X, y = make_regression(n_samples=300, n_features=6, noise=30.0, random_state=0)
    forest = RandomForestRegressor(n_estimators=60, random_state=0).fit(X, y)
    fitted, outputs = fit_out_of_bag(
        RandomForestRegressor(n_estimators=60, random_state=0), X, y, None,
        RegressionTask())
    assert outputs.shape == (300, 1)
    in_sample = forest.predict(X)
    # out of bag, the noise is not repeated: much further from y than in-sample
    assert (np.mean((outputs[:, 0] - y) ** 2)
            > 3 * np.mean((in_sample - y) ** 2))
    distiller = HPMRegressor(FrozenEstimator(forest), student="linear",
                             prefit_teachers="cross_fit", augment=None,
                             random_state=0).fit(X, y)
    assert distiller.predict(X).shape == (300,)


def test_a_prefit_forest_in_a_distiller_labels_its_rows_out_of_bag(noisy,
                                                                  monkeypatch):
    X, y = noisy
    forest = CountingForest(n_estimators=100, random_state=0).fit(X, y)
    seen = []
    original = _base.fit_targets

    def spy(*args, **kwargs):
        seen.append((args[2], args[4].targets[0]))  # training labels, targets
        return original(*args, **kwargs)

    monkeypatch.setattr(_base, "fit_targets", spy)
    CountingForest.fits = 0
    HPMDistiller(FrozenEstimator(forest), student=LinearStudent(),
                 prefit_teachers="cross_fit", augment=None,
                 random_state=0).fit(X, y)
    assert CountingForest.fits == 1  # its twin, out of bag; no copies
    y_train, targets = seen[0]
    # the forest memorised its rows; the targets come from trees that never
    # saw each row (measured: agreement with the labels 1.00 in-sample)
    assert np.mean(forest.predict(X) == y) > 0.99
    assert np.mean(targets.argmax(axis=1) == y_train) < 0.8


def test_uncovered_rows_are_caught_without_the_warning(noisy, monkeypatch):
    X, y = noisy
    # as when scikit-learn's warning went to another thread's catch_warnings
    monkeypatch.setattr(_out_of_bag, "_NO_OOB", "a message never written")
    assert fit_out_of_bag(RandomForestClassifier(n_estimators=2, random_state=0),
                          X, y, None, ClassificationTask(np.unique(y))) == (None, None)
