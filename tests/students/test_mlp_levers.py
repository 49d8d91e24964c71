"""MLPStudent's numeric embeddings and distillation losses (issue 14, levers 4, 5)."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdistill import MLPStudent
from skdistill._capacity import student_capacity
from skdistill.students._embeddings import embedding_parameters

EMBEDDINGS = ("periodic", "piecewise_linear")


@pytest.mark.slow  # the contract of MLPStudent() runs in the default step
@parametrize_with_checks(
    [MLPStudent(hidden_layer_sizes=(16,), max_epochs=100, random_state=0,
                numeric_embedding=embedding) for embedding in EMBEDDINGS],
    expected_failed_checks=lambda _: {
        "check_sample_weight_equivalence_on_dense_data": (
            "minibatch SGD: weights equal repetitions only in expectation")},
)
def test_an_embedded_student_follows_the_contract(estimator, check):
    check(estimator)


def _wave(n_rows, seed):
    """A label that flips four times along one feature: sin(8 x0) > 0."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n_rows, 3))
    return X, (np.sin(8 * X[:, 0]) > 0).astype(int)


def _fit(numeric_embedding=None, **params):
    X, y = _wave(400, 0)
    student = MLPStudent(hidden_layer_sizes=(8,), max_epochs=30, batch_size=128,
                         early_stopping=False, learning_rate=1e-2, random_state=0,
                         numeric_embedding=numeric_embedding, **params)
    return student.fit(X, y)


@pytest.fixture(scope="module")
def fitted():
    return {embedding: _fit(embedding) for embedding in (None, *EMBEDDINGS)}


@pytest.mark.parametrize("embedding", EMBEDDINGS)
def test_an_embedding_learns_a_fast_wave_that_raw_inputs_do_not(fitted, embedding):
    X, y = _wave(2000, 1)
    plain = fitted[None].score(X, y)
    embedded = fitted[embedding].score(X, y)
    assert plain < 0.75  # an (8,) MLP on raw inputs cannot follow sin(8x)
    assert embedded > plain + 0.15
    assert not np.allclose(fitted[embedding].predict_proba(X),
                           fitted[None].predict_proba(X))


@pytest.mark.parametrize("embedding", EMBEDDINGS)
def test_the_parameters_count_the_embedding(fitted, embedding):
    student = fitted[embedding]
    assert student.n_parameters_ == student_capacity(student, 3, 2)
    plain = fitted[None].n_parameters_
    widened_input = (student.n_parameters_ - embedding_parameters(embedding, 3)
                     - plain)
    assert widened_input > 0  # the first layer reads 4 or 8 numbers per column
    assert student.n_parameters_ > plain


@pytest.mark.parametrize("embedding", EMBEDDINGS)
def test_an_embedded_student_pickles(fitted, embedding):
    X, _ = _wave(50, 2)
    loaded = pickle.loads(pickle.dumps(fitted[embedding]))
    assert_allclose(loaded.predict_proba(X), fitted[embedding].predict_proba(X))


@pytest.mark.parametrize("embedding", EMBEDDINGS)
def test_an_embedded_student_exports_to_onnx(fitted, embedding):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from skdistill.export import to_onnx

    X, _ = _wave(1000, 3)
    X[:5, 0] = [-5.0, 5.0, 0.0, 1.0, -1.0]  # outside and on the bins' edges
    model = to_onnx(fitted[embedding], X[:5])
    ops = {node.op_type for node in model.graph.node}
    assert {"Gather", "Min", "Max"} <= ops or {"Cos", "Sin", "MatMul"} <= ops
    session = ort.InferenceSession(model.SerializeToString())
    proba = session.run(None, {session.get_inputs()[0].name: X})[0]
    assert_allclose(proba, fitted[embedding].predict_proba(X), rtol=0, atol=1e-5)


def _teacher(X):
    """A confident teacher that knows the wave."""
    p = np.where(np.sin(8 * X[:, 0]) > 0, 0.95, 0.05)
    return np.column_stack([1 - p, p])


def test_logit_mse_is_another_loss_and_learns():
    X, y = _wave(400, 0)
    soft = _teacher(X)
    students = {loss: MLPStudent(hidden_layer_sizes=(8,), max_epochs=30,
                                 batch_size=128,
                                 numeric_embedding="periodic", learning_rate=1e-2,
                                 distill_loss=loss, random_state=0).fit(
        X, y, soft_targets=soft, temperature=2.0, alpha=0.7)
        for loss in ("kl", "logit_mse")}
    X_test, y_test = _wave(2000, 1)
    assert students["logit_mse"].score(X_test, y_test) > 0.8  # chance: 0.5
    assert not np.allclose(students["logit_mse"].predict_proba(X_test),
                           students["kl"].predict_proba(X_test), atol=1e-3)
    # its validation loss is the logits' squared error, not the KL
    assert students["logit_mse"].validation_scores_ != \
        students["kl"].validation_scores_


def test_bad_embedding_or_loss_is_refused_before_work():
    X, y = _wave(50, 0)
    with pytest.raises(ValueError, match="numeric_embedding"):
        MLPStudent(numeric_embedding="fourier").fit(X, y)
    with pytest.raises(ValueError, match="distill_loss"):
        MLPStudent(distill_loss="mse").fit(X, y)


def test_the_regression_mlp_takes_the_embedding_too():
    from skdistill.students import MLPRegressionStudent

    X, _ = _wave(400, 0)
    y = np.sin(8 * X[:, 0])
    students = {e: MLPRegressionStudent(
        (8,), max_epochs=30, batch_size=128, early_stopping=False,
        learning_rate=1e-2, numeric_embedding=e, random_state=0).fit(X, y)
        for e in (None, "periodic")}
    X_test, _ = _wave(1000, 1)
    y_test = np.sin(8 * X_test[:, 0])
    assert students["periodic"].score(X_test, y_test) > \
        students[None].score(X_test, y_test) + 0.3
    assert students["periodic"].n_parameters_ == student_capacity(
        students["periodic"], 3, 1)
