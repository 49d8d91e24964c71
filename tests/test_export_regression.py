"""to_onnx of the regression students: the graph's "predictions" are predict's."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_friedman1
from sklearn.linear_model import LinearRegression

from skdistill import HPMRegressor
from skdistill.export import to_onnx
from skdistill.students import REGRESSION_STUDENT_FAMILIES

onnx = pytest.importorskip("onnx", reason='needs pip install "skdistill[onnx]"')
ort = pytest.importorskip("onnxruntime",
                          reason='needs pip install "skdistill[onnx]"')

_SMALL = {"mlp": {"hidden_layer_sizes": (16, 8), "max_epochs": 5},
          "lgbm": {"n_estimators": 20}, "xgb": {"n_estimators": 20},
          "tree": {"max_depth": 5}}
# float32 where the libraries compute in float32 (the network, XGBoost's sums)
_TOLERANCE = {"mlp": 1e-5, "xgb": 1e-5}


def _data():
    X, y = make_friedman1(n_samples=800, noise=1.0, random_state=0)
    X[::7, 2] = np.nan  # missing values go through the distiller's imputation
    # a target far from 0 and wide: the scaling back is exported too
    return X[:500], 1000.0 + 40.0 * y[:500], X[500:]


def _run(model, X):
    session = ort.InferenceSession(model.SerializeToString())
    [output] = session.get_outputs()
    assert output.name == "predictions"
    return session.run(None, {"X": X})[0]


@pytest.mark.parametrize("family", sorted(REGRESSION_STUDENT_FAMILIES))
def test_regression_student_exports_predict(family):
    X, y, X_test = _data()
    keep = ~np.isnan(X).any(axis=1)
    student = REGRESSION_STUDENT_FAMILIES[family](**_SMALL.get(family, {}))
    if "random_state" in student.get_params():
        student.set_params(random_state=0)
    student.fit(X[keep], y[keep])
    X_test = X_test[~np.isnan(X_test).any(axis=1)]
    predictions = _run(to_onnx(student, X_test[:5]), X_test)
    assert predictions.shape == (len(X_test), 1)
    assert_allclose(predictions[:, 0], student.predict(X_test),
                    rtol=_TOLERANCE.get(family, 1e-12))


@pytest.mark.parametrize("family", ["lgbm", "mlp"])
def test_fitted_regressor_exports_its_student_with_preprocessing(family):
    X, y, X_test = _data()
    student = REGRESSION_STUDENT_FAMILIES[family](**_SMALL[family])
    regressor = HPMRegressor(LinearRegression(), student, augment=None,
                             random_state=0)
    regressor.fit(np.nan_to_num(X), y)
    model = to_onnx(regressor, X_test[:5])
    props = {p.key: p.value for p in model.metadata_props}
    assert props["task"] == "regression" and "classes" not in props
    assert_allclose(_run(model, X_test)[:, 0], regressor.predict(X_test),
                    rtol=_TOLERANCE.get(family, 1e-12))


def test_serving_model_predicts_what_the_regression_student_predicts():
    import pickle

    from skdistill.export import serving_model

    X, y, X_test = _data()
    keep = ~np.isnan(X).any(axis=1)
    student = REGRESSION_STUDENT_FAMILIES["tree"](max_depth=4).fit(X[keep], y[keep])
    X_test = X_test[~np.isnan(X_test).any(axis=1)]
    served = pickle.loads(pickle.dumps(serving_model(student, X_test[:5])))
    assert_allclose(served.predict(X_test), student.predict(X_test), rtol=1e-12)
    assert not hasattr(served, "classes_")


def _frame():
    """A DataFrame with a categorical column (a missing value in it) and its
    target, for the regression students' preprocessing in skl2onnx."""
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    n_rows = 700
    frame = pd.DataFrame({
        "a": rng.randn(n_rows),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue", None], n_rows)),
        "b": rng.randn(n_rows),
    })
    y = 100.0 + 10.0 * (frame["a"] + 2.0 * (frame["colour"] == "red") - frame["b"])
    return frame, y.to_numpy() + rng.randn(n_rows)


def _fitted_regressor(family, X, y):
    from sklearn.ensemble import HistGradientBoostingRegressor

    student = REGRESSION_STUDENT_FAMILIES[family](**_SMALL.get(family, {}))
    return HPMRegressor(HistGradientBoostingRegressor(max_iter=10), student,
                        augment=None, cv=2, random_state=0).fit(X, y)


def _skl2onnx_session(regressor, X_sample):
    """``skl2onnx.to_onnx`` of ``regressor.student_`` itself, as a session."""
    skl2onnx = pytest.importorskip("skl2onnx")
    from skdistill.export import register_skl2onnx_converters

    register_skl2onnx_converters()
    model = skl2onnx.to_onnx(regressor.student_, X=X_sample,
                             target_opset={"": 20, "ai.onnx.ml": 3})
    session = ort.InferenceSession(model.SerializeToString())
    [output] = session.get_outputs()
    assert output.name == "variable"
    return session


@pytest.mark.parametrize("family", sorted(REGRESSION_STUDENT_FAMILIES))
def test_skl2onnx_converts_regression_student_on_numeric_data(family):
    X, y, X_test = _data()
    regressor = _fitted_regressor(family, np.nan_to_num(X), y)
    X_test = np.nan_to_num(X_test).astype(np.float32)
    session = _skl2onnx_session(regressor, X_test[:1])
    [predictions] = session.run(None, {"X": X_test})
    assert predictions.shape == (len(X_test), 1)
    assert_allclose(predictions[:, 0], regressor.predict(X_test.astype(np.float64)),
                    rtol=1e-5)


@pytest.mark.parametrize("family", sorted(REGRESSION_STUDENT_FAMILIES))
def test_skl2onnx_converts_regression_student_with_a_categorical_column(family):
    frame, y = _frame()
    regressor = _fitted_regressor(family, frame[:500], y[:500])
    session = _skl2onnx_session(regressor, frame[:5])
    assert [i.name for i in session.get_inputs()] == list(frame.columns)
    rows = frame[500:]
    feeds = {column: rows[[column]].to_numpy() for column in ("a", "b")}
    feeds["colour"] = rows[["colour"]].astype(object).fillna("__missing__") \
        .astype(str).to_numpy()
    assert (feeds["colour"] == "__missing__").any()
    [predictions] = session.run(None, feeds)
    assert predictions.shape == (len(rows), 1)
    assert_allclose(predictions[:, 0], regressor.predict(rows), rtol=1e-5)


@pytest.mark.parametrize("family", sorted(REGRESSION_STUDENT_FAMILIES))
def test_skl2onnx_converts_a_user_pipeline_with_a_regression_student(family):
    """A user's own Pipeline: skl2onnx's encoders in front of a student."""
    pytest.importorskip("skl2onnx")
    from user_pipeline import exported_pipeline, feeds, table

    frame = table(1000)
    y = 2 * frame["a"].to_numpy() + 3 * (frame["color"] == "red") \
        + np.random.RandomState(1).randn(1000)
    pipeline, session = exported_pipeline(
        REGRESSION_STUDENT_FAMILIES[family](), frame[:600], y[:600])
    rows = frame[600:]
    [predictions] = session.run(None, feeds(rows))
    # New rows: on its training rows XGBoost's splits sit at the data's own
    # values, where the graph's float32 scaling and scikit-learn's float64 one
    # (rounded to float32 by XGBoost) can fall on either side of a split.
    assert_allclose(predictions[:, 0], pipeline.predict(rows), rtol=1e-4, atol=1e-4)
