"""The student's preprocessing as ONNX nodes, in float64.

The steps ``HPMDistiller`` fits for the student (imputation with missing-value
indicators, standard scaling, a ``ColumnTransformer`` over numeric columns) are
written node by node, so they equal scikit-learn's to the last bit; any other
transformer goes through ``skl2onnx``.
"""

from numbers import Real

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils import _safe_indexing

from .._preprocess import _FastTransform
from ._graph import (
    _INSTALL_HINT,
    _OPSET,
    _Columns,
    _columns,
    _combined,
    _Deferred,
    _materialized,
)


def _is_passthrough(step):
    return isinstance(step, str) and step == "passthrough"


def _convert_step(graph, step, Z, sample):
    """Nodes computing ``step.transform``; the output and the sample's.

    The output is a name, or a :class:`~._graph._Columns` whose column
    selection and scaling are still to be written (by :func:`._graph._materialized`,
    or folded into the student).
    """
    out_sample = sample if _is_identity(step) else step.transform(sample)
    if hasattr(out_sample, "toarray"):
        raise NotImplementedError(
            f"to_onnx cannot export {type(step).__name__}: it outputs a sparse "
            "matrix; use a dense preprocessing."
        )
    out_sample = np.asarray(out_sample, dtype=np.float64)
    if _is_identity(step):
        return Z, out_sample
    if isinstance(step, Pipeline):
        for _, inner in step.steps:
            if inner is not None and not _is_passthrough(inner):
                Z, sample = _convert_step(graph, inner, Z, sample)
        return Z, out_sample
    if isinstance(step, ColumnTransformer):
        return _column_transformer(graph, step, Z, sample), out_sample
    if isinstance(step, _FastTransform):
        return _convert_step(graph, step.transformer_, Z, sample)[0], out_sample
    if type(step) is SimpleImputer:
        return _simple_imputer(graph, step, Z), out_sample
    if type(step) is StandardScaler:
        return _standard_scaler(graph, step, Z), out_sample
    return _skl2onnx_step(graph, step, _materialized(graph, Z),
                          np.shape(sample)[1]), out_sample


def _is_identity(step):
    return _is_passthrough(step) or (
        type(step) is FunctionTransformer and step.func is None)


def _column_transformer(graph, transformer, Z, sample):
    """Each transformer on its columns, outputs side by side as scikit-learn does."""
    # Fitted column indices per transformer name ("remainder" included): the
    # mapping scikit-learn itself uses to select the columns in ``transform``.
    indices = transformer._transformer_to_input_indices
    weights = transformer.transformer_weights or {}
    Z = _materialized(graph, Z)
    parts = []
    for name, step, _ in transformer.transformers_:
        columns = list(indices.get(name, []))
        if (isinstance(step, str) and step == "drop") or not columns:
            continue
        if columns == list(range(np.shape(sample)[1])):
            part = Z
        else:
            part = graph.add("Gather", [Z, graph.const(columns, np.int64)], axis=1)
        part_sample = _safe_indexing(sample, columns, axis=1)
        part, part_sample = _convert_step(graph, step, part, part_sample)
        if name in weights:
            part = graph.add("Mul", [_materialized(graph, part),
                                     graph.const(weights[name])])
        parts.append((part, np.shape(part_sample)[1]))
    if not parts:
        raise NotImplementedError("the ColumnTransformer outputs no column.")
    return parts[0][0] if len(parts) == 1 else _combined(parts)


def _simple_imputer(graph, imputer, Z):
    """Fill the missing values with ``statistics_``; missing-value indicators."""
    statistics = np.asarray(imputer.statistics_)
    if statistics.dtype.kind not in "fiub":
        raise NotImplementedError(
            "to_onnx supports numeric inputs only: this SimpleImputer fills "
            f"{statistics.dtype} values."
        )
    statistics = statistics.astype(np.float64)
    Z = _materialized(graph, Z)
    missing_values = imputer.missing_values
    kept = np.isfinite(statistics) | bool(imputer.keep_empty_features)
    fill = np.where(kept, statistics, 0.0)
    width = len(statistics)
    # scikit-learn drops the features it never saw a value of; the indicators
    # are the mask's columns ``features_``: both selections are left to the
    # consumer (one Concat of the whole mask, no Gather).
    index = np.flatnonzero(kept)
    if isinstance(missing_values, Real) and np.isnan(missing_values):
        # deferred: trees read the raw columns instead (no node at all)
        mask = _NaNMask(Z)
        filled, indicators = _Filled(mask, fill), _Missing(mask)
    else:
        mask = graph.add("Equal", [Z, graph.const(missing_values)])
        filled = graph.add("Where", [mask, graph.const(fill), Z])
        indicators = graph.cast(mask, "DOUBLE")
    if not imputer.add_indicator or len(imputer.indicator_.features_) == 0:
        return _columns([(filled, width)], index)
    return _columns([(filled, width), (indicators, width)],
                    np.concatenate([index, width + imputer.indicator_.features_]))


class _NaNMask:
    """``IsNaN`` of the tensor ``raw``, written once, when first needed."""

    def __init__(self, raw):
        self.raw, self.name = raw, None

    def write(self, graph):
        if self.name is None:
            self.name = graph.add("IsNaN", [self.raw])
        return self.name


class _Filled(_Deferred):
    """The imputer's output columns: ``raw``'s, missing values ``fill``."""

    def __init__(self, mask, fill):
        self.mask, self.raw, self.fill = mask, mask.raw, fill
        self.width = len(fill)

    def write(self, graph):
        return graph.add("Where", [self.mask.write(graph), graph.const(self.fill),
                                   self.raw])


class _Missing(_Deferred):
    """The imputer's indicators of every column of ``raw`` (1.0: missing)."""

    def __init__(self, mask):
        self.mask, self.raw = mask, mask.raw

    def write(self, graph):
        return graph.cast(self.mask.write(graph), "DOUBLE")


def _standard_scaler(graph, scaler, Z):
    """``(Z - mean_) / scale_`` as a :class:`~._graph._Columns`: no node yet."""
    if isinstance(Z, _Columns) and Z.scaled:
        Z = _materialized(graph, Z)
    if not isinstance(Z, _Columns):
        Z = _columns([(Z, scaler.n_features_in_)])
    mean = scaler.mean_ if scaler.with_mean else np.zeros(Z.width)
    scale = scaler.scale_ if scaler.with_std else np.ones(Z.width)
    return _columns(Z.parts, Z.index, mean, scale)


def _skl2onnx_step(graph, step, Z, n_features):
    """Any other transformer, converted by skl2onnx on float64 inputs."""
    try:
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import DoubleTensorType
    except ImportError as error:
        raise ImportError(
            f"exporting the preprocessing step {type(step).__name__} needs the "
            f"skl2onnx package: {_INSTALL_HINT}"
        ) from error
    try:
        model = convert_sklearn(
            step, initial_types=[("X", DoubleTensorType([None, n_features]))],
            target_opset={"": _OPSET, "ai.onnx.ml": 3},
        )
    except Exception as error:  # skl2onnx raises many types for "unsupported"
        raise NotImplementedError(
            f"to_onnx cannot export the preprocessing step {type(step).__name__}: "
            f"skl2onnx failed with {type(error).__name__}: {error}"
        ) from error
    out = graph.inline(model, Z, graph.name(type(step).__name__))
    from onnx import TensorProto

    if model.graph.output[0].type.tensor_type.elem_type != TensorProto.DOUBLE:
        out = graph.cast(out, "DOUBLE")
    return out
