"""latency_measure="onnx": the latency the search, the report and the serving
budget use is the student's ONNX graph run by onnxruntime."""

import sys

import numpy as np
import pytest
from counting_teacher import CountingTeacher
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier

from skdistill import HPMDistiller, TreeStudent
from skdistill.exceptions import SkdistillWarning

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def table():
    """A small table with a category column and a prefit teacher."""
    X, y = make_classification(n_samples=400, n_features=5, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    frame["c"] = pd.Categorical(np.random.RandomState(0).choice(list("abc"), 400))
    teacher = HistGradientBoostingClassifier(max_iter=10, random_state=0)
    return frame, y, teacher.fit(frame, y)


def _fit(table, **params):
    frame, y, teacher = table
    params = {"student": TreeStudent(max_depth=3), **params}
    return HPMDistiller(teacher, augment=None, chain=False, random_state=0,
                        **params).fit(frame, y)


def test_onnx_latency_is_the_served_graphs(table, monkeypatch):
    pytest.importorskip("onnxruntime")
    import skdistill._measure as measure_module

    timed = []
    served = measure_module.served_seconds

    def counting(pipeline, X):
        timed.append(type(pipeline[-1]).__name__)
        return served(pipeline, X)

    monkeypatch.setattr(measure_module, "served_seconds", counting)
    distiller = _fit(table, latency_measure="onnx")
    assert distiller.report_.details["latency_measure"] == "onnx"
    assert timed == ["TreeStudent"]
    assert 0 < distiller.report_.student_latency_s < 1
    assert _fit(table).report_.details["latency_measure"] == "python"
    assert timed == ["TreeStudent"]  # the Python measure never exports


@pytest.mark.slow  # about 2 s: a search of two candidates
def test_search_constrains_the_served_latency(table, monkeypatch):
    """Each candidate is timed through its graph: a served latency over
    max_latency_ms leaves no candidate within, and the student warns."""
    pytest.importorskip("onnxruntime")
    import skdistill._configure as configure_module
    import skdistill._measure as measure_module

    exported = []

    def slow(preprocessor, rows, model):
        exported.append(len(rows))
        return 50.0  # ms per 1,000 rows

    monkeypatch.setattr(configure_module, "served_latency_ms", slow)
    monkeypatch.setattr(measure_module, "served_seconds", lambda p, X: 0.05)
    with pytest.warns(SkdistillWarning, match="max_latency_ms"):
        distiller = _fit(table, student="auto", search_budget=2, alpha=0.5,
                         latency_measure="onnx", max_latency_ms=10.0)
    candidates = distiller.report_.details["candidates"]
    assert exported and set(exported) == {1000}
    assert [c["latency_ms"] for c in candidates] == [50.0] * len(candidates)
    assert not any(c["within_limits"] for c in candidates)


def test_onnx_latency_without_onnxruntime_fails_before_any_work(table, monkeypatch):
    frame, y, _ = table
    X = frame.drop(columns="c").to_numpy()
    CountingTeacher.reset_counts()
    HPMDistiller(CountingTeacher(), student=TreeStudent(max_depth=2), augment=None,
                 chain=False, cv=2).fit(X, y)
    assert CountingTeacher.calls["fit"] > 0  # the teacher counts its fits
    CountingTeacher.reset_counts()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r'pip install "skdistill\[onnx\]"'):
        HPMDistiller(CountingTeacher(), latency_measure="onnx").fit(X, y)
    assert CountingTeacher.calls["fit"] == 0


def test_onnx_latency_of_a_student_onnx_cannot_export_fails_early(table):
    pytest.importorskip("onnxruntime")

    class OwnTree(TreeStudent):
        pass

    with pytest.raises(ValueError, match="cannot export a OwnTree"):
        _fit(table, student=OwnTree(), latency_measure="onnx")
