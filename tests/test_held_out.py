"""The rows a fit chooses on are never seen by a teacher whose outputs it scores.

A teacher fitted on a selection row labels the rows near it with that row's
answer. Here the labels are coin flips and the teachers memorise (one nearest
neighbour, a deep forest): whatever a student learns from them is worth chance
on rows they never saw, and so it must be on the selection rows.
"""

from contextlib import nullcontext

import numpy as np
import pytest
from memorising_teacher import RightOnlyOnItsRows
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.tree import DecisionTreeClassifier

from skdistill import (
    HPMDistiller,
    LinearStudent,
    TreeStudent,
    _base,
    _halving,
    _held_out,
    _transfer,
)
from skdistill._halving import score
from skdistill._held_out import HeldOutTeachers, held_out_labeller
from skdistill._targets import _without_held_out, fit_targets
from skdistill._task import ClassificationTask, RegressionTask
from skdistill._teacher_outputs import (
    PROCESS_CACHE,
    PROCESS_COPIES,
    TeacherOutputs,
    fit_and_cross_fit,
    teacher_outputs,
)
from skdistill._transfer import (
    TransferSet,
    choice_rows,
    selection_rows,
    validation_selection_split,
    validation_splits,
)


def _coin_flips(seed, n_rows=1000):
    rng = np.random.RandomState(seed)
    return rng.uniform(size=(n_rows, 2)), rng.randint(0, 2, n_rows)


def _own_label_agreement(outputs, y, rows):
    return np.mean(outputs[rows].argmax(axis=1) == y[rows])


@pytest.mark.parametrize("teacher", [
    KNeighborsClassifier(n_neighbors=1),
    RandomForestClassifier(n_estimators=60, random_state=0)],  # out of bag
    ids=["copies", "out_of_bag"])
def test_no_copy_is_fitted_on_the_held_out_rows(teacher):
    X, y = _coin_flips(0, 600)
    task = ClassificationTask(np.array([0, 1]))
    held_out = choice_rows(y, seed=0)
    others = np.setdiff1d(np.arange(len(y)), held_out)
    neighbour = NearestNeighbors(n_neighbors=2).fit(X).kneighbors(
        X, return_distance=False)[:, 1]
    next_to_held_out = others[np.isin(neighbour[others], held_out)]

    def agreement_with_held_out_neighbour(held_out):
        outputs = fit_and_cross_fit([teacher], X, y, None, task, cv=5,
                                    random_state=0, n_jobs=None,
                                    held_out=held_out).oof
        rows = next_to_held_out
        return np.mean(outputs[0][rows].argmax(axis=1) == y[neighbour[rows]]), \
            outputs[0]

    # A copy fitted on a held-out row answers its coin flip next to it
    # (measured: 0.87 for the nearest neighbour, 0.73 for the forest); copies
    # that never saw it do no better than chance (0.39, 0.42).
    leaked, _ = agreement_with_held_out_neighbour(None)
    honest, outputs = agreement_with_held_out_neighbour(held_out)
    assert leaked > 0.65
    assert honest < 0.55
    assert _own_label_agreement(outputs, y, held_out) < 0.6
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0)


def _checked_on_coin_flips(seed, n_val=0):
    """A distiller whose augmentation check chose on coin flips, with a
    one-nearest-neighbour teacher, given ``n_val`` rows as ``X_val``."""
    X, y = _coin_flips(seed, 1000 + n_val)
    given = {"X_val": X[1000:], "y_val": y[1000:]} if n_val else {}
    return HPMDistiller(
        KNeighborsClassifier(n_neighbors=1), student=TreeStudent(max_depth=8),
        augment="auto", alpha=1.0, final_rows="train",
        random_state=seed).fit(X[:1000], y[:1000], **given)


def _check_accuracy(distiller):
    return distiller.report_.details["configuration"]["augmentation_check"][
        "accuracy_without"]


def test_the_checks_score_no_better_than_chance_on_coin_flips():
    without = [_check_accuracy(_checked_on_coin_flips(seed)) for seed in range(4)]
    # measured: 0.511 (0.574 when the copies were fitted on the selection rows)
    assert np.mean(without) < 0.55


def test_the_checks_synthetic_rows_are_labelled_by_copies_that_never_saw_them():
    X = np.random.RandomState(1).normal(size=(400, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    teacher = RightOnlyOnItsRows().fit(X, y)
    fused = HPMDistiller(FrozenEstimator(teacher), student=LinearStudent(),
                         prefit_teachers="as_is", augment=None,
                         random_state=0).fit(X, y)._fused
    rows, others = np.arange(300), np.arange(300, 400)
    labeller = held_out_labeller(fused, [RightOnlyOnItsRows()], X, y, None, None)
    assert labeller(None) is fused
    assert labeller(np.arange(len(y))) is fused  # nothing held out
    held_out = labeller(rows)
    assert isinstance(held_out, HeldOutTeachers)
    assert labeller(rows.copy()) is held_out  # fitted once per rows
    _, targets = held_out.label(X[others])
    _, fused_targets = fused.label(X[others])
    np.testing.assert_array_equal(fused_targets.argmax(axis=1), y[others])
    np.testing.assert_array_equal(targets.argmax(axis=1), 1 - y[others])
    # teachers that never saw the rows label them as they are
    assert held_out_labeller(fused, [None], X, y, None, None)(rows) is fused


def test_the_copies_label_with_the_mean_of_the_first_few(monkeypatch):
    """Labelling by every copy cost a quarter of a fit's own work for nothing
    measurable: the first ``LABELLING_COPIES`` label, the others are not
    asked."""
    X, y = _coin_flips(4, 300)
    fused = HPMDistiller(FrozenEstimator(DecisionTreeClassifier(random_state=0)
                                         .fit(X, y)),
                         student=LinearStudent(), prefit_teachers="as_is",
                         augment=None, random_state=0).fit(X, y)._fused
    copies = [DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X, y)
              for depth in (1, 2, 3, 4, 5)]
    asked = []

    def recorded(copy, predict_proba):
        def predict(Z):
            asked.append(copy)
            return predict_proba(Z)
        return predict

    for copy in copies:
        monkeypatch.setattr(copy, "predict_proba",
                            recorded(copy, copy.predict_proba))
    labeller = HeldOutTeachers(fused, [DecisionTreeClassifier()], X, y, None,
                               copies=[copies])
    outputs = labeller.outputs(X[:50])
    first = copies[:_held_out.LABELLING_COPIES]
    assert asked == first and len(first) < len(copies)
    np.testing.assert_allclose(
        outputs[0], np.mean([c.predict_proba(X[:50]) for c in first], axis=0))


def test_which_teachers_saw_the_rows():
    X, y = _coin_flips(2, 300)
    task = ClassificationTask(np.array([0, 1]))
    unfitted = DecisionTreeClassifier(random_state=0)
    prefit = DecisionTreeClassifier(random_state=0).fit(X, y)

    def templates(prefit_teachers):
        return teacher_outputs(
            [unfitted, prefit], X, y, None, task, cv=3, soft_targets="oof",
            gate_learns=True, random_state=0, n_jobs=None, memory=None,
            timed=_untimed, prefit_teachers=prefit_teachers).templates

    as_is = templates("as_is")
    assert as_is[0] is unfitted and as_is[1] is None
    cross_fit = templates("cross_fit")
    assert cross_fit[0] is unfitted
    assert type(cross_fit[1]) is DecisionTreeClassifier
    assert not hasattr(cross_fit[1], "tree_")  # the unfitted twin
    # "auto": the prefit tree memorised the rows, so its copies label them
    assert templates("auto")[1] is not None


def _untimed(phase):
    return nullcontext()


class _CountingTree(DecisionTreeClassifier):
    """A decision tree that counts its fits (class-wide)."""

    fits = 0

    def fit(self, X, y, sample_weight=None, check_input=True):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight,
                           check_input=check_input)


def test_the_check_labels_with_the_copies_it_already_has():
    X, y = _coin_flips(3, 500)
    _CountingTree.fits = 0
    PROCESS_CACHE.clear()
    PROCESS_COPIES.clear()

    def fit():
        return HPMDistiller(_CountingTree(random_state=0),
                            student=TreeStudent(max_depth=4), augment="auto",
                            cv=5, final_rows="train", random_state=0).fit(X, y)

    first = fit()
    check = first.report_.details["configuration"]["augmentation_check"]
    assert "accuracy_munge" in check
    assert _CountingTree.fits == 1 + 5  # the teacher and its copies, no refit
    # A refit finds the outputs and the copies kept: the same check, no copy
    # fitted again; without the copies it fits them again, to the same end.
    again = fit()
    assert _CountingTree.fits == 1 + 5 + 1
    assert again.report_.details["configuration"]["augmentation_check"] == check
    PROCESS_COPIES.clear()
    third = fit()
    assert _CountingTree.fits == 1 + 5 + 1 + 1 + 5
    assert third.report_.details["configuration"]["augmentation_check"] == check
    np.testing.assert_array_equal(third.predict_proba(X), first.predict_proba(X))


def test_copies_are_kept_only_for_a_check_that_uses_them(monkeypatch):
    X, y = _coin_flips(4, 400)

    def kept(**params):
        PROCESS_CACHE.clear()
        PROCESS_COPIES.clear()
        HPMDistiller(DecisionTreeClassifier(random_state=0), student="linear",
                     random_state=0, **params).fit(X, y)
        return len(PROCESS_COPIES._entries)

    assert kept(augment="auto") == 1
    distiller = HPMDistiller(DecisionTreeClassifier(random_state=0),
                             student="linear", random_state=0).fit(X, y)
    assert distiller.report_.details["selection"] == {
        "source": "X", "n_selection": 64, "held_out_of_teacher_copies": True}
    assert kept(augment=None, chain="auto") == 0  # chooses, tries no MUNGE rows
    monkeypatch.setattr(_base, "AUTO_MAX_ROWS", 100)  # augment="auto" tries none
    assert kept(augment="auto") == 0
    assert kept(augment="munge", augment_ratio="auto") == 1


def test_a_prefit_teachers_copies_are_kept_for_the_final_refit():
    # They label the validation rows that the student refitted on every row
    # learns from (the teacher memorised them); not kept without that refit.
    X, y = _coin_flips(4, 400)
    teacher = DecisionTreeClassifier(random_state=0).fit(X, y)
    PROCESS_CACHE.clear()
    PROCESS_COPIES.clear()
    HPMDistiller(FrozenEstimator(teacher), student="linear", augment=None,
                 random_state=0).fit(X, y)
    assert len(PROCESS_COPIES._entries) == 1
    PROCESS_CACHE.clear()
    PROCESS_COPIES.clear()
    HPMDistiller(FrozenEstimator(teacher), student="linear", augment=None,
                 final_rows="train", random_state=0).fit(X, y)
    assert len(PROCESS_COPIES._entries) == 0


def test_the_fusion_learns_on_the_rows_not_held_out():
    X, y = _coin_flips(5, 500)
    task = ClassificationTask(np.array([0, 1]))
    held_out = choice_rows(y, seed=0)
    # Teacher 0 is right on the held-out rows only, teacher 1 on 70 % of all.
    right = np.zeros(len(y), bool)
    right[held_out] = True
    rng = np.random.RandomState(0)
    first = np.where(right, y, 1 - y)
    second = np.where(rng.uniform(size=len(y)) < 0.7, y, 1 - y)
    outputs = np.stack([np.eye(2)[first], np.eye(2)[second]])
    teachers = TeacherOutputs([None, None], outputs, outputs, None)

    def weight_of_first(held_out):
        fused, transfer = fit_targets(
            X, X, y, None, teachers, task=task, fusion="accuracy",
            student_preprocessor=None, family="linear",
            student_columns=lambda rows: rows, seed=0, n_jobs=None,
            held_out=held_out)
        assert transfer.held_out is held_out
        return fused.fusion.teacher_weights_[0]

    # Learned on every row, teacher 0 is right on a fifth of them; on the
    # rows not held out, on none.
    assert weight_of_first(held_out) < weight_of_first(None)


def test_x_val_too_small_to_split_holds_the_choice_rows_out_of_the_copies():
    # With X_val too small to split, the choice is made on a fifth of X, as
    # without X_val: those rows must be held out of the copies then too.
    accuracies = []
    for seed in range(4):
        distiller = _checked_on_coin_flips(seed, n_val=60)
        selection = distiller.report_.details["selection"]
        assert selection["held_out_of_teacher_copies"]
        assert selection["n_selection"] == 200
        assert "too few to split" in selection["note"]
        assert distiller.report_.n_validation == 60
        accuracies.append(_check_accuracy(distiller))
    # measured: 0.504 (0.558 with the copies fitted on the choice rows)
    assert np.mean(accuracies) < 0.55


@pytest.mark.parametrize("kind", ["classification", "regression"])
@pytest.mark.parametrize("fusion", ["attention", "accuracy"])
def test_a_held_out_row_weighs_nothing_in_the_fusion(kind, fusion):
    # The fusion leaves the held-out rows out by a weight of 0 (no copy of its
    # inputs): the same fusion as one fitted on the other rows alone.
    rng = np.random.RandomState(3)
    features = rng.normal(size=(300, 4))
    if kind == "classification":
        task, y = ClassificationTask(np.array([0, 1, 2])), rng.randint(0, 3, 300)
        outputs = rng.dirichlet(np.ones(3), size=(2, 300))
    else:
        task, y = RegressionTask(), features[:, 0] + rng.normal(size=300)
        outputs = (y + rng.normal(scale=[[0.5], [1.0]], size=(2, 300)))[..., None]
    encoded, weight = task.encode(y), rng.uniform(0.5, 2.0, 300)
    held_out = choice_rows(task.strata(y), seed=0)
    rest = np.setdiff1d(np.arange(300), held_out)
    weighted = task.make_fusion(fusion, 0).fit(
        features, outputs, encoded, _without_held_out(weight, held_out, 300))
    subset = task.make_fusion(fusion, 0).fit(
        features[rest], outputs[:, rest], encoded[rest], weight[rest])
    np.testing.assert_allclose(weighted.fuse(features, outputs),
                               subset.fuse(features, outputs), rtol=1e-6, atol=1e-9)
    assert _without_held_out(None, None, 300) is None
    assert _without_held_out(weight, held_out, 300)[rest] == pytest.approx(weight[rest])


@pytest.mark.parametrize("counts", [(40, 40), (60, 41), (51, 50), (99, 1),
                                    (100,), (150, 3, 2), (49, 49, 2)])
def test_whether_x_val_splits_is_known_before_the_draw(counts):
    strata = np.repeat(np.arange(len(counts)), counts)
    split = validation_selection_split(strata, np.random.RandomState(0))[0]
    assert validation_splits(strata) == (split is not None)


def test_a_fit_chooses_on_a_stratified_sample_of_many_selection_rows(monkeypatch):
    monkeypatch.setattr(_transfer, "MAX_SCORED_ROWS", 50)
    y = np.repeat([0, 1, 2], [600, 300, 100])
    transfer = TransferSet(np.random.RandomState(0).normal(size=(1000, 3)), y,
                           np.eye(3)[y], None, task=ClassificationTask(np.unique(y)))
    held_out = choice_rows(y, seed=0)
    training, select = selection_rows(transfer, seed=0)
    assert len(held_out) == 200
    assert set(select) <= set(held_out)
    assert np.bincount(y[select]).tolist() == [30, 15, 5]
    # The selection rows not scored on are not trained on either.
    assert not set(training) & set(held_out)
    assert len(training) == 800


def test_too_few_rows_to_choose_on_give_no_selection_rows():
    y = np.linspace(0.0, 1.0, 60)  # under MIN_SELECTION_ROWS
    transfer = TransferSet(y[:, None], y, y[:, None], None, task=RegressionTask())
    training, select = selection_rows(transfer, seed=0)
    assert len(select) == 0 and len(training) == 60


def test_the_search_scores_on_the_sampled_selection_rows(monkeypatch):
    monkeypatch.setattr(_transfer, "MAX_SCORED_ROWS", 40)
    scored = []

    def counting_score(model, Z, y, outputs, task):
        scored.append(len(y))
        return score(model, Z, y, outputs, task)

    monkeypatch.setattr(_halving, "score", counting_score)
    X, y = make_classification(n_samples=600, random_state=0)
    HPMDistiller(teachers=[DecisionTreeClassifier(max_depth=4, random_state=0)],
                 augment=None, random_state=0).fit(X, y)
    assert scored and set(scored) == {40}
