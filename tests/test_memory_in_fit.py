"""HPMDistiller with an optimization memory: records, caches, durations."""

import numpy as np
import pytest
from counting_teacher import CountingTeacher
from sklearn.datasets import make_classification

from skdistill import HPMDistiller, MLPStudent
from skdistill._memory import OptimizationMemory
from skdistill._parallel import expected_seconds


@pytest.fixture
def counting():
    return CountingTeacher.reset_counts()


@pytest.fixture(scope="module")
def problem():
    return make_classification(400, 6, n_informative=4, random_state=0)


def _distiller(teacher, memory):
    return HPMDistiller(teacher, student=MLPStudent(hidden_layer_sizes=(4,),
                                                    max_epochs=5),
                        memory=memory, augment=None, random_state=0)


def test_a_refit_with_the_same_prefit_teacher_does_not_run_it_again(
        problem, counting, tmp_path):
    X, y = problem
    teacher = CountingTeacher().fit(X, y)
    memory = OptimizationMemory(tmp_path / "memory.db")
    first = _distiller(teacher, memory).fit(X, y)
    assert counting["predict_proba"] > 0
    counting["predict_proba"] = 0
    second = _distiller(teacher, memory).fit(X, y)
    assert counting["predict_proba"] == 0
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert second.report_.teacher_accuracy == first.report_.teacher_accuracy


def test_a_refit_skips_the_cross_fitting_of_teachers_fitted_here(
        problem, counting, tmp_path):
    X, y = problem
    path = tmp_path / "memory.db"
    first = _distiller(CountingTeacher(), str(path)).fit(X, y)
    assert counting["fit"] == 1 + first.cv   # the teacher, then its folds
    counting["fit"] = 0
    second = _distiller(CountingTeacher(), str(path)).fit(X, y)
    assert counting["fit"] == 1
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    # another teacher is another key
    counting["fit"] = 0
    _distiller(CountingTeacher(C=0.5), str(path)).fit(X, y)
    assert counting["fit"] == 1 + first.cv


def test_every_fit_is_recorded_with_its_scores_and_job_durations(problem,
                                                                tmp_path):
    X, y = problem
    memory = OptimizationMemory(tmp_path / "memory.db")
    distiller = _distiller(CountingTeacher(), memory).fit(X, y)
    [experiment] = memory.experiments()
    assert experiment["config"]["family"] == "mlp"
    assert experiment["config"]["student"]["hidden_layer_sizes"] == [4]
    assert experiment["val_accuracy"] == distiller.report_.student_accuracy
    assert experiment["val_fidelity"] == distiller.report_.fidelity
    assert experiment["dataset"]["n_features"] == 6
    assert memory.duration_model("fit:CountingTeacher") > 0


def test_an_unreadable_memory_warns_and_the_fit_goes_on(problem, tmp_path):
    X, y = problem
    path = tmp_path / "memory.db"
    path.write_bytes(b"not a database" * 100)
    before = path.read_bytes()
    with pytest.warns(UserWarning, match="memory.db"):
        distiller = _distiller(CountingTeacher(), path).fit(X, y)
    without_memory = _distiller(CountingTeacher(), None).fit(X, y)
    np.testing.assert_array_equal(distiller.predict_proba(X),
                                  without_memory.predict_proba(X))
    assert path.read_bytes() == before


def test_a_memory_of_the_wrong_type_is_refused_before_any_work(problem, counting):
    X, y = problem
    with pytest.raises(TypeError, match="memory must be None, a path"):
        _distiller(CountingTeacher(), 42).fit(X, y)
    assert counting["fit"] == 0


class _Speeds:
    def __init__(self, speeds):
        self.speeds = speeds

    def duration_model(self, kind):
        return self.speeds.get(kind)


def test_recorded_speeds_turn_costs_into_expected_seconds():
    memory = _Speeds({"fit:slow": 10.0, "fit:fast": 1.0})
    costs = expected_seconds(memory, [1.0, 5.0, 2.0],
                             ["fit:slow", "fit:fast", "fit:unseen"])
    # the unseen kind runs at the median speed of the others (5.5)
    assert costs == [10.0, 5.0, 11.0]
    assert expected_seconds(_Speeds({}), [1.0, 2.0], ["a", "b"]) == [1.0, 2.0]


def test_a_bad_memory_on_refit_leaves_no_fitted_attributes(problem, tmp_path):
    X, y = problem
    distiller = _distiller(CountingTeacher(), None).fit(X, y)
    distiller.set_params(memory=123)
    with pytest.raises(TypeError, match="memory must be"):
        distiller.fit(X, y)
    assert not hasattr(distiller, "student_") and not hasattr(distiller, "report_")


def test_the_teachers_latency_is_measured_again_for_another_fusion(
        problem, counting, tmp_path):
    X, y = problem
    teacher = CountingTeacher().fit(X, y)
    memory = OptimizationMemory(tmp_path / "memory.db")
    _distiller(teacher, memory).set_params(fusion="mean").fit(X, y)
    counting["predict_proba"] = 0
    _distiller(teacher, memory).set_params(fusion="accuracy").fit(X, y)
    assert counting["predict_proba"] > 0


class _UnseededTeacher(CountingTeacher):
    """A teacher with an unset seed: its fits may differ, so none is cached."""

    def __init__(self, C=1.0, random_state=None):
        super().__init__(C=C)
        self.random_state = random_state


def test_teachers_without_a_seed_are_cross_fitted_again(problem, counting,
                                                        tmp_path):
    X, y = problem
    path = tmp_path / "memory.db"
    _distiller(_UnseededTeacher(), path).fit(X, y)
    counting["fit"] = 0
    distiller = _distiller(_UnseededTeacher(), path).fit(X, y)
    assert counting["fit"] == 1 + distiller.cv
    counting["fit"] = 0
    _distiller(_UnseededTeacher(random_state=0), path).fit(X, y)
    _distiller(_UnseededTeacher(random_state=0), path).fit(X, y)
    assert counting["fit"] == 2 + distiller.cv  # the seeded one was cached
