"""Each student family's ``predict_proba`` (or, for the regression students,
``predict``) as ONNX nodes."""

import json

import numpy as np

from ..students import (
    LGBMRegressionStudent,
    LGBMStudent,
    LinearRegressionStudent,
    LinearStudent,
    MLPRegressionStudent,
    MLPStudent,
    TreeRegressionStudent,
    TreeStudent,
    XGBRegressionStudent,
    XGBStudent,
)
from ..students._base import PROBA_FLOOR, distribution_to_proba
from ._graph import (
    _Columns,
    _concat,
    _concat_parts,
    _folded_affine,
    _folded_weights,
    _materialized,
)
from ._trees import (
    _BRANCH_LEQ,
    _CODE,
    _F32_LEQ,
    _F32_LT,
    _F64_LEQ,
    _IS_MISSING,
    _VALUE,
    _folded_trees,
    _lgbm_tree,
    _plain_reading,
    _Reading,
    _Tree,
    _tree_ensemble,
    _xgb_base_margin,
    _xgb_tree,
)

# Every converter takes the preprocessing's output ``Z``: a tensor's name or a
# ``_Columns`` whose selection and scaling it folds into its own weights or
# thresholds where it can (fewer nodes: each costs a served row 2-3 µs).


def _linear(graph, student, Z):
    factor = _logit_factor(student.temperature_, len(student.classes_))
    W, b = student.coef_.T, student.intercept_
    if W.shape[1] == 2:
        # softmax([l0, l1]) is softmax([0, l1 - l0]): one column of weights,
        # which a one-hot block adds as one number per category column
        W = np.column_stack([np.zeros(len(W)), W[:, 1] - W[:, 0]])
        b = np.array([0.0, b[1] - b[0]])
    if factor is not None:
        return graph.add("Softmax", [_affine(graph, Z, W * factor, b * factor)],
                         axis=1)
    return _sharpened_softmax(graph, _affine(graph, Z, W, b), student.temperature_)


def _affine(graph, Z, W, b, dtype=np.float64):
    """``Z @ W + b`` as one ``Gemm`` in ``dtype``, ``Z``'s selection and
    scaling folded into ``W`` and ``b``.

    A one-hot block of ``Z`` is not written: where its weights have one
    non-zero column, each category column's value is looked up as its number
    (:meth:`._table._OneHotBlock.values`) and added by the ``Gemm``; otherwise
    the block's product with its rows of ``W`` (and ``b``) is the ``Gemm``'s
    ``C`` (:meth:`._table._OneHotBlock.summed`).
    """
    read = _read_blocks(graph, Z, W, b, dtype) if isinstance(Z, _Columns) else None
    if read is None:
        A, W, b = _folded_affine(graph, Z, W, b)
    else:
        A, W, b = read
    if dtype != np.float64:
        A = graph.cast(A, "FLOAT")
    return graph.add("Gemm", [A, graph.const(W, dtype), _const_or_name(graph, b,
                                                                         dtype)])


def _const_or_name(graph, value, dtype):
    return value if isinstance(value, str) else graph.const(value, dtype)


def _read_blocks(graph, Z, W, b, dtype):
    """``(A, W', C)`` of ``_affine`` with ``Z``'s one one-hot block read as its
    values or sums; None where it is not (no block, several, a wide one, no
    other part)."""
    from ._table import _OneHotBlock

    blocks = [i for i, (part, _) in enumerate(Z.parts)
              if isinstance(part, _OneHotBlock)]
    if len(blocks) != 1 or len(Z.parts) == 1:
        return None
    full, b = _folded_weights(Z, W, b)
    starts = np.cumsum([0] + [w for _, w in Z.parts])
    block, at = Z.parts[blocks[0]][0], blocks[0]
    rows = full[starts[at]:starts[at + 1]]
    others = [(name, width) for i, (name, width) in enumerate(Z.parts) if i != at]
    other_rows = np.vstack([full[starts[i]:starts[i + 1]]
                            for i in range(len(Z.parts)) if i != at])
    used = np.flatnonzero((rows != 0).any(axis=0))
    if dtype == np.float64 and len(used) <= 1:
        j = used[0] if len(used) else 0
        values = block.values(graph, rows[:, j])
        if values is not None:
            ones = np.zeros((block.n_columns, full.shape[1]))
            ones[:, j] = 1.0
            return (_concat(graph, [name for name, _ in others] + [values]),
                    np.vstack([other_rows, ones]), b)
    summed = block.summed(graph, rows, shift=b, dtype=dtype)
    if summed is None:
        return None
    return _concat(graph, [name for name, _ in others]), other_rows, summed


def _tree(graph, student, Z):
    # predict_proba is a function of the leaf: written into the leaves, it
    # needs no node, and equals predict_proba to the bit.
    tree = student.tree_model_.tree_
    return _sklearn_tree_values(graph, tree, Z, distribution_to_proba(
        tree.value[:, :, 0], student.temperature_))


def _sklearn_tree_values(graph, tree, Z, values=None):
    """A fitted scikit-learn tree's predictions (or ``values``, one row per
    node), one column per target."""
    values = tree.value[:, :, 0] if values is None else values
    trees = [
        (target, _Tree(tree.feature, tree.threshold, tree.children_left,
                       tree.children_right,
                       np.asarray(tree.missing_go_to_left, dtype=bool),
                       values[:, target], _BRANCH_LEQ))
        for target in range(values.shape[1])
    ]
    # scikit-learn compares float32(x) <= threshold, the threshold a float64.
    return _ensemble(graph, Z, trees, values.shape[1], _F32_LEQ)


def _ensemble(graph, Z, trees, n_targets, compare):
    """One ``TreeEnsemble`` of ``trees``, whose splits compare ``compare``.

    The float32 rounding of scikit-learn's and XGBoost's comparisons and
    ``Z``'s column selection and scaling are folded into float64 thresholds
    (exactly: see :func:`._trees._exact_thresholds`), and ``Z``'s deferred
    parts read at their source: the imputer's columns as the raw ones (a
    missing value going where its fill would), its indicators as tests of
    them, a one-hot block as its codes. Where they cannot be, they are
    written as nodes.
    """
    if isinstance(Z, _Columns):
        read = _tree_input(graph, Z) if graph.opsets["ai.onnx.ml"] >= 5 else None
        if read is not None:
            folded = _folded_trees(trees, compare, read[1])
            if folded is not None:
                return _tree_ensemble(graph, read[0](), folded, n_targets)
        folded = _folded_trees(trees, compare,
                               _plain_reading(Z.index, Z.mean, Z.scale))
        if folded is not None:
            return _tree_ensemble(graph, _concat_parts(graph, Z), folded, n_targets)
    elif compare != _F64_LEQ:
        folded = _folded_trees(trees, compare)
        if folded is not None:
            return _tree_ensemble(graph, Z, folded, n_targets)
    Z = _materialized(graph, Z)
    if compare != _F64_LEQ:
        Z = graph.cast(graph.cast(Z, "FLOAT"), "DOUBLE")
    return _tree_ensemble(graph, Z, trees, n_targets)


def _tree_input(graph, Z):
    """``(write, reading)``: ``write()`` writes the trees' input and gives its
    name; ``reading``, the :class:`._trees._Reading` of each of ``Z``'s columns
    from it. None when ``Z`` has no part to read otherwise, or one cannot be
    (a float64 ``LabelEncoder`` needs ``ai.onnx.ml`` 4)."""
    from ._preprocessing import _Filled, _Missing
    from ._table import _OneHotBlock

    if not any(isinstance(part, (_OneHotBlock, _Filled, _Missing))
               for part, _ in Z.parts):
        return None
    sources, offsets = [], {}  # the input's parts, by name or raw input

    def source(key, width, make):
        if key not in offsets:
            offsets[key] = sum(w for _, w in sources)
            sources.append((make, width))
        return offsets[key]

    column, kind, fill, code = [], [], [], []
    for part, width in Z.parts:
        k = np.arange(width)
        if isinstance(part, _OneHotBlock):
            if graph.opsets["ai.onnx.ml"] < 4:
                return None
            start = source(id(part), part.n_columns,
                           (lambda p: lambda: p.codes(graph))(part))
            column.append(start + part.column_of)
            kind.append(np.full(width, _CODE))
            fill.append(np.full(width, np.nan))
            code.append(k)
        elif isinstance(part, (_Filled, _Missing)):
            start = source(part.raw, width, (lambda r: lambda: r)(part.raw))
            column.append(start + k)
            if isinstance(part, _Filled):
                kind.append(np.full(width, _VALUE))
                fill.append(part.fill)
            else:
                kind.append(np.full(width, _IS_MISSING))
                fill.append(np.full(width, np.nan))
            code.append(np.full(width, -1))
        else:
            start = source(part, width, (lambda n: lambda: n)(part))
            column.append(start + k)
            kind.append(np.full(width, _VALUE))
            fill.append(np.full(width, np.nan))
            code.append(np.full(width, -1))
    column, kind = np.concatenate(column), np.concatenate(kind)
    fill, code = np.concatenate(fill), np.concatenate(code)
    reading = _Reading(column[Z.index], kind[Z.index], Z.mean, Z.scale,
                       fill[Z.index], code[Z.index])

    def write():
        names = [make() for make, _ in sources]
        return names[0] if len(names) == 1 else graph.add("Concat", names, axis=1)

    return write, reading


def _with_offsets(trees, offsets):
    """``trees`` whose sum for target ``t`` is ``offsets[t]`` more: added to
    the leaves of its first tree (a lone leaf where it has none)."""
    trees, pending = list(trees), dict(enumerate(np.ravel(offsets)))
    for i, (target, tree) in enumerate(trees):
        if target in pending:
            shift = np.where(np.asarray(tree.left) < 0, pending.pop(target), 0.0)
            trees[i] = (target, _Tree(tree.feature, tree.threshold, tree.left,
                                      tree.right, tree.missing_left,
                                      tree.value + shift, tree.mode))
    for target, offset in pending.items():
        trees.append((target, _Tree(np.array([-1]), np.array([0.0]),
                                    np.array([-1]), np.array([-1]),
                                    np.array([False]), np.array([offset]),
                                    _BRANCH_LEQ)))
    return trees


def _lgbm(graph, student, Z):
    trees, per_round = _lgbm_trees(student.booster_)
    return _booster_proba(graph, student, Z, trees, per_round, 0.0, _F64_LEQ)


def _lgbm_trees(booster):
    """A LightGBM booster's ``(target, _Tree)`` pairs; the trees per round."""
    dump = booster.dump_model()
    if dump.get("average_output"):
        raise NotImplementedError("to_onnx cannot export a LightGBM random forest.")
    per_round = dump["num_tree_per_iteration"]
    return [(i % per_round, _lgbm_tree(info["tree_structure"]))
            for i, info in enumerate(dump["tree_info"])], per_round


def _lgbm_raw(graph, booster, Z):
    """A LightGBM booster's raw scores, one column per tree of a round."""
    trees, per_round = _lgbm_trees(booster)
    return _ensemble(graph, Z, trees, per_round, _F64_LEQ)


def _xgb(graph, student, Z):
    trees, n_targets, base_margin = _xgb_trees(student.booster_)
    return _booster_proba(graph, student, Z, trees, n_targets, base_margin,
                          _F32_LT)


def _xgb_trees(booster):
    """An XGBoost booster's ``(target, _Tree)`` pairs, its number of targets
    and the margin it adds to their sums."""
    learner = json.loads(booster.save_raw("json"))["learner"]
    gradient_booster = learner["gradient_booster"]
    if gradient_booster["name"] != "gbtree":
        raise NotImplementedError(
            f"to_onnx cannot export an XGBoost {gradient_booster['name']!r} booster.")
    model = gradient_booster["model"]
    trees = [(target, _xgb_tree(tree))
             for tree, target in zip(model["trees"], model["tree_info"], strict=True)]
    n_targets = max(1, int(learner["learner_model_param"]["num_class"]))
    return trees, n_targets, _xgb_base_margin(learner)


def _mlp(graph, student, Z):
    """The network layer by layer in float32 (as MLPStudent runs it), then a
    float64 softmax."""
    return graph.add("Softmax", [_mlp_output(graph, student.module_, Z)], axis=1)


def _mlp_output(graph, module, Z):
    """The network's output in float32, cast to float64."""
    layers = list(module)
    first = _first_linear(layers)
    if first is None:
        hidden = graph.cast(_materialized(graph, Z), "FLOAT")
    else:
        hidden = _first_layer(graph, layers[:first + 1], Z)
        layers = layers[first + 1:]
    for layer in layers:
        hidden = _mlp_layer(graph, layer, hidden)
    return graph.cast(hidden, "DOUBLE")


def _first_linear(layers):
    """The position of the network's first ``nn.Linear`` when only its
    standardization and dropout (the identity in eval mode) come before it."""
    from torch import nn

    for i, layer in enumerate(layers):
        if isinstance(layer, nn.Linear):
            return i
        if not (type(layer).__name__ == "_Standardize"
                or isinstance(layer, nn.Dropout)):
            return None
    return None


# The largest offset a standardized input column may have (``(x - m) / s``
# is ``x / s`` less ``m / s``) for the first layer to run in float32 on the
# unscaled columns: float32's rounding of ``x / s`` grows with it, and up to
# this it stays about torch's own (parity 1e-5 with room to spare).
_FLOAT32_OFFSET = 8.0


def _first_layer(graph, layers, Z):
    """The standardization and first linear layer as one ``Gemm`` (the
    preprocessing's scaling folded in too), its output float32.

    In float32 as torch runs it, unless a column's offset after scaling
    exceeds ``_FLOAT32_OFFSET``: then in float64, cast to float32 after (one
    node more; the result differs from torch's by torch's own rounding).
    """
    linear = layers[-1]
    W = linear.weight.detach().cpu().numpy().astype(np.float64).T
    b = linear.bias.detach().cpu().numpy().astype(np.float64)
    width = W.shape[0]
    offset = -Z.mean / Z.scale if isinstance(Z, _Columns) else np.zeros(width)
    for layer in reversed(layers[:-1]):  # (h - mean) / scale, then @ W + b
        if type(layer).__name__ == "_Standardize":
            mean = layer.mean.detach().cpu().numpy().astype(np.float64).ravel()
            scale = layer.scale.detach().cpu().numpy().astype(np.float64).ravel()
            W = W / scale[:, None]
            b = b - mean @ W
            offset = (offset - mean) / scale
    if np.abs(offset).max(initial=0.0) <= _FLOAT32_OFFSET:
        return _affine(graph, Z, W, b, np.float32)
    return graph.cast(_affine(graph, Z, W, b), "FLOAT")


def _mlp_layer(graph, layer, hidden):
    """One layer of ``MLPStudent.module_`` as ONNX nodes (eval mode)."""
    from torch import nn

    def weights(tensor):
        return graph.const(tensor.detach().cpu().numpy(), np.float32)

    kind = type(layer).__name__
    if kind in _EMBEDDING_CONVERTERS:
        return _EMBEDDING_CONVERTERS[kind](graph, layer, hidden)
    if kind == "_Standardize":
        centred = graph.add("Sub", [hidden, weights(layer.mean)])
        return graph.add("Div", [centred, weights(layer.scale)])
    if isinstance(layer, nn.Linear):
        return graph.add("Gemm", [hidden, weights(layer.weight), weights(layer.bias)],
                         transB=1)
    if isinstance(layer, nn.Dropout):
        return hidden  # the identity in eval mode
    if isinstance(layer, nn.ReLU):
        return graph.add("Relu", [hidden])
    if isinstance(layer, nn.Tanh):
        return graph.add("Tanh", [hidden])
    if isinstance(layer, nn.GELU) and layer.approximate in ("none", "tanh"):
        return graph.add("Gelu", [hidden], approximate=layer.approximate)
    raise NotImplementedError(f"to_onnx cannot export an MLP layer {layer!r}.")


def _feature_major(graph, hidden, n_features, repeats):
    """Each column repeated ``repeats`` times in place: ``(n, F * repeats)``."""
    indices = np.repeat(np.arange(n_features), repeats)
    return graph.add("Gather", [hidden, graph.const(indices, np.int64)], axis=1)


def _block_diagonal(blocks):
    """``(F, a, b)`` blocks as one ``(F * a, F * b)`` block-diagonal matrix."""
    n, a, b = blocks.shape
    out = np.zeros((n * a, n * b), dtype=blocks.dtype)
    for f in range(n):
        out[f * a:(f + 1) * a, f * b:(f + 1) * b] = blocks[f]
    return out


def _periodic(graph, layer, hidden):
    """``PeriodicEmbedding``: Gather + Mul + Cos/Sin, a block-diagonal MatMul
    per half for the per-feature linear layer, then Relu."""
    import torch

    with torch.no_grad():
        scaled = (2 * np.pi * layer.frequencies).cpu().numpy()
    weight = layer.weight.detach().cpu().numpy()
    n_features, n_frequencies = scaled.shape
    angles = graph.add("Mul", [_feature_major(graph, hidden, n_features,
                                              n_frequencies),
                               graph.const(scaled.ravel(), np.float32)])
    halves = [graph.add("MatMul", [graph.add(op, [angles]), graph.const(
        _block_diagonal(part), np.float32)])
        for op, part in (("Cos", weight[:, :n_frequencies]),
                         ("Sin", weight[:, n_frequencies:]))]
    summed = graph.add("Add", [graph.add("Add", halves), graph.const(
        layer.bias.detach().cpu().numpy().ravel(), np.float32)])
    return graph.add("Relu", [summed])


def _piecewise_linear(graph, layer, hidden):
    """``PiecewiseLinearEncoding``: Gather, Sub, Div, then Max/Min for the clip."""
    left = layer.left.cpu().numpy()
    ramps = graph.add("Div", [
        graph.add("Sub", [_feature_major(graph, hidden, *left.shape),
                          graph.const(left.ravel(), np.float32)]),
        graph.const(layer.width.cpu().numpy().ravel(), np.float32)])
    low = graph.add("Max", [ramps, graph.const([0.0], np.float32)])
    return graph.add("Min", [low, graph.const([1.0], np.float32)])


_EMBEDDING_CONVERTERS = {"PeriodicEmbedding": _periodic,
                         "PiecewiseLinearEncoding": _piecewise_linear}


def _regression_linear(graph, student, Z):
    """``X @ coef_ + intercept_``, as ``LinearRegressionStudent.predict``."""
    return _affine(graph, Z, student.coef_[:, None], [student.intercept_])


def _in_units_of_y(standardized):
    """A regression student's converter from its standardized output."""

    def convert(graph, student, Z):
        scaled = graph.add("Mul", [standardized(graph, student, Z),
                                   graph.const([student.target_scale_])])
        return graph.add("Add", [scaled, graph.const([student.target_mean_])])

    return convert


def _regression_xgb(graph, student, Z):
    trees, n_targets, base_margin = _xgb_trees(student.booster_)
    return _ensemble(graph, Z, _with_offsets(
        trees, np.broadcast_to(base_margin, n_targets)), n_targets, _F32_LT)


_STUDENT_CONVERTERS = {
    MLPStudent: _mlp,
    TreeStudent: _tree,
    LGBMStudent: _lgbm,
    XGBStudent: _xgb,
    LinearStudent: _linear,
}
# The regression students: ``predict`` as a column, shape (n_rows, 1).
_REGRESSION_CONVERTERS = {
    MLPRegressionStudent: _in_units_of_y(
        lambda graph, student, Z: _mlp_output(graph, student.module_, Z)),
    TreeRegressionStudent: _in_units_of_y(
        lambda graph, student, Z: _sklearn_tree_values(
            graph, student.tree_model_.tree_, Z)),
    LGBMRegressionStudent: _in_units_of_y(
        lambda graph, student, Z: _lgbm_raw(graph, student.booster_, Z)),
    XGBRegressionStudent: _in_units_of_y(_regression_xgb),
    LinearRegressionStudent: _regression_linear,
}


def _booster_proba(graph, student, Z, trees, n_targets, base_margin, compare):
    """The boosters' link: raw scores + init score, softmax, then sharpening.

    The init score and margin are added to the leaves; a binary booster's one
    column of scores is the second of two logits ``[0, raw]``, the first a
    target with no tree (0).
    """
    offsets = np.broadcast_to(np.asarray(student.init_score_) + base_margin,
                              n_targets)
    trees = _with_offsets(trees, offsets)
    if len(student.init_score_) == 1:
        trees, n_targets = [(1, tree) for _, tree in trees], 2
    factor = _logit_factor(student.temperature_, n_targets)
    if factor is None:
        return _sharpened_softmax(graph, _ensemble(graph, Z, trees, n_targets,
                                                   compare), student.temperature_)
    if factor != 1.0:
        trees = [(target, _Tree(tree.feature, tree.threshold, tree.left, tree.right,
                                tree.missing_left, tree.value * factor, tree.mode))
                 for target, tree in trees]
    return graph.add("Softmax", [_ensemble(graph, Z, trees, n_targets, compare)],
                     axis=1)


# How far the exported probabilities may move from predict_proba's, at most,
# for a node less (the parity promised is 1e-6).
_FOLD_ERROR = 1e-9
_UNIT_TEMPERATURE = 1e-12


def _logit_factor(temperature, n_classes):
    """The factor ``T`` such that ``softmax(T * logits)`` is ``predict_proba``
    of the distribution ``softmax(logits)``, or None where none is.

    ``BaseStudent.predict_proba`` clips the softmax at zero and renormalises
    it, which changes a softmax's rows by rounding only, then sharpens it:
    ``softmax(log(clip(p, 1e-12, 1)) / (1 / T))`` unless ``1 / T == 1``. As
    ``log(p)`` is ``logits`` less a constant per row, that is ``softmax(T *
    logits)`` but for the floor at ``1e-12``: taken away, a class under it
    moves by at most ``2 K (K 1e-12)^T`` with ``K`` classes (``T >= 1``), so
    under ``_FOLD_ERROR`` for ``T >= 1`` and ``K <= 22``. A temperature within
    ``_UNIT_TEMPERATURE`` of 1 (a fitted one may come out as ``1 + 1e-14``) is
    1: sharpening by it moves no probability by more than about that.
    """
    inverse = 1.0 / temperature
    if abs(inverse - 1.0) <= _UNIT_TEMPERATURE:
        return 1.0
    if inverse < 1.0 and 2 * n_classes ** 2 * PROBA_FLOOR <= _FOLD_ERROR:
        return 1.0 / inverse
    return None


def _sharpened_softmax(graph, logits, temperature):
    """``BaseStudent.predict_proba`` of ``softmax(logits)``, sharpened by a
    temperature :func:`_logit_factor` cannot fold: ``LogSoftmax`` (never above
    0) floored at ``log(1e-12)``, divided by ``1 / T``, then ``Softmax``."""
    log_proba = graph.add("Max", [graph.add("LogSoftmax", [logits], axis=1),
                                  graph.const(np.log(PROBA_FLOOR))])
    return graph.add("Softmax", [graph.add("Div", [log_proba,
                                                   graph.const(1.0 / temperature)])],
                     axis=1)
