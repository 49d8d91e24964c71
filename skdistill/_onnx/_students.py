"""Each student family's ``predict_proba`` as ONNX nodes."""

import json

import numpy as np

from ..students import (
    LGBMStudent,
    LinearStudent,
    MLPStudent,
    TreeStudent,
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
    tree = student.tree_model_.tree_
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
    distribution = _tree_ensemble(graph, Z, trees, values.shape[1])
    return _distribution_to_proba(graph, distribution, student.temperature_)


def _lgbm(graph, student, Z):
    dump = student.booster_.dump_model()
    if dump.get("average_output"):
        raise NotImplementedError("to_onnx cannot export a LightGBM random forest.")
    per_round = dump["num_tree_per_iteration"]
    trees = [(i % per_round, _lgbm_tree(info["tree_structure"]))
             for i, info in enumerate(dump["tree_info"])]
    raw = _tree_ensemble(graph, Z, trees, per_round)
    return _booster_proba(graph, student, raw, 0.0)


def _xgb(graph, student, Z):
    learner = json.loads(student.booster_.save_raw("json"))["learner"]
    booster = learner["gradient_booster"]
    if booster["name"] != "gbtree":
        raise NotImplementedError(
            f"to_onnx cannot export an XGBoost {booster['name']!r} booster.")
    model = booster["model"]
    trees = [(target, _xgb_tree(tree))
             for tree, target in zip(model["trees"], model["tree_info"], strict=True)]
    n_targets = max(1, int(learner["learner_model_param"]["num_class"]))
    # XGBoost reads its input as float32 and compares float32(x) < threshold.
    Z = graph.cast(graph.cast(Z, "FLOAT"), "DOUBLE")
    raw = _tree_ensemble(graph, Z, trees, n_targets)
    return _booster_proba(graph, student, raw, _xgb_base_margin(learner))


def _mlp(graph, student, Z):
    """The network layer by layer in float32 (as MLPStudent runs it), then a
    float64 softmax."""
    hidden = graph.cast(Z, "FLOAT")
    for layer in student.module_:
        hidden = _mlp_layer(graph, layer, hidden)
    return graph.add("Softmax", [graph.cast(hidden, "DOUBLE")], axis=1)


def _mlp_layer(graph, layer, hidden):
    """One layer of ``MLPStudent.module_`` as ONNX nodes (eval mode)."""
    from torch import nn

    def weights(tensor):
        return graph.const(tensor.detach().cpu().numpy(), np.float32)

    kind = type(layer).__name__
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


_STUDENT_CONVERTERS = {
    MLPStudent: _mlp,
    TreeStudent: _tree,
    LGBMStudent: _lgbm,
    XGBStudent: _xgb,
    LinearStudent: _linear,
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
