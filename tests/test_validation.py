"""Bad input gets a clear error before any work, and no half-fitted estimator."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from skdistill import HPMDistiller


class NoPredictTeacher:
    """Fitted, but with no way to label rows."""

    classes_ = np.array([0, 1])

    def __sklearn_is_fitted__(self):
        return True


class CountingTeacher(LogisticRegression):
    """Counts fits, to show that no work started."""

    n_fits = 0

    def fit(self, X, y, sample_weight=None):
        CountingTeacher.n_fits += 1
        return super().fit(X, y, sample_weight)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"temperature": 0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": -0.1}, "alpha"),
        ({"student": "transformer"}, "student"),
        ({"validation_fraction": 0.0}, "validation_fraction"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_parameters_are_named_before_any_work(binary_data, params, message):
    X, y = binary_data
    CountingTeacher.n_fits = 0
    distiller = HPMDistiller(CountingTeacher(), **params)
    with pytest.raises(ValueError, match=message):
        distiller.fit(X, y)
    assert CountingTeacher.n_fits == 0
    assert not hasattr(distiller, "student_")


def test_infinity_in_X_is_rejected(binary_data):
    X, y = binary_data
    X = X.copy()
    X[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        HPMDistiller(CountingTeacher()).fit(X, y)


def test_infinity_in_a_dataframe_is_rejected(binary_data):
    pd = pytest.importorskip("pandas")
    X, y = binary_data
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["kind"] = "a"
    frame.iloc[5, 0] = -np.inf
    with pytest.raises(ValueError, match="infinity"):
        HPMDistiller(CountingTeacher()).fit(frame, y)


def test_a_single_class_is_rejected(binary_data):
    X, _ = binary_data
    with pytest.raises(ValueError, match="1 class"):
        HPMDistiller(CountingTeacher()).fit(X, np.zeros(len(X)))


def test_a_teacher_that_cannot_predict_is_rejected(binary_data):
    X, y = binary_data
    with pytest.raises(TypeError, match="teacher 1 .*NoPredictTeacher"):
        HPMDistiller([CountingTeacher(), NoPredictTeacher()]).fit(X, y)


def test_wrong_number_of_features_at_predict(binary_data, fast_teacher,
                                             fast_student):
    X, y = binary_data
    distiller = HPMDistiller(fast_teacher, fast_student, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        distiller.predict(X[:, :-1])


def test_predict_before_fit_raises_not_fitted(binary_data):
    X, _ = binary_data
    with pytest.raises(NotFittedError):
        HPMDistiller().predict(X)


def test_teacher_knowing_classes_the_data_lacks(binary_data):
    X, y = binary_data
    teacher = LogisticRegression().fit(X, np.where(y == 1, 2, y) + (y == 0))
    teacher_three = LogisticRegression().fit(X, np.arange(len(y)) % 3)
    with pytest.raises(ValueError, match="knows classes the training data lacks"):
        HPMDistiller(teacher_three).fit(X, y)
    with pytest.raises(ValueError, match="without classes"):
        HPMDistiller(teacher).fit(X, np.arange(len(y)) % 3)


def test_teachers_disagreeing_on_the_label_set(binary_data):
    X, y = binary_data
    labels = np.array(["a", "b", "c"])[np.arange(len(y)) % 3]
    first = LogisticRegression().fit(X, np.where(labels == "c", "a", labels))
    second = LogisticRegression().fit(X, labels)
    with pytest.raises(ValueError, match="teacher 0 .*without classes"):
        HPMDistiller([first, second]).fit(X, labels)


def test_failed_refit_leaves_no_stale_fit(binary_data, fast_teacher, fast_student):
    X, y = binary_data
    distiller = HPMDistiller(fast_teacher, fast_student, random_state=0).fit(X, y)
    X_bad = X.copy()
    X_bad[0, 0] = np.inf
    with pytest.raises(ValueError):
        distiller.fit(X_bad, y)
    for attribute in ("student_", "teachers_", "classes_", "report_"):
        assert not hasattr(distiller, attribute)


def test_soft_targets_of_wrong_shape_are_rejected_by_students(binary_data):
    from skdistill import TreeStudent

    X, y = binary_data
    with pytest.raises(ValueError, match="soft_targets must have shape"):
        TreeStudent().fit(X, y, soft_targets=np.full((len(X), 3), 1 / 3))
