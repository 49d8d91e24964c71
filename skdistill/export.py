"""Ship the small model: a fitted student, its preprocessing included, as ONNX.

:func:`to_onnx` writes one ONNX graph that takes the rows the distiller takes and
returns the probabilities ``predict_proba`` returns, computed the same way, so that
the student serves with nothing but an ONNX runtime. Every family of
:mod:`skdistill.students` is supported:

- ``MLPStudent``: the torch network written layer by layer (``Gemm`` and
  activation nodes in float32, its standardization folded into the first
  ``Gemm``), then a float64 softmax.
- ``TreeStudent``, ``LGBMStudent``, ``XGBStudent``: the fitted trees rewritten as
  one ``ai.onnx.ml`` ``TreeEnsemble`` node in float64, with each library's own
  comparison (scikit-learn: ``float32(x) <= t``; LightGBM: ``x <= t`` in float64;
  XGBoost: ``float32(x) < t``, written as exactly equal float64 ``x <= t'``) and
  missing-value direction, then the student's own link (init score, softmax)
  and the sharpening by ``temperature_`` of ``BaseStudent.predict_proba``. A
  scikit-learn tree's leaves hold ``predict_proba`` itself.
- ``LinearStudent``: one ``Gemm`` and a softmax.

The preprocessing that ``HPMDistiller`` fits for the student (imputation with
missing-value indicators, standard scaling, the categorical columns' ordinal or
one-hot codes) is written in float64 with as few nodes as it can be: the
scaling is folded into the trees' thresholds (exactly) or into the first
linear layer's weights (to rounding), and the one-hot block is read as the
category codes by trees and as looked-up weights by a linear layer. Any other
transformer goes through ``skl2onnx``.

:func:`onnx_inputs` makes the graph's inputs from a DataFrame,
:func:`serving_model` serves the graph behind ``predict``/``predict_proba``, and
:func:`register_skl2onnx_converters` lets ``skl2onnx.to_onnx`` convert a user's
own pipeline that ends in a student.
"""

import json

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._onnx._graph import _INPUT, _INSTALL_HINT, _OUTPUT, _PREDICTIONS, _Graph
from ._onnx._lleaves import LleavesServingModel, import_lleaves
from ._onnx._llvm import LlvmServingModel, import_llvmlite
from ._onnx._preprocessing import _convert_step, _is_passthrough
from ._onnx._serving import OnnxServingModel
from ._onnx._skl2onnx import register_skl2onnx_converters
from ._onnx._students import _REGRESSION_CONVERTERS, _STUDENT_CONVERTERS
from ._onnx._table import (
    CATEGORICAL_INPUT,
    feeds,
    frame_values,
    layout_of,
    table_layout,
    table_preprocessing,
)

__all__ = ["LleavesServingModel", "LlvmServingModel", "OnnxServingModel", "onnx_inputs",
           "register_skl2onnx_converters", "serving_model", "to_onnx"]


def to_onnx(distiller_or_student, X_sample, path=None):
    """Export a fitted student with its preprocessing as an ONNX model.

    Parameters
    ----------
    distiller_or_student : HPMDistiller, HPMRegressor, Pipeline or student
        A fitted :class:`~skdistill.HPMDistiller` or
        :class:`~skdistill.HPMRegressor` (its ``student_`` is exported),
        a fitted :class:`~sklearn.pipeline.Pipeline` whose last step is a student
        (such as ``student_``), or a fitted student alone.
    X_sample : array-like or DataFrame of shape (n_samples, n_features)
        A few rows of what the model is given at serving time (raw rows, before
        the preprocessing): they fix the input's width and column order and are
        passed through the scikit-learn steps to check them. Its dtype sets the
        numeric input's type: float32 rows (an array, or a DataFrame whose
        numeric columns are all float32) give a float32 input, anything else a
        float64 one. Categorical columns (category, object, string, bool) are
        supported behind the distiller's default preprocessing.
    path : str or path-like, default=None
        Where to write the model too; ``None`` only returns it.

    Returns
    -------
    onnx.ModelProto
        A graph with one input ``"X"``, float64 (or float32, as ``X_sample``)
        of shape ``(n_rows, n_features)`` (columns in the order of
        ``feature_names_in_`` when the model saw names), or, when the student's
        default preprocessing saw categorical columns, two: ``"X"`` with the
        numeric columns and ``"X_categorical"``, strings of shape ``(n_rows,
        n_categorical)`` (:func:`onnx_inputs` makes both from a DataFrame);
        and one output
        ``"probabilities"``, float64 of shape ``(n_rows, n_classes)``, columns
        in the order of ``classes_``. The labels are in the
        model's metadata (``metadata_props["classes"]``, JSON), with the input
        column names (``"input_columns"``, and ``"categorical_columns"`` for
        the string input) and the student family. A regression student's
        (or :class:`~skdistill.HPMRegressor`'s) graph has the output
        ``"predictions"`` instead, float64 of shape ``(n_rows, 1)``: what
        ``predict`` returns, in the units of ``y``; its metadata says
        ``"task": "regression"`` in place of the classes.

    Raises
    ------
    ImportError
        When ``onnx`` (or ``skl2onnx``, for preprocessing steps other than the
        default ones) is not installed: ``pip install "skdistill[onnx]"``.
    NotImplementedError
        For a student family or a preprocessing step that cannot be exported,
        for categorical columns behind a preprocessing other than the default
        one, and for datetime or timedelta columns.
    ValueError
        When ``X_sample`` does not have the columns the model was fitted on.

    See Also
    --------
    HPMDistiller.predict_proba : What the exported graph computes.

    Notes
    -----
    Feed the graph rows of its input type (float64 unless exported from a
    float32 sample: most ONNX serving code sends float32, and skl2onnx's
    default is float32). It casts them to float64, computes in float64 (the
    torch network in float32, as torch runs it) and splits as the libraries do
    (scikit-learn's and XGBoost's float32 comparisons folded into float64
    thresholds). Its probabilities agree with
    ``predict_proba`` to about 1e-15 for tree, LightGBM and linear students
    (exactly for scikit-learn trees; onnxruntime's graph optimizations may move
    the last digits, up to about 1e-9; a temperature above 1 folded into the
    logits moves a probability under 1e-12 by less than 1e-9), and to float32
    precision (about 1e-7) for XGBoost, which sums its trees in float32, and
    for MLPs.

    The MLP is written layer by layer (its standardization and the
    preprocessing's scaling folded into the first ``Gemm``, in float32 as
    torch runs it unless a column's scaled offset is large, then in float64;
    ``Gemm`` and the activation per layer), with no torch exporter involved.
    The trees use ``ai.onnx.ml.TreeEnsemble`` (opset 5, float64 thresholds and
    leaves), which onnxruntime runs from version 1.21 on.

    Categorical columns: the string input holds each value in the canonical
    form the default preprocessing matches categories by (``20``, ``20.0`` and
    ``"20"`` are all ``"20"``; missing values are ``"__missing__"``), and
    one ``LabelEncoder`` node looks every column's value up at once in the
    categories seen in ``fit`` (each value prefixed by its column's position by
    one ``StringConcat``: the same few nodes whatever the number of columns);
    then the ordinal codes, or the one-hot columns (the infrequent and unseen
    categories included) read from a constant table, as the category codes by
    trees, or as looked-up weights by a linear layer, exactly as
    ``predict_proba`` encodes them. Feed it with
    :func:`onnx_inputs`, or serve it from Python with :func:`serving_model`.

    Examples
    --------
    >>> import onnxruntime as ort
    >>> from sklearn.datasets import load_iris
    >>> from skdistill import TreeStudent
    >>> from skdistill.export import to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> student = TreeStudent(max_depth=3, random_state=0).fit(X, y)
    >>> model = to_onnx(student, X[:5])
    >>> session = ort.InferenceSession(model.SerializeToString())
    >>> proba = session.run(None, {"X": X})[0]
    >>> bool(abs(proba - student.predict_proba(X)).max() < 1e-12)
    True
    """
    onnx = _import_onnx()
    steps, student = _unpack(distiller_or_student)
    regression = type(student) in _REGRESSION_CONVERTERS
    convert = (_REGRESSION_CONVERTERS if regression
               else _STUDENT_CONVERTERS).get(type(student))
    if convert is None:
        raise NotImplementedError(
            f"to_onnx cannot export a {type(student).__name__} student; the "
            f"supported families are {_supported_families()}."
        )
    input_type = "FLOAT" if _is_float32(X_sample) else "DOUBLE"
    first = steps[0] if steps else student
    layout = _layout(first)
    sample, columns = _checked_sample(X_sample, first,
                                      categorical_ok=layout is not None)
    graph = _Graph()
    Z = _INPUT if input_type == "DOUBLE" else graph.cast(_INPUT, "DOUBLE")
    Z_sample = sample
    if layout is None:
        inputs = [(_INPUT, input_type, np.shape(sample)[1])]
    else:
        inputs = _table_inputs(layout, input_type)
        numeric_sample = sample[layout.names(layout.numeric)]
        Z = table_preprocessing(graph, first, layout, Z, numeric_sample,
                                _convert_step)
        Z_sample, steps = first.transform(sample), steps[1:]
    for step in steps:
        Z, Z_sample = _convert_step(graph, step, Z, Z_sample)
    if Z_sample.shape[1] != student.n_features_in_:
        raise ValueError(
            f"the preprocessing outputs {Z_sample.shape[1]} columns but the "
            f"student was fitted on {student.n_features_in_}."
        )
    output = _PREDICTIONS if regression else _OUTPUT
    graph.add("Identity", [convert(graph, student, Z)], output=output)
    model = graph.model(inputs, 1 if regression else len(student.classes_), output)
    _describe(model, student, columns, layout)
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        onnx.save_model(model, path)
    return model


def onnx_inputs(model, X):
    """The inputs of an exported model, made from rows ``X``, for ``session.run``.

    Parameters
    ----------
    model : onnx.ModelProto
        What :func:`to_onnx` returned.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Rows as the distiller takes them; a DataFrame (columns by name) when
        the student saw categorical columns.

    Returns
    -------
    dict of str to ndarray
        ``{"X": ...}``, and ``"X_categorical"`` (canonical strings, missing
        values as ``"__missing__"``) for a model with categorical columns.

    Examples
    --------
    >>> import onnxruntime as ort
    >>> import pandas as pd
    >>> from skdistill import TreeStudent
    >>> from skdistill.export import onnx_inputs, to_onnx
    >>> X = pd.DataFrame({"x": [0.1, 0.4, 0.8, 0.9], "z": [1.0, 0.0, 1.0, 0.0]})
    >>> student = TreeStudent(max_depth=2).fit(X, [0, 0, 1, 1])
    >>> model = to_onnx(student, X)
    >>> session = ort.InferenceSession(model.SerializeToString())
    >>> session.run(None, onnx_inputs(model, X[["z", "x"]]))[0].shape
    (4, 2)
    """
    from onnx import TensorProto

    elem_type = model.graph.input[0].type.tensor_type.elem_type
    dtype = np.float32 if elem_type == TensorProto.FLOAT else np.float64
    layout = layout_of(model)
    if layout is not None:
        return feeds(layout, X, dtype)
    columns = {prop.key: prop.value for prop in model.metadata_props}.get(
        "input_columns")
    if hasattr(X, "columns") and columns is not None:
        return {_INPUT: frame_values(X, json.loads(columns), dtype)}
    return {_INPUT: np.asarray(X, dtype=dtype)}


def serving_model(distiller_or_student, X_sample, n_threads=1,
                  engine="onnxruntime"):
    """The student exported to ONNX and served by onnxruntime, for Python users.

    Parameters
    ----------
    distiller_or_student : HPMDistiller, Pipeline or student
        What :func:`to_onnx` takes.
    X_sample : array-like or DataFrame of shape (n_samples, n_features)
        What :func:`to_onnx` takes; float32 rows make a float32 model.
    n_threads : int, default=1
        onnxruntime's intra-op threads (and lleaves' threads).
    engine : {"onnxruntime", "lleaves", "llvm"}, default="onnxruntime"
        ``"lleaves"``, for a tree student (``TreeStudent``, ``LGBMStudent``,
        ``XGBStudent`` and their regression twins): its trees compiled to
        machine code by lleaves (the ``lleaves`` extra), the rest of the graph
        run by onnxruntime; 4-7 times faster than onnxruntime's
        ``TreeEnsemble`` on 10,000 rows of the suite's LightGBM students,
        compiled in 0.1-7 s. Batches of
        fewer than 32 rows still run the whole graph in onnxruntime.

        ``"llvm"``, for a dense student (``LinearStudent``, ``MLPStudent``
        and their regression twins): every node after the category strings'
        lookup compiled to machine code through llvmlite (the ``llvm``
        extra), in about 0.1-0.2 s; one row of the suite's dense students in
        6-9 µs against onnxruntime's 39-57 µs (``benchmarks/README.md``).

    Returns
    -------
    OnnxServingModel
        ``predict``/``predict_proba`` through onnxruntime, ``classes_``; it
        pickles. With ``engine="lleaves"``, a :class:`LleavesServingModel`;
        with ``engine="llvm"``, a :class:`LlvmServingModel`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdistill import TreeStudent
    >>> from skdistill.export import serving_model
    >>> X, y = load_iris(return_X_y=True)
    >>> student = TreeStudent(max_depth=3, random_state=0).fit(X, y)
    >>> served = serving_model(student, X[:5])
    >>> bool((served.predict(X) == student.predict(X)).all())
    True
    """
    engines = {"onnxruntime": (OnnxServingModel, None),
               "lleaves": (LleavesServingModel, import_lleaves),
               "llvm": (LlvmServingModel, import_llvmlite)}
    if engine not in engines:
        raise ValueError("engine must be 'onnxruntime', 'lleaves' or 'llvm'; "
                         f"got {engine!r}.")
    served, check_installed = engines[engine]
    if check_installed is not None:
        check_installed()  # before the export's work
    return served(to_onnx(distiller_or_student, X_sample), n_threads)


def _import_onnx():
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            f"skdistill.export needs the onnx package: {_INSTALL_HINT}"
        ) from error
    return onnx


def _unpack(model):
    """The fitted preprocessing steps and the fitted student of ``model``."""
    if isinstance(getattr(model, "student_", None), Pipeline):
        model = model.student_  # a fitted HPMDistiller
    check_is_fitted(model)
    if not isinstance(model, Pipeline):
        return [], model
    steps = [step for _, step in model.steps[:-1]
             if step is not None and not _is_passthrough(step)]
    return steps, model.steps[-1][1]


def _is_float32(X_sample):
    """Whether the sample's numbers are float32 (an array, or every numeric
    column of a DataFrame)."""
    if hasattr(X_sample, "select_dtypes"):
        dtypes = X_sample.select_dtypes(include="number").dtypes
        return len(dtypes) > 0 and all(dtype == np.float32 for dtype in dtypes)
    return getattr(X_sample, "dtype", None) == np.float32


def _layout(first):
    """The table layout of the default preprocessing with categorical columns."""
    names = getattr(first, "feature_names_in_", None)
    if names is None:
        return None
    return table_layout(first, [str(name) for name in names])


def _table_inputs(layout, input_type):
    numeric = [(_INPUT, input_type, len(layout.numeric))] if layout.numeric else []
    return numeric + [(CATEGORICAL_INPUT, "STRING", len(layout.categorical))]


def _supported_families():
    return ", ".join(cls.__name__ for cls in (*_STUDENT_CONVERTERS,
                                              *_REGRESSION_CONVERTERS))



def _checked_sample(X_sample, first, categorical_ok=False):
    """``X_sample`` checked to be numeric (unless ``categorical_ok``), in
    ``first``'s column order; the columns.

    When ``first`` (the first step, or the student) saw column names, the sample
    is a DataFrame with those columns in that order (the fitted steps may select
    columns by name); otherwise a float64 array.
    """
    names = getattr(first, "feature_names_in_", None)
    columns = None if names is None else [str(name) for name in names]
    if hasattr(X_sample, "columns"):
        import pandas as pd

        if columns is not None:
            missing = sorted(set(columns) - {str(c) for c in X_sample.columns})
            if missing:
                raise ValueError(f"X_sample lacks the columns {missing}.")
            X_sample = X_sample[columns]
        categorical = [
            str(name) for name, dtype in X_sample.dtypes.items()
            if not pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
        ]
        if categorical and not categorical_ok:
            raise NotImplementedError(
                "to_onnx supports numeric inputs only: mixed-type DataFrames are "
                f"not supported (categorical columns: {categorical})."
            )
        sample = X_sample if columns is not None else X_sample.to_numpy(
            dtype=np.float64, na_value=np.nan)
    else:
        try:
            sample = np.asarray(X_sample, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise NotImplementedError(
                "to_onnx supports numeric inputs only: X_sample has non-numeric "
                "values."
            ) from error
        if sample.ndim != 2:
            raise ValueError(
                f"X_sample must be 2-dimensional; got shape {sample.shape}.")
        if columns is not None and sample.shape[1] == len(columns):
            import pandas as pd

            sample = pd.DataFrame(sample, columns=columns)
    n_features = getattr(first, "n_features_in_", np.shape(sample)[1])
    if np.shape(sample)[1] != n_features:
        raise ValueError(
            f"X_sample has {np.shape(sample)[1]} columns; the model was fitted on "
            f"{n_features}."
        )
    return sample, columns


def _describe(model, student, columns, layout):
    """Labels (or ``task``: ``"regression"``), input columns and family in the
    model's metadata.

    With categorical columns, ``input_columns`` are the numeric input's and
    ``categorical_columns`` the string input's.
    """
    from onnx import helper

    props = {"student": type(student).__name__}
    if hasattr(student, "classes_"):
        classes = [c.item() if hasattr(c, "item") else c for c in student.classes_]
        props["classes"] = json.dumps(classes, default=str)
    else:
        props["task"] = "regression"
    if layout is not None:
        props["input_columns"] = json.dumps(layout.names(layout.numeric))
        props["categorical_columns"] = json.dumps(layout.names(layout.categorical))
    elif columns is not None:
        props["input_columns"] = json.dumps(columns)
    helper.set_model_props(model, props)
