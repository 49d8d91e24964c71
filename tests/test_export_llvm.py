"""serving_model(engine="llvm"): a dense student's graph compiled through LLVM
predicts what the student predicts, on every path (a batch, one row, the
compiled code's own rows, after pickling), and every operator it compiles
computes what onnxruntime computes."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.pipeline import Pipeline

from skdistill import HPMDistiller, LinearStudent, MLPStudent, TreeStudent
from skdistill._preprocess import default_preprocessor
from skdistill.students import LinearRegressionStudent, MLPRegressionStudent

pytest.importorskip("onnxruntime", reason='needs pip install "skdistill[onnx]"')
pytest.importorskip("llvmlite", reason='needs pip install "skdistill[llvm]"')

from test_export import _table  # noqa: E402  (numeric, category, object, bool)

from skdistill.export import LlvmServingModel, serving_model  # noqa: E402

DENSE_FAMILIES = {
    "linear": lambda: LinearStudent(),
    "mlp": lambda: MLPStudent(hidden_layer_sizes=(16, 8), max_epochs=5,
                              random_state=0),
}
# float32 networks; float64 sums in another order
TOLERANCE = {"linear": 1e-12, "mlp": 1e-5}


def _fitted(student, X, y):
    return HPMDistiller(student=student, augment=None, chain=False,
                        random_state=0).fit(X, y)


def _pipeline(student, X, y):
    """The student behind the default preprocessing of its family (faster
    to fit than a distiller)."""
    family = "linear" if isinstance(student, LinearStudent) else "mlp"
    preprocess = default_preprocessor(family, X).fit(X)
    return Pipeline([("preprocess", preprocess),
                     ("student", student.fit(preprocess.transform(X), y))])


def _assert_serves_the_student(served, distiller, X, atol):
    expected = distiller.predict_proba(X)
    assert_allclose(served.predict_proba(X), expected, rtol=0, atol=atol)
    assert_allclose(served.predict_proba(X[:1]), expected[:1], rtol=0, atol=atol)
    rows = served.compiled_rows(X)
    assert_array_equal(served.run_compiled(rows), served.predict_proba(X))
    rows.setflags(write=False)  # read through numpy's address, not ctypes'
    assert_array_equal(served.run_compiled(rows), served.predict_proba(X))
    assert served.run_compiled(served.compiled_rows(X[:0])).shape == (
        0, expected.shape[1])
    restored = pickle.loads(pickle.dumps(served))
    assert_array_equal(restored.predict_proba(X), served.predict_proba(X))
    assert_array_equal(served.predict(X), distiller.predict(X))


@pytest.mark.parametrize("family", list(DENSE_FAMILIES))
def test_a_table_with_categories_and_missing_values(family):
    frame, y = _table()
    # the MLP behind a plain pipeline: a distiller's fit takes seconds more
    fit = _fitted if family == "linear" else _pipeline
    distiller = fit(DENSE_FAMILIES[family](), frame[:500], y[:500])
    served = serving_model(distiller, frame[:5], engine="llvm")
    assert isinstance(served, LlvmServingModel)
    rows = frame[500:].copy()
    rows.loc[rows.index[:5], "colour"] = None
    rows.loc[rows.index[5:10], "a"] = np.nan
    _assert_serves_the_student(served, distiller, rows, TOLERANCE[family])


@pytest.mark.parametrize("student", [
    LinearStudent(),
    MLPStudent(hidden_layer_sizes=(8,), activation="tanh", max_epochs=5,
               random_state=0),
    MLPStudent(hidden_layer_sizes=(8,), activation="gelu", max_epochs=5,
               random_state=0),
    MLPStudent(hidden_layer_sizes=(8,), numeric_embedding="periodic", max_epochs=5,
               random_state=0),
    MLPStudent(hidden_layer_sizes=(8,), numeric_embedding="piecewise_linear",
               max_epochs=5, random_state=0),
], ids=["linear", "tanh", "gelu", "periodic", "piecewise_linear"])
def test_multiclass_on_numeric_rows(student):
    X, y = make_classification(n_samples=700, n_features=6, n_informative=4,
                               n_classes=3, random_state=0)
    X[np.random.RandomState(0).rand(*X.shape) < 0.05] = np.nan
    pipeline = _pipeline(student, X[:500], y[:500])
    served = serving_model(pipeline, X[:5], engine="llvm")
    _assert_serves_the_student(served, pipeline, X[500:], 1e-5)


@pytest.mark.parametrize("make", [LinearRegressionStudent, lambda: (
    MLPRegressionStudent(hidden_layer_sizes=(8,), max_epochs=5, random_state=0))],
    ids=["linear", "mlp"])
def test_a_regression_student(make):
    X, y = make_regression(n_samples=500, n_features=5, noise=5.0, random_state=0)
    student = make().fit(X, y)
    served = serving_model(student, X[:5], engine="llvm")
    assert_allclose(served.predict(X), student.predict(X), rtol=1e-6, atol=1e-4)
    assert_array_equal(served.run_compiled(served.compiled_rows(X))[:, 0],
                       served.predict(X))


def test_float32_rows_make_a_float32_model():
    X, y = make_classification(n_samples=400, n_features=5, random_state=0)
    X = X.astype(np.float32)
    student = LinearStudent().fit(X, y)
    served = serving_model(student, X[:5], engine="llvm")
    reference = serving_model(student, X[:5])
    assert_allclose(served.predict_proba(X), reference.predict_proba(X), rtol=0,
                    atol=1e-12)


def _every_operator_model():
    """A graph using every operator the engine compiles, in float64, float32,
    int64 and bool, with broadcasting, NaN and negative codes."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.RandomState(0)
    constants = {
        "shift": rng.randn(4), "one": np.array([1.0]), "half": np.array(0.5),
        "table": rng.randn(5, 3), "columns": np.array([3, 0, 0, 2]),
        "axes": np.array([1]), "weights": rng.randn(4, 3),
        "weights_t": rng.randn(3, 7).astype(np.float32),
        "code_columns": np.array([0, 3]), "offsets": np.array([1, -1]),
        "lower": np.array([-0.5]),
        "matrix": rng.randn(7, 2).astype(np.float32), "sixes": np.full((1, 4), 6.0),
    }
    N = helper.make_node
    nodes = [
        N("IsNaN", ["X"], ["nan"]),
        N("Where", ["nan", "half", "X"], ["filled"]),
        N("Add", ["filled", "shift"], ["added"]),
        N("Sub", ["added", "one"], ["subtracted"]),
        N("Mul", ["subtracted", "filled"], ["product"]),
        N("Div", ["product", "sixes"], ["divided"]),
        N("Max", ["divided", "lower"], ["clipped_low"]),
        N("Min", ["clipped_low", "one"], ["clipped"]),
        N("Abs", ["clipped"], ["absolute"]),
        N("Sqrt", ["absolute"], ["root"]),
        N("Neg", ["root"], ["negative"]),
        N("Exp", ["negative"], ["exponential"]),
        N("Log", ["exponential"], ["logged"]),
        N("Cos", ["logged"], ["cosine"]),
        N("Sin", ["cosine"], ["sine"]),
        N("Sigmoid", ["sine"], ["sigmoid"]),
        N("Less", ["X", "half"], ["less"]),
        N("Greater", ["X", "half"], ["greater"]),
        N("LessOrEqual", ["filled", "shift"], ["at_most"]),
        N("GreaterOrEqual", ["filled", "shift"], ["at_least"]),
        N("Equal", ["at_most", "at_least"], ["equal"]),
        N("Cast", ["equal"], ["equal_double"], to=TensorProto.DOUBLE),
        N("Cast", ["less"], ["less_double"], to=TensorProto.DOUBLE),
        N("Gather", ["sigmoid", "columns"], ["gathered"], axis=1),
        N("Concat", ["gathered", "equal_double", "less_double"], ["wide"], axis=1),
        N("Gather", ["wide", "columns"], ["narrow"], axis=1),
        N("Cast", ["X"], ["X_int"], to=TensorProto.INT64),
        N("Gather", ["X_int", "code_columns"], ["two_codes"], axis=1),
        N("Add", ["two_codes", "offsets"], ["codes"]),
        N("Gather", ["table", "codes"], ["looked_up"], axis=0),
        N("ReduceSum", ["looked_up", "axes"], ["summed"], keepdims=0),
        N("ReduceSum", ["looked_up", "axes"], ["summed_kept"], keepdims=1),
        N("Gemm", ["narrow", "weights", "summed"], ["gemm"], alpha=0.5, beta=2.0),
        N("Cast", ["gemm"], ["gemm_float"], to=TensorProto.FLOAT),
        N("Gemm", ["gemm_float", "weights_t"], ["hidden"], transB=0),
        N("Tanh", ["hidden"], ["tanh"]),
        N("Gelu", ["tanh"], ["gelu"]),
        N("Gelu", ["gelu"], ["gelu_tanh"], approximate="tanh"),
        N("Relu", ["gelu_tanh"], ["relu"]),
        N("MatMul", ["relu", "matrix"], ["logits_float"]),
        N("Cast", ["logits_float"], ["logits"], to=TensorProto.DOUBLE),
        N("LogSoftmax", ["logits"], ["log_proba"], axis=1),
        N("Softmax", ["gemm"], ["proba"], axis=-1),
        N("ReduceSum", ["summed_kept", "axes"], ["summed_again"], keepdims=0),
        N("Identity", ["summed_again"], ["summed_copy"]),
        N("Concat", ["log_proba", "proba", "summed_copy"], ["output"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "every_operator",
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None, 4])],
        [helper.make_tensor_value_info("output", TensorProto.DOUBLE, [None, 8])],
        [numpy_helper.from_array(value, name) for name, value in constants.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)],
                             ir_version=10)


def test_every_operator_computes_what_onnxruntime_computes():
    import onnxruntime as ort

    model = _every_operator_model()
    rng = np.random.RandomState(1)
    X = rng.randn(200, 4) * 2
    X[:, 0] = rng.randint(-4, 4, 200)  # codes + 1: negative ones count from the
    X[:, 3] = rng.randint(0, 4, 200)   # table's end; codes - 1
    X[rng.rand(200) < 0.1, 1] = np.nan
    served = LlvmServingModel(model)
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    expected = session.run(None, {"X": X})[0]
    assert_allclose(served.run({"X": X}), expected, rtol=1e-5, atol=1e-6)


def test_what_it_cannot_compile_is_refused_before_any_work(monkeypatch):
    import sys

    X, y = make_classification(n_samples=300, n_features=4, random_state=0)
    tree = TreeStudent(max_depth=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="use engine='lleaves' for a tree student"):
        serving_model(tree, X[:5], engine="llvm")
    linear = LinearStudent().fit(X, y)
    served = serving_model(linear, X[:5], engine="llvm")
    with pytest.raises(ValueError, match="reads rows of 4 columns"):
        served.run_compiled(X[:, :3])
    with pytest.raises(ValueError, match="engine must be 'onnxruntime', 'lleaves'"):
        serving_model(linear, X[:5], engine="tvm")
    monkeypatch.setitem(sys.modules, "llvmlite", None)  # import raises ImportError
    monkeypatch.setitem(sys.modules, "llvmlite.binding", None)
    with pytest.raises(ImportError, match=r'pip install "skdistill\[llvm\]"'):
        serving_model(linear, X[:5], engine="llvm")


def test_an_llvmlite_without_the_new_pass_manager_is_named(monkeypatch):
    import llvmlite.binding

    X, y = make_classification(n_samples=300, n_features=4, random_state=0)
    linear = LinearStudent().fit(X, y)
    monkeypatch.delattr(llvmlite.binding, "create_pass_builder")
    with pytest.raises(ImportError, match="llvmlite >= 0.44"):
        serving_model(linear, X[:5], engine="llvm")
