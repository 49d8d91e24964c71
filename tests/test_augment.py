"""MUNGE synthetic rows: their type, their realism, what they do for distillation."""

import numpy as np
import pandas as pd
import pytest
from memorising_teacher import RightOnlyOnItsRows
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import NearestNeighbors
from sklearn.tree import DecisionTreeClassifier

from skdistill._augment import iter_munge, munge


@pytest.fixture(scope="module")
def mixed_frame():
    rng = np.random.RandomState(0)
    n = 300
    frame = pd.DataFrame({
        "amount": rng.lognormal(size=n),
        "age": rng.randint(18, 80, size=n),
        "visits": pd.array(rng.randint(0, 5, size=n), dtype="Int64"),
        "ratio": rng.rand(n).astype(np.float32),
        "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], size=n),
                               categories=["basic", "plus", "pro", "unused"]),
        "region": rng.choice(["north", "south", "east"], size=n).astype(object),
        "channel": pd.array(rng.choice(["web", "shop"], size=n), dtype="string"),
        "active": rng.rand(n) > 0.3,
    })
    frame.loc[rng.rand(n) < 0.15, "amount"] = np.nan
    frame.loc[rng.rand(n) < 0.15, "visits"] = pd.NA
    frame.loc[rng.rand(n) < 0.1, "region"] = None
    return frame


def _nearest_distance(rows, X):
    return NearestNeighbors(n_neighbors=1).fit(X).kneighbors(rows)[0][:, 0]


def test_frame_keeps_columns_dtypes_and_exact_size(mixed_frame):
    synthetic = munge(mixed_frame, 1001, random_state=0)
    assert isinstance(synthetic, pd.DataFrame)
    assert synthetic.shape == (1001, mixed_frame.shape[1])
    assert list(synthetic.columns) == list(mixed_frame.columns)
    pd.testing.assert_series_equal(synthetic.dtypes, mixed_frame.dtypes)
    pd.testing.assert_index_equal(synthetic.index, pd.RangeIndex(1001))
    pd.testing.assert_index_equal(synthetic["plan"].cat.categories,
                                  mixed_frame["plan"].cat.categories)


def test_categorical_values_are_swapped_never_invented(mixed_frame):
    synthetic = munge(mixed_frame, 2000, p=1.0, random_state=0)
    for column in ["plan", "region", "channel", "active"]:
        seen = set(mixed_frame[column].dropna())
        assert set(synthetic[column].dropna()) <= seen
    # the missing categories travel with the swaps: about 10 % stay missing
    assert 0.05 < synthetic["region"].isna().mean() < 0.15


def test_array_in_array_out_with_its_dtype():
    X = np.random.RandomState(0).normal(size=(60, 3))
    synthetic = munge(X, 7, random_state=0)
    assert isinstance(synthetic, np.ndarray)
    assert synthetic.shape == (7, 3) and synthetic.dtype == X.dtype
    counts = munge((X * 10).astype(np.int32), 50, p=1.0, random_state=0)
    assert counts.dtype == np.int32


def test_chunks_are_the_rows_of_one_call_and_respect_chunk_size(mixed_frame):
    # 300 rows give 600 per pass: 1,500 rows cross pass boundaries, and chunks of
    # 37 rows split row pairs.
    whole = munge(mixed_frame, 1500, random_state=3)
    chunks = list(iter_munge(mixed_frame, 1500, random_state=3, chunk_size=37))
    assert max(len(chunk) for chunk in chunks) == 37
    assert sum(len(chunk) for chunk in chunks) == 1500
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)


def test_p_zero_copies_real_rows():
    X = np.random.RandomState(0).normal(size=(100, 4))
    synthetic = munge(X, 500, p=0.0, random_state=0)
    np.testing.assert_array_equal(_nearest_distance(synthetic, X), 0.0)


def test_p_one_moves_rows_by_the_local_variance():
    X = np.random.RandomState(0).normal(size=(300, 4))
    gap = np.median(NearestNeighbors(n_neighbors=2).fit(X).kneighbors(X)[0][:, 1])
    # s huge: no noise, every attribute taken from the neighbour, a real row again
    exact = munge(X, 1000, p=1.0, s=1e9, random_state=0)
    assert _nearest_distance(exact, X).max() < 1e-6
    # s small: sd = 10 |e_a - e'_a|; measured median distance 2.58 against a
    # typical neighbour gap of 0.57
    wide = munge(X, 1000, p=1.0, s=0.1, random_state=0)
    assert np.median(_nearest_distance(wide, X)) > 2 * gap


def test_synthetic_moments_match_the_real_ones():
    rng = np.random.RandomState(0)
    cov = [[1, 0.8, 0, 0], [0.8, 1, 0, 0], [0, 0, 4, 0], [0, 0, 0, 0.25]]
    X = rng.multivariate_normal([0, 3, -2, 10], cov, size=500)
    synthetic = munge(X, 5000, random_state=0)
    std = X.std(axis=0)
    # measured: mean gaps <= 0.005 std, std ratios 0.98-1.00, correlation
    # 0.76 against 0.78
    assert np.all(np.abs(synthetic.mean(axis=0) - X.mean(axis=0)) < 0.05 * std)
    assert np.all(np.abs(synthetic.std(axis=0) / std - 1) < 0.1)
    assert abs(np.corrcoef(synthetic.T)[0, 1] - np.corrcoef(X.T)[0, 1]) < 0.05


def test_synthetic_rows_stay_on_the_clusters_unlike_uniform_noise():
    rng = np.random.RandomState(0)
    centres = np.array([[5.0] * 5, [-5.0] * 5])
    X = np.vstack([rng.normal(centre, 1.0, size=(150, 5)) for centre in centres])
    uniform = rng.uniform(X.min(axis=0), X.max(axis=0), size=(3000, 5))

    def to_centre(rows):
        return np.linalg.norm(rows[:, None] - centres[None], axis=2).min(axis=1)

    synthetic = munge(X, 3000, random_state=0)
    # measured mean distance to the nearest centre: real 2.10, MUNGE 2.08,
    # uniform 11.5; 99th percentile: real 3.71, MUNGE 4.07
    assert to_centre(synthetic).mean() < 1.2 * to_centre(X).mean()
    assert np.quantile(to_centre(synthetic), 0.99) < 1.5 * np.quantile(
        to_centre(X), 0.99)
    assert to_centre(uniform).mean() > 3 * to_centre(synthetic).mean()


def test_integer_columns_stay_integer_and_in_range(mixed_frame):
    synthetic = munge(mixed_frame, 2000, p=1.0, s=0.2, random_state=0)
    assert synthetic["age"].dtype == np.int64
    assert synthetic["age"].nunique() > mixed_frame["age"].nunique()  # noised
    small = pd.DataFrame({"flag": np.tile([0, 1], 50).astype(np.uint8),
                          "x": np.arange(100.0)})
    noised = munge(small, 1000, p=1.0, s=0.2, random_state=0)["flag"]
    # sd reaches 5 here: without clipping, negative draws would wrap to ~255
    assert noised.dtype == np.uint8 and noised.max() < 100


def test_missing_value_is_swapped_as_it_is():
    # two rows are each other's neighbour; with p=1 every attribute is exchanged:
    # the missing one moves unchanged, the other is noised around the partner.
    X = np.array([[np.nan, 0.0], [1.0, 5.0]])
    synthetic = munge(X, 400, p=1.0, random_state=0)
    first = synthetic[:, 0]
    assert np.all(np.isnan(first) | (first == 1.0))
    assert 0.4 < np.isnan(first).mean() < 0.6
    assert len(np.unique(synthetic[:, 1])) == 400


def test_missing_rate_is_kept_in_frames(mixed_frame):
    synthetic = munge(mixed_frame, 3000, random_state=0)
    for column in ["amount", "visits"]:
        real, fake = mixed_frame[column].isna().mean(), synthetic[column].isna().mean()
        assert abs(real - fake) < 0.05
    assert synthetic["visits"].dtype == "Int64"


def test_same_random_state_same_rows(mixed_frame):
    first = munge(mixed_frame, 500, random_state=7)
    pd.testing.assert_frame_equal(first, munge(mixed_frame, 500, random_state=7))
    other = munge(mixed_frame, 500, random_state=8)
    assert not first["amount"].equals(other["amount"])


@pytest.mark.parametrize("arguments, match", [
    ({"p": -0.1}, "p must be"),
    ({"p": 1.5}, "p must be"),
    ({"s": 0.0}, "s must be"),
    ({"s": -1.0}, "s must be"),
    ({"n_samples": 0}, "n_samples must be"),
    ({"n_samples": 2.5}, "n_samples must be"),
    ({"chunk_size": 0}, "chunk_size must be"),
    ({"X": np.ones((1, 3))}, "at least 2 rows"),
])
def test_bad_arguments_raise_before_any_work(arguments, match):
    call = {"X": np.ones((10, 3)), "n_samples": 5, **arguments}
    with pytest.raises(ValueError, match=match):
        iter_munge(call.pop("X"), call.pop("n_samples"), **call)


def test_object_array_is_refused_with_a_pointer_to_dataframes():
    with pytest.raises(TypeError, match="DataFrame"):
        munge(np.array([["a", "b"], ["c", "d"]], dtype=object), 3)


def test_munge_rows_help_a_small_student_follow_its_teacher():
    X, y = make_classification(n_samples=7200, n_features=10, n_informative=6,
                               n_redundant=2, n_clusters_per_class=3,
                               random_state=0)
    teacher = RandomForestClassifier(n_estimators=100, random_state=0).fit(
        X[:5000], y[:5000])
    real, held_out = X[5000:5200], X[5200:]

    def agreement(rows):
        student = DecisionTreeClassifier(max_depth=6, random_state=0)
        student.fit(rows, teacher.predict(rows))
        return np.mean(student.predict(held_out) == teacher.predict(held_out))

    alone = agreement(real)
    augmented = agreement(np.vstack([real, munge(real, 4000, random_state=0)]))
    # measured: 0.786 on the 200 real rows, 0.848 with 4,000 MUNGE rows (+6.2
    # points; seeds 0-5 of this problem: +2.3 to +9.8)
    assert augmented > alone + 0.03


@pytest.fixture(scope="module")
def forest_task():
    X, y = make_classification(n_samples=9000, n_features=10, n_informative=6,
                               n_redundant=2, n_clusters_per_class=3,
                               random_state=0)
    teacher = RandomForestClassifier(n_estimators=100, random_state=0,
                                     n_jobs=1).fit(X[:5000], y[:5000])
    return X, y, teacher


def _distil(teacher, X, y, augment, seed):
    from skdistill import HPMDistiller, TreeStudent

    return HPMDistiller(teacher, student=TreeStudent(max_depth=6), augment=augment,
                        augment_ratio=10, prefit_teachers="as_is",
                        random_state=seed, n_jobs=1).fit(X, y)


def test_auto_keeps_munge_rows_where_they_help(forest_task):
    X, y, teacher = forest_task
    gains = []
    for seed in range(3):
        rows = np.random.default_rng(seed).choice(np.arange(5000, 7000), 300,
                                                  replace=False)
        plain = _distil(teacher, X[rows], y[rows], None, seed)
        auto = _distil(teacher, X[rows], y[rows], "auto", seed)
        check = auto.report_.details["configuration"]["augmentation_check"]
        assert check["chosen"] == "munge"
        assert check["accuracy_munge"] > check["accuracy_without"]
        assert auto.report_.details["n_synthetic_rows"] > 0
        gains.append(auto.score(X[7000:], y[7000:]) - plain.score(X[7000:], y[7000:]))
    # measured: +3.8, +6.0, +3.5 points on the held-out rows
    assert np.mean(gains) > 0.02


def test_auto_refuses_munge_rows_the_teacher_labels_wrong():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    teacher = RightOnlyOnItsRows().fit(X, y)
    auto = _distil(teacher, X, y, "auto", 0)
    check = auto.report_.details["configuration"]["augmentation_check"]
    assert check["chosen"] is None
    assert check["accuracy_without"] > check["accuracy_munge"] + 0.2
    assert auto.report_.details["n_synthetic_rows"] == 0
    forced = _distil(teacher, X, y, "munge", 0)
    X_new = rng.normal(size=(2000, 4))
    y_new = (X_new[:, 0] + X_new[:, 1] > 0).astype(int)
    assert auto.score(X_new, y_new) > forced.score(X_new, y_new) + 0.2


def test_fixed_augmentation_runs_no_check(forest_task):
    X, y, teacher = forest_task
    for augment in (None, "munge"):
        fitted = _distil(teacher, X[5000:5300], y[5000:5300], augment, 0)
        assert "augmentation_check" not in fitted.report_.details["configuration"]


def test_no_munge_fit_for_a_student_beyond_its_teachers(monkeypatch):
    from sklearn.dummy import DummyClassifier

    from skdistill import HPMDistiller, TreeStudent, _augment

    X, y = make_classification(n_samples=600, n_features=6, n_informative=4,
                               random_state=0)
    teacher = DummyClassifier(strategy="prior").fit(X, y)  # 50 % right
    branches = []
    fit_branches = _augment.fit_branches

    def counting(student, capacity, pairs, *args):
        branches.append([pair[1].n_synthetic for pair in pairs])
        return fit_branches(student, capacity, pairs, *args)

    monkeypatch.setattr(_augment, "fit_branches", counting)
    checks, predictions = [], []
    for n_jobs in (1, 2):
        fitted = HPMDistiller(teacher, student=TreeStudent(max_depth=4),
                              augment="auto", prefit_teachers="as_is",
                              random_state=0, n_jobs=n_jobs).fit(X, y)
        checks.append(fitted.report_.details["configuration"]["augmentation_check"])
        predictions.append(fitted.predict_proba(X))
    one_worker, two_workers = checks
    assert one_worker["accuracy_without"] > one_worker["teachers_accuracy"] + 0.2
    assert one_worker["chosen"] is None and "teachers" in one_worker["reason"]
    assert "accuracy_munge" not in one_worker
    # one worker: the fit without MUNGE rows alone; two: both at once (the
    # one with MUNGE rows first), and the same decision
    assert branches[0] == [0]
    assert branches[1][0] > 0 and branches[1][1:] == [0]
    assert two_workers == one_worker
    np.testing.assert_array_equal(predictions[0], predictions[1])
    assert fitted.report_.details["n_synthetic_rows"] == 0
