"""The students as skl2onnx converters: ``skl2onnx.to_onnx`` of a user's pipeline.

:func:`register_skl2onnx_converters` registers every student family with
``skl2onnx.update_registered_converter``, as a classifier (its label and
probabilities outputs, ZipMap options included), so that skl2onnx converts a
``Pipeline`` that holds a student, with skl2onnx's own encoders in front of it;
every regression student family as a regressor (one output ``variable``,
``predict`` as a column, as skl2onnx's regressors write it); and skdistill's
default preprocessing (``_preprocess._FastTransform``, the first step of
``student_``), as a transformer, so that skl2onnx converts ``student_`` itself.
The nodes are the ones :func:`skdistill.export.to_onnx` writes: the graph is
built by the same converters, then copied into skl2onnx's container under names
of its scope.
"""

import numpy as np

from .._preprocess import _FastTransform
from ._graph import _INSTALL_HINT, _Graph, _materialized
from ._preprocessing import _convert_step
from ._students import _REGRESSION_CONVERTERS, _STUDENT_CONVERTERS
from ._table import table_layout, table_preprocessing

# The student graphs use Gelu (opset 20); trees take TreeEnsembleRegressor
# (ai.onnx.ml 3, the highest skl2onnx writes) instead of TreeEnsemble (5).
REQUIRED_OPSETS = {"": 20, "ai.onnx.ml": 3}


def register_skl2onnx_converters():
    """Make ``skl2onnx`` convert the student families of :mod:`skdistill.students`.

    After this call ``skl2onnx.to_onnx`` (or ``convert_sklearn``) converts a
    student, or a ``Pipeline`` ending in one (``HPMDistiller.student_``, or a
    user's own pipeline with skl2onnx's ``ColumnTransformer`` and
    ``OneHotEncoder`` in front), like any scikit-learn classifier: outputs
    ``label`` and ``probabilities`` (a ZipMap unless ``options={id(student):
    {"zipmap": False}}``). A regression student (``HPMRegressor.student_``)
    converts like a scikit-learn regressor: one output ``variable`` of shape
    ``(n_rows, 1)``, in the type of the student's input (float64 after
    skdistill's preprocessing, float32 for a bare student given float32).
    Convert with ``target_opset={"": 20, "ai.onnx.ml": 3}`` (:data:`REQUIRED_OPSETS`).

    ``student_``'s own first step, skdistill's default preprocessing, is
    registered too. Its inputs are those skl2onnx makes from a DataFrame
    (``skl2onnx.to_onnx(d.student_, X=frame[:5])``): one per column, by the
    column's name, numeric (any float or int type) or, for a categorical
    column, a string tensor (a boolean or integer one is cast to strings:
    ``True`` is ``"1"``). Give each category value in the canonical form of
    :func:`skdistill.export.onnx_inputs` (``20``, not ``20.0``) and a
    missing category as ``"__missing__"``. Without categorical columns one
    numeric input of every column works as well. The trees are then written as
    ``TreeEnsembleRegressor`` nodes (ai.onnx.ml 3, float64 thresholds), whose
    sums come out in float32: probabilities agree with ``predict_proba`` to
    about 1e-7 instead of 1e-15.

    Raises
    ------
    ImportError
        When skl2onnx is not installed: ``pip install "skdistill[onnx]"``.
    """
    try:
        from skl2onnx import update_registered_converter
        from skl2onnx.common.shape_calculator import (
            calculate_linear_classifier_output_shapes,
            calculate_linear_regressor_output_shapes,
        )
    except ImportError as error:
        raise ImportError(
            f"register_skl2onnx_converters needs the skl2onnx package: {_INSTALL_HINT}"
        ) from error
    for student_class in _STUDENT_CONVERTERS:
        update_registered_converter(
            student_class, f"Skdistill{student_class.__name__}",
            calculate_linear_classifier_output_shapes, _convert,
            options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
            overwrite=True)
    for student_class in _REGRESSION_CONVERTERS:
        update_registered_converter(
            student_class, f"Skdistill{student_class.__name__}",
            calculate_linear_regressor_output_shapes, _convert_regression,
            overwrite=True)
    update_registered_converter(
        _FastTransform, "SkdistillDefaultPreprocessing", _preprocessing_shape,
        _convert_preprocessing, overwrite=True)


def _preprocessing_shape(operator):
    """The default preprocessing's output: float64, one column per feature."""
    from skl2onnx.common.data_types import DoubleTensorType

    width = len(operator.raw_operator.get_feature_names_out())
    operator.outputs[0].type = DoubleTensorType(
        [operator.inputs[0].get_first_dimension(), width])


def _convert_preprocessing(scope, operator, container):
    """skl2onnx's converter of the default preprocessing (``student_[0]``)."""
    step = operator.raw_operator
    graph = _Graph()
    graph.opsets["ai.onnx.ml"] = min(
        graph.opsets["ai.onnx.ml"], container.target_opset_any_domain("ai.onnx.ml"))
    inputs = [(f"input_{i}", variable) for i, variable in enumerate(operator.inputs)]
    names = getattr(step, "feature_names_in_", None)
    columns = (None if names is None else [str(name) for name in names])
    layout = None if columns is None else table_layout(step, columns)
    if layout is None:
        Z = _numeric_input(graph, inputs, columns, step.n_features_in_)
        Z = _convert_step(graph, step, Z, _zeros(columns, step.n_features_in_))[0]
    else:
        by_column = _inputs_by_column(inputs, columns)
        numeric = layout.names(layout.numeric)
        Z = table_preprocessing(
            graph, step, layout,
            _concat(graph, [_as(graph, by_column[name], "DOUBLE")
                            for name in numeric]) if numeric else None,
            _zeros(numeric, len(numeric)), _convert_step,
            categorical=_concat(graph, [
                _as(graph, by_column[name], "STRING")
                for name in layout.names(layout.categorical)]))
    graph.add("Identity", [_materialized(graph, Z)], output="output")
    _copy_into(graph, scope, container, {
        **{name: variable.full_name for name, variable in inputs},
        "output": operator.outputs[0].full_name})


def _numeric_input(graph, inputs, columns, n_features):
    """One float64 tensor of every column: the one input, or one per column."""
    if len(inputs) == 1:
        return _as(graph, inputs[0], "DOUBLE")
    if len(inputs) != n_features:
        raise RuntimeError(
            f"skdistill's preprocessing takes {n_features} columns: give one "
            f"numeric input of that width or one input per column, not "
            f"{len(inputs)} inputs.")
    if columns is None:
        return _concat(graph, [_as(graph, item, "DOUBLE") for item in inputs])
    by_column = _inputs_by_column(inputs, columns)
    return _concat(graph, [_as(graph, by_column[name], "DOUBLE") for name in columns])


def _inputs_by_column(inputs, columns):
    """One input per column: by name when the names are the columns', else in
    order."""
    if len(inputs) != len(columns):
        raise RuntimeError(
            "skdistill's preprocessing with categorical columns takes one input "
            f"per column ({len(columns)}: {columns}), as skl2onnx.to_onnx(model, "
            f"X=frame) makes them; got {len(inputs)}.")
    by_name = {item[1].raw_name: item for item in inputs}
    if set(by_name) == set(columns):
        return by_name
    return dict(zip(columns, inputs, strict=True))


def _as(graph, item, type_name):
    """The input ``item`` (its graph name and skl2onnx variable) as ``type_name``."""
    from onnx import TensorProto

    name, variable = item
    elem_type = variable.type.to_onnx_type().tensor_type.elem_type
    if elem_type == getattr(TensorProto, type_name):
        return name
    return graph.cast(name, type_name)


def _concat(graph, names):
    return names[0] if len(names) == 1 else graph.add("Concat", names, axis=1)


def _zeros(columns, width):
    """A one-row sample for the converters (a DataFrame when named)."""
    rows = np.zeros((1, width))
    if columns is None:
        return rows
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def _convert(scope, operator, container):
    """skl2onnx's converter of a student: its probabilities, then the label."""
    student = operator.raw_operator
    graph, features = _student_graph(operator, container)
    proba = _STUDENT_CONVERTERS[type(student)](graph, student, features)
    proba = graph.add("Identity", [_as_output(graph, proba, operator.outputs[1])],
                      output="probabilities")
    index = graph.add("ArgMax", [proba], axis=1, keepdims=0)
    labels = graph.add("Gather", [graph.const(_labels(student), _label_dtype(student)),
                                  index], axis=0)
    graph.add("Identity", [labels], output="label")
    _copy_into(graph, scope, container, {
        "X": operator.inputs[0].full_name,
        "label": operator.outputs[0].full_name,
        "probabilities": operator.outputs[1].full_name,
    })


def _convert_regression(scope, operator, container):
    """skl2onnx's converter of a regression student: ``predict`` as a column."""
    student = operator.raw_operator
    graph, features = _student_graph(operator, container)
    predictions = _REGRESSION_CONVERTERS[type(student)](graph, student, features)
    graph.add("Identity", [_as_output(graph, predictions, operator.outputs[0])],
              output="variable")
    _copy_into(graph, scope, container, {
        "X": operator.inputs[0].full_name,
        "variable": operator.outputs[0].full_name,
    })


def _student_graph(operator, container):
    """An empty graph at the container's ``ai.onnx.ml`` opset, and its input
    ``"X"`` as float64 (the student converters compute in float64)."""
    graph = _Graph()
    graph.opsets["ai.onnx.ml"] = min(
        graph.opsets["ai.onnx.ml"], container.target_opset_any_domain("ai.onnx.ml"))
    return graph, _as(graph, ("X", operator.inputs[0]), "DOUBLE")


def _as_output(graph, name, variable):
    """The float64 tensor ``name`` cast to the type of the output ``variable``."""
    from onnx import TensorProto

    output_type = variable.type.to_onnx_type().tensor_type.elem_type
    if output_type == TensorProto.DOUBLE:
        return name
    return graph.add("Cast", [name], to=output_type)


def _labels(student):
    classes = np.asarray(student.classes_)
    if classes.dtype.kind in "OUS":
        return classes.astype(str).astype(object)
    return classes.astype(np.int64)


def _label_dtype(student):
    return object if np.asarray(student.classes_).dtype.kind in "OUS" else np.int64


def _copy_into(graph, scope, container, names):
    """The graph's initializers and nodes into the container, names renamed."""
    from onnx import TensorProto, helper

    def rename(name):
        if name and name not in names:
            names[name] = scope.get_unique_variable_name(name)
        return names.get(name, name)

    for tensor in graph.initializers:
        # The container copies raw data only; strings are not stored raw.
        content = (list(tensor.string_data) if tensor.data_type == TensorProto.STRING
                   else tensor)
        container.add_initializer(rename(tensor.name), tensor.data_type,
                                  list(tensor.dims), content)
    for node in graph.nodes:
        attributes = {attribute.name: helper.get_attribute_value(attribute)
                      for attribute in node.attribute}
        container.add_node(
            node.op_type, [rename(name) for name in node.input],
            [rename(name) for name in node.output], op_domain=node.domain,
            op_version=graph.opsets[node.domain],
            name=scope.get_unique_operator_name(node.op_type), **attributes)
