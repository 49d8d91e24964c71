"""HPMDistiller as a scikit-learn citizen: API, pipelines, search, persistence."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import HPMDistiller, MLPStudent, TreeStudent, _configure
from skdistill.metrics import model_size


def test_fit_predict_score_binary(binary_data, fast_teacher, fast_student):
    X, y = binary_data
    distiller = HPMDistiller(fast_teacher, fast_student, random_state=0).fit(X, y)
    proba = distiller.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert set(distiller.predict(X)) <= set(distiller.classes_)
    assert distiller.score(X, y) > 0.85


def test_student_alone_predicts_like_the_distiller(binary_data, fast_teacher,
                                                   fast_student):
    X, y = binary_data
    distiller = HPMDistiller(fast_teacher, fast_student, random_state=0).fit(X, y)
    student = pickle.loads(pickle.dumps(distiller.student_))
    np.testing.assert_array_equal(student.predict(X), distiller.predict(X))


def test_multiclass_string_labels_dataframe_round_trip(multiclass_data,
                                                       fast_teacher, fast_student):
    X, y = multiclass_data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    labels = np.array(["cat", "dog", "eel"])[y]
    distiller = HPMDistiller(fast_teacher, fast_student, random_state=0)
    distiller.fit(frame, labels)
    np.testing.assert_array_equal(distiller.classes_, ["cat", "dog", "eel"])
    np.testing.assert_array_equal(distiller.feature_names_in_, frame.columns)
    predicted = distiller.predict(frame)
    assert set(predicted) <= {"cat", "dog", "eel"}
    assert np.mean(predicted == labels) > 0.8


def test_prefit_teacher_is_used_frozen_not_refitted(binary_data, fast_student):
    X, y = binary_data
    teacher = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    before = teacher.predict_proba(X)
    distiller = HPMDistiller(teacher, fast_student, random_state=0).fit(X[:200],
                                                                        y[:200])
    assert distiller.teachers_[0] is teacher
    np.testing.assert_array_equal(teacher.predict_proba(X), before)


def test_unfitted_teacher_is_cloned_and_fitted(binary_data, fast_teacher,
                                               fast_student):
    X, y = binary_data
    distiller = HPMDistiller(fast_teacher, fast_student, random_state=0).fit(X, y)
    assert distiller.teachers_[0] is not fast_teacher
    assert not hasattr(fast_teacher, "classes_")
    assert distiller.teachers_[0].n_iter_ > 0


def test_default_teacher_is_histogram_gradient_boosting(binary_data, fast_student):
    X, y = binary_data
    distiller = HPMDistiller(student=fast_student, random_state=0).fit(X, y)
    assert isinstance(distiller.teachers_[0], HistGradientBoostingClassifier)


def test_works_in_a_pipeline_with_a_scaler(binary_data, fast_teacher, fast_student):
    X, y = binary_data
    pipeline = make_pipeline(StandardScaler(),
                             HPMDistiller(fast_teacher, fast_student, random_state=0))
    assert pipeline.fit(X, y).score(X, y) > 0.85


@pytest.mark.slow  # a grid search of distillers
def test_grid_search_keeps_frozen_teachers_fitted(binary_data, fast_student):
    X, y = binary_data
    teacher = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    before = teacher.predict_proba(X)
    frozen = FrozenEstimator(teacher)
    search = GridSearchCV(
        HPMDistiller(frozen, fast_student, random_state=0),
        {"student__hidden_layer_sizes": [(8,), (16,)], "temperature": [1.0, 3.0]},
        cv=2,
    ).fit(X, y)
    assert search.best_estimator_.teachers_[0] is frozen
    assert frozen.estimator is teacher
    np.testing.assert_array_equal(teacher.predict_proba(X), before)
    assert search.best_params_["student__hidden_layer_sizes"] in [(8,), (16,)]


def test_student_params_are_nested(fast_student):
    params = HPMDistiller(student=fast_student).get_params()
    assert params["student__hidden_layer_sizes"] == (16,)


def test_same_random_state_gives_identical_predictions(binary_data, fast_teacher):
    X, y = binary_data
    first = HPMDistiller(fast_teacher, random_state=3).fit(X, y)
    second = HPMDistiller(fast_teacher, random_state=3).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_persistence_round_trip(tmp_path, binary_data, fast_teacher, fast_student,
                                dump):
    X, y = binary_data
    distiller = HPMDistiller(fast_teacher, fast_student, random_state=0).fit(X, y)
    path = tmp_path / "model"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(distiller))
        loaded = pickle.loads(path.read_bytes())
    else:
        joblib.dump(distiller, path)
        loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), distiller.predict_proba(X))


@pytest.mark.parametrize("family", ["mlp", "tree", "lgbm", "xgb", "linear"])
def test_every_named_student_family_fits(multiclass_data, fast_teacher, family):
    X, y = multiclass_data
    distiller = HPMDistiller(fast_teacher, family, random_state=0).fit(X, y)
    assert distiller.report_.fidelity > 0.7


@pytest.mark.slow  # a full configuration search
def test_auto_student_is_at_least_ten_times_smaller(multiclass_data):
    X, y = multiclass_data
    report = HPMDistiller(random_state=0).fit(X, y).report_
    assert report.compression >= 10


@pytest.mark.slow  # a full configuration search
def test_min_compression_none_puts_no_size_budget_on_the_candidates(
        binary_data, fast_teacher):
    X, y = binary_data

    def sizes(distiller):
        candidates = _configure.candidates(
            _configure.Request.from_params(distiller.get_params(deep=False)),
            distiller.report_.teacher_size, model_size(distiller.student_[0]),
            X.shape[1], 2)
        return {(c.family, c.size) for c in candidates}

    capped = HPMDistiller(fast_teacher, random_state=0).fit(X, y)
    free = HPMDistiller(fast_teacher, min_compression=None, random_state=0).fit(X, y)
    assert ("mlp", (128, 64)) in sizes(free)
    assert ("mlp", (128, 64)) not in sizes(capped)


def test_device_and_seed_pass_down_to_named_students(binary_data, fast_teacher):
    X, y = binary_data
    distiller = HPMDistiller(fast_teacher, "mlp", device="cpu", random_state=0)
    student = distiller.fit(X, y).student_[-1]
    assert student.device == "cpu"
    assert student.random_state is not None


def test_report_measures_what_it_says(multiclass_data, fast_teacher, fast_student):
    X, y = multiclass_data
    distiller = HPMDistiller(fast_teacher, fast_student, random_state=0).fit(X, y)
    report = distiller.report_
    assert report.n_validation == pytest.approx(0.2 * len(X), abs=3)
    assert report.retention == pytest.approx(report.student_accuracy
                                             / report.teacher_accuracy)
    assert report.compression == pytest.approx(report.teacher_size.n_bytes
                                               / report.student_size.n_bytes)
    assert report.speedup == pytest.approx(report.teacher_latency_s
                                           / report.student_latency_s)
    assert set(report.timings_s) == {"teachers", "soft_targets", "fusion", "augment",
                                     "student", "final_rows"}
    assert report.to_dict()["student_size"]["n_bytes"] == report.student_size.n_bytes
    assert "fidelity" in repr(report)


class RowCountingTeacher(LogisticRegression):
    """A teacher that remembers how many rows it was fitted on."""

    def fit(self, X, y, sample_weight=None):
        self.n_fit_rows_ = len(X)
        return super().fit(X, y, sample_weight)


def test_validation_rows_are_not_used_to_fit_teachers(binary_data, fast_student):
    X, y = binary_data
    distiller = HPMDistiller(RowCountingTeacher(), fast_student,
                             validation_fraction=0.25, random_state=0).fit(X, y)
    n_validation = distiller.report_.n_validation
    assert n_validation == pytest.approx(75, abs=1)
    assert distiller.teachers_[0].n_fit_rows_ == len(X) - n_validation


def test_verbose_shows_a_progress_bar(binary_data, fast_teacher, capsys):
    X, y = binary_data
    student = MLPStudent(hidden_layer_sizes=(8,), max_epochs=5, random_state=0)
    HPMDistiller(fast_teacher, student, verbose=1, random_state=0).fit(X, y)
    assert "skdistill: student refitted on every row: 100%" in \
        capsys.readouterr().err


def test_clone_gives_an_unfitted_copy(binary_data, fast_teacher, fast_student):
    X, y = binary_data
    distiller = HPMDistiller(fast_teacher, fast_student, random_state=0).fit(X, y)
    assert not hasattr(clone(distiller), "student_")


def test_a_student_instance_keeps_its_own_parameters(binary_data, fast_teacher):
    X, y = binary_data
    distiller = HPMDistiller(fast_teacher, TreeStudent(max_depth=3), random_state=0)
    student = distiller.fit(X, y).student_[-1]
    assert isinstance(student, TreeStudent)
    assert student.tree_model_.get_depth() <= 3


def test_the_report_names_teachers_by_their_own_class_not_their_parameters():
    from sklearn.datasets import make_classification

    X, y = make_classification(200, 5, random_state=0)
    labels = np.array(["no", "yes"])[y]  # the unfitted forest gets a label adapter
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, labels)
    distiller = HPMDistiller(
        [RandomForestClassifier(n_estimators=5, random_state=0),
         FrozenEstimator(forest)],
        student="linear", chain=False, random_state=0).fit(X, labels)
    assert list(distiller.report_.teacher_accuracies) == [
        "randomforestclassifier-1", "randomforestclassifier-2"]
