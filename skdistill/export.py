"""Ship the small model: a fitted student, its preprocessing included, as ONNX.

:func:`to_onnx` writes one ONNX graph that takes the rows the distiller takes and
returns the probabilities ``predict_proba`` returns, computed the same way, so that
the student serves with nothing but an ONNX runtime. Every family of
:mod:`skdistill.students` is supported:

- ``MLPStudent``: the torch network written layer by layer (standardization,
  ``Gemm`` and activation nodes in float32), then a float64 softmax.
- ``TreeStudent``, ``LGBMStudent``, ``XGBStudent``: the fitted trees rewritten as
  one ``ai.onnx.ml`` ``TreeEnsemble`` node in float64, with each library's own
  comparison (scikit-learn: ``float32(x) <= t``; LightGBM: ``x <= t`` in float64;
  XGBoost: ``float32(x) < t``) and missing-value direction, then the student's own
  link (init score, softmax) and the clipping, renormalisation and sharpening by
  ``temperature_`` of ``BaseStudent.predict_proba``.
- ``LinearStudent``: a matrix product and a softmax, then the same sharpening.

The preprocessing that ``HPMDistiller`` fits for the student (imputation with
missing-value indicators, standard scaling, a ``ColumnTransformer`` over numeric
columns) is written node by node in float64, so it equals scikit-learn's to the
last bit; any other transformer goes through ``skl2onnx``.
"""

import json

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._onnx._graph import _INPUT, _INSTALL_HINT, _OUTPUT, _Graph
from ._onnx._preprocessing import _convert_step, _is_passthrough
from ._onnx._serving import OnnxServingModel
from ._onnx._skl2onnx import register_skl2onnx_converters
from ._onnx._students import _STUDENT_CONVERTERS

__all__ = ["OnnxServingModel", "register_skl2onnx_converters", "serving_model",
           "to_onnx"]


def to_onnx(distiller_or_student, X_sample, path=None):
    """Export a fitted student with its preprocessing as an ONNX model.

    Parameters
    ----------
    distiller_or_student : HPMDistiller, Pipeline or student
        A fitted :class:`~skdistill.HPMDistiller` (its ``student_`` is exported),
        a fitted :class:`~sklearn.pipeline.Pipeline` whose last step is a student
        (such as ``student_``), or a fitted student alone.
    X_sample : array-like or DataFrame of shape (n_samples, n_features)
        A few rows of what the model is given at serving time (raw rows, before
        the preprocessing): they fix the input's width and column order and are
        passed through the scikit-learn steps to check them. DataFrames must have
        numeric columns only. Its dtype sets the graph's input type: float32
        rows (an array, or a DataFrame whose columns are all float32) give a
        float32 input, anything else a float64 one.
    path : str or path-like, default=None
        Where to write the model too; ``None`` only returns it.

    Returns
    -------
    onnx.ModelProto
        A graph with one input ``"X"``, float64 (or float32, as ``X_sample``)
        of shape ``(n_rows, n_features)`` (columns in the order of
        ``feature_names_in_`` when the model saw names), and one output
        ``"probabilities"``, float64 of shape ``(n_rows, n_classes)``, columns
        in the order of ``classes_``. The labels are in the
        model's metadata (``metadata_props["classes"]``, JSON), with the input
        column names (``"input_columns"``) and the student family.

    Raises
    ------
    ImportError
        When ``onnx`` (or ``skl2onnx``, for preprocessing steps other than the
        default ones) is not installed: ``pip install "skdistill[onnx]"``.
    NotImplementedError
        For a student family or a preprocessing step that cannot be exported,
        and for DataFrames with non-numeric (categorical) columns.
    ValueError
        When ``X_sample`` does not have the columns the model was fitted on.

    See Also
    --------
    HPMDistiller.predict_proba : What the exported graph computes.

    Notes
    -----
    Feed the graph rows of its input type (float64 unless exported from a
    float32 sample: most ONNX serving code sends float32, and skl2onnx's
    default is float32). It casts them to float64, computes in float64 and
    rounds to float32 exactly where the libraries do: before a scikit-learn or
    XGBoost tree, and before the torch network. Its probabilities agree with
    ``predict_proba`` to about 1e-15 for tree, LightGBM and linear students
    (onnxruntime's graph optimizations may move the last digits, up to about
    1e-9), and to float32 precision (about 1e-7) for XGBoost, which sums its
    trees in float32, and for MLPs.

    The MLP is written layer by layer (``Sub``/``Div`` for its
    standardization, ``Gemm`` and the activation per layer, in float32 as torch
    runs it), with no torch exporter involved. The trees use
    ``ai.onnx.ml.TreeEnsemble`` (opset 5, float64 thresholds and leaves), which
    onnxruntime runs from version 1.21 on.

    Categorical columns would need string inputs and their encoders in the graph;
    they are not supported yet.

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
    convert = _STUDENT_CONVERTERS.get(type(student))
    if convert is None:
        raise NotImplementedError(
            f"to_onnx cannot export a {type(student).__name__} student; the "
            f"supported families are {_supported_families()}."
        )
    input_type = "FLOAT" if _is_float32(X_sample) else "DOUBLE"
    sample, columns = _checked_sample(X_sample, steps[0] if steps else student)
    graph = _Graph()
    Z = _INPUT if input_type == "DOUBLE" else graph.cast(_INPUT, "DOUBLE")
    Z_sample = sample
    for step in steps:
        Z, Z_sample = _convert_step(graph, step, Z, Z_sample)
    if Z_sample.shape[1] != student.n_features_in_:
        raise ValueError(
            f"the preprocessing outputs {Z_sample.shape[1]} columns but the "
            f"student was fitted on {student.n_features_in_}."
        )
    proba = convert(graph, student, Z)
    graph.add("Identity", [proba], output=_OUTPUT)
    model = graph.model(np.shape(sample)[1], len(student.classes_), input_type)
    _describe(model, student, columns)
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        onnx.save_model(model, path)
    return model


def serving_model(distiller_or_student, X_sample, n_threads=1):
    """The student exported to ONNX and served by onnxruntime, for Python users.

    Parameters
    ----------
    distiller_or_student : HPMDistiller, Pipeline or student
        What :func:`to_onnx` takes.
    X_sample : array-like or DataFrame of shape (n_samples, n_features)
        What :func:`to_onnx` takes; float32 rows make a float32 model.
    n_threads : int, default=1
        onnxruntime's intra-op threads.

    Returns
    -------
    OnnxServingModel
        ``predict``/``predict_proba`` through onnxruntime, ``classes_``; it
        pickles.

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
    return OnnxServingModel(to_onnx(distiller_or_student, X_sample), n_threads)


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
    """Whether the sample's values are float32 (an array, or every column)."""
    dtypes = getattr(X_sample, "dtypes", None)
    if dtypes is not None:
        return len(dtypes) > 0 and all(dtype == np.float32 for dtype in dtypes)
    return getattr(X_sample, "dtype", None) == np.float32


def _supported_families():
    return ", ".join(cls.__name__ for cls in _STUDENT_CONVERTERS)



def _checked_sample(X_sample, first):
    """``X_sample`` checked to be numeric, in ``first``'s column order; the columns.

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
        if categorical:
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


def _describe(model, student, columns):
    """Labels, input columns and family in the model's metadata."""
    from onnx import helper

    classes = [c.item() if hasattr(c, "item") else c for c in student.classes_]
    props = {"classes": json.dumps(classes, default=str),
             "student": type(student).__name__}
    if columns is not None:
        props["input_columns"] = json.dumps(columns)
    helper.set_model_props(model, props)
