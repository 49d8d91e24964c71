"""Behaviour shared by the students that fit a target distribution.

TreeStudent, LinearStudent, LGBMStudent and XGBStudent all learn
``alpha * soften(p, T) + (1 - alpha) * onehot(y)`` and sharpen back at
prediction; these tests hold each of them to that contract.
"""

import pickle

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_predict
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdistill.students._base import soften
from skdistill.students._boosters import LGBMStudent, XGBStudent
from skdistill.students._linear import LinearStudent
from skdistill.students._tree import TreeStudent

STUDENTS = [
    TreeStudent(max_depth=6, min_samples_leaf=5, random_state=0),
    LinearStudent(C=10.0),
    LGBMStudent(n_estimators=20, random_state=0),
    XGBStudent(n_estimators=20, random_state=0),
]


def _student_id(student):
    return type(student).__name__


def _expected_failed_checks(student):
    failed = {}
    if isinstance(student, TreeStudent):
        # min_samples_leaf counts rows, not weight, exactly as in scikit-learn's
        # DecisionTreeRegressor: repeating a row can make a leaf legal that a weight
        # of 2 cannot. test_tree shows the check passes with min_samples_leaf=1.
        failed["check_sample_weight_equivalence_on_dense_data"] = (
            "min_samples_leaf counts rows, not sample weight"
        )
    if isinstance(student, XGBStudent):
        # XGBoost sums gradients in float32: a weight of 3 and three repeated rows
        # give probabilities that differ by ~3e-8 (relative 2e-7); the check asks
        # for rtol=1e-7.
        failed["check_sample_weight_equivalence_on_dense_data"] = (
            "float32 gradient sums in XGBoost differ at the 1e-7 level"
        )
    return failed


@parametrize_with_checks(STUDENTS, expected_failed_checks=_expected_failed_checks)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def _teacher_problem(n_classes, n_samples=300, seed=0):
    """Rows, teacher probabilities that are a smooth function of them, and labels
    sampled from those probabilities (so hard labels are noisy)."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 4))
    proba = softmax(X @ rng.normal(size=(4, n_classes)) / 2, axis=1)
    y = np.array([rng.choice(n_classes, p=row) for row in proba])
    return X, y, proba


def _mean_abs_error(student, X, proba):
    return np.abs(student.predict_proba(X) - proba).mean()


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("student", STUDENTS, ids=_student_id)
def test_string_labels_round_trip_through_predict(student, n_classes):
    X, y, proba = _teacher_problem(n_classes)
    labels = np.array(["ant", "bee", "cat"])[:n_classes][y]
    fitted = clone(student).fit(X, labels, soft_targets=proba)
    assert list(fitted.classes_) == sorted(set(labels))
    assert fitted.predict_proba(X).shape == (len(X), n_classes)
    np.testing.assert_allclose(fitted.predict_proba(X).sum(axis=1), 1.0)
    assert (fitted.predict(X) == labels).mean() > 0.6


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("student", STUDENTS, ids=_student_id)
def test_soft_targets_are_learned_better_than_hard_labels(student, n_classes):
    X, y, proba = _teacher_problem(n_classes)
    soft = clone(student).fit(X, y, soft_targets=proba, alpha=1.0)
    hard = clone(student).fit(X, y)
    # measured, soft vs hard (2 classes; 3 classes): tree .043 vs .204; .049 vs
    # .180, linear .000 vs .028; .000 vs .042, lgbm .045 vs .108; .023 vs .116,
    # xgb .050 vs .104; .027 vs .114 (20 rounds: the binary boosters are slowest)
    assert _mean_abs_error(soft, X, proba) < 0.65 * _mean_abs_error(hard, X, proba)


@pytest.fixture(scope="module")
def distillation_problem():
    """A noisy non-linear 3-class problem, a random-forest teacher, its
    out-of-fold probabilities on the training rows and its held-out predictions."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 8))
    scores = np.column_stack([
        np.sin(1.5 * X[:, 0]) + X[:, 1] * X[:, 2],
        X[:, 3] - np.abs(X[:, 4]),
        1.5 * np.cos(X[:, 5] + X[:, 0]),
    ])
    y = (rng.uniform(size=(3000, 1)) > softmax(2 * scores, axis=1).cumsum(axis=1))
    y = y.sum(axis=1)
    X_train, y_train, X_test = X[:1000], y[:1000], X[1000:]
    teacher = RandomForestClassifier(100, min_samples_leaf=5, random_state=0)
    oof = cross_val_predict(teacher, X_train, y_train, cv=5, method="predict_proba")
    return X_train, y_train, oof, X_test, teacher.fit(X_train, y_train).predict(X_test)


@pytest.mark.parametrize(
    "student",
    [TreeStudent(random_state=0), LGBMStudent(random_state=0),
     XGBStudent(random_state=0)],
    ids=_student_id,
)
def test_soft_targets_raise_fidelity_to_the_teacher(student, distillation_problem):
    X_train, y_train, oof, X_test, teacher_pred = distillation_problem
    soft = clone(student).fit(X_train, y_train, soft_targets=oof)
    hard = clone(student).fit(X_train, y_train)
    soft_fidelity = np.mean(soft.predict(X_test) == teacher_pred)
    hard_fidelity = np.mean(hard.predict(X_test) == teacher_pred)
    # measured, soft vs hard agreement with the teacher on held-out rows: tree
    # .890 vs .800, lgbm .908 vs .824, xgb .910 vs .828 (over seeds 0-5 the gain
    # was never below .056). Not claimed: tree(max_depth=4) gains .003-.078 by
    # seed, LGBMStudent(n_estimators=30, num_leaves=4) and LinearStudent lose
    # about .01-.02, and with a HistGradientBoosting teacher hard labels win for
    # the boosters (student and teacher fit the same labels the same way).
    assert soft_fidelity - hard_fidelity > 0.03


@pytest.mark.parametrize("student", STUDENTS, ids=_student_id)
def test_temperature_is_undone_at_prediction(student):
    X, y, proba = _teacher_problem(3)
    fitted = clone(student).fit(X, y, soft_targets=proba, temperature=3.0)
    softened_error = np.abs(soften(proba, 3.0) - proba).mean()
    # measured: the softened targets are .125 away from the teacher; the
    # students .000 (linear), .018 (lgbm), .019 (xgb), .053 (tree)
    assert fitted.temperature_ == 3.0
    assert _mean_abs_error(fitted, X, proba) < 0.7 * softened_error


@pytest.mark.parametrize("student", STUDENTS, ids=_student_id)
def test_alpha_zero_ignores_soft_targets(student):
    X, y, proba = _teacher_problem(3)
    hard = clone(student).fit(X, y)
    mixed = clone(student).fit(X, y, soft_targets=proba[::-1], temperature=3.0,
                               alpha=0.0)
    np.testing.assert_allclose(mixed.predict_proba(X), hard.predict_proba(X))


@pytest.mark.parametrize("student", STUDENTS, ids=_student_id)
def test_sample_weight_changes_the_fit(student):
    X, y, _ = _teacher_problem(3)
    weight = np.where(y == 0, 5.0, 1.0)
    unweighted = clone(student).fit(X, y)
    weighted = clone(student).fit(X, y, sample_weight=weight)
    gap = np.abs(weighted.predict_proba(X) - unweighted.predict_proba(X)).max()
    # measured: .41 (linear) to .93 (tree)
    assert gap > 0.1


@pytest.mark.parametrize("student", STUDENTS, ids=_student_id)
def test_same_random_state_same_probabilities(student):
    X, y = make_classification(200, 6, n_informative=4, n_classes=3, random_state=1)
    first = clone(student).fit(X, y).predict_proba(X)
    second = clone(student).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("student", STUDENTS, ids=_student_id)
def test_pickle_round_trip_keeps_probabilities(student, n_classes):
    X, y, proba = _teacher_problem(n_classes)
    fitted = clone(student).fit(X, y, soft_targets=proba, temperature=2.0)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


BAD_PARAMS = [
    (TreeStudent, "max_depth", 0),
    (TreeStudent, "min_samples_leaf", 0),
    (TreeStudent, "max_leaf_nodes", 1),
    (LinearStudent, "C", 0.0),
    (LinearStudent, "max_iter", 0),
    (LinearStudent, "tol", -1.0),
    (LinearStudent, "fit_intercept", "yes"),
    (LGBMStudent, "n_estimators", 0),
    (LGBMStudent, "num_leaves", 1),
    (LGBMStudent, "max_depth", 0),
    (LGBMStudent, "learning_rate", 0.0),
    (LGBMStudent, "subsample", 1.5),
    (LGBMStudent, "colsample_bytree", 0.0),
    (LGBMStudent, "reg_lambda", -1.0),
    (LGBMStudent, "min_child_samples", 0),
    (XGBStudent, "n_estimators", 0),
    (XGBStudent, "max_depth", 0),
    (XGBStudent, "learning_rate", -0.1),
    (XGBStudent, "min_child_weight", -1.0),
    (XGBStudent, "subsample", 0.0),
    (XGBStudent, "n_jobs", 1.5),
]


@pytest.mark.parametrize(
    ("student_class", "param", "value"),
    BAD_PARAMS,
    ids=[f"{cls.__name__}-{param}" for cls, param, _ in BAD_PARAMS],
)
def test_bad_hyper_parameter_is_a_value_error_naming_it(student_class, param, value):
    X, y, _ = _teacher_problem(2, n_samples=40)
    with pytest.raises(ValueError, match=f"'{param}' parameter"):
        student_class(**{param: value}).fit(X, y)
