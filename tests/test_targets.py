"""What the student learns from, switched on HPMDistiller: fusion, temperature
schedule, out-of-fold soft targets and synthetic transfer rows.

Each test compares a switch against its off position on a fixed-seed problem where
the difference is real, with a margin that was measured (stated beside it).
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder

from skdistill import HPMDistiller, LGBMStudent, MLPStudent, XGBStudent, _targets
from skdistill._fusion_base import check_features
from skdistill._preprocess import default_preprocessor
from skdistill._task import ClassificationTask
from skdistill._teacher_outputs import out_of_fold_outputs, teachers_outputs

SMALL_MLP = dict(hidden_layer_sizes=(16,), learning_rate=1e-2, max_epochs=60)
# Wide enough to learn the two regions' rules (a 16-unit MLP cannot, whatever its
# targets say).
WIDE_MLP = dict(hidden_layer_sizes=(64, 64), learning_rate=1e-2)


@pytest.fixture(scope="module")
def gated_distillers(two_region_problem):
    """The two region experts distilled on 1,500 rows neither of them saw."""
    teachers, X, y = two_region_problem
    frozen = [FrozenEstimator(teacher) for teacher in teachers]
    return {
        fusion: HPMDistiller(frozen, student=MLPStudent(**WIDE_MLP), fusion=fusion,
                             prefit_teachers="as_is", random_state=0,
                             ).fit(X[3000:4500], y[3000:4500])
        for fusion in ("attention", "mean")
    }, (X[4500:], y[4500:])


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_gate_trusts_each_teacher_in_its_own_region(gated_distillers):
    distillers, (X_test, _) = gated_distillers
    weights = distillers["attention"].teacher_weights(X_test)
    left = X_test[:, 0] < 0
    # measured: teacher A weighs 0.874 where x0 < 0, teacher B 0.828 elsewhere
    assert weights[left, 0].mean() > 0.8
    assert weights[~left, 1].mean() > 0.75
    np.testing.assert_allclose(distillers["mean"].teacher_weights(X_test), 0.5)


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_gated_targets_and_their_student_beat_the_mean(gated_distillers):
    distillers, (X_test, y_test) = gated_distillers

    def target_accuracy(distiller):
        fused = distiller.teacher_proba(X_test)
        return np.mean(distiller.classes_[fused.argmax(axis=1)] == y_test)

    # measured: fused targets 0.985 vs 0.780; their students (seeds 0 and 1)
    # 0.916/0.929 vs 0.847/0.843
    assert target_accuracy(distillers["attention"]) > target_accuracy(
        distillers["mean"]) + 0.15
    assert distillers["attention"].score(X_test, y_test) > distillers["mean"].score(
        X_test, y_test) + 0.04
    mean_weights = distillers["attention"].report_.details["teacher_weights"]
    assert sum(mean_weights.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("fusion", ["attention", "mean", "accuracy"])
def test_one_teacher_is_its_own_target(binary_data, fast_teacher, fusion):
    X, y = binary_data
    teacher = fast_teacher.fit(X, y)
    distiller = HPMDistiller(FrozenEstimator(teacher), student=MLPStudent(**SMALL_MLP),
                             fusion=fusion, random_state=0).fit(X, y)
    np.testing.assert_allclose(distiller.teacher_proba(X), teacher.predict_proba(X))
    np.testing.assert_array_equal(distiller.teacher_weights(X), 1.0)


@pytest.fixture(scope="module")
def digits_starved():
    """A boosting teacher on half of digits; a student gets 200 other rows.

    An 8-unit MLP cannot match a softened 10-class distribution in 200 epochs
    (one step each): here the constant T = 2 costs it fidelity, which the
    adaptive schedule gives back. With ``max_epochs="auto"`` (16,000 steps) both
    reach about 0.88 (seed 0: 0.874 and 0.881): the schedule's gain is one of a
    bounded training budget, the case this fixture keeps.
    """
    X, y = load_digits(return_X_y=True)
    X_teacher, X_rest, y_teacher, y_rest = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=0)
    X_student, X_test, y_student, _ = train_test_split(
        X_rest, y_rest, train_size=200, stratify=y_rest, random_state=0)
    teacher = HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(
        X_teacher, y_teacher)
    return teacher, (X_student, y_student), X_test


def _digits_fidelity(digits_starved, temperature, seed):
    teacher, (X, y), X_test = digits_starved
    distiller = HPMDistiller(FrozenEstimator(teacher),
                             student=MLPStudent(hidden_layer_sizes=(8,),
                                                max_epochs=200),
                             temperature=temperature, augment=None,
                             prefit_teachers="as_is", random_state=seed).fit(X, y)
    fid = np.mean(distiller.predict(X_test) == teacher.predict(X_test))
    return fid, distiller.report_.details["temperature_schedule"]


@pytest.mark.slow  # two schedules fitted on 6,000 rows
def test_adaptive_schedule_reaches_the_constant_fidelity_and_moves(digits_starved):
    for seed in (0, 1):
        constant, constant_schedule = _digits_fidelity(digits_starved, 2.0, seed)
        adaptive, schedule = _digits_fidelity(digits_starved, "adaptive", seed)
        # measured, seeds 0-3: constant 0.737/0.692/0.705/0.671, adaptive
        # 0.785/0.755/0.757/0.690 (T = 1: 0.750 on average)
        assert adaptive >= constant + 0.02, (seed, constant, adaptive)
        assert set(constant_schedule) == {2.0}
        assert len(schedule) > 10 and schedule[0] == 2.0 and schedule[-1] < 1.5


@pytest.mark.parametrize("student", [LGBMStudent(n_estimators=15, num_leaves=4),
                                     XGBStudent(n_estimators=15, max_depth=2)],
                         ids=["lgbm", "xgb"])
def test_booster_students_follow_a_schedule_round_by_round(binary_data, fast_teacher,
                                                            student):
    X, y = binary_data
    distiller = HPMDistiller(fast_teacher, student=student, temperature="anneal",
                             random_state=0).fit(X, y)
    schedule = distiller.report_.details["temperature_schedule"]
    np.testing.assert_allclose(schedule, 1 + 3 * 0.9 ** np.arange(15))


def test_a_schedule_is_refused_by_students_that_take_a_number(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="schedule over epochs"):
        HPMDistiller(student="tree", temperature="anneal").fit(X, y)


@pytest.fixture(scope="module")
def noisy_rows():
    X, y = make_classification(
        n_samples=6000, n_features=20, n_informative=10, n_redundant=4,
        n_classes=3, n_clusters_per_class=2, flip_y=0.15, random_state=0)
    return (X[:1000], y[:1000]), (X[3000:], y[3000:])


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_out_of_fold_targets_are_less_sure_than_in_sample_ones(noisy_rows):
    (X, y), _ = noisy_rows
    teacher = HistGradientBoostingClassifier(random_state=0).fit(X, y)
    task = ClassificationTask(np.unique(y))
    in_sample = teachers_outputs([teacher], X, task, n_jobs=None)[0]
    template = HistGradientBoostingClassifier(random_state=0)
    oof = out_of_fold_outputs([template], [template], X, y, None, task, cv=3,
                              random_state=0, n_jobs=None)[0]
    # A teacher on its own rows repeats the (15 % noisy) labels, surely: measured,
    # agreement with y 1.000 vs 0.765, mean top probability 0.999 vs 0.910.
    repeated = np.mean(in_sample.argmax(axis=1) == y)
    assert repeated > np.mean(oof.argmax(axis=1) == y) + 0.2
    assert in_sample.max(axis=1).mean() > oof.max(axis=1).mean() + 0.05


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_out_of_fold_targets_teach_at_least_as_well(noisy_rows):
    (X, y), (X_test, _) = noisy_rows
    for seed in (0, 1):
        fidelity = {}
        for soft_targets in ("oof", "in_sample"):
            distiller = HPMDistiller(
                HistGradientBoostingClassifier(random_state=0),
                student=MLPStudent(hidden_layer_sizes=(32,)), soft_targets=soft_targets,
                cv=3, augment=None, random_state=seed).fit(X, y)
            teacher_pred = distiller.teachers_[0].predict(X_test)
            fidelity[soft_targets] = np.mean(distiller.predict(X_test) == teacher_pred)
        # measured, seeds 0-2: oof 0.852/0.848/0.858, in-sample 0.844/0.845/0.851
        assert fidelity["oof"] >= fidelity["in_sample"], (seed, fidelity)


def _augmented_fidelity(noisy_problem, student, augment, seed):
    teacher, (X, y), (X_test, _) = noisy_problem
    # chain=False: the synthetic rows alone make the difference measured here
    distiller = HPMDistiller(FrozenEstimator(teacher), student=student, augment=augment,
                             chain=False, prefit_teachers="as_is",
                             final_rows="train",  # margins measured so
                             random_state=seed).fit(X[:300], y[:300])
    fid = np.mean(distiller.predict(X_test) == teacher.predict(X_test))
    return fid, distiller.report_


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
@pytest.mark.parametrize(
    ("student", "margin"),
    [
        # measured, seeds 0 and 1: 0.813/0.823 without, 0.859/0.856 with MUNGE
        ("mlp", 0.025),
        # measured, seeds 0 and 1: 0.657/0.634 without, 0.681/0.649 with MUNGE
        ("tree", 0.01),
    ],
)
def test_synthetic_rows_help_a_data_starved_student(noisy_problem, student, margin):
    for seed in (0, 1):
        plain, plain_report = _augmented_fidelity(noisy_problem, student, None, seed)
        augmented, report = _augmented_fidelity(noisy_problem, student, "munge", seed)
        assert augmented >= plain + margin, (seed, plain, augmented)
        assert plain_report.details["n_synthetic_rows"] == 0
        assert "augment" not in plain_report.timings_s
        # 4 synthetic rows per training row: 240 of the 300 rows train
        assert report.details["n_synthetic_rows"] == 960


def test_augment_as_a_number_is_the_ratio(binary_data, fast_teacher):
    X, y = binary_data
    distiller = HPMDistiller(fast_teacher, student=MLPStudent(**SMALL_MLP), augment=0.5,
                             random_state=0).fit(X, y)
    assert distiller.report_.details["n_synthetic_rows"] == 120


def test_auto_temperature_is_adaptive_for_students_that_follow_a_schedule(
        binary_data, fast_teacher):
    X, y = binary_data

    def schedule(student, temperature):
        distiller = HPMDistiller(fast_teacher, student=student,
                                 temperature=temperature, random_state=0).fit(X, y)
        return distiller.report_.details["temperature_schedule"]

    auto = schedule(MLPStudent(**SMALL_MLP), "auto")
    assert auto == schedule(MLPStudent(**SMALL_MLP), "adaptive")
    assert auto[0] == 2.0 and len(auto) > 1
    assert schedule("tree", "auto") == [2.0]


def test_many_rows_are_preprocessed_in_float32_chunks(monkeypatch):
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=300),
                      "city": pd.Categorical(rng.choice(["a", "b", "c"], 300))})
    preprocessor = default_preprocessor("mlp", X).fit(X)
    whole = preprocessor.transform(X)
    assert _targets.transformed(preprocessor, X).dtype == np.float64
    monkeypatch.setattr(_targets, "FLOAT32_ROWS", 100)
    monkeypatch.setattr(_targets, "_CHUNK_ROWS", 64)  # 300 rows: 5 chunks
    chunked = _targets.transformed(preprocessor, X)
    assert chunked.dtype == np.float32
    np.testing.assert_array_equal(chunked, whole.astype(np.float32))
    # A preprocessing that gives no dense array is applied as it is.
    sparse = OneHotEncoder().fit(X[["city"]])
    assert not isinstance(_targets.transformed(sparse, X[["city"]]), np.ndarray)
    # The fusion reads float32 features without a float64 copy.
    assert check_features(chunked, 300) is chunked
