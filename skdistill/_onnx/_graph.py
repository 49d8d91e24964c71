"""The ONNX graph being built: its nodes and constants under unique names."""

import copy
from dataclasses import dataclass

import numpy as np

_INSTALL_HINT = 'pip install "skdistill[onnx]"'
# Opset 20 brings Gelu; ai.onnx.ml 5 brings the TreeEnsemble operator, whose
# thresholds and leaf values may be float64.
_OPSET = 20
_ML_OPSET = 5
_IR_VERSION = 10
_INPUT, _OUTPUT = "X", "probabilities"
# The output of a regression student's graph: ``predict`` as a column.
_PREDICTIONS = "predictions"


class _Graph:
    """The nodes and constants of the graph being built, under unique names."""

    def __init__(self):
        self.nodes, self.initializers, self._count = [], [], 0
        self.opsets = {"": _OPSET, "ai.onnx.ml": _ML_OPSET}

    def name(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value, dtype=np.float64, hint="const"):
        from onnx import numpy_helper

        name = self.name(hint)
        array = np.asarray(value, dtype=dtype)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def add(self, op_type, inputs, output=None, domain="", **attributes):
        from onnx import helper

        output = output or self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output,
                                           domain=domain, **attributes))
        return output

    def cast(self, name, to):
        from onnx import TensorProto

        return self.add("Cast", [name], to=getattr(TensorProto, to))

    def inline(self, model, input_name, prefix):
        """Add ``model``'s graph, fed by ``input_name``; the name of its output."""
        graph = model.graph
        if len(graph.input) != 1 or len(graph.output) != 1:
            raise NotImplementedError(
                f"{prefix}: expected one input and one output in the converted graph."
            )
        renamed = {graph.input[0].name: input_name}

        def rename(name):
            if not name:
                return name
            if name not in renamed:
                renamed[name] = f"{prefix}/{name}"
            return renamed[name]

        for init in graph.initializer:
            copied = copy.deepcopy(init)
            copied.name = rename(init.name)
            self.initializers.append(copied)
        for node in graph.node:
            if any(attr.g.node or attr.graphs for attr in node.attribute):
                raise NotImplementedError(f"{prefix}: subgraphs are not supported.")
            copied = copy.deepcopy(node)
            copied.name = f"{prefix}/{node.name or node.op_type}"
            copied.input[:] = [rename(name) for name in node.input]
            copied.output[:] = [rename(name) for name in node.output]
            self.nodes.append(copied)
        for opset in model.opset_import:
            if opset.domain not in ("", "ai.onnx", "ai.onnx.ml"):
                self.opsets.setdefault(opset.domain, opset.version)
        return rename(graph.output[0].name)

    def model(self, inputs, n_classes, output=_OUTPUT):
        """The model; ``inputs`` are ``(name, TensorProto type name, width)``;
        its output ``output``, float64 of width ``n_classes``."""
        from onnx import TensorProto, helper

        graph = helper.make_graph(
            self.nodes, "skdistill_student",
            [helper.make_tensor_value_info(name, getattr(TensorProto, type_name),
                                           [None, width])
             for name, type_name, width in inputs],
            [helper.make_tensor_value_info(output, TensorProto.DOUBLE,
                                           [None, n_classes])],
            initializer=self.initializers,
        )
        from .. import __version__

        return helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid(domain, version)
                           for domain, version in self.opsets.items()],
            ir_version=_IR_VERSION,
            producer_name="skdistill",
            producer_version=__version__,
        )


@dataclass(frozen=True)
class _Columns:
    """Features not yet written as nodes: ``(P[:, index] - mean) / scale``, with
    ``P`` the graph tensors ``parts`` (``(name, width)`` pairs) side by side.

    The preprocessing hands these to the student's converter, which may fold
    the column selection and the scaling into what it computes (a linear
    layer's weights, the trees' thresholds) instead of writing ``Concat``,
    ``Gather``, ``Sub`` and ``Div`` nodes: each node costs a served row about
    2-3 µs. ``mean`` 0 and ``scale`` 1 leave a column as it is, to the bit.
    """

    parts: tuple
    index: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    @property
    def width(self):
        return len(self.index)

    @property
    def scaled(self):
        return bool((self.mean != 0).any() or (self.scale != 1).any())


def _columns(parts, index=None, mean=None, scale=None):
    """A :class:`_Columns` of ``parts``; by default every column, unscaled."""
    total = sum(width for _, width in parts)
    index = np.arange(total) if index is None else np.asarray(index, dtype=np.int64)
    mean = np.zeros(len(index)) if mean is None else np.asarray(mean, np.float64)
    scale = np.ones(len(index)) if scale is None else np.asarray(scale, np.float64)
    return _Columns(tuple(parts), index, mean, scale)


class _Deferred:
    """A part of a :class:`_Columns` whose nodes are written only when its
    columns are read: :meth:`write` adds them and gives the output's name.
    A consumer may read it another way instead (see ``_table._OneHotBlock``).
    """

    width = 0

    def write(self, graph):  # pragma: no cover - the subclasses'
        raise NotImplementedError


def _combined(items):
    """``(Z, width)`` pairs (a name, a :class:`_Deferred` part or a
    :class:`_Columns`) side by side as one :class:`_Columns` (no node written)."""
    parts, indices, means, scales = [], [], [], []
    offset = 0
    for Z, width in items:
        Z = Z if isinstance(Z, _Columns) else _columns([(Z, width)])
        parts += Z.parts
        indices.append(Z.index + offset)
        means.append(Z.mean)
        scales.append(Z.scale)
        offset += sum(w for _, w in Z.parts)
    return _columns(parts, np.concatenate(indices), np.concatenate(means),
                    np.concatenate(scales))


def _concat_parts(graph, Z):
    """The name of ``Z.parts`` side by side (one ``Concat`` node when several)."""
    return _concat(graph, [name for name, _ in Z.parts])


def _concat(graph, parts):
    """The name of the tensors or :class:`_Deferred` ``parts`` side by side."""
    names = [part.write(graph) if isinstance(part, _Deferred) else part
             for part in parts]
    return names[0] if len(names) == 1 else graph.add("Concat", names, axis=1)


def _materialized(graph, Z):
    """``Z`` as the name of one tensor: the nodes a :class:`_Columns` defers."""
    if isinstance(Z, _Deferred):
        return Z.write(graph)
    if not isinstance(Z, _Columns):
        return Z
    out = _concat_parts(graph, Z)
    if not np.array_equal(Z.index, np.arange(sum(w for _, w in Z.parts))):
        out = graph.add("Gather", [out, graph.const(Z.index, np.int64)], axis=1)
    if (Z.mean != 0).any():
        out = graph.add("Sub", [out, graph.const(Z.mean)])
    if (Z.scale != 1).any():
        out = graph.add("Div", [out, graph.const(Z.scale)])
    return out


def _folded_weights(Z, W, b):
    """``W`` and ``b`` with ``Z``'s selection and scaling folded in: ``P @ W'
    + b'`` equals ``Z @ W + b`` up to rounding, ``P`` ``Z``'s parts side by
    side (``W`` of shape ``(Z.width, k)``)."""
    W, b = np.asarray(W, np.float64), np.asarray(b, np.float64)
    scaled = W / Z.scale[:, None]
    full = np.zeros((sum(w for _, w in Z.parts), W.shape[1]))
    np.add.at(full, Z.index, scaled)
    return full, b - Z.mean @ scaled


def _folded_affine(graph, Z, W, b):
    """The input and weights of ``Z @ W + b`` with ``Z``'s selection and scaling
    folded into ``W`` and ``b``: ``(name, W', b')`` (see :func:`_folded_weights`)."""
    if not isinstance(Z, _Columns):
        return _materialized(graph, Z), np.asarray(W, np.float64), \
            np.asarray(b, np.float64)
    return (_concat_parts(graph, Z), *_folded_weights(Z, W, b))


# ---- cutting a model in parts (the compiled serving forms)


def ancestors(nodes, name):
    """The indices of the ``nodes`` that ``name`` depends on."""
    producer = {output: i for i, node in enumerate(nodes) for output in node.output}
    found, pending = set(), [name]
    while pending:
        i = producer.get(pending.pop())
        if i is not None and i not in found:
            found.add(i)
            pending.extend(nodes[i].input)
    return found


def submodel(model, nodes, inputs, outputs):
    """The part of ``model`` made of ``nodes``, from ``inputs`` to ``outputs``
    (value infos), with the constants those nodes read."""
    from onnx import helper

    used = {name for node in nodes for name in node.input}
    initializers = [tensor for tensor in model.graph.initializer if tensor.name in used]
    graph = helper.make_graph(nodes, "part", inputs, outputs, initializers)
    return helper.make_model(graph, opset_imports=list(model.opset_import),
                             ir_version=model.ir_version)
