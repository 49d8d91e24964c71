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
import math

import numpy as np

from ._graph import ancestors, submodel
from ._serving import _CutServingModel, _session

# The nodes left to onnxruntime: they read strings.
_STRING_OPS = frozenset({"StringConcat", "LabelEncoder"})
_FUNCTION = "skdistill_rows"
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

    _TRANSIENT = ("_parts", "_before", "_engine", "_function")

    def __init__(self, model, n_threads=1):
        super().__init__(model, n_threads)
        self._build()

    def _build(self):
        import onnx

        parts = split_at_strings(onnx.load_from_string(self.model_bytes))
        self._parts = parts
        self._before = (None if parts.before is None
                        else _session(parts.before.SerializeToString(), self.n_threads))
        self._engine, self._function = compile_rows_function(parts)

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
        output = np.empty((len(rows), self._parts.n_outputs))
        self._function(rows.ctypes.data, len(rows), output.ctypes.data)
        return output

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
    from onnx import numpy_helper, shape_inference

    graph = model.graph
    nodes = list(graph.node)
    found = [node.op_type for node in nodes if node.op_type not in _OPS
             and node.op_type not in _STRING_OPS]
    if found:
        trees = " (use engine='lleaves' for a tree student)" if (
            "TreeEnsemble" in found) else ""
        raise ValueError(
            "engine='llvm' compiles dense graphs (LinearStudent, MLPStudent and "
            "their regression twins); this graph has nodes it cannot compile: "
            f"{', '.join(sorted(set(found)))}{trees}.")
    before = set()
    for i, node in enumerate(nodes):
        if node.op_type in _STRING_OPS:
            before |= ancestors(nodes, node.output[0]) | {i}
    before_nodes = [node for i, node in enumerate(nodes) if i in before]
    compiled = [node for i, node in enumerate(nodes) if i not in before]
    produced_before = {name for node in before_nodes for name in node.output}
    inputs = [value.name for value in graph.input]
    read = {name for node in compiled for name in node.input}
    names = [name for name in inputs if name in read] + [
        name for node in before_nodes for name in node.output if name in read]
    types = _value_types(shape_inference.infer_shapes(model).graph)
    boundary, start = [], 0
    for name in names:
        elem_type, shape = types[name]
        if len(shape) != 2 or not isinstance(shape[1], int):
            raise ValueError(f"engine='llvm' reads 2-d tensors of known width; "
                             f"{name!r} has shape {shape}.")
        boundary.append(_Boundary(name, elem_type, shape[1], start))
        start += shape[1]
    output = graph.output[0].name
    if output in produced_before or output in inputs:
        raise ValueError("engine='llvm': this graph computes nothing after its "
                         "string lookups.")
    constants = {tensor.name: numpy_helper.to_array(tensor)
                 for tensor in graph.initializer}
    rows_model = None
    if before_nodes or len(boundary) != 1 or boundary[0].name not in inputs:
        rows_model = _rows_model(model, before_nodes, boundary)
    return _Parts(rows_model, boundary, compiled, constants, output,
                  types[output][1][1])


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


def compile_rows_function(parts):
    """``(engine, function)``: the compiled code of ``parts`` and its entry,
    ``function(rows_address, n_rows, output_address)``."""
    ir, llvm = import_llvmlite()
    module = _Codegen(ir, parts).module
    machine = _target_machine(llvm)
    module_ref = llvm.parse_assembly(str(module))
    module_ref.verify()
    options = llvm.create_pipeline_tuning_options(speed_level=3)
    builder = llvm.create_pass_builder(machine, options)
    builder.getModulePassManager().run(module_ref, builder)
    engine = llvm.create_mcjit_compiler(module_ref, machine)
    engine.finalize_object()
    address = engine.get_function_address(_FUNCTION)
    function = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64,
                                ctypes.c_void_p)(address)
    return engine, function


class _Tensor:
    """A value of the compiled code: a pointer to its first element, its
    element kind (``"f64"``, ``"f32"``, ``"i64"``, ``"i1"``) and shape; a
    row's shape (the batch axis left out) where ``row``, else the whole
    constant's."""

    def __init__(self, pointer, kind, shape, row):
        self.pointer, self.kind, self.shape, self.row = pointer, kind, tuple(shape), row

    @property
    def size(self):
        return math.prod(self.shape)


_KINDS = {np.dtype(np.float64): "f64", np.dtype(np.float32): "f32",
          np.dtype(np.int64): "i64", np.dtype(np.int32): "i64",
          np.dtype(bool): "i1"}
_NUMPY = {"f64": np.float64, "f32": np.float32, "i64": np.int64, "i1": bool}
# ONNX element types (TensorProto) by kind, and the kinds of those it casts to
_ONNX_KINDS = {1: "f32", 11: "f64", 7: "i64", 6: "i64", 9: "i1"}


class _Codegen:
    """The LLVM module of ``parts``: one function looping over the rows,
    each node written in turn for a row."""

    def __init__(self, ir, parts):
        self.ir, self.parts = ir, parts
        self.types = {"f64": ir.DoubleType(), "f32": ir.FloatType(),
                      "i64": ir.IntType(64), "i1": ir.IntType(1)}
        self.i64 = ir.IntType(64)
        self.module = ir.Module(name="skdistill")
        self.module.triple = ""
        double_pointer = ir.DoubleType().as_pointer()
        function = ir.Function(self.module, ir.FunctionType(
            ir.VoidType(), [double_pointer, self.i64, double_pointer]), _FUNCTION)
        self.entry = function.append_basic_block("entry")
        self.allocas = ir.IRBuilder(self.entry)
        body = function.append_basic_block("rows")
        self.builder = ir.IRBuilder(body)
        self.tensors, self._globals = {}, {}
        rows, n_rows, output = function.args
        self._loop(n_rows, lambda row: self._row(rows, output, row))
        self.builder.ret_void()
        self.allocas.branch(body)

    # ---- the row loop
    def _row(self, rows, output, row):
        b, parts = self.builder, self.parts
        first = b.gep(rows, [b.mul(row, self.i64(parts.width))])
        for part in parts.boundary:
            self._read_boundary(first, part)
        for node in parts.nodes:
            _OPS[node.op_type](self, node)
        result = self.tensors[parts.output]
        out = b.gep(output, [b.mul(row, self.i64(parts.n_outputs))])
        self._loop(parts.n_outputs, lambda i: b.store(
            self._convert(self._load(result, i), result.kind, "f64"),
            b.gep(out, [i])))

    def _read_boundary(self, first, part):
        kind = _ONNX_KINDS.get(part.elem_type)
        if kind is None:
            raise ValueError(f"engine='llvm' cannot read {part.name!r} (ONNX type "
                             f"{part.elem_type}).")
        tensor = self._buffer(kind, (part.width,))
        b = self.builder
        self._loop(part.width, lambda i: self._store(tensor, i, self._convert(
            b.load(b.gep(first, [b.add(i, self.i64(part.start))])), "f64", kind)))
        self.tensors[part.name] = tensor

    # ---- helpers
    def _loop(self, count, body):
        """``body(i)`` for ``i`` in ``range(count)``, as a loop."""
        ir, b = self.ir, self.builder
        count = count if isinstance(count, ir.Value) else self.i64(count)
        before = b.block
        head = b.append_basic_block("head")
        inside = b.append_basic_block("body")
        after = b.append_basic_block("after")
        b.branch(head)
        b.position_at_end(head)
        i = b.phi(self.i64)
        i.add_incoming(self.i64(0), before)
        b.cbranch(b.icmp_signed("<", i, count), inside, after)
        b.position_at_end(inside)
        body(i)
        i.add_incoming(b.add(i, self.i64(1)), b.block)
        b.branch(head)
        b.position_at_end(after)

    def _buffer(self, kind, shape):
        """A row's tensor: memory for one row, reused row after row."""
        size = max(1, math.prod(shape))
        pointer = self.allocas.alloca(self.types[kind], size=size)
        return _Tensor(pointer, kind, shape, row=True)

    def _constant_array(self, values, kind):
        ir = self.ir
        values = np.ascontiguousarray(np.ravel(values), dtype=_NUMPY[kind])
        key = (kind, values.tobytes())
        if key not in self._globals:
            element = self.types[kind]
            array_type = ir.ArrayType(element, max(1, values.size))
            constant = ir.GlobalVariable(self.module, array_type,
                                         f"constant_{len(self._globals)}")
            constant.global_constant = True
            constant.linkage = "internal"
            items = [element(_python_value(v, kind)) for v in values.tolist()] or [
                element(0)]
            constant.initializer = ir.Constant(array_type, items)
            self._globals[key] = constant.gep([self.i64(0), self.i64(0)])
        return self._globals[key]

    def _tensor(self, name):
        """The row tensor or constant called ``name``."""
        if name in self.tensors:
            return self.tensors[name]
        values = self.parts.constants.get(name)
        if values is None:
            raise ValueError(f"engine='llvm': no value {name!r} in the graph.")
        kind = _KINDS.get(values.dtype)
        if kind is None:
            raise ValueError(f"engine='llvm' cannot read the constant {name!r} "
                             f"of type {values.dtype}.")
        tensor = _Tensor(self._constant_array(values, kind), kind, values.shape,
                         row=False)
        self.tensors[name] = tensor
        return tensor

    def _constant_values(self, name):
        return np.asarray(self.parts.constants[name])

    def _load(self, tensor, index):
        b = self.builder
        return b.load(b.gep(tensor.pointer, [index]))

    def _store(self, tensor, index, value):
        b = self.builder
        b.store(value, b.gep(tensor.pointer, [index]))

    def _convert(self, value, kind, to):
        """``value`` of ``kind`` as ``to``, as ONNX's ``Cast`` converts."""
        b, target = self.builder, self.types[to]
        if kind == to:
            return value
        floats = ("f64", "f32")
        if kind in floats and to in floats:
            return b.fpext(value, target) if to == "f64" else b.fptrunc(value, target)
        if kind in floats:
            if to == "i1":
                return b.fcmp_unordered("!=", value, value.type(0))
            return b.fptosi(value, target)
        if kind == "i1":
            return b.uitofp(value, target) if to in floats else b.zext(value, target)
        if to == "i1":
            return b.icmp_signed("!=", value, value.type(0))
        return b.sitofp(value, target)

    def _index(self, source_shape, out_shape):
        """The function giving, for an output element's flat
        index, the flat index of the element of a tensor of ``source_shape``
        broadcast to ``out_shape`` (numpy's rules)."""
        flat = np.arange(math.prod(source_shape)).reshape(source_shape)
        mapped = np.broadcast_to(flat, out_shape).ravel()
        if np.array_equal(mapped, np.arange(mapped.size)):
            return lambda i: i
        if mapped.size and (mapped == mapped[0]).all():
            return lambda i: self.i64(int(mapped[0]))
        table = self._constant_array(mapped, "i64")
        b = self.builder
        return lambda i: b.load(b.gep(table, [i]))

    def _aligned_shape(self, tensor, rank):
        """A tensor's shape against rows of ``rank`` axes (the batch axis
        left out): a constant's leading axes, which meet the batch axis,
        must be 1."""
        if tensor.row:
            return tensor.shape
        extra = len(tensor.shape) - rank
        if extra > 0:
            if any(n != 1 for n in tensor.shape[:extra]):
                raise ValueError(f"engine='llvm' cannot broadcast a constant of "
                                 f"shape {tensor.shape} over the rows.")
            return tensor.shape[extra:]
        return tensor.shape

    def elementwise(self, node, kind, compute):
        """``compute(values)`` element by element over ``node``'s inputs
        broadcast together, into a tensor of ``kind``."""
        tensors = [self._tensor(name) for name in node.input]
        rank = max((len(t.shape) for t in tensors if t.row), default=0)
        shapes = [self._aligned_shape(t, rank) for t in tensors]
        out_shape = np.broadcast_shapes(*shapes)
        out = self._buffer(kind, out_shape)
        indices = [self._index(shape, out_shape) for shape in shapes]
        self._loop(out.size, lambda i: self._store(out, i, compute(
            [self._load(t, index(i)) for t, index in zip(tensors, indices,
                                                         strict=True)])))
        self.tensors[node.output[0]] = out
        return out

    def _row_axis(self, node, tensor, default):
        axis = _attribute(node, "axis", default)
        rank = len(tensor.shape) + 1
        axis = axis + rank if axis < 0 else axis
        if axis == 0 or not 0 < axis < rank:
            raise ValueError(f"engine='llvm' cannot compute {node.op_type} "
                             "along the batch axis.")
        return axis - 1

    def call(self, name, kind, value):
        """The C library's ``name`` (``tanh``, ``erf``) of ``kind``."""
        ir = self.ir
        symbol = name if kind == "f64" else f"{name}f"
        function = self.module.globals.get(symbol)
        if function is None:
            element = self.types[kind]
            function = ir.Function(self.module, ir.FunctionType(element, [element]),
                                   symbol)
        return self.builder.call(function, [value])

    def intrinsic(self, name, value):
        function = self.module.declare_intrinsic(name, [value.type])
        return self.builder.call(function, [value])


def _attribute(node, name, default=None):
    from onnx import helper

    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default


def _python_value(value, kind):
    return bool(value) if kind == "i1" else value


def _kind_of(codegen, name):
    return codegen._tensor(name).kind


def _is_float(kind):
    return kind in ("f64", "f32")


# ---- the operators, each writing one node for a row


def _identity(codegen, node):
    codegen.tensors[node.output[0]] = codegen._tensor(node.input[0])


def _cast(codegen, node):
    to = _ONNX_KINDS.get(_attribute(node, "to"))
    if to is None:
        raise ValueError(f"engine='llvm' cannot cast to ONNX type "
                         f"{_attribute(node, 'to')}.")
    kind = _kind_of(codegen, node.input[0])
    codegen.elementwise(node, to, lambda v: codegen._convert(v[0], kind, to))


def _unary(compute):
    def write(codegen, node):
        kind = _kind_of(codegen, node.input[0])
        codegen.elementwise(node, kind, lambda v: compute(codegen, kind, v[0]))
    return write


def _relu(codegen, kind, x):
    b = codegen.builder
    return b.select(b.fcmp_ordered("<", x, x.type(0)), x.type(0), x)


def _sigmoid(codegen, kind, x):
    b = codegen.builder
    return b.fdiv(x.type(1), b.fadd(x.type(1), codegen.intrinsic(
        "llvm.exp", b.fneg(x))))


def _gelu(codegen, node):
    kind = _kind_of(codegen, node.input[0])
    approximate = _attribute(node, "approximate", b"none")
    if isinstance(approximate, bytes):
        approximate = approximate.decode()

    def compute(values):
        b, x = codegen.builder, values[0]
        half = b.fmul(x, x.type(0.5))
        if approximate == "tanh":
            cube = b.fmul(b.fmul(x, x), x)
            inner = b.fmul(b.fadd(x, b.fmul(cube, x.type(0.044715))),
                           x.type(math.sqrt(2 / math.pi)))
            return b.fmul(half, b.fadd(x.type(1), codegen.call("tanh", kind, inner)))
        return b.fmul(half, b.fadd(x.type(1), codegen.call(
            "erf", kind, b.fmul(x, x.type(math.sqrt(0.5))))))

    codegen.elementwise(node, kind, compute)


def _binary(float_op, int_op=None):
    def write(codegen, node):
        kind = _kind_of(codegen, node.input[0])
        b = codegen.builder
        op = getattr(b, float_op if _is_float(kind) else int_op)
        codegen.elementwise(node, kind, lambda v: op(v[0], v[1]))
    return write


def _extremum(sign):
    def write(codegen, node):
        if len(node.input) != 2:
            raise ValueError(f"engine='llvm' computes {node.op_type} of two inputs.")
        kind = _kind_of(codegen, node.input[0])
        b = codegen.builder

        def compute(v):
            if not _is_float(kind):
                return b.select(b.icmp_signed(sign, v[0], v[1]), v[0], v[1])
            # a NaN wins, as in onnxruntime's Max and Min
            first = b.select(b.fcmp_unordered(sign, v[0], v[1]), v[0], v[1])
            return b.select(b.fcmp_unordered("uno", v[1], v[1]), v[1], first)

        codegen.elementwise(node, kind, compute)
    return write


def _comparison(sign):
    def write(codegen, node):
        kind = _kind_of(codegen, node.input[0])
        b = codegen.builder
        compare = ((lambda x, y: b.fcmp_ordered(sign, x, y)) if _is_float(kind)
                   else (lambda x, y: b.icmp_signed(sign, x, y)))
        codegen.elementwise(node, "i1", lambda v: compare(v[0], v[1]))
    return write


def _is_nan(codegen, node):
    b = codegen.builder
    codegen.elementwise(node, "i1", lambda v: b.fcmp_unordered("uno", v[0], v[0]))


def _where(codegen, node):
    kind = _kind_of(codegen, node.input[1])
    b = codegen.builder
    codegen.elementwise(node, kind, lambda v: b.select(v[0], v[1], v[2]))


def _gather(codegen, node):
    data, indices = (codegen._tensor(name) for name in node.input)
    axis = _attribute(node, "axis", 0)
    if data.row and not indices.row:
        _gather_columns(codegen, node, data, codegen._constant_values(node.input[1]))
    elif not data.row and indices.row and axis in (0, -len(data.shape)):
        _gather_table(codegen, node, data, indices)
    else:
        raise ValueError("engine='llvm' gathers a row's columns by constant "
                         "indices, or a constant table's rows by a row's codes.")


def _gather_columns(codegen, node, data, indices):
    axis = codegen._row_axis(node, data, 0)
    flat = np.arange(data.size).reshape(data.shape)
    mapped = np.take(flat, indices, axis=axis)
    out = codegen._buffer(data.kind, mapped.shape)
    table = codegen._constant_array(mapped.ravel(), "i64")
    b = codegen.builder
    codegen._loop(out.size, lambda i: codegen._store(out, i, codegen._load(
        data, b.load(b.gep(table, [i])))))
    codegen.tensors[node.output[0]] = out


def _gather_table(codegen, node, data, indices):
    """``data[codes]``: each code's row of a constant table (a negative code
    counts from the end, as ONNX's)."""
    n_rows, width = data.shape[0], math.prod(data.shape[1:])
    out = codegen._buffer(data.kind, (*indices.shape, *data.shape[1:]))
    b, i64 = codegen.builder, codegen.i64

    def each_code(j):
        code = codegen._convert(codegen._load(indices, j), indices.kind, "i64")
        code = b.select(b.icmp_signed("<", code, i64(0)), b.add(code, i64(n_rows)),
                        code)
        source, target = b.mul(code, i64(width)), b.mul(j, i64(width))
        codegen._loop(width, lambda h: codegen._store(
            out, b.add(target, h), codegen._load(data, b.add(source, h))))

    codegen._loop(indices.size, each_code)
    codegen.tensors[node.output[0]] = out


def _reduce_sum(codegen, node):
    data = codegen._tensor(node.input[0])
    axes = _attribute(node, "axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = codegen._constant_values(node.input[1]).tolist()
    rank = len(data.shape) + 1
    axes = [a + rank if a < 0 else a for a in (axes or range(1, rank))]
    if 0 in axes:
        raise ValueError("engine='llvm' cannot sum along the batch axis.")
    keepdims = bool(_attribute(node, "keepdims", 1))
    row_axes = tuple(a - 1 for a in axes)
    flat = np.zeros(data.shape, dtype=np.int64)
    kept = [n for k, n in enumerate(data.shape) if k not in row_axes]
    positions = np.arange(math.prod(kept)).reshape(kept)
    flat[...] = np.expand_dims(positions, row_axes)
    out_shape = tuple(1 if k in row_axes else n for k, n in enumerate(data.shape)) \
        if keepdims else tuple(kept)
    out = codegen._buffer(data.kind, out_shape)
    b, zero = codegen.builder, codegen.types[data.kind](0)
    codegen._loop(out.size, lambda i: codegen._store(out, i, zero))
    table = codegen._constant_array(flat.ravel(), "i64")
    add = b.fadd if _is_float(data.kind) else b.add

    def accumulate(i):
        target = b.load(b.gep(table, [i]))
        codegen._store(out, target, add(codegen._load(out, target),
                                        codegen._load(data, i)))

    codegen._loop(data.size, accumulate)
    codegen.tensors[node.output[0]] = out


def _concat(codegen, node):
    tensors = [codegen._tensor(name) for name in node.input]
    if not all(t.row for t in tensors):
        raise ValueError("engine='llvm' concatenates rows' tensors only.")
    axis = codegen._row_axis(node, tensors[0], 1)
    kind = tensors[0].kind
    shape = list(tensors[0].shape)
    shape[axis] = sum(t.shape[axis] for t in tensors)
    out = codegen._buffer(kind, shape)
    positions = np.arange(out.size).reshape(shape)
    cuts = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    b = codegen.builder
    for tensor, part in zip(tensors, np.split(positions, cuts, axis=axis),
                            strict=True):
        table = codegen._constant_array(part.ravel(), "i64")
        codegen._loop(tensor.size, lambda i, t=tensor, table=table: codegen._store(
            out, b.load(b.gep(table, [i])),
            codegen._convert(codegen._load(t, i), t.kind, kind)))
    codegen.tensors[node.output[0]] = out


def _matrix_product(codegen, node, a_name, weights, bias=None, alpha=1.0, beta=1.0):
    """``alpha * a @ weights + beta * bias`` for a row vector ``a``: ``i``
    outer, ``j`` inner, so that each output's sum runs in the order of
    ``i`` and the inner loop over contiguous weights vectorizes."""
    a = codegen._tensor(a_name)
    if not a.row or len(a.shape) != 1:
        raise ValueError(f"engine='llvm' computes {node.op_type} of rows' vectors "
                         "by a constant matrix.")
    k, m = weights.shape
    if k != a.shape[0]:
        raise ValueError(f"engine='llvm': {node.op_type}'s shapes do not match.")
    kind = a.kind
    out = codegen._buffer(kind, (m,))
    matrix = codegen._constant_array(weights, kind)
    b, i64 = codegen.builder, codegen.i64
    zero = codegen.types[kind](0)
    codegen._loop(m, lambda j: codegen._store(out, j, zero))

    def each_input(i):
        x = codegen._load(a, i)
        start = b.mul(i, i64(m))
        codegen._loop(m, lambda j: codegen._store(out, j, b.fadd(
            codegen._load(out, j),
            b.fmul(x, b.load(b.gep(matrix, [b.add(start, j)]))))))

    codegen._loop(k, each_input)
    if bias is None and alpha == 1.0:
        return out
    scale = codegen.types[kind](alpha)
    if bias is not None:
        index = codegen._index(codegen._aligned_shape(bias, 1), (m,))
        weight = codegen.types[kind](beta)
        codegen._loop(m, lambda j: codegen._store(out, j, b.fadd(
            b.fmul(codegen._load(out, j), scale),
            b.fmul(codegen._convert(codegen._load(bias, index(j)), bias.kind, kind),
                   weight))))
    else:
        codegen._loop(m, lambda j: codegen._store(out, j, b.fmul(
            codegen._load(out, j), scale)))
    return out


def _gemm(codegen, node):
    if _attribute(node, "transA", 0):
        raise ValueError("engine='llvm' computes a Gemm whose A is not transposed.")
    weights = codegen._constant_values(node.input[1]) if \
        node.input[1] in codegen.parts.constants else None
    if weights is None:
        raise ValueError("engine='llvm' computes a Gemm by a constant B.")
    if _attribute(node, "transB", 0):
        weights = weights.T
    bias = codegen._tensor(node.input[2]) if len(node.input) > 2 and \
        node.input[2] else None
    codegen.tensors[node.output[0]] = _matrix_product(
        codegen, node, node.input[0], weights, bias,
        _attribute(node, "alpha", 1.0), _attribute(node, "beta", 1.0))


def _matmul(codegen, node):
    if node.input[1] not in codegen.parts.constants:
        raise ValueError("engine='llvm' computes a MatMul by a constant matrix.")
    weights = codegen._constant_values(node.input[1])
    if weights.ndim != 2:
        raise ValueError("engine='llvm' computes a MatMul by a 2-d matrix.")
    codegen.tensors[node.output[0]] = _matrix_product(codegen, node, node.input[0],
                                                      weights)


def _softmax(log):
    def write(codegen, node):
        x = codegen._tensor(node.input[0])
        if len(x.shape) != 1 or codegen._row_axis(node, x, -1) != 0:
            raise ValueError(f"engine='llvm' computes {node.op_type} of a row's "
                             "vector.")
        kind, b = x.kind, codegen.builder
        element = codegen.types[kind]
        out = codegen._buffer(kind, x.shape)
        largest = codegen.allocas.alloca(element)
        total = codegen.allocas.alloca(element)
        b.store(codegen._load(x, codegen.i64(0)), largest)
        codegen._loop(x.size, lambda i: b.store(_larger(b, b.load(largest),
                                                          codegen._load(x, i)),
                                                largest))
        b.store(element(0), total)

        def exponentiate(i):
            shifted = b.fsub(codegen._load(x, i), b.load(largest))
            value = codegen.intrinsic("llvm.exp", shifted)
            codegen._store(out, i, shifted if log else value)
            b.store(b.fadd(b.load(total), value), total)

        codegen._loop(x.size, exponentiate)
        if log:
            logged = codegen.intrinsic("llvm.log", b.load(total))
            codegen._loop(x.size, lambda i: codegen._store(
                out, i, b.fsub(codegen._load(out, i), logged)))
        else:
            codegen._loop(x.size, lambda i: codegen._store(
                out, i, b.fdiv(codegen._load(out, i), b.load(total))))
        codegen.tensors[node.output[0]] = out
    return write


def _larger(b, x, y):
    return b.select(b.fcmp_ordered(">=", x, y), x, y)


def _intrinsic(name):
    return _unary(lambda codegen, kind, x: codegen.intrinsic(name, x))


_OPS = {
    "Identity": _identity,
    "Cast": _cast,
    "Relu": _unary(_relu),
    "Sigmoid": _unary(_sigmoid),
    "Tanh": _unary(lambda codegen, kind, x: codegen.call("tanh", kind, x)),
    "Exp": _intrinsic("llvm.exp"),
    "Log": _intrinsic("llvm.log"),
    "Sqrt": _intrinsic("llvm.sqrt"),
    "Abs": _intrinsic("llvm.fabs"),
    "Cos": _intrinsic("llvm.cos"),
    "Sin": _intrinsic("llvm.sin"),
    "Neg": _unary(lambda codegen, kind, x: codegen.builder.fneg(x)),
    "Gelu": _gelu,
    "IsNaN": _is_nan,
    "Where": _where,
    "Add": _binary("fadd", "add"),
    "Sub": _binary("fsub", "sub"),
    "Mul": _binary("fmul", "mul"),
    "Div": _binary("fdiv", "sdiv"),
    "Max": _extremum(">"),
    "Min": _extremum("<"),
    "Equal": _comparison("=="),
    "Less": _comparison("<"),
    "Greater": _comparison(">"),
    "LessOrEqual": _comparison("<="),
    "GreaterOrEqual": _comparison(">="),
    "Gather": _gather,
    "ReduceSum": _reduce_sum,
    "Concat": _concat,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Softmax": _softmax(log=False),
    "LogSoftmax": _softmax(log=True),
}
