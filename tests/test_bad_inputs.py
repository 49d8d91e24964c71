"""Bad inputs get a clear error naming the problem, before any teacher is fitted.

One row per bad input of issue 18: the error's type, a fragment of its message
that names the problem, and the proof that no work was done (the teachers'
step never ran) and that the distiller is left unfitted.
"""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import make_column_transformer
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_is_fitted

import skdistill
from skdistill import HPMDistiller, MLPStudent, SkdistillWarning, _base

_RNG = np.random.RandomState(0)
X = pd.DataFrame({"a": _RNG.normal(size=80), "b": _RNG.normal(size=80)})
y = (X["a"] > 0).astype(int).to_numpy()
FAST = {"student": "tree", "augment": None, "cv": 2, "random_state": 0}


def _regressor_fitted():
    return LinearRegression().fit(X, y)


def _torch_net(n_in, n_out):
    torch.manual_seed(0)
    return torch.nn.Linear(n_in, n_out)


# (id, distiller params, X, fit kwargs, error type, message fragment)
_CASES = [
    ("no rows", {}, X.iloc[:0], {}, ValueError, "0 sample"),
    ("a regressor as teacher", {"teachers": LinearRegression()}, X, {}, TypeError,
     r"teacher 'linearregression' \(LinearRegression\) is a regressor"),
    ("a fitted regressor as teacher", {"teachers": _regressor_fitted()}, X, {},
     TypeError, "is a regressor"),
    ("a text column the default teacher cannot read", {"teachers": None},
     X.assign(c=np.array(["z", 1.5] * 40, dtype=object)), {}, ValueError,
     "cannot read column 'c'.*'z'"),
    ("a datetime column for the default teacher", {"teachers": None},
     X.assign(when=pd.date_range("2020-01-01", periods=80)), {}, ValueError,
     r"datetime or timedelta column\(s\) \['when'\]"),
    ("a timedelta column for the default teacher", {"teachers": None},
     X.assign(took=pd.to_timedelta(np.arange(80), "s")), {}, ValueError,
     r"datetime or timedelta column\(s\) \['took'\]"),
    ("a torch teacher of another input width", {"teachers": _torch_net(5, 2)}, X,
     {}, ValueError, "'linear' .*failed on a row of 2 features"),
    ("a torch teacher of another output width", {"teachers": _torch_net(2, 3)}, X,
     {}, ValueError, r"outputs shape \(1, 3\).*2 classes"),
    ("a torch teacher given a category column", {"teachers": _torch_net(3, 2)},
     X.assign(c=pd.Categorical(["u", "v"] * 40)), {}, ValueError,
     r"column\(s\) \['c'\] are not numeric"),
    ("a student class, not an instance", {"student": MLPStudent}, X, {}, TypeError,
     r"class MLPStudent: use student=MLPStudent\(\)"),
    ("an MLP student with an empty layer",
     {"student": MLPStudent(hidden_layer_sizes=(0,))}, X, {}, ValueError,
     "hidden_layer_sizes must be a sequence of positive integers"),
    ("an MLP student with negative epochs", {"student": MLPStudent(max_epochs=-1)},
     X, {}, ValueError, "'max_epochs' parameter of MLPStudent"),
    ("negative sample weights", {}, X, {"sample_weight": -np.ones(80)}, ValueError,
     "Negative values in data passed to `sample_weight`"),
    ("all sample weights zero", {}, X, {"sample_weight": np.zeros(80)}, ValueError,
     "at least one non-zero"),
]
if not torch.cuda.is_available():
    _CASES.append(("device='cuda' without CUDA", {"student": "mlp", "device": "cuda"},
                   X, {}, ValueError, "device='cuda'.*no CUDA device"))


@pytest.fixture
def no_teacher_work(monkeypatch):
    def teachers_ran(*args, **kwargs):
        raise AssertionError("the teachers were fitted or run before the error")

    monkeypatch.setattr(_base, "teacher_outputs", teachers_ran)


@pytest.mark.parametrize(("params", "X_bad", "fit_kwargs", "error", "message"),
                         [case[1:] for case in _CASES],
                         ids=[case[0] for case in _CASES])
def test_bad_input_is_named_before_any_work(no_teacher_work, params, X_bad,
                                            fit_kwargs, error, message):
    distiller = HPMDistiller(**{**FAST, "teachers": LogisticRegression(), **params})
    with pytest.raises(error, match=message):
        distiller.fit(X_bad, y[:len(X_bad)], **fit_kwargs)
    with pytest.raises(NotFittedError):
        check_is_fitted(distiller)


def test_nested_student_params_on_a_family_name_say_what_to_do():
    distiller = HPMDistiller(student="mlp")
    with pytest.raises(ValueError, match=r"student='mlp' is a family name.*"
                       r"MLPStudent\(hidden_layer_sizes=\.\.\.\)"):
        distiller.set_params(student__hidden_layer_sizes=(8,))
    # With a student instance in the same call, as GridSearchCV sets them.
    distiller.set_params(student=MLPStudent(), student__hidden_layer_sizes=(8,))
    assert distiller.student.hidden_layer_sizes == (8,)


@pytest.fixture(scope="module")
def fitted():
    return HPMDistiller(LogisticRegression(), **FAST).fit(X, y)


@pytest.mark.parametrize("method", ["teacher_weights", "teacher_proba",
                                    "predict_proba", "predict"])
def test_no_rows_after_fit_are_named(fitted, method):
    with pytest.raises(ValueError, match="0 sample"):
        getattr(fitted, method)(X.iloc[:0])


def test_cv_above_the_smallest_class_warns():
    y_rare = np.r_[np.zeros(70, int), np.ones(10, int)]
    with pytest.warns(SkdistillWarning, match=r"cv=20 .* class 1.* 8 folds"):
        HPMDistiller(LogisticRegression(), **{**FAST, "cv": 20}).fit(X, y_rare)


def test_an_unpicklable_teacher_is_measured_without_pickle():
    teacher = make_pipeline(FunctionTransformer(lambda Z: Z), LogisticRegression())
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(teacher)
    distiller = HPMDistiller(teacher, **FAST).fit(X, y)
    assert distiller.report_.teacher_size.n_bytes > 0


def test_datetime_columns_reach_the_student_as_seconds():
    # A teacher that reads what it needs; the student's default preprocessing
    # turns dates and durations into numbers (and the gate's preprocessing, not
    # needed with one teacher, does not run on them).
    frame = X.assign(when=pd.date_range("2020-01-01", periods=80, tz="UTC"),
                     took=pd.to_timedelta(np.arange(80), "s"))
    teacher = make_pipeline(make_column_transformer(("passthrough", ["a", "b"])),
                            LogisticRegression())
    for features in (None, ["a", "b"], ["a", "when"]):
        distiller = HPMDistiller(teacher, **FAST, student_features=features)
        distiller.fit(frame, y)
        assert distiller.predict(frame).shape == (80,)
    Z = distiller.student_[0].transform(frame[["a", "when"]])
    np.testing.assert_allclose(np.corrcoef(Z[:, 1], np.arange(80))[0, 1], 1.0)


def test_an_mlp_student_stopped_by_max_epochs_gives_a_convergence_warning():
    student = MLPStudent(hidden_layer_sizes=(8,), max_epochs=3, n_iter_no_change=2,
                         random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_epochs=3"):
        student.fit(X.to_numpy(), y)
    # Early stopping that stops it first, or no early stopping: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MLPStudent(hidden_layer_sizes=(8,), max_epochs=3,
                   early_stopping=False).fit(X.to_numpy(), y)


def test_no_plain_user_warning_is_left_in_the_package():
    package = Path(skdistill.__file__).parent
    offenders = [str(path.relative_to(package)) for path in package.rglob("*.py")
                 if "UserWarning" in path.read_text()
                 and path.name != "exceptions.py"]
    assert offenders == []
    assert issubclass(SkdistillWarning, UserWarning)
