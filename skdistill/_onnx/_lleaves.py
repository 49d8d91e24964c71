"""A tree student's ONNX graph with its ``TreeEnsemble`` compiled by lleaves.

onnxruntime walks a ``TreeEnsemble`` node at about 40-70 ns per tree and row
on one core here; lleaves compiles the same trees to machine code through LLVM,
4-7 times faster on 10,000 rows (``benchmarks/README.md``, "tree students
compiled by lleaves"). The graph is cut in three: the nodes that make the
trees' input (run by onnxruntime), the trees (LightGBM model text written from
the node's attributes, compiled by lleaves), and the nodes after them, the link
(a softmax compiled with the trees, anything else compiled through llvmlite by
:mod:`._llvm`). On a
few rows the steps' calls cost more than one session's call, so batches under
``min_rows`` go through the whole graph in one session.
"""

import tempfile
from pathlib import Path

import numpy as np

from ._graph import ancestors, submodel
from ._serving import _address, _CutServingModel, _session

# The objective written when lleaves gives the trees' raw sums (compiled with
# raw_score: its "regression" returns one output only).
_RAW_SUMS = "regression"
# ai.onnx.ml TreeEnsemble's node modes (opset 5).
_LEQ, _LT, _GTE, _GT, _EQ, _NEQ = 0, 1, 2, 3, 4, 5
# LightGBM's decision_type bits: a categorical split, default_left, and
# missing values as NaN.
_CATEGORICAL, _DEFAULT_LEFT, _MISSING_NAN = 1, 2, 8


class LleavesServingModel(_CutServingModel):
    """A tree student's ONNX graph, its trees compiled by lleaves.

    Made by :func:`skdistill.export.serving_model` with ``engine="lleaves"``.
    It predicts what :class:`OnnxServingModel` predicts (the trees' sums are
    equal to the last bit: the same float64 thresholds, compared the same
    way) and pickles as the model's bytes and the compiled object code.

    Parameters
    ----------
    model : onnx.ModelProto
        What :func:`~skdistill.export.to_onnx` returned for a tree student
        (one ``TreeEnsemble`` node).
    n_threads : int, default=1
        onnxruntime's intra-op threads and lleaves' ``n_jobs``.
    min_rows : int, default=32
        Batches of fewer rows run the whole graph in onnxruntime, whose one
        call costs less than the three steps' on a few rows (on the inputs of
        ``onnx_inputs``, the two ways took as long at 8 to 32 rows on
        mlc_churn's and flights' LightGBM students).

    Attributes
    ----------
    classes_, feature_names_in_, n_features_in_
        As :class:`OnnxServingModel`.
    model_text : str
        The trees as a LightGBM model, the text lleaves compiles.
    object_code : bytes
        lleaves' compiled trees.

    Notes
    -----
    :meth:`tree_rows` and :meth:`run_trees` split a call in two, for a
    server that makes its rows' category codes itself (as LightGBM's and
    lleaves' own users do): ``run_trees(tree_rows(X))`` is ``predict_proba(X)``.
    """

    _TRANSIENT = ("_parts", "_before", "_finish", "_compiled", "_forest")

    def __init__(self, model, n_threads=1, min_rows=32):
        super().__init__(model, n_threads)
        self.min_rows = min_rows
        self.model_text = self.object_code = None
        self._build()

    def _build(self):
        import onnx

        parts = split_at_trees(onnx.load_from_string(self.model_bytes))
        objective, self._finish = _link(parts, self.n_threads)
        if self.model_text is None:
            self.model_text = lightgbm_text(parts.trees, objective)
        self._parts = parts
        self._before = (None if parts.before is None
                        else _session(parts.before.SerializeToString(), self.n_threads))
        self._compiled, self.object_code = _compile(
            self.model_text, self.object_code, raw_score=objective == _RAW_SUMS)
        self._forest = _forest_function(self._compiled)
        self._n_outputs = len(parts.trees.targets)

    def tree_rows(self, X):
        """The rows the compiled trees read: the trees' input (numeric
        columns and category codes) up to the last column a tree reads, then
        a copy of each category code column the trees test.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            As :meth:`predict_proba` takes it.

        Returns
        -------
        ndarray of shape (n_samples, n_tree_features), float64
        """
        return self._tree_rows(self._inputs(X))

    def _tree_rows(self, inputs):
        return self._before_rows(inputs, self._parts.trees_input)

    def run_trees(self, rows):
        """What :meth:`predict_proba` returns (``predict`` for a regression
        student), from rows made by :meth:`tree_rows`.

        Parameters
        ----------
        rows : ndarray of shape (n_samples, n_tree_features)

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self._compiled.num_feature():
            raise ValueError(f"rows has shape {rows.shape}; the trees read rows of "
                             f"{self._compiled.num_feature()} features "
                             "(see tree_rows).")
        if self._forest is None or self.n_threads != 1:
            output = self._compiled.predict(rows, n_jobs=self.n_threads)
        else:
            output = np.zeros(len(rows) * self._n_outputs)
            self._forest(_address(rows), _address(output), 0, len(rows))
        return self._finish(output.reshape(len(rows), self._n_outputs))

    def _evaluate(self, inputs):
        if len(next(iter(inputs.values()))) < self.min_rows:
            return super()._evaluate(inputs)
        return self.run_trees(self._tree_rows(inputs))


def _link(parts, n_threads):
    """``(objective, finish)``: the LightGBM objective lleaves applies to the
    trees' sums, and what makes the graph's output of lleaves' output.

    Where the nodes after the trees are a softmax of them (a classifier's
    link), lleaves computes it: a binary student's one column of sums as the
    sigmoid of ``[0, sum]``'s second logit, a multiclass one's softmax. Else
    lleaves gives the raw sums (``_RAW_SUMS``) and the nodes after are
    compiled by :func:`_compiled_link`.
    """
    after, targets, n_targets = parts.after, parts.trees.targets, parts.trees.n_targets
    ops = [node.op_type for node in after.graph.node]
    if ops in (["Softmax"], ["Softmax", "Identity"]) and \
            _softmax_axis(after.graph.node[0]) in (1, -1):
        if n_targets == 2 and targets == [1]:
            def two_columns(positive):
                proba = np.empty((len(positive), 2))
                proba[:, 1:] = positive
                np.subtract(1.0, positive[:, 0], out=proba[:, 0])
                return proba
            return "binary sigmoid:1", two_columns
        if targets == list(range(n_targets)):
            return f"multiclass num_class:{n_targets}", lambda proba: proba
    link = _compiled_link(after, n_threads)

    def after_trees(raw):
        sums = np.zeros((len(raw), n_targets))
        sums[:, targets] = raw
        return link(sums)

    return _RAW_SUMS, after_trees


def _compiled_link(after, n_threads):
    """The nodes after the trees as a function of their sums: compiled through
    llvmlite (which lleaves brings) where it compiles them, else (an operator
    it does not know, llvmlite older than 0.44) an onnxruntime session, whose
    call costs about 40 µs more on one row."""
    from ._llvm import CompiledRows, import_llvmlite, split_at_strings

    try:
        parts = split_at_strings(after)
        import_llvmlite()
    except (ValueError, ImportError):  # a node it cannot compile; llvmlite < 0.44
        parts = None
    if parts is None or parts.before is not None:  # compiled: the sums alone
        session = _session(after.SerializeToString(), n_threads)
        name = after.graph.input[0].name
        return lambda sums: session.run(None, {name: sums})[0]
    return CompiledRows(parts)


def _softmax_axis(node):
    """A ``Softmax`` node's axis (-1 where it says none, as from opset 13)."""
    return next((attribute.i for attribute in node.attribute
                 if attribute.name == "axis"), -1)


def _forest_function(compiled):
    """lleaves' compiled function, taking the addresses of its input and
    output arrays; None where lleaves no longer exposes it.

    ``lleaves.Model.predict`` converts both arrays to ctypes pointers, about
    15 µs a call here: four times the trees' own work on one row.
    """
    import ctypes

    entry = getattr(compiled, "_c_entry_func", None)
    if entry is None:
        return None
    address = ctypes.cast(entry, ctypes.c_void_p).value
    return ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32,
                            ctypes.c_int32)(address)


class _Parts:
    """A model cut at its ``TreeEnsemble`` node: ``before``, which makes the
    trees' rows (None when they are a graph input), the trees' attributes,
    ``after``."""

    def __init__(self, before, trees, after, trees_input, trees_output):
        self.before, self.trees, self.after = before, trees, after
        self.trees_input, self.trees_output = trees_input, trees_output


def split_at_trees(model):
    """``model`` cut at its one ``TreeEnsemble`` node (see :class:`_Parts`)."""
    from onnx import TensorProto, helper

    graph = model.graph
    nodes = list(graph.node)
    found = [i for i, node in enumerate(nodes) if node.op_type == "TreeEnsemble"]
    if len(found) != 1:
        raise ValueError("engine='lleaves' serves a tree student (TreeStudent, "
                         "LGBMStudent, XGBStudent and their regression twins), "
                         f"whose graph has one TreeEnsemble node; this one has "
                         f"{len(found)}.")
    trees_node = nodes[found[0]]
    trees_input, trees_output = trees_node.input[0], trees_node.output[0]
    upstream = ancestors(nodes, trees_input)
    before_nodes = [node for i, node in enumerate(nodes) if i in upstream]
    after_nodes = [node for i, node in enumerate(nodes)
                   if i not in upstream and i != found[0]]
    inputs = {value.name for value in graph.input}
    if any(name in inputs for node in after_nodes for name in node.input):
        raise ValueError("the nodes after this graph's trees read its inputs; "
                         "engine='lleaves' cannot cut it.")
    trees = _TreeArrays(trees_node)
    columns = np.concatenate([np.arange(trees.n_features), trees.code_features])
    before = None
    if before_nodes or not _is_every_column(graph, trees_input, columns):
        before = _rows_model(model, before_nodes, trees_input, columns)
    sums = helper.make_tensor_value_info(trees_output, TensorProto.DOUBLE,
                                         [None, trees.n_targets])
    after = submodel(model, after_nodes, [sums], list(graph.output))
    return _Parts(before, trees, after, trees_input, trees_output)


def _is_every_column(graph, name, columns):
    """Whether ``columns`` are the graph input ``name``'s columns, in order."""
    for value in graph.input:
        if value.name == name:
            width = value.type.tensor_type.shape.dim[1].dim_value
            return width == len(columns) and (columns == np.arange(width)).all()
    return False


def _rows_model(model, nodes, trees_input, columns):
    """The graph that makes the rows lleaves reads: the trees' input's
    ``columns`` in float64 (the columns up to the last one a tree reads, then a
    copy of each category code column: see :func:`lightgbm_text`)."""
    from onnx import TensorProto, helper, numpy_helper

    indices = numpy_helper.from_array(np.asarray(columns, np.int64),
                                      "lleaves_columns")
    nodes = [*nodes,
             helper.make_node("Cast", [trees_input], ["lleaves_cast"],
                              to=TensorProto.DOUBLE),
             helper.make_node("Gather", ["lleaves_cast", indices.name],
                              ["lleaves_input"], axis=1)]
    output = helper.make_tensor_value_info("lleaves_input", TensorProto.DOUBLE,
                                           [None, len(columns)])
    rows = submodel(model, nodes, list(model.graph.input), [output])
    rows.graph.initializer.append(indices)
    return rows


class _TreeArrays:
    """A ``TreeEnsemble`` node's attributes as arrays; its trees by target."""

    def __init__(self, node):
        from onnx import helper, numpy_helper

        attributes = {}
        for attribute in node.attribute:
            value = helper.get_attribute_value(attribute)
            attributes[attribute.name] = (numpy_helper.to_array(value)
                                          if attribute.type == attribute.TENSOR
                                          else value)
        if attributes.get("aggregate_function", 1) != 1 or \
                attributes.get("post_transform", 0) != 0:
            raise ValueError("engine='lleaves' compiles a TreeEnsemble that sums "
                             "its trees with no transform.")
        self.n_targets = int(attributes["n_targets"])
        self.feature = np.asarray(attributes["nodes_featureids"])
        self.split = np.asarray(attributes["nodes_splits"], dtype=np.float64)
        self.mode = np.asarray(attributes["nodes_modes"])
        self.true_id = np.asarray(attributes["nodes_truenodeids"])
        self.true_leaf = np.asarray(attributes["nodes_trueleafs"], dtype=bool)
        self.false_id = np.asarray(attributes["nodes_falsenodeids"])
        self.false_leaf = np.asarray(attributes["nodes_falseleafs"], dtype=bool)
        self.missing_true = np.asarray(
            attributes.get("nodes_missing_value_tracks_true",
                           np.zeros(len(self.feature))), dtype=bool)
        self.leaf_target = np.asarray(attributes["leaf_targetids"])
        self.leaf_weight = np.asarray(attributes["leaf_weights"], dtype=np.float64)
        self.roots = list(attributes["tree_roots"])
        self.n_features = int(self.feature.max(initial=0)) + 1
        coded = np.isin(self.mode, (_EQ, _NEQ)) & (self.split >= 0)
        self.code_features = np.unique(self.feature[coded])
        self.code_column = dict(zip(
            self.code_features.tolist(),
            self.n_features + np.arange(len(self.code_features)), strict=True))
        self.by_target = {}
        for root in self.roots:
            self.by_target.setdefault(self._target(root), []).append(root)
        self.targets = sorted(self.by_target)

    def _target(self, root):
        """The one target of the leaves under ``root``."""
        targets, pending = set(), [(root, False)]
        while pending:
            index, is_leaf = pending.pop()
            if is_leaf:
                targets.add(int(self.leaf_target[index]))
            else:
                pending += [(self.true_id[index], self.true_leaf[index]),
                            (self.false_id[index], self.false_leaf[index])]
        if len(targets) != 1:
            raise ValueError("engine='lleaves' compiles trees whose leaves add "
                             "to one target each.")
        return targets.pop()


def lightgbm_text(trees, objective="regression"):
    """LightGBM model text of ``trees`` (a :class:`_TreeArrays`): one class
    per target that has trees, their trees interleaved as LightGBM's rounds,
    padded with trees of zeros to rounds of equal length; lleaves compiles it.

    A category code's ``==``/``!=`` splits read a copy of its column, declared
    categorical (its feature ``trees.n_features + j`` for the ``j``-th of
    ``trees.code_features``): lleaves tests a category's bit in one step.
    """
    n_classes = len(trees.targets)
    n_rounds = max(len(roots) for roots in trees.by_target.values())
    blocks = []
    for round_ in range(n_rounds):
        for target in trees.targets:
            roots = trees.by_target[target]
            arrays = (_lightgbm_tree(trees, roots[round_]) if round_ < len(roots)
                      else _zero_tree())
            blocks.append(_tree_block(len(blocks), arrays))
    n_inputs = trees.n_features + len(trees.code_features)
    infos = ["[-1:1]"] * trees.n_features + ["0:1"] * len(trees.code_features)
    header = "\n".join([
        "tree", "version=v4", f"num_class={n_classes}",
        f"num_tree_per_iteration={n_classes}", "label_index=0",
        f"max_feature_idx={n_inputs - 1}", f"objective={objective}",
        "feature_names=" + " ".join(f"x{i}" for i in range(n_inputs)),
        "feature_infos=" + " ".join(infos),
        "tree_sizes=" + " ".join(str(len(block) + 1) for block in blocks), ""])
    return "\n".join([header, *blocks, "end of trees", "",
                      "pandas_categorical:null", ""])


class _LightGBMTree:
    """One tree in LightGBM's layout, written split by split in preorder."""

    def __init__(self):
        self.splits, self.leaves, self.categories = [], [], []

    def leaf(self, value):
        self.leaves.append(float(value))
        return ~(len(self.leaves) - 1)

    def split(self, feature, threshold, nan_left, left, right):
        """A numeric split ``x <= threshold``; ``left``/``right`` write the
        children when called."""
        if threshold == 0.0:
            # lleaves takes a threshold of 0 for none; x <= 0 and x <= the
            # smallest subnormal differ on that subnormal alone
            threshold = float(np.nextafter(0.0, 1.0))
        decision = _MISSING_NAN | (_DEFAULT_LEFT if nan_left else 0)
        return self._add([feature, threshold, decision], left, right)

    def category(self, feature, code, inside, outside):
        """``code in {code}``: a categorical split on ``feature``."""
        words = np.zeros(code // 32 + 1, dtype=np.int64)
        words[code // 32] = 1 << (code % 32)
        self.categories.append(words)
        return self._add([feature, len(self.categories) - 1, _CATEGORICAL],
                         inside, outside)

    def _add(self, row, left, right):
        at = len(self.splits)
        self.splits.append(row + [None, None])
        self.splits[at][3] = left()
        self.splits[at][4] = right()
        return at


def _lightgbm_tree(trees, root):
    """A :class:`_LightGBMTree` of the tree at ``root``. Modes other than
    ``<=`` are written as ``<=`` on the same side (``x < t`` as ``x <= t⁻``,
    ``>=``/``>`` with the children swapped); ``==``/``!=`` on a category code
    as a categorical split, or as its one side where the code never occurs."""
    tree = _LightGBMTree()

    def child(index, is_leaf):
        if is_leaf:
            return lambda: tree.leaf(trees.leaf_weight[index])
        return lambda: node(index)

    def node(index):
        f, t, mode = int(trees.feature[index]), trees.split[index], trees.mode[index]
        nan_true = bool(trees.missing_true[index])
        yes = child(trees.true_id[index], trees.true_leaf[index])
        no = child(trees.false_id[index], trees.false_leaf[index])
        below_t = float(np.nextafter(t, -np.inf))
        if mode == _LEQ:
            return tree.split(f, t, nan_true, yes, no)
        if mode == _LT:
            return tree.split(f, below_t, nan_true, yes, no)
        if mode == _GTE:
            return tree.split(f, below_t, not nan_true, no, yes)
        if mode == _GT:
            return tree.split(f, t, not nan_true, no, yes)
        if mode in (_EQ, _NEQ):
            equal, unequal = (yes, no) if mode == _EQ else (no, yes)
            # ==/!= test category codes, which to_onnx's LabelEncoder makes:
            # integers >= -1 (-1: unknown), never missing; lleaves casts a
            # categorical value to an integer and sends negatives right
            if t < 0:  # never equal
                return unequal()
            return tree.category(trees.code_column[f], int(t), equal, unequal)
        raise ValueError(f"engine='lleaves' cannot compile TreeEnsemble mode {mode}.")

    if trees.true_leaf[root] and trees.false_leaf[root] and \
            trees.true_id[root] == trees.false_id[root]:  # a lone leaf
        return _zero_tree(trees.leaf_weight[trees.true_id[root]])
    node(root)
    return tree


def _zero_tree(value=0.0):
    """A tree whose every row gets ``value``."""
    tree = _LightGBMTree()
    tree.split(0, 1.0, True, lambda: tree.leaf(value), lambda: tree.leaf(value))
    return tree


def _tree_block(index, tree):
    feature, threshold, decision, left, right = zip(*tree.splits, strict=True)
    boundaries = np.cumsum([0] + [len(words) for words in tree.categories])

    def line(key, values):
        return f"{key}=" + " ".join(repr(v) if isinstance(v, float) else str(v)
                                    for v in values)

    lines = [
        f"Tree={index}", f"num_leaves={len(tree.leaves)}",
        f"num_cat={len(tree.categories)}",
        line("split_feature", feature),
        line("split_gain", [0.0] * len(feature)),
        line("threshold", [float(t) if d & _CATEGORICAL == 0 else int(t)
                           for t, d in zip(threshold, decision, strict=True)]),
        line("decision_type", decision), line("left_child", left),
        line("right_child", right), line("leaf_value", tree.leaves)]
    if tree.categories:
        lines += [line("cat_boundaries", boundaries.tolist()),
                  line("cat_threshold",
                       np.concatenate(tree.categories).tolist())]
    return "\n".join([*lines, "shrinkage=1", ""])


def import_lleaves():
    """The lleaves module, or an ImportError naming the extra that brings it."""
    try:
        import lleaves
    except ImportError as error:
        raise ImportError('engine="lleaves" needs the lleaves package: pip install '
                          '"skdistill[lleaves]"') from error
    return lleaves


def _compile(model_text, object_code=None, raw_score=False):
    """lleaves' model of ``model_text``, compiled (or loaded from
    ``object_code``), and its object code."""
    lleaves = import_lleaves()
    with tempfile.TemporaryDirectory(prefix="skdistill-lleaves-") as folder:
        text, cache = Path(folder) / "model.txt", Path(folder) / "model.o"
        text.write_text(model_text)
        if object_code is not None:
            cache.write_bytes(object_code)
        model = lleaves.Model(model_file=str(text))
        # blocks of 16 trees: about 15 % faster than lleaves' 34 on 10,000
        # rows of flights' 100-tree student, and faster to compile
        model.compile(cache=str(cache), raw_score=raw_score, fblocksize=16)
        return model, cache.read_bytes()
