"""skdistill.export.to_onnx: the exported graph computes what predict_proba does."""

import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline

from skdistill import (
    HPMDistiller,
    LGBMStudent,
    LinearStudent,
    MLPStudent,
    TreeStudent,
    XGBStudent,
)
from skdistill.export import to_onnx
from skdistill.students._base import BaseStudent

onnx = pytest.importorskip("onnx", reason='needs pip install "skdistill[onnx]"')
ort = pytest.importorskip("onnxruntime",
                          reason='needs pip install "skdistill[onnx]"')

N_TRAIN, N_TEST = 600, 1000

# Small students: each fits in well under a second on 600 rows.
FAMILIES = {
    "mlp": lambda: MLPStudent(hidden_layer_sizes=(16, 8), max_epochs=5),
    "tree": lambda: TreeStudent(max_depth=5),
    "lgbm": lambda: LGBMStudent(n_estimators=20),
    "xgb": lambda: XGBStudent(n_estimators=20),
    "linear": lambda: LinearStudent(),
}


def _problem(n_classes, labels=None):
    """Fixed-seed rows with 5 % missing values, a prefit teacher, train/test split."""
    X, y = make_classification(n_samples=N_TRAIN + N_TEST, n_features=6,
                               n_informative=4, n_classes=n_classes, random_state=0)
    X[np.random.RandomState(0).rand(*X.shape) < 0.05] = np.nan
    if labels is not None:
        y = np.asarray(labels)[y]
    teacher = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    teacher.fit(X[:N_TRAIN], y[:N_TRAIN])
    return teacher, X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:]


@pytest.fixture(scope="module")
def multiclass():
    return _problem(3)


@pytest.fixture(scope="module")
def binary():
    return _problem(2, labels=["no", "yes"])


def _distil(problem, student, **params):
    teacher, X, y, _ = problem
    return HPMDistiller(teacher, student=student, random_state=0, **params).fit(X, y)


def _distil_frame(problem, student):
    """A distiller fitted on the problem's rows as a DataFrame, with its columns."""
    pd = pytest.importorskip("pandas")
    _, X, y, _ = problem
    names = [f"x{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    teacher = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    distiller = HPMDistiller(teacher.fit(frame, y), student=student, random_state=0)
    return distiller.fit(frame, y), names


def _run(model, X):
    session = ort.InferenceSession(model.SerializeToString())
    return session.run(None, {"X": np.asarray(X, dtype=np.float64)})[0]


@pytest.mark.parametrize("problem", ["multiclass", "binary"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_onnx_probabilities_match_predict_proba(family, problem, request):
    problem = request.getfixturevalue(problem)
    distiller = _distil(problem, FAMILIES[family]())
    X_test = problem[3]
    model = to_onnx(distiller, X_test[:20])
    assert_allclose(_run(model, X_test), distiller.predict_proba(X_test),
                    rtol=0, atol=1e-4)


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_mlp_graph_is_written_layer_by_layer_without_torch_exporter(
        multiclass, activation):
    _, X, y, X_test = multiclass
    X = np.nan_to_num(X)
    student = MLPStudent(hidden_layer_sizes=(16, 8), activation=activation,
                         dropout=0.2, max_epochs=5, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch's exporter warns it is deprecated
        model = to_onnx(student, X[:5])
    op_types = {node.op_type for node in model.graph.node}
    assert {"Gemm", "Softmax"} <= op_types
    assert op_types <= {"Cast", "Sub", "Div", "Gemm", "Relu", "Tanh", "Gelu",
                        "Softmax", "Identity"}
    X_test = np.nan_to_num(X_test)
    assert_allclose(_run(model, X_test), student.predict_proba(X_test),
                    rtol=0, atol=1e-5)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_float32_sample_gives_a_float32_input(multiclass, family):
    distiller = _distil(multiclass, FAMILIES[family]())
    X_test = multiclass[3].astype(np.float32)
    model = to_onnx(distiller, X_test[:20])
    assert model.graph.input[0].type.tensor_type.elem_type == \
        onnx.TensorProto.FLOAT
    session = ort.InferenceSession(model.SerializeToString())
    proba = session.run(None, {"X": X_test})[0]
    assert_allclose(proba, distiller.predict_proba(X_test.astype(np.float64)),
                    rtol=0, atol=1e-5)
    with pytest.raises(Exception, match="(?i)type"):
        session.run(None, {"X": X_test.astype(np.float64)})


@pytest.mark.parametrize("family", ["tree", "lgbm", "xgb"])
def test_missing_values_reaching_the_trees_go_where_the_library_sends_them(
        family, monkeypatch):
    # Behind the default preprocessing no NaN reaches a student; alone it may.
    X, y = make_classification(n_samples=800, n_features=6, random_state=0)
    student = FAMILIES[family]().fit(X[:400], y[:400])
    X_missing = X[400:].copy()
    X_missing[np.random.RandomState(1).rand(*X_missing.shape) < 0.3] = np.nan
    model = to_onnx(student, X[:5])
    # students refuse NaN at the door; the trees underneath have their own rule
    monkeypatch.setattr(student, "_validate_predict_X", lambda rows: rows)
    assert_allclose(_run(model, X_missing), student.predict_proba(X_missing),
                    rtol=0, atol=1e-4)


def test_array_sample_for_a_model_fitted_on_a_dataframe(multiclass):
    pd = pytest.importorskip("pandas")
    distiller, names = _distil_frame(multiclass, "linear")
    X_test = multiclass[3]
    model = to_onnx(distiller, X_test[:5])
    expected = distiller.predict_proba(pd.DataFrame(X_test, columns=names))
    assert_allclose(_run(model, X_test), expected, rtol=0, atol=1e-4)


def test_sharpened_students_are_exported_with_their_temperature(multiclass):
    # temperature 3: BaseStudent.predict_proba undoes the softening by T = 3
    distiller = _distil(multiclass, "tree", temperature=3.0)
    X_test = multiclass[3]
    assert distiller.student_[-1].temperature_ == 3.0
    assert_allclose(_run(to_onnx(distiller, X_test[:5]), X_test),
                    distiller.predict_proba(X_test), rtol=0, atol=1e-10)


def test_model_declares_classes_and_columns_in_its_metadata(binary):
    distiller, names = _distil_frame(binary, "linear")
    pd = pytest.importorskip("pandas")
    model = to_onnx(distiller, pd.DataFrame(binary[3][:5], columns=names))
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    assert metadata["classes"] == '["no", "yes"]'
    assert metadata["input_columns"] == '["x0", "x1", "x2", "x3", "x4", "x5"]'


def test_dataframe_sample_in_another_column_order_keeps_the_fit_order(multiclass):
    pd = pytest.importorskip("pandas")
    distiller, names = _distil_frame(multiclass, "tree")
    X_test = multiclass[3]
    frame_test = pd.DataFrame(X_test, columns=names)
    model = to_onnx(distiller, frame_test[names[::-1]].head())
    assert_allclose(_run(model, X_test), distiller.predict_proba(frame_test),
                    rtol=0, atol=1e-4)


def test_pipeline_and_bare_student_export_the_same_probabilities(multiclass):
    distiller = _distil(multiclass, "xgb")
    X_test = multiclass[3]
    from_pipeline = _run(to_onnx(distiller.student_, X_test[:5]), X_test)
    Z_test = distiller.student_[0].transform(X_test)
    from_student = _run(to_onnx(distiller.student_[-1], Z_test[:5]), Z_test)
    assert_allclose(from_pipeline, from_student, rtol=0, atol=1e-12)


def test_other_preprocessing_goes_through_skl2onnx(multiclass):
    pytest.importorskip("skl2onnx")
    preprocessor = make_pipeline(SimpleImputer(), PCA(n_components=4, random_state=0))
    distiller = _distil(multiclass, "lgbm", student_preprocessor=preprocessor)
    X_test = multiclass[3]
    assert_allclose(_run(to_onnx(distiller, X_test[:5]), X_test),
                    distiller.predict_proba(X_test), rtol=0, atol=1e-4)


def test_path_writes_the_returned_model(multiclass, tmp_path):
    distiller = _distil(multiclass, "linear")
    path = tmp_path / "student.onnx"
    model = to_onnx(distiller, multiclass[3][:5], path=path)
    assert onnx.load(path).SerializeToString() == model.SerializeToString()


class NeighboursStudent(BaseStudent):
    """A student family that to_onnx does not know."""

    def _fit_distribution(self, X, targets, sample_weight):
        self.model_ = KNeighborsRegressor(n_neighbors=5).fit(X, targets)

    def _predict_distribution(self, X):
        return self.model_.predict(X)


class DeeperTree(TreeStudent):
    """A subclass may predict differently: it is not exported as its parent."""


@pytest.mark.parametrize("student", [NeighboursStudent(), DeeperTree()])
def test_unsupported_family_raises_naming_it(multiclass, student):
    distiller = _distil(multiclass, student)
    with pytest.raises(NotImplementedError, match=type(student).__name__):
        to_onnx(distiller, multiclass[3][:5])


def _table(n_rows=800, seed=0):
    """A DataFrame with numeric, category, object (int values) and bool columns,
    missing values in a numeric and a category column, and its labels."""
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame({
        "a": rng.randn(n_rows),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue", None], n_rows)),
        "b": rng.randn(n_rows),
        "size": rng.choice([10, 20, 30], n_rows).astype(object),
        "flag": rng.rand(n_rows) > 0.5,
    })
    frame.loc[rng.rand(n_rows) < 0.05, "a"] = np.nan
    y = np.where(frame["a"].fillna(0) + (frame["colour"] == "red")
                 + (frame["size"] == 20) > 0.5, "yes", "no")
    return frame, y


@pytest.fixture(scope="module")
def table_distillers():
    frame, y = _table()
    return frame, {
        family: HPMDistiller(student=make().set_params(**(
            {"random_state": 0} if "random_state" in make().get_params() else {})),
            augment=None, chain=False, random_state=0).fit(frame[:600], y[:600])
        for family, make in FAMILIES.items()}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_categorical_columns_are_encoded_in_the_graph(table_distillers, family):
    from skdistill.export import onnx_inputs, serving_model

    frame, distillers = table_distillers
    distiller = distillers[family]
    model = to_onnx(distiller, frame[:5])
    assert [i.name for i in model.graph.input] == ["X", "X_categorical"]
    rows = frame[600:].copy()
    rows.loc[rows.index[:5], "colour"] = None
    # Values of another dtype than at fit (a CSV round trip) keep their category.
    rows["size"] = rows["size"].astype(float)
    session = ort.InferenceSession(model.SerializeToString())
    proba = session.run(None, onnx_inputs(model, rows))[0]
    tolerance = 1e-5 if family in ("mlp", "xgb") else 1e-9
    assert_allclose(proba, distiller.predict_proba(rows), rtol=0, atol=tolerance)
    served = serving_model(distiller, frame[:5])
    assert_allclose(served.predict_proba(rows[list(frame.columns)[::-1]]),
                    distiller.predict_proba(rows), rtol=0, atol=tolerance)


def test_a_few_rows_are_fed_as_a_batch_of_them_is():
    """The per-row paths of ``feeds`` (category codes, no ``na_value`` on numpy
    columns) give what the batch path gives, for every kind of column."""
    pd = pytest.importorskip("pandas")
    from skdistill._onnx._table import TableLayout, feeds, frame_values

    frame, _ = _table(n_rows=200)
    frame["count"] = pd.array(np.arange(200) % 7, dtype="Int64")
    frame.loc[frame.index[::9], "count"] = pd.NA
    frame["whole"] = np.arange(200) % 5
    frame["ints"] = pd.Categorical(np.arange(200) % 3)
    frame["halves"] = pd.Categorical(np.where(np.arange(200) % 2, 0.5, 2.0))
    frame.loc[frame.index[::11], "halves"] = np.nan
    layout = TableLayout(list(frame.columns), [0, 2, 5, 6], [1, 3, 4, 7, 8])
    batch = feeds(layout, frame, np.float64)
    for start in range(0, 200, 7):
        rows = feeds(layout, frame[start:start + 7], np.float64)
        assert_allclose(rows["X"], batch["X"][start:start + 7], rtol=0, atol=0)
        assert rows["X_categorical"].tolist() == \
            batch["X_categorical"][start:start + 7].tolist()
    numeric = layout.names(layout.numeric)  # a frame of those columns only
    assert_allclose(frame_values(frame[numeric], numeric, np.float64),
                    batch["X"], rtol=0, atol=0)


def test_an_unseen_category_goes_where_predict_proba_sends_it(table_distillers):
    from skdistill.export import onnx_inputs

    frame, distillers = table_distillers
    rows = frame[600:620].copy()
    rows["colour"] = rows["colour"].cat.add_categories(["purple"])
    rows.loc[rows.index[:10], "colour"] = "purple"
    for family in ("mlp", "tree"):
        model = to_onnx(distillers[family], frame[:5])
        session = ort.InferenceSession(model.SerializeToString())
        assert_allclose(session.run(None, onnx_inputs(model, rows))[0],
                        distillers[family].predict_proba(rows), rtol=0, atol=1e-5)


def test_datetime_columns_raise_naming_them():
    pd = pytest.importorskip("pandas")
    frame, y = _table(n_rows=300)
    frame["when"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(
        np.arange(len(frame)), unit="D")
    from sklearn.dummy import DummyClassifier

    teacher = DummyClassifier(strategy="prior").fit(frame, y)  # reads any column
    distiller = HPMDistiller(teacher, student=TreeStudent(max_depth=3), augment=None,
                             chain=False, random_state=0).fit(frame, y)
    with pytest.raises(NotImplementedError, match="datetime.*when"):
        to_onnx(distiller, frame)


def test_unfitted_model_raises_not_fitted():
    with pytest.raises(NotFittedError):
        to_onnx(HPMDistiller(), np.zeros((2, 3)))


@pytest.mark.parametrize("module", ["onnx", "skl2onnx"])
def test_missing_dependency_names_the_extra(multiclass, monkeypatch, module):
    distiller = _distil(
        multiclass, "linear",
        student_preprocessor=make_pipeline(SimpleImputer(), PCA(n_components=3)))
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    with pytest.raises(ImportError, match=r'pip install "skdistill\[onnx\]"'):
        to_onnx(distiller, multiclass[3][:5])


@pytest.mark.parametrize("family", list(FAMILIES))
def test_skl2onnx_converts_a_user_pipeline_with_a_student(family):
    pytest.importorskip("skl2onnx")
    from user_pipeline import exported_pipeline, feeds, table

    frame = table(600)
    y = np.where(frame["a"] + (frame["color"] == "red") > 0.3, "yes", "no")
    student = FAMILIES[family]()
    pipeline, session = exported_pipeline(student, frame, y,
                                          options={id(student): {"zipmap": False}})
    labels, proba = session.run(None, feeds(frame))
    assert_allclose(proba, pipeline.predict_proba(frame), rtol=0, atol=1e-5)
    assert np.mean(labels == pipeline.predict(frame)) > 0.99


@pytest.mark.parametrize("family", list(FAMILIES))
def test_serving_model_predicts_what_the_student_predicts(multiclass, family):
    import pickle

    from skdistill.export import serving_model

    distiller = _distil(multiclass, FAMILIES[family]())
    X_test = multiclass[3]
    served = pickle.loads(pickle.dumps(serving_model(distiller, X_test[:20])))
    assert_allclose(served.predict_proba(X_test), distiller.predict_proba(X_test),
                    rtol=0, atol=1e-5)
    assert np.mean(served.predict(X_test) == distiller.predict(X_test)) > 0.999
    np.testing.assert_array_equal(served.classes_, distiller.classes_)


def test_serving_model_takes_a_dataframe_by_column_name(multiclass):
    from skdistill.export import serving_model

    distiller, names = _distil_frame(multiclass, TreeStudent(max_depth=4))
    pd = pytest.importorskip("pandas")
    X_test = pd.DataFrame(multiclass[3], columns=names)
    served = serving_model(distiller, X_test.iloc[:5])
    shuffled = X_test[names[::-1]]
    assert_allclose(served.predict_proba(shuffled), distiller.predict_proba(X_test),
                    rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="lacks the columns"):
        served.predict(X_test.drop(columns=names[0]))


def test_serving_model_runs_inputs_made_by_onnx_inputs(table_distillers):
    from skdistill.export import onnx_inputs, serving_model

    frame, distillers = table_distillers
    served = serving_model(distillers["linear"], frame[:5])
    rows = frame[600:]
    inputs = onnx_inputs(to_onnx(distillers["linear"], frame[:5]), rows)
    assert_allclose(served.run(inputs), distillers["linear"].predict_proba(rows),
                    rtol=0, atol=1e-12)


def _skl2onnx_student(distiller, X_sample):
    """``skl2onnx.to_onnx`` of ``distiller.student_`` itself, as a session."""
    skl2onnx = pytest.importorskip("skl2onnx")
    from skdistill.export import register_skl2onnx_converters

    register_skl2onnx_converters()
    model = skl2onnx.to_onnx(distiller.student_, X=X_sample,
                             target_opset={"": 20, "ai.onnx.ml": 3},
                             options={id(distiller.student_[-1]): {"zipmap": False}})
    return ort.InferenceSession(model.SerializeToString())


@pytest.mark.parametrize("family", list(FAMILIES))
def test_skl2onnx_converts_student_with_its_categorical_preprocessing(
        table_distillers, family):
    frame, distillers = table_distillers
    distiller = distillers[family]
    session = _skl2onnx_student(distiller, frame[:5])
    assert [i.name for i in session.get_inputs()] == list(frame.columns)
    rows = frame[600:]
    feeds = {column: rows[[column]].to_numpy() for column in ("a", "b", "flag")}
    for column in ("colour", "size"):  # strings; a missing one as "__missing__"
        feeds[column] = rows[[column]].astype(object).fillna("__missing__") \
            .astype(str).to_numpy()
    assert (feeds["colour"] == "__missing__").any()
    labels, proba = session.run(None, feeds)
    tolerance = 1e-5 if family in ("mlp", "xgb") else 1e-6
    assert_allclose(proba, distiller.predict_proba(rows), rtol=0, atol=tolerance)
    assert np.mean(labels == distiller.predict(rows)) > 0.99


@pytest.mark.parametrize("named", [False, True])
def test_skl2onnx_converts_student_on_numeric_data(multiclass, named):
    if named:  # a DataFrame: one input per column
        distiller, names = _distil_frame(multiclass, TreeStudent(max_depth=4))
        pd = pytest.importorskip("pandas")
        X_test = pd.DataFrame(multiclass[3], columns=names)
        feeds = {name: X_test[[name]].to_numpy() for name in names}
    else:  # an array: one input "X"
        distiller = _distil(multiclass, LinearStudent())
        X_test = multiclass[3]
        feeds = {"X": X_test}
    session = _skl2onnx_student(distiller, X_test[:5])
    labels, proba = session.run(None, feeds)
    assert_allclose(proba, distiller.predict_proba(X_test), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(labels, distiller.predict(X_test))


def test_categorical_graph_has_as_many_nodes_for_any_number_of_columns():
    """One LabelEncoder for every category column, not a chain per column."""
    pd = pytest.importorskip("pandas")
    from sklearn.pipeline import Pipeline

    from skdistill._preprocess import default_preprocessor

    rng = np.random.RandomState(0)
    counts = {}
    for n_columns in (1, 6):
        frame = pd.DataFrame({f"c{j}": rng.choice(["u", "v", "w"], 200)
                              for j in range(n_columns)})
        frame["x"] = rng.randn(200)
        y = rng.randint(2, size=200)
        for family, student in (("linear", LinearStudent()),
                                ("tree", TreeStudent(max_depth=3))):
            preprocess = default_preprocessor(family, frame).fit(frame)
            pipeline = Pipeline([("preprocess", preprocess), (
                "student", student.fit(preprocess.transform(frame), y))])
            model = to_onnx(pipeline, frame[:5])
            ops = [node.op_type for node in model.graph.node]
            assert ops.count("LabelEncoder") == 1
            counts[family, n_columns] = len(ops)
    assert counts["linear", 1] == counts["linear", 6]
    assert counts["tree", 1] == counts["tree", 6]


@pytest.mark.parametrize("family", ["linear", "tree"])
def test_infrequent_and_unseen_categories_go_where_predict_proba_sends_them(family):
    """Beyond max_categories=32 the rarest levels share a column, which also
    takes unseen values; a column without one drops them."""
    pd = pytest.importorskip("pandas")
    from sklearn.pipeline import Pipeline

    from skdistill._preprocess import default_preprocessor
    from skdistill.export import onnx_inputs

    rng = np.random.RandomState(0)
    levels = [f"l{i}" for i in range(50)]
    frame = pd.DataFrame({
        "many": rng.choice(levels, 500, p=np.linspace(1, 0.1, 50) / np.linspace(
            1, 0.1, 50).sum()),
        "few": rng.choice(["u", "v"], 500), "x": rng.randn(500)})
    y = (frame["x"] + (frame["many"] < "l2") + (frame["few"] == "u") > 0.5)
    student = LinearStudent() if family == "linear" else TreeStudent(max_depth=4)
    preprocess = default_preprocessor(family, frame).fit(frame)
    pipeline = Pipeline([("preprocess", preprocess), ("student", student.fit(
        preprocess.transform(frame), y.to_numpy()))])
    rows = frame[:60].copy()
    rows.loc[rows.index[:20], "many"] = "unseen"
    rows.loc[rows.index[10:30], "few"] = "unseen"
    model = to_onnx(pipeline, frame[:5])
    session = ort.InferenceSession(model.SerializeToString())
    assert_allclose(session.run(None, onnx_inputs(model, rows))[0],
                    pipeline.predict_proba(rows), rtol=0, atol=1e-9)
    if family == "linear":
        assert len(preprocess.transformer_.named_transformers_["categorical"][-1]
                   .infrequent_categories_[0]) > 0
