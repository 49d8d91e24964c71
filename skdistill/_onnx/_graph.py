"""The ONNX graph being built: its nodes and constants under unique names."""

import copy

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
