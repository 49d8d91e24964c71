"""The students as skl2onnx converters: ``skl2onnx.to_onnx`` of a user's pipeline.

:func:`register_skl2onnx_converters` registers every student family with
``skl2onnx.update_registered_converter``, as a classifier (its label and
probabilities outputs, ZipMap options included), so that skl2onnx converts a
``Pipeline`` that holds a student, with skl2onnx's own encoders in front of it.
The nodes are the ones :func:`skdistill.export.to_onnx` writes: the student's
graph is built by the same converters, then copied into skl2onnx's container
under names of its scope.
"""

import numpy as np

from ._graph import _INSTALL_HINT, _Graph
from ._students import _STUDENT_CONVERTERS

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
    {"zipmap": False}}``). Convert with ``target_opset={"": 20, "ai.onnx.ml":
    3}`` (:data:`REQUIRED_OPSETS`). The trees are then written as
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


def _convert(scope, operator, container):
    """skl2onnx's converter of a student: its probabilities, then the label."""
    from onnx import TensorProto

    student = operator.raw_operator
    graph = _Graph()
    graph.opsets["ai.onnx.ml"] = min(
        graph.opsets["ai.onnx.ml"], container.target_opset_any_domain("ai.onnx.ml"))
    features = "X"
    input_type = operator.inputs[0].type.to_onnx_type().tensor_type.elem_type
    if input_type != TensorProto.DOUBLE:
        features = graph.cast(features, "DOUBLE")
    proba = _STUDENT_CONVERTERS[type(student)](graph, student, features)
    output_type = operator.outputs[1].type.to_onnx_type().tensor_type.elem_type
    if output_type != TensorProto.DOUBLE:
        proba = graph.add("Cast", [proba], to=output_type)
    proba = graph.add("Identity", [proba], output="probabilities")
    index = graph.add("ArgMax", [proba], axis=1, keepdims=0)
    labels = graph.add("Gather", [graph.const(_labels(student), _label_dtype(student)),
                                  index], axis=0)
    graph.add("Identity", [labels], output="label")
    _copy_into(graph, scope, container, {
        "X": operator.inputs[0].full_name,
        "label": operator.outputs[0].full_name,
        "probabilities": operator.outputs[1].full_name,
    })


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
