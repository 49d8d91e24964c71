"""The LLVM IR of a graph's nodes, one row at a time (see :mod:`._llvm`).

Each tensor of the graph that depends on the rows is one row's buffer (the
batch axis left out), allocated once and reused row after row; constants are
global arrays. Each operator of :data:`OPS` writes its node's loops; shapes,
broadcasting and index maps are worked out here, in numpy, so that the IR
only loads, computes and stores.
"""

import math

import numpy as np

# The compiled function's name: ``void f(double *rows, int64 n, double *out)``.
FUNCTION = "skdistill_rows"


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
# The kind of each ONNX element type (TensorProto FLOAT, DOUBLE, INT64, INT32, BOOL)
_ONNX_KINDS = {1: "f32", 11: "f64", 7: "i64", 6: "i64", 9: "i1"}


class Codegen:
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
            ir.VoidType(), [double_pointer, self.i64, double_pointer]), FUNCTION)
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
            OPS[node.op_type](self, node)
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


OPS = {
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
