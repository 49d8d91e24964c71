"""The regression prior's generator and the regressor's checks: cheap smoke tests."""

import json

from benchmarks import make_regression_prior, regression_auto, regression_chain
from benchmarks.datasets import REGRESSION_DATASETS
from skdistill._ranker import load_prior


def _sources(specs):
    return {spec.source for spec in specs.values()}


def test_no_prior_or_check_dataset_is_in_the_regression_suite():
    suite = _sources(REGRESSION_DATASETS)
    assert not suite & _sources(make_regression_prior.REGRESSION_PRIOR_DATASETS)
    assert not suite & _sources(regression_auto.DATASETS)
    assert not suite & _sources(regression_chain.DATASETS)
    # the default-student check is scored on tasks the prior never saw
    assert not (_sources(regression_auto.DATASETS)
                & _sources(make_regression_prior.REGRESSION_PRIOR_DATASETS))


def test_the_candidates_of_a_task_are_regression_ones():
    chosen = make_regression_prior.candidates_of("diabetes")
    assert len(chosen) == 40 and {c.kind for c in chosen} == {"regression"}
    assert all(c.temperature is None for c in chosen)


def test_a_bundled_task_loads_and_the_shipped_prior_names_its_tasks():
    X, y = make_regression_prior.load_regression("diabetes")
    assert X.shape == (442, 10) and y.dtype.kind == "f"
    shipped = make_regression_prior.OUTPUT.read_text()
    tasks = {task["task"] for task in json.loads(shipped)["tasks"]}
    assert tasks == set(make_regression_prior.REGRESSION_PRIOR_DATASETS)
    assert len(load_prior("regression")) == 40 * len(tasks)


def test_the_small_student_check_runs_on_held_out_data_only():
    from benchmarks import regression_small_student

    # the same held-out datasets as the default-student check
    assert regression_small_student.DATASETS is regression_auto.DATASETS
    students = regression_small_student.STUDENTS
    assert students["100x15"] == "lgbm"
    assert students["20x15"].get_params()["n_estimators"] == 20
