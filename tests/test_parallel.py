"""The parallel pipeline: LPT dispatch, capped threads, same results on any backend."""

import sqlite3
from contextlib import closing

import numpy as np
import pytest
from joblib import cpu_count, parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from skdistill import HPMDistiller, MLPStudent, _parallel
from skdistill._parallel import (
    capped_estimator_threads,
    estimated_cost,
    lpt_order,
    run_jobs,
    worker_thread_limits,
)
from skdistill._teachers import EncodedLabelsClassifier


def test_lpt_order_puts_the_longest_jobs_first_and_keeps_ties_in_order():
    assert lpt_order([3.0, 10.0, 1.0, 10.0, 5.0]) == [1, 3, 4, 0, 2]


def test_run_jobs_dispatches_longest_first_and_returns_results_in_job_order(
        monkeypatch):
    dispatched = []

    class RecordingParallel:
        def __init__(self, n_jobs):
            self.n_jobs = n_jobs

        def __call__(self, calls):
            results = []
            for function, args, kwargs in calls:
                dispatched.append(args[1][0])
                results.append(function(*args, **kwargs))
            return results

    monkeypatch.setattr(_parallel, "Parallel", RecordingParallel)
    jobs = [("a",), ("b",), ("c",), ("d",)]
    results = run_jobs(str.upper, jobs, costs=[1.0, 7.0, 3.0, 9.0], n_jobs=2)
    assert dispatched == ["d", "b", "c", "a"]
    assert results == ["A", "B", "C", "D"]


def test_estimated_cost_grows_with_rows_features_and_rounds():
    small = estimated_cost(HistGradientBoostingClassifier(max_iter=10), 100, 5)
    assert estimated_cost(HistGradientBoostingClassifier(max_iter=20), 100, 5) == \
        2 * small
    assert estimated_cost(HistGradientBoostingClassifier(max_iter=10), 300, 5) == \
        3 * small
    assert estimated_cost(MLPStudent(max_epochs=50), 100, 5) == 100 * 5 * 50
    wrapped = EncodedLabelsClassifier(HistGradientBoostingClassifier(max_iter=10))
    assert estimated_cost(wrapped, 100, 5) == small


def _thread_report(_):
    import torch
    from threadpoolctl import threadpool_info

    return ([pool["num_threads"] for pool in threadpool_info()],
            torch.get_num_threads())


@pytest.mark.parametrize("backend", [
    pytest.param("loky", marks=pytest.mark.slow),  # starts worker processes
    "threading"])
def test_workers_together_use_no_more_threads_than_cores(backend):
    n_workers = 2
    with parallel_config(backend=backend):
        reports = run_jobs(_thread_report, [(i,) for i in range(4)],
                           [1.0] * 4, n_jobs=n_workers)
    allowed = max(1, cpu_count() // n_workers)
    for pools, torch_threads in reports:
        assert pools, "threadpoolctl saw no BLAS/OpenMP pool in the worker"
        assert max(pools) <= allowed
        assert torch_threads <= allowed


def test_thread_limits_are_put_back_after_the_job():
    import torch

    before = torch.get_num_threads()
    with worker_thread_limits(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


class _ThreadRecordingClassifier(ClassifierMixin, BaseEstimator):
    """Remembers the n_jobs it was fitted with."""

    def __init__(self, n_jobs=-1):
        self.n_jobs = n_jobs

    def fit(self, X, y):
        self.n_jobs_at_fit_ = self.n_jobs
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_an_estimators_own_thread_count_is_capped_while_it_fits_and_restored():
    X, y = make_classification(100, 4, random_state=0)
    teacher = _ThreadRecordingClassifier(n_jobs=-1)
    with capped_estimator_threads(teacher, 1) as original:
        teacher.fit(X, y)
    assert teacher.n_jobs_at_fit_ == 1
    assert teacher.n_jobs == -1 and original == {"n_jobs": -1}


@pytest.mark.slow  # starts worker processes
def test_teachers_fitted_in_two_workers_each_get_their_share_of_the_cores():
    X, y = make_classification(200, 5, random_state=0)
    distiller = HPMDistiller(
        teachers=[_ThreadRecordingClassifier(n_jobs=-1),
                  _ThreadRecordingClassifier(n_jobs=8),
                  # None is "all cores" outside scikit-learn (LightGBM)
                  _ThreadRecordingClassifier(n_jobs=None),
                  RandomForestClassifier(n_estimators=3, random_state=0)],
        student="linear", chain=False, n_jobs=2, random_state=0).fit(X, y)
    share = max(1, cpu_count() // 2)
    assert [t.n_jobs_at_fit_ for t in distiller.teachers_[:3]] == [share] * 3
    assert [t.n_jobs for t in distiller.teachers_] == [-1, 8, None, None]


def _two_teacher_distiller(n_jobs):
    return HPMDistiller(
        teachers=[HistGradientBoostingClassifier(max_iter=30, random_state=0),
                  RandomForestClassifier(n_estimators=30, random_state=0)],
        student=MLPStudent(hidden_layer_sizes=(8,), max_epochs=15),
        # the search's branches run side by side; with several workers the plain
        # student is refitted on all rows alongside, and kept (no gain of 1.0)
        chain="auto", chain_min_improvement=1.0, n_jobs=n_jobs, random_state=0)


@pytest.fixture(scope="module")
def three_class_problem():
    return make_classification(600, 8, n_informative=5, n_classes=3, random_state=3)


@pytest.fixture(scope="module")
def serial_predictions(three_class_problem):
    X, y = three_class_problem
    distiller = _two_teacher_distiller(1).fit(X, y)
    assert set(distiller.report_.details["chain_search"]) == {0, 1}
    return distiller.predict_proba(X)


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_two_processes_give_the_same_student_as_one(three_class_problem,
                                                    serial_predictions):
    X, y = three_class_problem
    parallel = _two_teacher_distiller(2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(parallel, serial_predictions)


@pytest.mark.slow  # two full fits
def test_the_threading_backend_gives_the_same_student_as_one_process(
        three_class_problem, serial_predictions):
    X, y = three_class_problem
    with parallel_config(backend="threading"):
        threaded = _two_teacher_distiller(2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(threaded, serial_predictions)


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_a_dask_cluster_gives_the_same_student_as_one_process(three_class_problem,
                                                              serial_predictions):
    distributed = pytest.importorskip("distributed")
    X, y = three_class_problem
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                   processes=True, host="127.0.0.1",
                                   dashboard_address=None) as cluster,
          distributed.Client(cluster) as client,
          parallel_config(backend="dask", n_jobs=-1)):
        with distributed.get_task_stream(client) as tasks:
            distiller = _two_teacher_distiller(None).fit(X, y)
        thread_reports = run_jobs(_thread_report, [(0,), (1,)], [1.0, 1.0], None)
    workers_used = {task["worker"] for task in tasks.data}
    assert len(workers_used) == 2
    np.testing.assert_array_equal(distiller.predict_proba(X), serial_predictions)
    allowed = max(1, cpu_count() // 2)
    for pools, torch_threads in thread_reports:
        assert max(pools) <= allowed and torch_threads <= allowed


class _ShapeRecordingBooster(HistGradientBoostingClassifier):
    """Remembers the shape of every X it is fitted on (class-wide: fits of clones)."""

    fitted_shapes = []

    def fit(self, X, y, sample_weight=None):
        type(self).fitted_shapes.append(X.shape)
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_memory_records_the_raw_cost_of_each_job_not_its_expected_seconds(
        tmp_path):
    # From a memory's second fit on, the recorded speeds turn the costs into
    # expected seconds for the dispatch order; the durations must still be
    # recorded against the raw costs, or the speeds mix two units.
    X, y = make_classification(300, 5, random_state=0)
    path = tmp_path / "m.sqlite"
    teacher = _ShapeRecordingBooster(max_iter=10, random_state=0)

    def fit():
        _ShapeRecordingBooster.fitted_shapes.clear()
        HPMDistiller(teacher, student="tree", memory=path, augment=None, n_jobs=1,
                     random_state=0).fit(X, y)
        return [estimated_cost(teacher, rows, columns)
                for rows, columns in _ShapeRecordingBooster.fitted_shapes]

    def recorded_fit_costs(after_id):
        with closing(sqlite3.connect(path)) as connection:
            return connection.execute(
                "SELECT id, cost FROM durations WHERE kind = ? AND id > ? "
                "ORDER BY id", ("fit:_ShapeRecordingBooster", after_id)).fetchall()

    first_costs = fit()
    first = recorded_fit_costs(0)
    assert sorted(cost for _, cost in first) == sorted(first_costs)
    second_costs = fit()  # the memory now knows the speed of these fits
    second = recorded_fit_costs(first[-1][0])
    assert second, "the second fit ran no timed fit job"
    assert sorted(cost for _, cost in second) == sorted(second_costs)


@pytest.mark.parametrize(("load", "expected"), [(0.0, None), (50.0, 1)])
def test_a_busy_machine_caps_the_fits_threads(monkeypatch, caplog, load, expected):
    import logging

    from threadpoolctl import threadpool_info

    if cpu_count() < 2:
        pytest.skip("one core: nothing to cap")
    from skdistill import _parallel

    monkeypatch.setattr(_parallel.OTHER_WORK, "update", lambda: load)
    seen = []

    class Recording(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            seen.append({info["user_api"]: info["num_threads"]
                         for info in threadpool_info()})
            return super().fit(X, y, sample_weight)

    X, y = make_classification(n_samples=120, random_state=0)
    with caplog.at_level(logging.INFO, logger="skdistill"):
        HPMDistiller(Recording(), student="linear", augment=None,
                     random_state=0).fit(X, y)
    capped = [message for message in caplog.messages if "other work" in message]
    if expected is None:
        assert not capped
    else:
        assert capped and all(set(pools.values()) == {expected} for pools in seen)
    with caplog.at_level(logging.INFO, logger="skdistill"):
        caplog.clear()
        HPMDistiller(Recording(), student="linear", augment=None, n_jobs=1,
                     random_state=0).fit(X, y)
    assert not [message for message in caplog.messages if "other work" in message]


def test_the_cap_takes_this_process_own_recent_work_off_the_load(monkeypatch):
    """A fit right after another on an idle machine gets every core back."""
    import os

    from skdistill import _parallel

    clock = {"wall": 0.0, "cpu": 0.0}
    own = _parallel.OwnLoad(clock=lambda: clock["wall"],
                            cpu_clock=lambda: clock["cpu"])
    monkeypatch.setattr(_parallel, "OWN_LOAD", own)
    monkeypatch.setattr(_parallel.OTHER_WORK, "update", lambda: None)  # no /proc
    monkeypatch.setattr(_parallel, "cpu_count", lambda: 2)
    assert own.update() == 0.0  # nothing ran since it was made
    # a minute of fitting on both cores: the load average shows about 1.26 of it
    clock["wall"], clock["cpu"] = 60.0, 120.0
    load = 2 * (1 - np.exp(-1.0))
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert _parallel.available_cores() == 2
    # a minute later, this process idle, two other processes busy: what is left
    # of this one's share (1.26 damped by e) is taken off, theirs is not
    clock["wall"] += 60.0
    busy = 2.0 + load * np.exp(-1.0)
    monkeypatch.setattr(os, "getloadavg", lambda: (busy, busy, busy))
    assert _parallel.available_cores() == 1
    assert own.estimate == pytest.approx(load * np.exp(-1.0))


_STAT = """cpu  {total}
cpu0 {user} 0 {system} 900 {iowait} 0 0 0 0 0
cpu1 {user} 0 {system} 900 {iowait} 0 0 0 0 0
intr 1 2 3
"""


def _write_stat(path, user, system=0, iowait=0):
    path.write_text(_STAT.format(total="0 0 0 0", user=user, system=system,
                                 iowait=iowait))


def test_cpu_busy_seconds_counts_the_cpus_busy_time_not_iowait(tmp_path):
    import os

    from skdistill._parallel import cpu_busy_seconds

    stat = tmp_path / "stat"
    hz = os.sysconf("SC_CLK_TCK")
    _write_stat(stat, user=3 * hz, system=hz, iowait=50 * hz)
    assert cpu_busy_seconds([0, 1], stat) == pytest.approx(8.0)
    assert cpu_busy_seconds([1], stat) == pytest.approx(4.0)
    assert cpu_busy_seconds([2], stat) is None  # not a CPU of this machine
    assert cpu_busy_seconds([0], tmp_path / "missing") is None


def test_the_cap_takes_other_processes_cpu_time_not_the_load_average(
        monkeypatch, tmp_path):
    """Cores busy with other processes are taken off; this process's own work
    and tasks waiting on input and output (the load average counts them) are
    not."""
    import os

    from skdistill import _parallel
    from skdistill._parallel import OtherWork, cpu_busy_seconds

    stat, hz = tmp_path / "stat", os.sysconf("SC_CLK_TCK")
    clock = {"wall": 0.0, "cpu": 0.0}
    _write_stat(stat, user=0)
    work = OtherWork([0, 1], clock=lambda: clock["wall"],
                     cpu_clock=lambda: clock["cpu"],
                     busy_seconds=lambda cpus: cpu_busy_seconds(cpus, stat),
                     sleep=lambda seconds: clock.update(wall=clock["wall"] + seconds))
    monkeypatch.setattr(_parallel, "OTHER_WORK", work)
    monkeypatch.setattr(_parallel, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.0, 2.0, 2.0))
    # called at once: the first measure waits for its window; nothing ran
    assert _parallel.available_cores() == 2
    assert clock["wall"] == pytest.approx(work.min_window)
    # ten seconds of this process on both cores and disks busy: all its own
    clock["wall"] += 10.0
    clock["cpu"] += 20.0
    _write_stat(stat, user=10 * hz, iowait=500 * hz)
    assert _parallel.available_cores() == 2
    # a minute of another process on one core (60 CPU seconds): one core left
    fresh = OtherWork([0, 1], clock=lambda: clock["wall"],
                      cpu_clock=lambda: clock["cpu"],
                      busy_seconds=lambda cpus: cpu_busy_seconds(cpus, stat))
    monkeypatch.setattr(_parallel, "OTHER_WORK", fresh)
    clock["wall"] += 60.0
    _write_stat(stat, user=40 * hz)
    assert _parallel.available_cores() == 1
    assert fresh.estimate == pytest.approx(1.0)
    # an hour later, the other process long gone: the hour's mean is not the
    # last minute's, a fresh window is measured instead
    clock["wall"] += 3600.0
    _write_stat(stat, user=40 * hz + 1800 * hz)  # busy for the hour's first half
    fresh.sleep = lambda seconds: clock.update(wall=clock["wall"] + seconds)
    assert _parallel.available_cores() == 2
    assert fresh.estimate == pytest.approx(0.0)
    # unreadable counters: the load average (now nothing) is read instead
    monkeypatch.setattr(_parallel.OTHER_WORK, "busy_seconds", lambda cpus: None)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert _parallel.available_cores() == 2


def test_a_network_with_auto_epochs_costs_the_epochs_it_resolves_to():
    def cost(student, n_rows):
        return _parallel.estimated_cost(student, n_rows, 3)

    # 100,000 rows: 200 epochs; 100 rows: one step an epoch, 2,000 of them
    assert cost(MLPStudent(), 100_000) == cost(MLPStudent(max_epochs=200), 100_000)
    assert cost(MLPStudent(), 100) == cost(MLPStudent(max_epochs=2000), 100)
    assert cost(MLPStudent(early_stopping=False), 100) == cost(
        MLPStudent(max_epochs=200), 100)
