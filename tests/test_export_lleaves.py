"""serving_model(engine="lleaves"): a tree student's trees compiled by lleaves
predict what the student predicts, on every path (a batch, a few rows, the
trees' own rows, after pickling)."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression

from skdistill import HPMDistiller, LGBMStudent, LinearStudent, TreeStudent, XGBStudent
from skdistill.students import REGRESSION_STUDENT_FAMILIES

pytest.importorskip("onnxruntime", reason='needs pip install "skdistill[onnx]"')
pytest.importorskip("lleaves", reason='needs pip install "skdistill[lleaves]"')

from test_export import _table  # noqa: E402  (numeric, category, object, bool)

from skdistill.export import LleavesServingModel, serving_model  # noqa: E402

TREE_FAMILIES = {
    "tree": lambda: TreeStudent(max_depth=5, random_state=0),
    "lgbm": lambda: LGBMStudent(n_estimators=15, random_state=0),
    "xgb": lambda: XGBStudent(n_estimators=15, random_state=0),
}


def _numeric(n_classes=3):
    X, y = make_classification(n_samples=900, n_features=6, n_informative=4,
                               n_classes=n_classes, random_state=0)
    X[np.random.RandomState(0).rand(*X.shape) < 0.05] = np.nan
    return X[:600], y[:600], X[600:]


def _fitted(student, X, y, **params):
    return HPMDistiller(student=student, augment=None, chain=False, random_state=0,
                        **params).fit(X, y)


def _assert_serves_the_student(served, distiller, X, atol):
    expected = distiller.predict_proba(X)
    assert_allclose(served.predict_proba(X), expected, rtol=0, atol=atol)
    # the compiled path and onnxruntime's whole graph (a few rows) agree
    assert_allclose(served.predict_proba(X[:5]), expected[:5], rtol=0, atol=atol)
    assert_array_equal(served.run_trees(served.tree_rows(X)), served.predict_proba(X))
    assert served.run_trees(served.tree_rows(X[:0])).shape == (0, expected.shape[1])
    restored = pickle.loads(pickle.dumps(served))
    assert_array_equal(restored.predict_proba(X), served.predict_proba(X))
    assert_array_equal(served.predict(X), distiller.predict(X))


@pytest.mark.parametrize("family", list(TREE_FAMILIES))
def test_a_table_with_categories_and_missing_values(family):
    frame, y = _table()
    distiller = _fitted(TREE_FAMILIES[family](), frame[:500], y[:500])
    served = serving_model(distiller, frame[:5], engine="lleaves")
    assert isinstance(served, LleavesServingModel)
    rows = frame[500:].copy()
    rows.loc[rows.index[:5], "colour"] = None
    _assert_serves_the_student(served, distiller, rows,
                               atol=1e-5 if family == "xgb" else 1e-12)


@pytest.mark.parametrize("alone", [True, False])
def test_columns_after_the_last_one_a_tree_reads(alone):
    """A shallow tree reads few of its input's columns: the compiled trees take
    the columns up to the last one read all the same, from the graph's input
    (a student alone) or from its preprocessing (a distiller's, with missing
    values)."""
    X, y = make_classification(n_samples=600, n_features=8, n_informative=2,
                               n_redundant=0, shuffle=False, random_state=0)
    student = TreeStudent(max_depth=2, random_state=0)
    if alone:
        model = student.fit(X[:400], y[:400])
    else:
        X[::10, 0] = np.nan
        model = _fitted(student, X[:400], y[:400])
    served = serving_model(model, X[:5], engine="lleaves")
    assert served._parts.trees.n_features < X.shape[1]
    assert_allclose(served.predict_proba(X[400:]), model.predict_proba(X[400:]),
                    rtol=0, atol=1e-12)
    assert_array_equal(served.run_trees(served.tree_rows(X[400:])),
                       served.predict_proba(X[400:]))


@pytest.mark.slow  # 3-4 s each: the default run's time is thin
@pytest.mark.parametrize("family", ["lgbm", "tree"])
def test_multiclass_on_numeric_rows(family):
    X, y, X_test = _numeric()
    distiller = _fitted(TREE_FAMILIES[family](), X, y)
    served = serving_model(distiller, X_test[:5], engine="lleaves")
    link = "multiclass num_class:3" if family == "lgbm" else "regression"
    assert served.model_text.splitlines()[6] == f"objective={link}"
    _assert_serves_the_student(served, distiller, X_test, atol=1e-12)


@pytest.mark.slow  # about 4 s
def test_a_sharpened_student_runs_its_link_after_the_trees():
    """A temperature under 1 has no exact logit factor: the nodes after the
    trees are more than a softmax, so lleaves gives the raw sums."""
    X, y, X_test = _numeric()
    distiller = _fitted(LGBMStudent(n_estimators=15, random_state=0), X, y,
                        temperature=0.5)
    served = serving_model(distiller, X_test[:5], engine="lleaves")
    assert "objective=regression" in served.model_text
    _assert_serves_the_student(served, distiller, X_test, atol=1e-12)


@pytest.mark.parametrize("student, temperature", [
    (TreeStudent(max_depth=4, random_state=0), None),
    (LGBMStudent(n_estimators=10, random_state=0), 0.5),
], ids=["probability_leaves", "sharpened"])
def test_the_link_after_the_trees_is_compiled_and_computes_onnxruntime_s(
        student, temperature):
    """The nodes after the trees that are not a plain softmax (a scikit-learn
    tree's normalisation of its probability leaves, a sharpened softmax) are
    compiled through llvmlite, not run by an onnxruntime session."""
    import onnxruntime as ort

    from skdistill._onnx._lleaves import _compiled_link, split_at_trees
    from skdistill.export import to_onnx

    X, y, _ = _numeric()
    soft = {} if temperature is None else {
        "soft_targets": 0.8 * np.eye(3)[y] + 0.2 / 3, "temperature": temperature}
    student.fit(np.nan_to_num(X), y, **soft)
    after = split_at_trees(to_onnx(student, X[:5])).after
    link = _compiled_link(after, n_threads=1)
    assert hasattr(link, "engine")  # compiled, no session
    sums = np.random.RandomState(0).rand(50, after.graph.input[0].type
                                         .tensor_type.shape.dim[1].dim_value)
    session = ort.InferenceSession(after.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    expected = session.run(None, {after.graph.input[0].name: sums})[0]
    assert_allclose(link(sums), expected, rtol=1e-12, atol=1e-15)


def test_without_llvmlite_s_new_pass_manager_the_link_runs_in_onnxruntime(
        monkeypatch):
    import llvmlite.binding

    from skdistill._onnx._lleaves import _compiled_link, split_at_trees
    from skdistill.export import to_onnx

    X, y, X_test = _numeric()
    student = TreeStudent(max_depth=4, random_state=0).fit(np.nan_to_num(X), y)
    after = split_at_trees(to_onnx(student, X[:5])).after
    compiled = _compiled_link(after, n_threads=1)
    monkeypatch.delattr(llvmlite.binding, "create_pass_builder")
    link = _compiled_link(after, n_threads=1)
    assert not hasattr(link, "engine")
    sums = np.random.RandomState(0).rand(20, 3)
    assert_allclose(link(sums), compiled(sums), rtol=1e-12, atol=1e-15)


def test_a_regression_student():
    X, y = make_regression(n_samples=700, n_features=5, noise=5.0, random_state=0)
    student = REGRESSION_STUDENT_FAMILIES["lgbm"](n_estimators=20, random_state=0)
    student.fit(X[:500], y[:500])
    served = serving_model(student, X[:5], engine="lleaves")
    assert_allclose(served.predict(X[500:]), student.predict(X[500:]), rtol=1e-12)
    assert not hasattr(served, "classes_")


def test_a_student_without_trees_is_refused_naming_the_engine():
    X, y, X_test = _numeric(n_classes=2)
    distiller = _fitted(LinearStudent(), X, y)
    with pytest.raises(ValueError, match="engine='lleaves' serves a tree student"):
        serving_model(distiller, X_test[:5], engine="lleaves")
    with pytest.raises(ValueError, match="engine must be"):
        serving_model(distiller, X_test[:5], engine="treelite")


def test_every_split_mode_goes_where_onnxruntime_sends_it():
    """A hand-written TreeEnsemble with each comparison onnxruntime knows
    (``<=``, ``<``, ``>=``, ``>``; ``==`` and ``!=`` on a category code, an
    integer from -1 that is never missing, as to_onnx's graphs feed them) and
    missing values sent either way: the compiled trees give onnxruntime's
    sums on values at, just under and just over each threshold, and on NaN."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    # tree 0: x0 <= 0.5 ? (x1 == 2 ? 1 : 2) : (x1 != 0 ? 3 : 4)
    # tree 1: x0 < -1 ? (x0 >= 1 ? 5 : 6) : (x1 > 1.5 ? 7 : 8)
    node = helper.make_node(
        "TreeEnsemble", ["X"], ["sums"], domain="ai.onnx.ml", n_targets=1,
        aggregate_function=1, post_transform=0, tree_roots=[0, 3],
        nodes_featureids=[0, 1, 1, 0, 0, 1],
        nodes_splits=numpy_helper.from_array(
            np.array([0.5, 2.0, 0.0, -1.0, 1.0, 1.5])),
        nodes_modes=numpy_helper.from_array(np.array([0, 4, 5, 1, 2, 3], np.uint8)),
        nodes_truenodeids=[1, 0, 2, 4, 4, 6], nodes_trueleafs=[0, 1, 1, 0, 1, 1],
        nodes_falsenodeids=[2, 1, 3, 5, 5, 7], nodes_falseleafs=[0, 1, 1, 0, 1, 1],
        nodes_missing_value_tracks_true=[1, 0, 0, 0, 1, 0],
        leaf_targetids=[0] * 8,
        leaf_weights=numpy_helper.from_array(np.arange(1.0, 9.0)))
    graph = helper.make_graph(
        [node, helper.make_node("Identity", ["sums"], ["Y"])], "modes",
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None, 2])],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [None, 1])])
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 5)])
    values = [np.nan, -1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
    values += [float(np.nextafter(v, side)) for v in values[1:]
               for side in (-np.inf, np.inf)]
    X = np.array([[a, code] for a in values for code in (-1, 0, 1, 2, 3)])
    served = LleavesServingModel(model, min_rows=0)
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    assert_array_equal(served.predict(X), session.run(None, {"X": X})[0][:, 0])


def test_without_lleaves_the_error_names_the_extra(monkeypatch):
    import sys

    X, y, X_test = _numeric(n_classes=2)
    student = TreeStudent(max_depth=2, random_state=0).fit(np.nan_to_num(X), y)
    monkeypatch.setitem(sys.modules, "lleaves", None)  # import raises ImportError
    with pytest.raises(ImportError, match=r'pip install "skdistill\[lleaves\]"'):
        serving_model(student, np.nan_to_num(X_test[:5]), engine="lleaves")
