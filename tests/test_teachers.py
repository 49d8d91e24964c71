"""Teachers of every kind become probability matrices aligned to classes_."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from xgboost import XGBClassifier

from skdistill import HPMDistiller
from skdistill._task import ClassificationTask
from skdistill._teacher_outputs import teachers_outputs
from skdistill._teachers import teacher_proba


def test_columns_follow_the_teachers_own_class_order(multiclass_data):
    X, y = multiclass_data
    labels = np.array(["b", "c", "a"])[y]
    teacher = LogisticRegression().fit(X, labels)
    proba = teacher_proba(teacher, X, np.array(["c", "a", "b"]))
    expected = teacher.predict_proba(X)[:, [2, 0, 1]]
    np.testing.assert_allclose(proba, expected)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_decision_function_teachers_go_through_sigmoid_or_softmax(n_classes):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 4))
    y = np.arange(90) % n_classes
    teacher = LinearSVC().fit(X, y)
    proba = teacher_proba(teacher, X, np.arange(n_classes))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.argmax(axis=1), teacher.predict(X))
    assert np.all((proba > 0) & (proba < 1))


def test_predict_only_teachers_give_one_hot_with_a_warning(binary_data):
    X, y = binary_data

    class VotesOnly:
        def __init__(self, tree):
            self.tree = tree
            self.classes_ = tree.classes_

        def __sklearn_is_fitted__(self):
            return True

        def predict(self, X):
            return self.tree.predict(X)

    teacher = VotesOnly(DecisionTreeClassifier(max_depth=3).fit(X, y))
    with pytest.warns(UserWarning, match="one-hot"):
        proba = teacher_proba(teacher, X, np.array([0, 1]))
    assert set(np.unique(proba)) == {0.0, 1.0}
    np.testing.assert_array_equal(proba.argmax(axis=1), teacher.predict(X))


def test_ridge_classifier_teacher_is_distilled(fast_student):
    X = np.random.RandomState(0).normal(size=(300, 5))
    y = (X @ [1.0, -2.0, 0.5, 0.0, 1.0] > 0).astype(int)
    teacher = RidgeClassifier().fit(X, y)
    distiller = HPMDistiller(teacher, fast_student, random_state=0).fit(X, y)
    assert distiller.report_.fidelity > 0.9


def test_trained_torch_module_is_a_teacher(binary_data, fast_student):
    X, y = binary_data
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 16), torch.nn.ReLU(),
                                 torch.nn.Linear(16, 2))
    optimizer = torch.optim.Adam(module.parameters(), lr=0.05)
    inputs, targets = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    for _ in range(100):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(module(inputs), targets).backward()
        optimizer.step()
    distiller = HPMDistiller(module, fast_student, random_state=0).fit(X, y)
    module_predictions = module(inputs).argmax(dim=1).numpy()
    assert np.mean(distiller.predict(X) == module_predictions) > 0.85
    assert distiller.teachers_[0].module is module


@pytest.mark.slow  # two worker processes
def test_chunked_inference_equals_one_pass(multiclass_data):
    X, y = multiclass_data
    teachers = [LogisticRegression().fit(X, y), DecisionTreeClassifier().fit(X, y)]
    task = ClassificationTask(np.arange(3))
    whole = teachers_outputs(teachers, X, task, n_jobs=1)
    chunked = teachers_outputs(teachers, X, task, n_jobs=2, chunk_size=37)
    np.testing.assert_allclose(chunked, whole)
    assert whole.shape == (2, len(X), 3)


@pytest.mark.parametrize("labels", [np.array(["no", "yes", "maybe"]),
                                    np.array([1, 2, 5])], ids=["strings", "gaps"])
def test_unfitted_xgboost_teacher_learns_any_labels(multiclass_data, labels):
    # XGBoost itself accepts only labels 0..k-1.
    X, y = multiclass_data
    y = labels[y]
    teacher = XGBClassifier(n_estimators=10, max_depth=2)
    distiller = HPMDistiller([teacher, LogisticRegression()], student="linear",
                             random_state=0).fit(X, y)
    fitted = distiller.teachers_[0]
    np.testing.assert_array_equal(fitted.classes_, np.sort(labels))
    assert set(fitted.predict(X)) <= set(labels)
    proba = distiller.teacher_proba(X)
    # labels out of line with classes_ would score about 1/3
    assert np.mean(distiller.classes_[proba.argmax(axis=1)] == y) > 0.7
    assert distiller.report_.teacher_size.n_parameters is not None
    assert "xgbclassifier" in distiller.report_.details["teacher_weights"]


@pytest.mark.parametrize("labels", [np.array([0, 1, 2]), np.array(["a", "b", "c"])],
                         ids=["codes", "strings"])
def test_cross_fitting_survives_a_fold_without_a_class(multiclass_data, labels):
    # One row of class 1: one of the two folds lacks it, so that fold's XGBoost
    # sees labels {0, 2}, which it refuses unless they are coded again.
    X, y = multiclass_data
    y = np.where(y == 1, 0, y)
    y[0] = 1
    y = labels[y]
    with pytest.warns(UserWarning, match="least populated class"):
        distiller = HPMDistiller(XGBClassifier(n_estimators=5, max_depth=2),
                                 student="linear", random_state=0).fit(X, y)
    np.testing.assert_array_equal(distiller.teachers_[0].classes_, labels)
    majority = np.unique(y, return_counts=True)[1].max() / len(y)
    # measured: 0.76, the majority class 0.67
    assert distiller.score(X, y) > majority + 0.05
