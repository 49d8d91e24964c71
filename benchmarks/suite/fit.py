"""One fit and its measures: teachers, splits, the fitting and the table's columns."""

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.base import clone
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils._param_validation import (
    InvalidParameterError,
    validate_parameter_constraints,
)
from xgboost import XGBClassifier, XGBRegressor

from skdistill import HPMDistiller, MLPStudent
from skdistill.metrics import model_size, predict_latency

from ..common import describe_student
from .config import (
    COMPONENTS,
    LATENCY_ROWS,
    LEVERS,
    LGBM_LEAVES,
    LGBM_TREES,
    STUDENTS,
    TEST_SIZE,
)

# The teachers' classes per task: XGBoost, LightGBM, RandomForest.
_TEACHER_CLASSES = {
    "classification": (XGBClassifier, LGBMClassifier, RandomForestClassifier),
    "regression": (XGBRegressor, LGBMRegressor, RandomForestRegressor),
}


def make_teachers(seed, n_estimators=None, which="all", task="classification"):
    """The unfitted teachers: XGBoost, LightGBM and an encoded RandomForest.

    Parameters
    ----------
    seed : int
        ``random_state`` of each.
    n_estimators : int or None, default=None
        Trees of each (None: the libraries' defaults, 100).
    which : {"all", "xgb"}, default="all"
        All three, or XGBoost alone (plain KD's teacher).
    task : {"classification", "regression"}, default="classification"
        Classifiers or regressors.

    Returns
    -------
    list of estimators
    """
    xgb_class, lgbm_class, forest_class = _TEACHER_CLASSES[task]
    size = {} if n_estimators is None else {"n_estimators": n_estimators}
    xgb = xgb_class(n_jobs=1, random_state=seed, enable_categorical=True,
                    tree_method="hist", **size)
    if which == "xgb":
        return [xgb]
    codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    forest = make_pipeline(
        make_column_transformer(
            (codes, make_column_selector(dtype_include="category")),
            remainder="passthrough", verbose_feature_names_out=False),
        forest_class(n_jobs=1, random_state=seed, **size))
    return [xgb, lgbm_class(n_jobs=1, random_state=seed, verbose=-1, **size),
            forest]


def fit_prefit_teachers(teachers, split):
    """Fit teachers on the training rows and freeze them, as a user would.

    Parameters
    ----------
    teachers : list of estimators
        Unfitted.
    split : Split

    Returns
    -------
    frozen : list of FrozenEstimator
    fit_s : float
        Wall time of fitting them.
    """
    start = time.perf_counter()
    fitted = [clone(t).fit(split.X_train, split.y_train) for t in teachers]
    return [FrozenEstimator(t) for t in fitted], time.perf_counter() - start


class Split:
    """One seed's train/test split and the 10,000 timing rows.

    Stratified on the labels for classification (``stratify=True``), plain
    random for regression.
    """

    def __init__(self, X, y, seed, latency_rows=LATENCY_ROWS, stratify=True):
        self.seed = seed
        (self.X_train, self.X_test, self.y_train,
         self.y_test) = train_test_split(X, y, test_size=TEST_SIZE,
                                         stratify=y if stratify else None,
                                         random_state=seed)
        rows = np.random.default_rng(seed).integers(0, len(self.X_test),
                                                    latency_rows)
        self.X_latency = self.X_test.iloc[rows]


class Teachers:
    """What every row is measured against: the fused teachers of the default fit.

    Parameters
    ----------
    distiller : HPMDistiller
        The fitted ``HPMDistiller()``.
    split : Split
    """

    def __init__(self, distiller, split):
        proba = distiller.teacher_proba(split.X_test)
        self.pred = distiller.classes_[proba.argmax(axis=1)]
        self.accuracy = float(np.mean(self.pred == split.y_test))
        self.size = model_size(list(distiller.teachers_))
        self.latency_s = predict_latency(distiller.teacher_proba, split.X_latency)
        self.fit_s = distiller.report_.timings_s["teachers"]


def _memory_params():
    """A fresh optimization memory per fit, where the default is a stored one.

    With ``memory=None`` by default (so far) nothing changes. Were the default a
    persistent file, each fit would get an empty one of its own: it then sees
    what ships with the package and nothing from the fits before it (no order
    effects, no cached teacher outputs), and the user's own memory is neither
    read nor written.
    """
    if HPMDistiller().get_params().get("memory") is None:
        return {}
    return {"memory": str(Path(tempfile.mkdtemp(prefix="skdistill-bench-"))
                          / "memory.db")}


def warm_up():
    """One untimed fit, so that no timed fit pays the one-time imports.

    torch imports its compiler stack when the first optimizer is made (seconds),
    the boosters load their libraries on first use. The fit below need not
    train an MLP, so the first optimizer is made here as well (about 2 s on 2
    cores; without it the first timed fit of each process paid it).
    """
    import torch
    from sklearn.datasets import make_classification

    torch.optim.Adam(torch.nn.Linear(1, 1).parameters())

    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    X = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    X["c"] = pd.Categorical(np.where(y == 1, "a", "b"))
    split = Split(X, y, 0, 100)
    HPMDistiller(make_teachers(0, 2), random_state=0, n_jobs=1, cv=2,
                 **_memory_params()).fit(split.X_train, split.y_train)


def fit_distiller(split, teachers, params, seed, estimator=HPMDistiller):
    """Fit one HPMDistiller (or HPMRegressor) on the training rows.

    Parameters
    ----------
    split : Split
    teachers : list of estimators
        Unfitted, or prefit behind ``FrozenEstimator``.
    params : dict
        Its parameters besides the teachers, the seed and ``n_jobs=1``.
    seed : int
    estimator : class, default=HPMDistiller
        ``HPMDistiller`` or ``HPMRegressor``.

    Returns
    -------
    distiller : HPMDistiller or HPMRegressor
    fit_s : float
        Wall time of its ``fit``.
    """
    distiller = estimator(teachers, random_state=seed, n_jobs=1,
                          **_memory_params())
    distiller.set_params(**params)
    start = time.perf_counter()
    distiller.fit(split.X_train, split.y_train)
    return distiller, time.perf_counter() - start


def measure(model, predict_proba, split, ref, fit_s=None, phases=None):
    """The table's columns for one fitted model.

    Parameters
    ----------
    model : estimator or list
        What is measured for size (the student pipeline, a teacher...).
    predict_proba : callable
        Its probabilities on raw rows (timed on the 10,000 rows).
    split : Split
    ref : Teachers
    fit_s : float or None
    phases : dict or None
        Phase timings of an HPMDistiller fit.

    Returns
    -------
    dict
    """
    pred = predict_proba(split.X_test).argmax(axis=1)
    size = model_size(model)
    accuracy = float(np.mean(pred == split.y_test))
    without_teachers = None
    if fit_s is not None and phases:
        without_teachers = fit_s - phases.get("teachers", 0.0)
    return {
        "status": "ok",
        "accuracy": accuracy,
        "retention": accuracy / ref.accuracy,
        "fidelity": float(np.mean(pred == ref.pred)),
        "compression": ref.size.n_bytes / size.n_bytes,
        "compression_parameters": (
            None if not (size.n_parameters and ref.size.n_parameters)
            else ref.size.n_parameters / size.n_parameters),
        "n_bytes": size.n_bytes,
        "n_parameters": size.n_parameters,
        "speedup": ref.latency_s / predict_latency(predict_proba, split.X_latency),
        "fit_s": fit_s,
        "fit_s_without_teachers": without_teachers,
        "phases_s": phases,
    }


def measure_distiller(distiller, fit_s, split, ref):
    """:func:`measure` for a fitted HPMDistiller, with its student and report.

    Parameters
    ----------
    distiller : HPMDistiller
    fit_s : float
    split : Split
    ref : Teachers

    Returns
    -------
    dict
    """
    figures = measure(distiller.student_, distiller.student_.predict_proba, split,
                      ref, fit_s, dict(distiller.report_.timings_s))
    own = distiller.teacher_proba(split.X_test).argmax(axis=1)
    student = distiller.predict(split.X_test)
    figures.update(
        fidelity_own_teachers=float(np.mean(student == distiller.classes_[own])),
        report_compression=distiller.report_.compression,
        student=describe_student(distiller.student_[-1]),
        chain=[step.get("capacity") for step in
               distiller.report_.details.get("chain") or []])
    checks = distiller.report_.details.get("prefit_checks")
    if checks:  # prefit_teachers="auto": which prefit teachers were cross-fitted
        figures["prefit_cross_fitted"] = {
            name: check["cross_fitted"] for name, check in checks.items()}
    return figures


def failed(error):
    """A failed row: its status and the first line of the reason.

    Parameters
    ----------
    error : Exception or str

    Returns
    -------
    dict
    """
    text = f"{type(error).__name__}: {error}" if isinstance(error, Exception) \
        else str(error)
    return {"status": "failed", "error": text.strip().splitlines()[0][:300]}


def ablations(components=COMPONENTS, estimator=HPMDistiller):
    """The ablation rows: name -> parameters, or name -> None when skipped.

    Parameters
    ----------
    components : sequence of (parameter, on, off), default=COMPONENTS
    estimator : class, default=HPMDistiller

    Returns
    -------
    dict
    """
    defaults = estimator().get_params()
    name = estimator.__name__
    rows = {}
    for param, on, off in components:
        if param not in defaults:
            rows[f"{name}({param}=...)"] = None
            continue
        value = on if defaults[param] == off else off
        rows[f"{name}({param}={value!r})"] = {param: value}
    return rows


def accepts(estimator, params):
    """Why the installed ``estimator`` cannot take ``params``, or None if it can.

    Parameters
    ----------
    estimator : estimator instance
        Unfitted, e.g. ``HPMDistiller()``.
    params : dict
        Parameters and values.

    Returns
    -------
    str or None
    """
    known = estimator.get_params()
    missing = sorted(set(params) - set(known))
    if missing:
        return (f"not in this version: {type(estimator).__name__} has no "
                f"parameter {', '.join(missing)}")
    try:
        validate_parameter_constraints(
            {k: v for k, v in estimator._parameter_constraints.items()
             if k in params}, params, type(estimator).__name__)
    except InvalidParameterError as error:
        return f"not in this version: {str(error).splitlines()[0]}"
    return None


def lever_rows():
    """The lever rows: name -> parameters, or name -> why it is skipped.

    Returns
    -------
    dict
        A dict of parameters (``student`` maybe a key of ``STUDENTS``) where the
        installed versions take them, else a str.
    """
    rows = {}
    for row, params in LEVERS.items():
        student = STUDENTS.get(params.get("student"), {})
        others = {k: v for k, v in params.items() if k != "student"}
        embedding = {k: v for k, v in student.items() if k != "ratio"}
        rows[row] = (accepts(HPMDistiller(), others)
                     or (embedding and accepts(MLPStudent(), embedding))
                     or params)
    return rows


def resolve_student(name, default, split, ref):
    """The student a row names: a clone of the default's, or a sized MLP.

    Parameters
    ----------
    name : str
        A key of ``STUDENTS``.
    default : HPMDistiller
        The fitted ``HPMDistiller()`` of the split.
    split : Split
    ref : Teachers

    Returns
    -------
    estimator
    """
    spec = dict(STUDENTS[name])
    if "ratio" not in spec:
        return clone(default.student_[-1])
    width = curve_width(split, ref, spec.pop("ratio"), len(default.classes_))
    return MLPStudent(hidden_layer_sizes=(width,), random_state=split.seed,
                      **spec)


def lgbm_direct(split, n_estimators, seed):
    """A plain LightGBM of ``LGBM_LEAVES`` leaves on all the training labels.

    Parameters
    ----------
    split : Split
    n_estimators : int
    seed : int

    Returns
    -------
    model : LGBMClassifier
    fit_s : float
    """
    model = LGBMClassifier(n_estimators=n_estimators, num_leaves=LGBM_LEAVES,
                           n_jobs=1, random_state=seed, verbose=-1)
    start = time.perf_counter()
    model.fit(split.X_train, split.y_train)
    return model, time.perf_counter() - start


def trees_for_bytes(n_bytes, per_tree_bytes):
    """Trees of a LightGBM nearest ``n_bytes``, between 1 and ``LGBM_TREES``.

    Parameters
    ----------
    n_bytes : float
        The budget (the default student's bytes).
    per_tree_bytes : float
        Bytes per tree, measured on the ``LGBM_TREES``-tree model.

    Returns
    -------
    int
    """
    return int(min(LGBM_TREES, max(1, round(n_bytes / per_tree_bytes))))


def hidden_units(max_parameters, n_inputs, n_classes):
    """Width of the one hidden layer whose weights come nearest the budget."""
    return int(max(1, round((max_parameters - n_classes) / (n_inputs + 1
                                                              + n_classes))))


def mlp_inputs(split):
    """Columns an MLP student sees: its default preprocessing of the training rows.

    Parameters
    ----------
    split : Split

    Returns
    -------
    int
    """
    from skdistill._preprocess import default_preprocessor

    preprocessor = default_preprocessor("mlp", split.X_train).fit(split.X_train)
    return preprocessor.transform(split.X_train.iloc[:2]).shape[1]


def prefit_curve_case(split, ratio, task="classification"):
    """The suite's teachers fitted on the split's training rows and frozen, and
    the hidden units of a one-layer MLP ``ratio`` times smaller than them in
    parameters (as :func:`curve_width`, from the frozen teachers).

    Returns
    -------
    frozen : list of FrozenEstimator
    width : int
    """
    frozen, _ = fit_prefit_teachers(make_teachers(split.seed, task=task), split)
    n_parameters = model_size([f.estimator for f in frozen]).n_parameters
    n_outputs = 1 if task == "regression" else len(np.unique(split.y_train))
    return frozen, hidden_units(n_parameters / ratio, mlp_inputs(split), n_outputs)


def curve_width(split, ref, ratio, n_outputs):
    """Hidden units of the curve's student, ``ratio`` times smaller than the teachers.

    The inputs are those of an MLP student (its default preprocessing: one-hot
    categories), whatever the default's student is.

    Parameters
    ----------
    split : Split
    ref : Teachers
        Their parameters are the budget's numerator.
    ratio : float
        Target compression in parameters.
    n_outputs : int
        The classes (one for regression).

    Returns
    -------
    int
    """
    return hidden_units(ref.size.n_parameters / ratio, mlp_inputs(split),
                        n_outputs)
