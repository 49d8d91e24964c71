"""Prefit teachers label their own training rows out-of-fold, through twins."""

import warnings
from contextlib import nullcontext

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skdistill import HPMDistiller, MLPStudent, TreeStudent, _base
from skdistill._memory import OptimizationMemory
from skdistill._task import ClassificationTask
from skdistill._teacher_outputs import teacher_outputs
from skdistill._teachers import (
    EncodedLabelsClassifier,
    TorchModuleTeacher,
    unfitted_twin,
)

FAST = MLPStudent(hidden_layer_sizes=(8,), max_epochs=5)


@pytest.fixture(scope="module")
def memorised():
    """600 noisy rows (30 % flipped labels) and a booster that memorised them."""
    X, y = make_classification(n_samples=4000, n_features=10, n_informative=6,
                               n_redundant=2, flip_y=0.3, random_state=0)
    teacher = HistGradientBoostingClassifier(
        max_iter=100, early_stopping=False, random_state=0).fit(X[:600], y[:600])
    return teacher, (X[:600], y[:600]), (X[1000:], y[1000:])


def _fused_inputs(monkeypatch, distiller, X, y):
    """The training rows, their labels and the first teacher's outputs there."""
    seen = []
    original = _base.fit_targets

    def spy(*args, **kwargs):
        seen.append((args[0], args[2], args[4].targets[0]))
        return original(*args, **kwargs)

    monkeypatch.setattr(_base, "fit_targets", spy)
    distiller.fit(X, y)
    return seen[0]


def test_a_prefit_teacher_no_longer_repeats_its_training_labels(memorised,
                                                                monkeypatch):
    teacher, (X, y), _ = memorised
    targets = {}
    for mode in ("as_is", "cross_fit"):
        distiller = HPMDistiller(FrozenEstimator(teacher), student=FAST,
                                 augment=None, prefit_teachers=mode, random_state=0)
        X_train, y_train, targets[mode] = _fused_inputs(monkeypatch, distiller, X, y)
    in_sample = teacher.predict_proba(X_train)
    np.testing.assert_allclose(targets["as_is"], in_sample)
    # copies that never saw a row disagree with its noisy label far more often
    # (measured: argmax agreement with the labels 1.00 in-sample, 0.71 out-of-fold;
    # mean absolute difference of the probabilities 0.28)
    assert np.mean(in_sample.argmax(axis=1) == y_train) > 0.99
    assert np.mean(targets["cross_fit"].argmax(axis=1) == y_train) < 0.8
    assert np.abs(targets["cross_fit"] - in_sample).mean() > 0.2


@pytest.mark.slow  # a learning comparison on two seeds
def test_a_student_learns_more_from_out_of_fold_targets(memorised):
    teacher, (X, y), (X_test, y_test) = memorised
    for seed in (0, 1):
        scores = {
            mode: HPMDistiller(FrozenEstimator(teacher),
                               student=TreeStudent(max_depth=8), augment=None,
                               prefit_teachers=mode, random_state=seed)
            .fit(X, y).score(X_test, y_test)
            for mode in ("as_is", "cross_fit")}
        # measured, seeds 0-1: as_is 0.642/0.662, cross_fit 0.680/0.706
        assert scores["cross_fit"] >= scores["as_is"] + 0.02, (seed, scores)


def test_the_prefit_teachers_stay_the_teachers(memorised):
    teacher, (X, y), (X_test, _) = memorised
    before = teacher.predict_proba(X_test)
    frozen = FrozenEstimator(teacher)
    plain = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    distiller = HPMDistiller([frozen, plain], student=FAST, augment=None,
                             prefit_teachers="cross_fit", random_state=0).fit(X, y)
    assert distiller.teachers_[0] is frozen and distiller.teachers_[1] is plain
    assert frozen.estimator is teacher
    np.testing.assert_array_equal(teacher.predict_proba(X_test), before)
    assert distiller.report_.details["prefit_teachers"] == "cross_fit"


def test_unfitted_twins_keep_the_parameters_and_drop_the_fit(memorised):
    teacher, (X, y), _ = memorised
    twin = unfitted_twin(FrozenEstimator(teacher))
    assert type(twin) is HistGradientBoostingClassifier
    assert twin.get_params() == teacher.get_params()
    assert not hasattr(twin, "classes_")
    encoded = EncodedLabelsClassifier(LogisticRegression(C=0.5)).fit(X, y + 1)
    twin = unfitted_twin(encoded)
    assert isinstance(twin, EncodedLabelsClassifier)
    assert twin.estimator.C == 0.5 and not hasattr(twin, "estimator_")
    assert unfitted_twin(TorchModuleTeacher(torch.nn.Linear(10, 2))) is None
    assert unfitted_twin(_Uncloneable().fit(X, y)) is None


class _Uncloneable(LogisticRegression):
    def __sklearn_clone__(self):
        raise TypeError("this teacher has no copies")


@pytest.mark.parametrize("make_teacher", [
    lambda X, y: torch.nn.Linear(X.shape[1], 2),
    lambda X, y: _Uncloneable().fit(X, y),
], ids=["torch", "clone_raises"])
def test_a_teacher_that_cannot_be_cross_fitted_is_named_in_a_warning(
        memorised, make_teacher):
    _, (X, y), _ = memorised
    X = X.astype(np.float32)
    teacher = make_teacher(X, y)
    with pytest.warns(UserWarning, match=r"prefit teacher '\w+'.*cannot be cloned"
                      r".*prefit_teachers='as_is'"):
        HPMDistiller(teacher, student=FAST, augment=None,
                     prefit_teachers="cross_fit", random_state=0).fit(X, y)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        HPMDistiller(teacher, student=FAST, augment=None, prefit_teachers="as_is",
                     random_state=0).fit(X, y)
    assert not any("cannot be cloned" in str(w.message) for w in record)


def test_cached_in_sample_outputs_are_not_reused_for_cross_fitting(memorised,
                                                                   tmp_path):
    teacher, (X, y), _ = memorised
    memory = OptimizationMemory(tmp_path / "memory.db")
    # with a teacher fitted here, the out-of-fold cache is used in both modes
    teachers = [FrozenEstimator(teacher),
                LogisticRegression(random_state=0)]
    task = ClassificationTask(np.unique(y))

    def targets(mode):
        return teacher_outputs(
            teachers, X, y, None, task, cv=3, soft_targets="oof",
            gate_learns=True, random_state=0, n_jobs=None, memory=memory,
            timed=lambda phase: nullcontext(), prefit_teachers=mode).targets

    as_is = targets("as_is")
    np.testing.assert_allclose(as_is[0], teacher.predict_proba(X))
    cross_fit = targets("cross_fit")
    assert np.abs(cross_fit[0] - as_is[0]).mean() > 0.2
    np.testing.assert_allclose(cross_fit[1], as_is[1])
    np.testing.assert_array_equal(targets("cross_fit"), cross_fit)  # cached
    np.testing.assert_array_equal(targets("as_is"), as_is)
