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
from ..students._base import PROBA_FLOOR
from ._trees import (
    _BRANCH_LEQ,
    _lgbm_tree,
    _Tree,
    _tree_ensemble,
    _xgb_base_margin,
    _xgb_tree,
)


def _linear(graph, student, Z):
    logits = graph.add("Add", [graph.add("MatMul", [Z, graph.const(student.coef_.T)]),
                               graph.const(student.intercept_)])
    return _distribution_to_proba(graph, graph.add("Softmax", [logits], axis=1),
                                  student.temperature_)


def _tree(graph, student, Z):
    distribution = _sklearn_tree_values(graph, student.tree_model_.tree_, Z)
    return _distribution_to_proba(graph, distribution, student.temperature_)


def _sklearn_tree_values(graph, tree, Z):
    """A fitted scikit-learn tree's predictions, one column per target."""
    values = tree.value[:, :, 0]
    trees = [
        (target, _Tree(tree.feature, tree.threshold, tree.children_left,
                       tree.children_right,
                       np.asarray(tree.missing_go_to_left, dtype=bool),
                       values[:, target], _BRANCH_LEQ))
        for target in range(values.shape[1])
    ]
    # scikit-learn compares float32(x) <= threshold, the threshold a float64.
    Z = graph.cast(graph.cast(Z, "FLOAT"), "DOUBLE")
    return _tree_ensemble(graph, Z, trees, values.shape[1])


def _lgbm(graph, student, Z):
    return _booster_proba(graph, student, _lgbm_raw(graph, student.booster_, Z), 0.0)


def _lgbm_raw(graph, booster, Z):
    """A LightGBM booster's raw scores, one column per tree of a round."""
    dump = booster.dump_model()
    if dump.get("average_output"):
        raise NotImplementedError("to_onnx cannot export a LightGBM random forest.")
    per_round = dump["num_tree_per_iteration"]
    trees = [(i % per_round, _lgbm_tree(info["tree_structure"]))
             for i, info in enumerate(dump["tree_info"])]
    return _tree_ensemble(graph, Z, trees, per_round)


def _xgb(graph, student, Z):
    raw, base_margin = _xgb_raw(graph, student.booster_, Z)
    return _booster_proba(graph, student, raw, base_margin)


def _xgb_raw(graph, booster, Z):
    """An XGBoost booster's summed trees, and the margin it adds to them."""
    learner = json.loads(booster.save_raw("json"))["learner"]
    gradient_booster = learner["gradient_booster"]
    if gradient_booster["name"] != "gbtree":
        raise NotImplementedError(
            f"to_onnx cannot export an XGBoost {gradient_booster['name']!r} booster.")
    model = gradient_booster["model"]
    trees = [(target, _xgb_tree(tree))
             for tree, target in zip(model["trees"], model["tree_info"], strict=True)]
    n_targets = max(1, int(learner["learner_model_param"]["num_class"]))
    # XGBoost reads its input as float32 and compares float32(x) < threshold.
    Z = graph.cast(graph.cast(Z, "FLOAT"), "DOUBLE")
    return _tree_ensemble(graph, Z, trees, n_targets), _xgb_base_margin(learner)


def _mlp(graph, student, Z):
    """The network layer by layer in float32 (as MLPStudent runs it), then a
    float64 softmax."""
    return graph.add("Softmax", [_mlp_output(graph, student.module_, Z)], axis=1)


def _mlp_output(graph, module, Z):
    """The network's output in float32, cast to float64."""
    hidden = graph.cast(Z, "FLOAT")
    for layer in module:
        hidden = _mlp_layer(graph, layer, hidden)
    return graph.cast(hidden, "DOUBLE")


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
    return graph.add("Add", [
        graph.add("MatMul", [Z, graph.const(student.coef_[:, None])]),
        graph.const([student.intercept_])])


def _in_units_of_y(standardized):
    """A regression student's converter from its standardized output."""

    def convert(graph, student, Z):
        scaled = graph.add("Mul", [standardized(graph, student, Z),
                                   graph.const([student.target_scale_])])
        return graph.add("Add", [scaled, graph.const([student.target_mean_])])

    return convert


def _regression_xgb(graph, student, Z):
    raw, base_margin = _xgb_raw(graph, student.booster_, Z)
    return graph.add("Add", [raw, graph.const(np.asarray(base_margin))])


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


def _booster_proba(graph, student, raw, base_margin):
    """The boosters' link: raw scores + init score, softmax, then sharpening."""
    raw = graph.add("Add", [raw, graph.const(np.asarray(student.init_score_)
                                             + base_margin)])
    if len(student.init_score_) == 1:  # binary: logits [0, raw]
        raw = graph.add("MatMul", [raw, graph.const([[0.0, 1.0]])])
    distribution = graph.add("Softmax", [raw], axis=1)
    return _distribution_to_proba(graph, distribution, student.temperature_)


def _distribution_to_proba(graph, distribution, temperature):
    """``BaseStudent.predict_proba`` after ``_predict_distribution``.

    Clip at zero, renormalise the rows, then ``sharpen(p, T)``, which is
    ``softmax(log(clip(p, 1e-12, 1)) / (1 / T))`` unless ``1 / T == 1``.
    """
    proba = graph.add("Max", [distribution, graph.const(0.0)])
    total = graph.add("ReduceSum", [proba, graph.const([1], np.int64)], keepdims=1)
    proba = graph.add("Div", [proba, graph.add("Max", [total,
                                                       graph.const(PROBA_FLOOR)])])
    inverse = 1.0 / temperature
    if inverse == 1.0:
        return proba
    log_proba = graph.add("Log", [graph.add("Clip", [proba, graph.const(PROBA_FLOOR),
                                                     graph.const(1.0)])])
    return graph.add("Softmax", [graph.add("Div", [log_proba,
                                                   graph.const(inverse)])], axis=1)
