"""A dense student's ONNX graph compiled to machine code through LLVM.

One call of an onnxruntime session costs about 23 µs here before any node
runs, and each node 2-3 µs more: most of a linear or MLP student's 35-57 µs
on one row (``benchmarks/README.md``). Compiled, the same nodes take a few
microseconds. The graph is cut in two: the nodes that look up category
strings (``StringConcat``, ``LabelEncoder`` and what they read), run by
onnxruntime, which make one float64 matrix of rows; and every node after,
written as LLVM IR row by row (each tensor one row's worth, the batch axis
implicit), compiled by llvmlite for this machine, called through ctypes.
"""

import contextlib
import ctypes

import numpy as np

from ._graph import ancestors, submodel
from ._llvm_codegen import FUNCTION, OPS, Codegen
from ._serving import _address, _CutServingModel, _session

# The nodes left to onnxruntime: they read strings.
_STRING_OPS = frozenset({"StringConcat", "LabelEncoder"})
_ROWS_OUTPUT = "llvm_rows"


class LlvmServingModel(_CutServingModel):
    """A dense student's ONNX graph compiled to machine code by LLVM.

    Made by :func:`skdistill.export.serving_model` with ``engine="llvm"``. It
    predicts what :class:`OnnxServingModel` predicts (to the rounding of the
    order of its sums: float64 as float64, float32 as float32) and pickles
    as the model's bytes; the code is compiled again on loading (tens of
    milliseconds).

    Parameters
    ----------
    model : onnx.ModelProto
        What :func:`~skdistill.export.to_onnx` returned for a student whose
        graph has no ``TreeEnsemble`` (``LinearStudent``, ``MLPStudent`` and
        their regression twins).
    n_threads : int, default=1
        onnxruntime's intra-op threads, for the nodes that look up category
        strings; the compiled code runs on one thread.

    Attributes
    ----------
    classes_, feature_names_in_, n_features_in_
        As :class:`OnnxServingModel`.

    Notes
    -----
    :meth:`compiled_rows` and :meth:`run_compiled` split a call in two, for a
    server that makes its rows' category codes itself:
    ``run_compiled(compiled_rows(X))`` is ``predict_proba(X)``.
    """

    _TRANSIENT = ("_parts", "_before", "_compiled")

    def __init__(self, model, n_threads=1):
        super().__init__(model, n_threads)
        self._build()

    def _build(self):
        import onnx

        parts = split_at_strings(onnx.load_from_string(self.model_bytes))
        self._parts = parts
        self._before = (None if parts.before is None
                        else _session(parts.before.SerializeToString(), self.n_threads))
        self._compiled = CompiledRows(parts)

    def compiled_rows(self, X):
        """The rows the compiled code reads: the graph's numeric inputs and
        the category strings' looked-up codes (or values), as float64 columns.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            As :meth:`predict_proba` takes it.

        Returns
        -------
        ndarray of shape (n_samples, n_columns), float64
        """
        return self._compiled_rows(self._inputs(X))

    def _compiled_rows(self, inputs):
        return self._before_rows(inputs, self._parts.boundary[0].name)

    def run_compiled(self, rows):
        """What :meth:`predict_proba` returns (``predict`` for a regression
        student), from rows made by :meth:`compiled_rows`.

        Parameters
        ----------
        rows : ndarray of shape (n_samples, n_columns)

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        width = self._parts.width
        if rows.ndim != 2 or rows.shape[1] != width:
            raise ValueError(f"rows has shape {rows.shape}; the compiled code reads "
                             f"rows of {width} columns (see compiled_rows).")
        return self._compiled(rows)

    def _evaluate(self, inputs):
        return self.run_compiled(self._compiled_rows(inputs))


class _Boundary:
    """A tensor the compiled code reads from the rows: its name, ONNX element
    type, width and first column."""

    def __init__(self, name, elem_type, width, start):
        self.name, self.elem_type = name, elem_type
        self.width, self.start = width, start


class _Parts:
    """A model cut where its strings end: ``before`` (None when the rows are
    the graph's one input), what the compiled code reads (``boundary``, in
    the rows' column order) and computes (``nodes``, ``constants``), its
    output's name and width."""

    def __init__(self, before, boundary, nodes, constants, output, n_outputs):
        self.before, self.boundary, self.nodes = before, boundary, nodes
        self.constants, self.output, self.n_outputs = constants, output, n_outputs
        self.width = sum(part.width for part in boundary)


def split_at_strings(model):
    """``model`` cut where its category strings end (see :class:`_Parts`)."""
    from onnx import numpy_helper

    graph = model.graph
    nodes = list(graph.node)
    _check_compilable(nodes)
    before = set()
    for i, node in enumerate(nodes):
        if node.op_type in _STRING_OPS:
            before |= ancestors(nodes, node.output[0]) | {i}
    before_nodes = [node for i, node in enumerate(nodes) if i in before]
    compiled = [node for i, node in enumerate(nodes) if i not in before]
    inputs = [value.name for value in graph.input]
    read = {name for node in compiled for name in node.input}
    produced_before = [name for node in before_nodes for name in node.output]
    output = graph.output[0].name
    if output in produced_before or output in inputs:
        raise ValueError("engine='llvm': this graph computes nothing after its "
                         "string lookups.")
    boundary, types = _boundary(model, [name for name in inputs + produced_before
                                        if name in read])
    rows_model = None
    if before_nodes or len(boundary) != 1 or boundary[0].name not in inputs:
        rows_model = _rows_model(model, before_nodes, boundary)
    constants = {tensor.name: numpy_helper.to_array(tensor)
                 for tensor in graph.initializer}
    return _Parts(rows_model, boundary, compiled, constants, output,
                  types[output][1][1])


def _check_compilable(nodes):
    """A ``ValueError`` naming the nodes neither compiled nor left to
    onnxruntime as string lookups."""
    found = sorted({node.op_type for node in nodes
                    if node.op_type not in OPS and node.op_type not in _STRING_OPS})
    if found:
        trees = " (use engine='lleaves' for a tree student)" if (
            "TreeEnsemble" in found) else ""
        raise ValueError(
            "engine='llvm' compiles dense graphs (LinearStudent, MLPStudent and "
            "their regression twins); this graph has nodes it cannot compile: "
            f"{', '.join(found)}{trees}.")


def _boundary(model, names):
    """The :class:`_Boundary` of each tensor ``names`` (in the rows' column
    order), and every tensor's type and shape."""
    from onnx import shape_inference

    types = _value_types(shape_inference.infer_shapes(model).graph)
    boundary, start = [], 0
    for name in names:
        elem_type, shape = types[name]
        if len(shape) != 2 or not isinstance(shape[1], int):
            raise ValueError(f"engine='llvm' reads 2-d tensors of known width; "
                             f"{name!r} has shape {shape}.")
        boundary.append(_Boundary(name, elem_type, shape[1], start))
        start += shape[1]
    return boundary, types


def _value_types(graph):
    """Each tensor's ``(ONNX element type, shape)``; an unknown dimension as
    its name (or None)."""
    types = {}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        tensor = value.type.tensor_type
        types[value.name] = (tensor.elem_type, [
            dim.dim_value if dim.HasField("dim_value") else (dim.dim_param or None)
            for dim in tensor.shape.dim])
    return types


def _rows_model(model, nodes, boundary):
    """The graph that makes the rows: the ``nodes`` before the cut, then each
    boundary tensor cast to float64, side by side."""
    from onnx import TensorProto, helper

    nodes, columns = list(nodes), []
    for part in boundary:
        name = part.name
        if part.elem_type != TensorProto.DOUBLE:
            name = f"llvm_cast_{len(columns)}"
            nodes.append(helper.make_node("Cast", [part.name], [name],
                                          to=TensorProto.DOUBLE))
        columns.append(name)
    if len(columns) == 1:
        nodes.append(helper.make_node("Identity", columns, [_ROWS_OUTPUT]))
    else:
        nodes.append(helper.make_node("Concat", columns, [_ROWS_OUTPUT], axis=1))
    width = sum(part.width for part in boundary)
    output = helper.make_tensor_value_info(_ROWS_OUTPUT, TensorProto.DOUBLE,
                                           [None, width])
    return submodel(model, nodes, list(model.graph.input), [output])


def import_llvmlite():
    """llvmlite's ``ir`` and ``binding`` modules, or an ImportError naming the
    extra that brings them."""
    try:
        import llvmlite.binding as llvm
        import llvmlite.ir as ir
    except ImportError as error:
        raise ImportError('engine="llvm" needs the llvmlite package: pip install '
                          '"skdistill[llvm]"') from error
    if not hasattr(llvm, "create_pass_builder"):
        raise ImportError('engine="llvm" needs llvmlite >= 0.44 (its new pass '
                          'manager): pip install "skdistill[llvm]"')
    return ir, llvm


_INITIALIZED = []


def _target_machine(llvm):
    """A target machine for this CPU (the engine compiled with it owns it:
    one per compilation), LLVM initialized once per process."""
    if not _INITIALIZED:
        with contextlib.suppress(RuntimeError):  # llvmlite >= 0.45 does it
            llvm.initialize()
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _INITIALIZED.append(True)
    return llvm.Target.from_default_triple().create_target_machine(
        cpu=llvm.get_host_cpu_name(),
        features=llvm.get_host_cpu_features().flatten(), opt=3)


class CompiledRows:
    """The compiled code of a :class:`_Parts`, called on float64 rows:
    ``compiled(rows)`` is the graph's output. It holds the execution engine,
    so the code lives as long as it does."""

    def __init__(self, parts):
        ir, llvm = import_llvmlite()
        module = Codegen(ir, parts).module
        machine = _target_machine(llvm)
        module_ref = llvm.parse_assembly(str(module))
        module_ref.verify()
        options = llvm.create_pipeline_tuning_options(speed_level=3)
        builder = llvm.create_pass_builder(machine, options)
        builder.getModulePassManager().run(module_ref, builder)
        self.engine = llvm.create_mcjit_compiler(module_ref, machine)
        self.engine.finalize_object()
        address = self.engine.get_function_address(FUNCTION)
        self._function = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64,
                                          ctypes.c_void_p)(address)
        self.n_outputs = parts.n_outputs

    def __call__(self, rows):
        """The output on C-contiguous float64 ``rows`` of the right width."""
        output = np.empty((len(rows), self.n_outputs))
        self._function(_address(rows), len(rows), _address(output))
        return output
