"""The optimization memory (component vi): a SQLite store that never breaks a fit."""

import os
import pickle
import sqlite3
import subprocess
import sys
import textwrap
import threading
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

import skdistill
from skdistill import _memory, _memory_file
from skdistill._fingerprint import fingerprint_data, fingerprint_estimator
from skdistill._memory import OptimizationMemory, as_memory

# Child processes load skdistill._memory alone: importing the whole package (torch,
# LightGBM, XGBoost) takes about 5 s per process on the shared test cores.
_PRELUDE = f"""
import os, pickle, sys, time, types
package = types.ModuleType("skdistill")
package.__path__ = [{str(Path(_memory.__file__).parent)!r}]
sys.modules["skdistill"] = package
from skdistill._memory import OptimizationMemory
"""


def _python(code, *args):
    return subprocess.Popen(
        [sys.executable, "-W", "error", "-c", _PRELUDE + textwrap.dedent(code),
         *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process):
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


@pytest.fixture
def path(tmp_path):
    return tmp_path / "memory.db"


def _experiment(**overrides):
    experiment = {
        "dataset": {"n_rows": np.int64(1000), "n_classes": 3, "entropy": 1.2},
        "teachers": {"n_teachers": 2, "accuracy": [0.9, np.float32(0.88)]},
        "config": {"family": "mlp", "hidden": 64, "temperature": 4.0, "alpha": 0.7,
                   "learning_rate": 1e-3, "epochs": 50, "chain": [256, 64]},
        "val_accuracy": np.float64(0.91), "val_fidelity": 0.95,
        "student_bytes": np.int64(20_000), "student_params": 4_867,
        "latency_ms": 1.5, "fit_seconds": 12.0, "extra": {"seed": 0},
    }
    experiment.update(overrides)
    return experiment


def _sqlite_file(path, *statements):
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return path.read_bytes()


def test_an_experiment_comes_back_as_recorded(path):
    memory = OptimizationMemory(path)
    assert len(memory) == 0
    assert memory.record(_experiment()) == 1
    (stored,) = memory.experiments()
    assert stored["id"] == 1
    assert stored["dataset"] == {"n_rows": 1000, "n_classes": 3, "entropy": 1.2}
    assert stored["teachers"]["accuracy"] == pytest.approx([0.9, 0.88])
    assert stored["config"]["chain"] == [256, 64]
    assert (stored["val_accuracy"], stored["val_fidelity"]) == (0.91, 0.95)
    assert (stored["student_bytes"], stored["student_params"]) == (20_000, 4_867)
    assert (stored["latency_ms"], stored["fit_seconds"]) == (1.5, 12.0)
    assert stored["extra"] == {"seed": 0}
    assert stored["library_version"] == skdistill.__version__
    created = datetime.fromisoformat(stored["created"])
    assert created.utcoffset() == timezone.utc.utcoffset(None)
    # A new object on the same file (another session) reads it too.
    assert len(OptimizationMemory(path)) == 1


def test_experiments_are_filtered_by_column_json_key_and_predicate(path):
    memory = OptimizationMemory(path)
    for family, accuracy in [("mlp", 0.9), ("tree", 0.8), ("mlp", 0.7)]:
        memory.record(_experiment(config={"family": family, "size": {"depth": 3}},
                                  val_accuracy=accuracy))
    memory.record({"val_accuracy": None})
    assert [e["id"] for e in memory.experiments(config__family="mlp")] == [1, 3]
    assert [e["id"] for e in memory.experiments(val_accuracy=0.8)] == [2]
    assert [e["id"] for e in memory.experiments(val_accuracy=None)] == [4]
    assert len(memory.experiments(config__size__depth=3)) == 3
    assert [e["id"] for e in memory.experiments(
        where=lambda e: (e["val_accuracy"] or 0) > 0.75)] == [1, 2]
    assert memory.experiments(config__family="mlp", val_accuracy=0.7)[0]["id"] == 3
    with pytest.raises(ValueError, match="unknown filter 'family'"):
        memory.experiments(family="mlp")


def test_bad_experiments_are_refused_with_a_clear_error(path):
    memory = OptimizationMemory(path)
    with pytest.raises(ValueError, match="unknown experiment keys.*'accuracy'"):
        memory.record({"accuracy": 0.9})
    with pytest.raises(TypeError, match="val_accuracy"):
        memory.record({"val_accuracy": "high"})
    with pytest.raises(TypeError, match="config"):
        memory.record({"config": ["mlp"]})
    assert len(memory) == 0


def test_the_schema_version_and_application_id_are_stored(path):
    OptimizationMemory(path).record({})
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == \
        len(_memory_file._MIGRATIONS) == 1
    assert connection.execute("PRAGMA application_id").fetchone()[0] == \
        _memory_file._APPLICATION_ID
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_an_older_schema_is_migrated_in_place(path, monkeypatch):
    OptimizationMemory(path).record({"val_accuracy": 0.5})
    step = ("ALTER TABLE experiments ADD COLUMN note TEXT",
            "UPDATE experiments SET note = 'migrated'")
    monkeypatch.setattr(_memory_file, "_MIGRATIONS",
                        (*_memory_file._MIGRATIONS, step))
    memory = OptimizationMemory(path)
    assert memory.experiments()[0]["val_accuracy"] == 0.5
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
    assert connection.execute("SELECT note FROM experiments").fetchall() == \
        [("migrated",)]
    connection.close()


def test_a_newer_schema_is_refused_and_left_untouched(path):
    before = _sqlite_file(path, "CREATE TABLE experiments (id INTEGER)",
                          "INSERT INTO experiments VALUES (1)",
                          "PRAGMA user_version = 7")
    memory = OptimizationMemory(path)
    with pytest.warns(UserWarning, match=r"memory\.db.*schema version 7 is newer "
                                         r"than the version 1.*upgrade skdistill"):
        assert memory.record(_experiment()) is None
    assert memory.problem is not None and not memory.active
    assert len(memory) == 0 and memory.experiments() == []
    assert path.read_bytes() == before


def test_another_applications_database_is_left_alone(path):
    before = _sqlite_file(path, "CREATE TABLE users (name TEXT)")
    memory = OptimizationMemory(path)
    with pytest.warns(UserWarning, match="not an skdistill memory"):
        assert memory.record({}) is None
    assert path.read_bytes() == before


@pytest.mark.parametrize("damage", ["random bytes", "truncated to half"])
def test_a_corrupt_file_warns_once_and_is_never_written(path, damage):
    if damage == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(10_000))
    else:
        valid = OptimizationMemory(path)
        for i in range(50):
            valid.record(_experiment(extra={"i": i, "padding": "x" * 400}))
        valid.close()
        del valid
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    before = path.read_bytes()
    memory = OptimizationMemory(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert memory.record(_experiment()) is None
        assert len(memory) == 0 and memory.experiments() == []
        memory.record_duration("fit", cost=10.0, seconds=1.0)
        assert memory.duration_model("fit") is None
        memory.store_proba("teacher", "data", np.ones((2, 2)))
        assert memory.cached_proba("teacher", "data") is None
    assert [str(w.message) for w in caught] == [memory.problem]
    assert str(path) in memory.problem
    assert path.read_bytes() == before


def test_a_directory_warns_and_the_memory_is_inactive(tmp_path):
    memory = OptimizationMemory(tmp_path)
    with pytest.warns(UserWarning, match=f"{tmp_path}.*is a directory"):
        assert memory.record({}) is None
    assert len(memory) == 0


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_four_processes_writing_at_once_lose_no_row(path, tmp_path):
    # The four writers also race to create the file and its schema.
    memory = pickle.dumps(OptimizationMemory(path)).hex()
    ready = tmp_path / "ready"
    ready.mkdir()
    writer = """
        memory = pickle.loads(bytes.fromhex(sys.argv[1]))
        writer, ready = int(sys.argv[2]), sys.argv[3]
        open(os.path.join(ready, str(writer)), "w").close()
        deadline = time.monotonic() + 60
        while len(os.listdir(ready)) < 4 and time.monotonic() < deadline:
            time.sleep(0.002)
        for i in range(200):
            row = memory.record({"config": {"writer": writer, "i": i}})
            assert row is not None, memory.problem
    """
    processes = [_python(writer, memory, w, ready) for w in range(4)]
    for process in processes:
        _finish(process)
    stored = OptimizationMemory(path).experiments()
    assert len(stored) == 800
    assert {(e["config"]["writer"], e["config"]["i"]) for e in stored} == \
        {(w, i) for w in range(4) for i in range(200)}


def test_a_pickled_memory_works_in_another_process(path):
    memory = OptimizationMemory(path, timeout=5.0)
    memory.record({"val_accuracy": 0.5})  # the parent holds an open connection
    copy = pickle.loads(pickle.dumps(memory))
    assert (copy.path, copy.timeout, copy.cache) == (path, 5.0, True)
    child = """
        memory = pickle.loads(bytes.fromhex(sys.argv[1]))
        memory.record({"val_accuracy": 0.75})
        memory.record_duration("fit_student", cost=4.0, seconds=2.0)
        print(len(memory))
    """
    assert _finish(_python(child, pickle.dumps(memory).hex())).strip() == "2"
    assert [e["val_accuracy"] for e in memory.experiments()] == [0.5, 0.75]
    assert memory.duration_model("fit_student") == 0.5


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_opens_its_own_connection(path):
    memory = OptimizationMemory(path)
    memory.record({"extra": {"by": "parent"}})
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            code = 0 if memory.record({"extra": {"by": "child"}}) == 2 else 1
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    memory.record({"extra": {"by": "parent"}})
    assert [e["extra"]["by"] for e in memory.experiments()] == \
        ["parent", "child", "parent"]


def test_threads_sharing_one_memory_lose_no_row(path):
    memory = OptimizationMemory(path)

    def write(thread):
        for i in range(25):
            memory.record({"extra": {"thread": thread, "i": i}})

    threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(memory) == 100


@pytest.fixture
def teacher():
    X, y = np.random.default_rng(0).normal(size=(60, 3)), np.arange(60) % 2
    return LogisticRegression().fit(X, y), X


def test_a_teacher_output_is_found_again_under_the_same_keys_only(path):
    proba = np.random.default_rng(0).random((5, 3))
    OptimizationMemory(path).store_proba("teacher", "data", proba)
    # A new session on the same file finds it.
    memory = OptimizationMemory(path)
    np.testing.assert_array_equal(memory.cached_proba("teacher", "data"), proba)
    assert memory.cached_proba("teacher", "other rows") is None
    assert memory.cached_proba("other teacher", "data") is None
    assert memory.cached_proba("teacher", "data", tag="out-of-fold") is None
    memory.store_proba("teacher", "data", proba[:, :2], tag="out-of-fold")
    assert memory.cached_proba("teacher", "data", tag="out-of-fold").shape == (5, 2)
    off = OptimizationMemory(path, cache=False)
    assert off.cached_proba("teacher", "data") is None
    off.store_proba("teacher", "new", proba)
    assert memory.cached_proba("teacher", "new") is None
    memory.clear_cache()
    assert memory.cached_proba("teacher", "data") is None


def test_a_teacher_fingerprint_ignores_thread_counts_only(teacher):
    model, _ = teacher
    fingerprint = fingerprint_estimator(model)
    assert fingerprint_estimator(model.set_params(n_jobs=3, verbose=1)) == \
        fingerprint
    assert fingerprint_estimator(model.set_params(C=0.5)) != fingerprint
    assert fingerprint_estimator(LogisticRegression()) != fingerprint
    X = np.arange(6.0).reshape(3, 2)
    assert fingerprint_data(X) == fingerprint_data(X.copy())
    assert fingerprint_data(X) != fingerprint_data(X[::-1])


def test_a_fitted_forest_is_fingerprinted_by_its_trees_and_a_lambda_by_nothing():
    X, y = make_classification(n_samples=120, random_state=0)
    forests = [RandomForestClassifier(n_estimators=5, random_state=seed).fit(X, y)
               for seed in (0, 0, 1)]
    first, same, other = map(fingerprint_estimator, forests)
    assert first == same and first != other
    assert len(first) == 64  # SHA-256 of the pickle, not joblib's fallback (32)
    # neither pickle nor joblib can hash a lambda: no fingerprint, so nothing
    # is cached for it (two lambdas must never share outputs)
    assert fingerprint_estimator(FunctionTransformer(lambda Z: Z + 1).fit(X)) is None


def test_a_teacher_loaded_from_a_pickle_keeps_its_fingerprint():
    # the pickle's memo would write the objects a teacher shares as
    # back-references, which unpickling can change: hashed without it
    from lightgbm import LGBMClassifier

    X, y = make_classification(n_samples=200, random_state=0)
    for teacher in (LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y),
                    LogisticRegression().fit(X, y)):
        loaded = pickle.loads(pickle.dumps(teacher))
        assert fingerprint_estimator(loaded) == fingerprint_estimator(teacher)


def test_the_duration_model_is_the_median_seconds_per_cost(path):
    memory = OptimizationMemory(path)
    assert memory.duration_model("fit_student") is None
    for cost, seconds in [(10, 10), (10, 20), (100, 1000), (5, 0.5)]:
        memory.record_duration("fit_student", cost, seconds)
    memory.record_duration("fit_teacher", 1, 99)
    assert memory.duration_model("fit_student") == pytest.approx(1.5)
    assert memory.duration_model("fit_student", last=1) == pytest.approx(0.1)
    assert memory.duration_model("fit_teacher") == 99
    with pytest.raises(ValueError, match="cost must be positive"):
        memory.record_duration("fit_student", 0, 1.0)


def test_as_memory_accepts_none_a_path_or_a_memory(path):
    assert as_memory(None) is None
    memory = OptimizationMemory(path)
    assert as_memory(memory) is memory
    assert as_memory(str(path)).path == as_memory(path).path == path
    with pytest.raises(TypeError, match="memory must be None, a path.*got int"):
        as_memory(3)
    with pytest.raises(TypeError, match="got bool"):
        as_memory(True)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_file_deleted_in_use_is_recreated_with_a_warning(path, how):
    memory = OptimizationMemory(path)
    memory.record(_experiment())
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if how == "replaced":
        OptimizationMemory(path).record(_experiment(val_accuracy=0.5))
    with pytest.warns(skdistill.SkdistillWarning, match=f"was {how}"):
        memory.record(_experiment(val_accuracy=0.25))
    # The record is in the file at the path, where anyone can read it.
    accuracies = [e["val_accuracy"]
                  for e in OptimizationMemory(path).experiments()]
    assert accuracies == ([0.5, 0.25] if how == "replaced" else [0.25])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        memory.record(_experiment(val_accuracy=0.75))
    assert len(memory) == len(accuracies) + 1


def test_a_joblib_memory_keeps_the_file_in_its_location(tmp_path):
    import joblib

    memory = as_memory(joblib.Memory(tmp_path / "cache", verbose=0))
    assert isinstance(memory, OptimizationMemory)
    assert memory.path == tmp_path / "cache" / "skdistill.db"
    assert as_memory(joblib.Memory(None)) is None


def test_reduce_size_keeps_the_newest_teacher_outputs(path):
    memory = OptimizationMemory(path)
    for i in range(4):
        memory.store_proba(f"teacher{i}", "data", np.full((10, 2), float(i)))
    size = len(memory._run(lambda c: c.execute(
        "SELECT array FROM teacher_outputs").fetchone()[0], None))
    assert memory.reduce_size(2 * size) == 2
    kept = [memory.cached_proba(f"teacher{i}", "data") is not None
            for i in range(4)]
    assert kept == [False, False, True, True]
    memory.record(_experiment())
    assert memory.reduce_size(0) == 2 and len(memory) == 1
    with pytest.raises(ValueError, match="bytes_limit"):
        memory.reduce_size(-1)
