"""Fitted trees of scikit-learn, LightGBM and XGBoost as one ONNX ``TreeEnsemble``.

Each library's trees are read into :class:`_Tree` arrays, with its own comparison
(scikit-learn: ``float32(x) <= t``; LightGBM: ``x <= t`` in float64; XGBoost:
``float32(x) < t``) and missing-value direction, then written as one
``ai.onnx.ml.TreeEnsemble`` node (opset 5) with float64 thresholds and leaves.
"""

from dataclasses import dataclass

import numpy as np

# How each library compares a feature with its threshold (what goes left).
_F32_LEQ, _F64_LEQ, _F32_LT = "float32 <=", "float64 <=", "float32 <"
# TreeEnsemble's encodings of its attributes.
_BRANCH_LEQ, _BRANCH_LT, _BRANCH_EQ, _BRANCH_NEQ = 0, 1, 4, 5
_AGGREGATE_SUM, _POST_TRANSFORM_NONE = 1, 0


@dataclass
class _Tree:
    """One tree as arrays over its nodes; leaves have ``left == -1``.

    ``missing_left``: where a missing value goes; ``value``: the leaves' output;
    ``mode``: ``_BRANCH_LEQ`` (``x <= t`` goes left), ``_BRANCH_LT``, ..., or
    an array of them, one per node.
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    value: np.ndarray
    mode: int


def _tree_ensemble(graph, Z, trees, n_targets):
    """One ``ai.onnx.ml.TreeEnsemble`` node summing ``(target, _Tree)`` pairs.

    With ``graph.ml_opset`` below 5 (skl2onnx writes ``ai.onnx.ml`` 3 at most),
    one ``TreeEnsembleRegressor`` node instead: float64 thresholds too, but its
    sums come out in float32.
    """
    if graph.opsets["ai.onnx.ml"] < 5:
        return _tree_ensemble_regressor(graph, Z, trees, n_targets)
    from onnx import numpy_helper

    roots, features, splits, modes, missing = [], [], [], [], []
    true_ids, true_leaf, false_ids, false_leaf = [], [], [], []
    leaf_targets, leaf_weights = [], []
    for target, tree in trees:
        is_leaf = np.asarray(tree.left) < 0
        branches = np.flatnonzero(~is_leaf)
        leaves = np.flatnonzero(is_leaf)
        branch_id = dict(zip(branches, len(features) + np.arange(len(branches)),
                             strict=True))
        leaf_id = dict(zip(leaves, len(leaf_weights) + np.arange(len(leaves)),
                           strict=True))
        leaf_targets += [target] * len(leaves)
        leaf_weights += [float(tree.value[leaf]) for leaf in leaves]
        if len(branches) == 0:  # a lone leaf: a split whose both sides reach it
            roots.append(len(features))
            features.append(0)
            splits.append(0.0)
            modes.append(_BRANCH_LEQ)
            missing.append(1)
            for ids, flags in ((true_ids, true_leaf), (false_ids, false_leaf)):
                ids.append(leaf_id[leaves[0]])
                flags.append(1)
            continue
        roots.append(branch_id[0])
        for node in branches:
            features.append(int(tree.feature[node]))
            splits.append(float(tree.threshold[node]))
            modes.append(tree.mode if np.ndim(tree.mode) == 0 else tree.mode[node])
            missing.append(int(tree.missing_left[node]))
            for child, ids, flags in ((tree.left[node], true_ids, true_leaf),
                                      (tree.right[node], false_ids, false_leaf)):
                child_is_leaf = bool(is_leaf[child])
                ids.append(int(leaf_id[child] if child_is_leaf else branch_id[child]))
                flags.append(int(child_is_leaf))
    return graph.add(
        "TreeEnsemble", [Z], domain="ai.onnx.ml",
        n_targets=n_targets,
        aggregate_function=_AGGREGATE_SUM,
        post_transform=_POST_TRANSFORM_NONE,
        tree_roots=roots,
        nodes_featureids=features,
        nodes_splits=numpy_helper.from_array(np.asarray(splits, dtype=np.float64)),
        nodes_modes=numpy_helper.from_array(np.asarray(modes, dtype=np.uint8)),
        nodes_truenodeids=true_ids,
        nodes_trueleafs=true_leaf,
        nodes_falsenodeids=false_ids,
        nodes_falseleafs=false_leaf,
        nodes_missing_value_tracks_true=missing,
        leaf_targetids=leaf_targets,
        leaf_weights=numpy_helper.from_array(np.asarray(leaf_weights,
                                                        dtype=np.float64)),
    )


def _tree_ensemble_regressor(graph, Z, trees, n_targets):
    """``ai.onnx.ml.TreeEnsembleRegressor`` (opset 3) summing ``(target, _Tree)``."""
    from onnx import numpy_helper

    modes = {_BRANCH_LEQ: "BRANCH_LEQ", _BRANCH_LT: "BRANCH_LT"}
    nodes = {key: [] for key in ("treeids", "nodeids", "featureids", "modes",
                                 "values", "truenodeids", "falsenodeids",
                                 "missing_value_tracks_true")}
    targets = {key: [] for key in ("treeids", "nodeids", "ids", "weights")}
    for tree_id, (target, tree) in enumerate(trees):
        for node in range(len(tree.left)):
            leaf = tree.left[node] < 0
            nodes["treeids"].append(tree_id)
            nodes["nodeids"].append(node)
            nodes["featureids"].append(0 if leaf else int(tree.feature[node]))
            nodes["modes"].append("LEAF" if leaf else modes[
                tree.mode if np.ndim(tree.mode) == 0 else tree.mode[node]])
            nodes["values"].append(0.0 if leaf else float(tree.threshold[node]))
            nodes["truenodeids"].append(0 if leaf else int(tree.left[node]))
            nodes["falsenodeids"].append(0 if leaf else int(tree.right[node]))
            nodes["missing_value_tracks_true"].append(
                0 if leaf else int(tree.missing_left[node]))
            if leaf:
                targets["treeids"].append(tree_id)
                targets["nodeids"].append(node)
                targets["ids"].append(int(target))
                targets["weights"].append(float(tree.value[node]))
    values = numpy_helper.from_array(np.asarray(nodes.pop("values"), np.float64))
    weights = numpy_helper.from_array(np.asarray(targets.pop("weights"),
                                                 np.float64))
    out = graph.add(
        "TreeEnsembleRegressor", [Z], domain="ai.onnx.ml", n_targets=n_targets,
        aggregate_function="SUM", post_transform="NONE",
        nodes_values_as_tensor=values, target_weights_as_tensor=weights,
        **{f"nodes_{key}": value for key, value in nodes.items()},
        **{f"target_{key}": value for key, value in targets.items()})
    return graph.cast(out, "DOUBLE")


def _lgbm_tree(structure):
    """A LightGBM tree from ``dump_model()``'s nested dicts, nodes in preorder.

    LightGBM sends ``x <= threshold`` left, in float64. A missing value goes the
    ``default_left`` way for ``missing_type`` ``"NaN"``; for ``"None"`` it is read
    as 0 and compared.
    """
    nodes = []

    def visit(node):
        index = len(nodes)
        nodes.append(None)
        if "leaf_value" in node:
            nodes[index] = (-1, 0.0, -1, -1, False, node["leaf_value"])
            return index
        if node["decision_type"] != "<=":
            raise NotImplementedError(
                "to_onnx cannot export LightGBM categorical splits.")
        threshold = float(node["threshold"])
        if node["missing_type"] == "NaN":
            missing_left = bool(node["default_left"])
        elif node["missing_type"] == "None":
            missing_left = threshold >= 0.0
        else:  # "Zero": zeros and missing values take the default way
            missing_left = bool(node["default_left"])
            if missing_left != (threshold >= 0.0):
                raise NotImplementedError(
                    "to_onnx cannot export LightGBM splits with zero_as_missing.")
        left = visit(node["left_child"])
        right = visit(node["right_child"])
        nodes[index] = (node["split_feature"], threshold, left, right, missing_left,
                        0.0)
        return index

    visit(structure)
    feature, threshold, left, right, missing_left, value = zip(*nodes, strict=True)
    return _Tree(np.array(feature), np.array(threshold, dtype=np.float64),
                 np.array(left), np.array(right), np.array(missing_left, dtype=bool),
                 np.array(value, dtype=np.float64), _BRANCH_LEQ)


def _xgb_tree(tree):
    """An XGBoost tree from its JSON model: ``float32(x) < threshold`` goes left."""
    if any(tree["split_type"]):
        raise NotImplementedError("to_onnx cannot export XGBoost categorical splits.")
    if int(tree["tree_param"].get("size_leaf_vector", "1")) > 1:
        raise NotImplementedError("to_onnx cannot export XGBoost vector leaves.")
    # Thresholds and leaf values are float32 (leaves store theirs in
    # split_conditions); JSON gives their shortest decimal form.
    conditions = np.asarray(tree["split_conditions"], dtype=np.float32)
    conditions = conditions.astype(np.float64)
    left = np.asarray(tree["left_children"])
    return _Tree(np.asarray(tree["split_indices"]), conditions, left,
                 np.asarray(tree["right_children"]),
                 np.asarray(tree["default_left"], dtype=bool),
                 np.where(left < 0, conditions, 0.0), _BRANCH_LT)


_XGB_LOGISTIC = ("binary:logistic", "reg:logistic")
_XGB_IDENTITY = ("reg:squarederror", "binary:logitraw", "multi:softmax",
                 "multi:softprob")


def _xgb_base_margin(learner):
    """The margin XGBoost adds to the trees: ``base_score`` through the link."""
    text = learner["learner_model_param"]["base_score"].strip("[]")
    base_score = np.array([float(v) for v in text.split(",")], dtype=np.float32)
    objective = learner["objective"]["name"]
    if objective in _XGB_LOGISTIC:
        base_score = base_score.astype(np.float64)
        return np.log(base_score / (1.0 - base_score))
    if objective in _XGB_IDENTITY:
        return base_score.astype(np.float64)
    raise NotImplementedError(
        f"to_onnx cannot export an XGBoost booster with objective {objective!r}.")


def _float_keys(x):
    """float64 values as int64 keys in the same order (-0.0 and 0.0 alike)."""
    bits = np.asarray(x, dtype=np.float64).view(np.int64)
    return np.where(bits < 0, -(bits & np.int64(0x7FFFFFFFFFFFFFFF)), bits)


def _key_floats(keys):
    """The inverse of :func:`_float_keys`."""
    keys = np.asarray(keys, dtype=np.int64)
    bits = np.where(keys < 0, (-keys) | np.int64(-0x8000000000000000), keys)
    return bits.view(np.float64)


def _exact_thresholds(threshold, mean, scale, compare):
    """float64 thresholds ``u`` with ``x <= u`` exactly when the library's
    comparison of the scaled feature holds: ``float32((x - mean) / scale) <=
    threshold`` (``compare`` ``_F32_LEQ``), ``(x - mean) / scale <= threshold``
    (``_F64_LEQ``) or ``float32((x - mean) / scale) < threshold``
    (``_F32_LT``), for every non-missing float64 ``x``; None where no ``x``
    passes.

    Each side is a non-decreasing function of ``x`` (rounding is monotone), so
    the ``x`` that pass are all those up to the largest one, found by
    bisection over the float64 values in order.
    """
    threshold = np.asarray(threshold, np.float64)
    mean = np.broadcast_to(np.asarray(mean, np.float64), threshold.shape)
    scale = np.broadcast_to(np.asarray(scale, np.float64), threshold.shape)

    def passes(x):
        with np.errstate(all="ignore"):
            z = (x - mean) / scale
            if compare == _F64_LEQ:
                return z <= threshold
            z = z.astype(np.float32).astype(np.float64)
            return z <= threshold if compare == _F32_LEQ else z < threshold

    low = np.full(threshold.shape, _float_keys(-np.inf), dtype=np.int64)
    high = np.full(threshold.shape, _float_keys(np.inf), dtype=np.int64)
    if not passes(_key_floats(low)).all():
        return None
    every = passes(_key_floats(high))
    # invariant: low passes; high passes only where ``every``
    for _ in range(66):
        middle = (low >> 1) + (high >> 1) + (low & high & 1)
        ok = passes(_key_floats(middle))
        low = np.where(ok, middle, low)
        high = np.where(ok, high, middle)
    if (high - low > 1).any():  # pragma: no cover - 66 halvings always do
        raise RuntimeError("threshold bisection did not converge")
    return np.where(every, np.inf, _key_floats(low))


# How a tree's feature is read from the new input (``_Reading.kind``).
_VALUE, _CODE, _IS_MISSING = 0, 1, 2


@dataclass
class _Reading:
    """Per feature a tree reads, where it comes from in the new input.

    ``column``: the new input's column; ``kind``: ``_VALUE``, the column
    scaled, ``(x - mean) / scale``, and, where ``fill`` is not NaN, a missing
    value read as ``fill`` (the imputer's); ``_CODE``, a one-hot column, 1
    where the code column equals ``code``, else 0; ``_IS_MISSING``, a missing-
    value indicator of the column, scaled.
    """

    column: np.ndarray
    kind: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    fill: np.ndarray
    code: np.ndarray


def _plain_reading(index, mean, scale):
    """Each feature the column ``index`` scaled, missing values the tree's."""
    n = len(index)
    return _Reading(np.asarray(index), np.full(n, _VALUE), np.asarray(mean),
                    np.asarray(scale), np.full(n, np.nan), np.full(n, -1))


def _folded_trees(trees, compare, reading=None):
    """``trees`` reading the new input as ``reading`` says, with splits equal
    to the library's ``compare`` on the features they read; None when a split
    cannot be written so.

    A value's split becomes ``x <= u`` (float64; the scaling and float32
    rounding folded into ``u`` exactly), and a missing value goes where its
    ``fill`` would; a one-hot column's split, ``code != k`` (or ``==``, always
    or never true); an indicator's, always true or never true, the missing
    values going the indicator's 1's way. Without ``reading``: each feature
    its own column, unscaled.
    """
    if reading is None:
        n = 1 + max(int(np.max(tree.feature, initial=0)) for _, tree in trees)
        reading = _plain_reading(np.arange(n), np.zeros(n), np.ones(n))
    folded = []
    for target, tree in trees:
        feature = np.asarray(tree.feature)
        is_branch = np.asarray(tree.left) >= 0
        used = np.where(is_branch, feature, 0)
        threshold = np.asarray(tree.threshold, np.float64).copy()
        missing = np.asarray(tree.missing_left, dtype=bool).copy()
        modes = np.full(len(feature), _BRANCH_LEQ, dtype=np.uint8)
        kind = reading.kind[used]
        mean, scale = reading.mean[used], reading.scale[used]
        split = _Split(threshold.copy(), mean, scale, compare)
        value = is_branch & (kind == _VALUE)
        if value.any():
            u = _exact_thresholds(threshold[value], mean[value], scale[value],
                                  compare)
            if u is None:
                return None
            filled = value & ~np.isnan(reading.fill[used])
            missing[filled] = split.passes(reading.fill[used], filled)
            threshold[value] = u
        coded = is_branch & (kind == _CODE)
        if coded.any():
            zero, one = split.passes(0.0, coded), split.passes(1.0, coded)
            # a code is an integer >= -1: "== -2" is never true, "<= inf" always
            modes[coded] = np.select([zero & one, zero, one],
                                     [_BRANCH_LEQ, _BRANCH_NEQ, _BRANCH_EQ],
                                     _BRANCH_EQ)
            threshold[coded] = np.select(
                [zero & one, zero ^ one], [np.inf, reading.code[used][coded]], -2.0)
        flagged = is_branch & (kind == _IS_MISSING)
        if flagged.any():
            # x <= inf: every value; x < -inf: none; a missing value: as 1
            present = split.passes(0.0, flagged)
            modes[flagged] = np.where(present, _BRANCH_LEQ, _BRANCH_LT)
            threshold[flagged] = np.where(present, np.inf, -np.inf)
            missing[flagged] = split.passes(1.0, flagged)
        feature = np.where(is_branch, reading.column[used], feature)
        tree = _Tree(feature, threshold, np.asarray(tree.left).copy(),
                     np.asarray(tree.right).copy(), missing,
                     np.asarray(tree.value, np.float64), modes)
        folded.append((target, tree))
    return _same_modes(folded)


def _same_modes(trees):
    """``trees`` with their ``==`` and ``!=`` splits as ``<=`` ones where that
    makes every split ``<=`` (onnxruntime walks such an ensemble faster) and
    at most doubles the ensemble's nodes; else as they are."""
    rewritten = [(target, _as_less_or_equal(tree)) for target, tree in trees]
    size = sum(len(tree.left) for _, tree in trees)
    if (sum(len(tree.left) for _, tree in rewritten) <= _GROWTH * size
            and all(_only_less_or_equal(tree) for _, tree in rewritten)):
        trees = rewritten
    return [(target, _Tree(tree.feature, tree.threshold, tree.left, tree.right,
                           tree.missing_left, tree.value,
                           _BRANCH_LEQ if _only_less_or_equal(tree) else tree.mode))
            for target, tree in trees]


def _only_less_or_equal(tree):
    return bool((np.asarray(tree.mode)[np.asarray(tree.left) >= 0]
                 == _BRANCH_LEQ).all())


# At most this many times the nodes an ensemble rewritten by _as_less_or_equal
# may have; a larger one keeps its == and != splits.
_GROWTH = 2.0


def _as_less_or_equal(tree):
    """``tree`` with each ``code == k`` or ``code != k`` split written as two
    ``<=`` splits (``code <= k - 0.5``, then ``code <= k + 0.5``): onnxruntime
    walks an ensemble whose splits all compare alike faster (on diamonds' 250
    trees about 0.5 µs a row, net of the extra splits). The side both reach is
    copied (onnxruntime shares leaves, not splits)."""
    mode = np.asarray(tree.mode)
    left, right = np.asarray(tree.left), np.asarray(tree.right)
    if not (((mode == _BRANCH_EQ) | (mode == _BRANCH_NEQ)) & (left >= 0)).any():
        return tree
    nodes, leaves = [], {}  # (feature, threshold, left, right, missing, value, mode)

    def add(*row):
        nodes.append(list(row))
        return len(nodes) - 1

    def emit(node):
        if left[node] < 0:  # a leaf, shared
            if node not in leaves:
                leaves[node] = add(tree.feature[node], 0.0, -1, -1, False,
                                   tree.value[node], _BRANCH_LEQ)
            return leaves[node]
        if mode[node] not in (_BRANCH_EQ, _BRANCH_NEQ):
            at = add(tree.feature[node], tree.threshold[node], -1, -1,
                     tree.missing_left[node], 0.0, mode[node])
            nodes[at][2], nodes[at][3] = emit(left[node]), emit(right[node])
            return at
        equal, unequal = ((left[node], right[node]) if mode[node] == _BRANCH_EQ
                          else (right[node], left[node]))
        k = tree.threshold[node]
        # code < k: unequal; else code <= k: equal, or code > k: unequal
        below = add(tree.feature[node], k - 0.5, -1, -1, False, 0.0, _BRANCH_LEQ)
        nodes[below][2] = emit(unequal)
        above = add(tree.feature[node], k + 0.5, -1, -1, False, 0.0, _BRANCH_LEQ)
        nodes[below][3] = above
        nodes[above][2], nodes[above][3] = emit(equal), emit(unequal)
        return below

    emit(0)
    feature, threshold, new_left, new_right, missing, value, modes = zip(
        *nodes, strict=True)
    return _Tree(np.array(feature), np.array(threshold, np.float64),
                 np.array(new_left), np.array(new_right),
                 np.array(missing, dtype=bool), np.array(value, np.float64),
                 np.array(modes, dtype=np.uint8))


@dataclass
class _Split:
    """The library's comparison of a scaled value with each node's threshold."""

    threshold: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    compare: str

    def passes(self, x, where):
        """Whether ``x`` (a number, or one per node) goes left at the nodes
        ``where``."""
        x = np.broadcast_to(np.asarray(x, np.float64), self.threshold.shape)[where]
        with np.errstate(all="ignore"):
            z = (x - self.mean[where]) / self.scale[where]
            if self.compare == _F64_LEQ:
                return z <= self.threshold[where]
            z = z.astype(np.float32).astype(np.float64)
            return (z <= self.threshold[where] if self.compare == _F32_LEQ
                    else z < self.threshold[where])


