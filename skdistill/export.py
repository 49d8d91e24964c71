"""Ship the small model: a fitted student, its preprocessing included, as ONNX.

:func:`to_onnx` writes one ONNX graph that takes the rows the distiller takes and
returns the probabilities ``predict_proba`` returns, computed the same way, so that
the student serves with nothing but an ONNX runtime. Every family of
:mod:`skdistill.students` is supported:

- ``MLPStudent``: the torch network through ``torch.onnx.export`` (the TorchScript
  exporter, ``dynamo=False``: it needs no ``onnxscript``), then a softmax.
- ``TreeStudent``, ``LGBMStudent``, ``XGBStudent``: the fitted trees rewritten as
  one ``ai.onnx.ml`` ``TreeEnsemble`` node in float64, with each library's own
  comparison (scikit-learn: ``float32(x) <= t``; LightGBM: ``x <= t`` in float64;
  XGBoost: ``float32(x) < t``) and missing-value direction, then the student's own
  link (init score, softmax) and the clipping, renormalisation and sharpening by
  ``temperature_`` of ``BaseStudent.predict_proba``.
- ``LinearStudent``: a matrix product and a softmax, then the same sharpening.

The preprocessing that ``HPMDistiller`` fits for the student (imputation with
missing-value indicators, standard scaling, a ``ColumnTransformer`` over numeric
columns) is written node by node in float64, so it equals scikit-learn's to the
last bit; any other transformer goes through ``skl2onnx``.
"""

import copy
import io
import json
import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from ._preprocess import _FastTransform
from .students import (
    LGBMStudent,
    LinearStudent,
    MLPStudent,
    TreeStudent,
    XGBStudent,
)

__all__ = ["to_onnx"]

_INSTALL_HINT = 'pip install "skdistill[onnx]"'
# The TorchScript exporter of torch.onnx goes up to opset 20; ai.onnx.ml 5 brings the
# TreeEnsemble operator, whose thresholds and leaf values may be float64.
_OPSET = 20
_ML_OPSET = 5
_IR_VERSION = 10
_INPUT, _OUTPUT = "X", "probabilities"
# The floors of BaseStudent.predict_proba (renormalisation) and of soften (log).
_SUM_FLOOR = 1e-12
_LOG_FLOOR = 1e-12
# TreeEnsemble's encodings of its attributes.
_BRANCH_LEQ, _BRANCH_LT = 0, 1
_AGGREGATE_SUM, _POST_TRANSFORM_NONE = 1, 0


def to_onnx(distiller_or_student, X_sample, path=None):
    """Export a fitted student with its preprocessing as an ONNX model.

    Parameters
    ----------
    distiller_or_student : HPMDistiller, Pipeline or student
        A fitted :class:`~skdistill.HPMDistiller` (its ``student_`` is exported),
        a fitted :class:`~sklearn.pipeline.Pipeline` whose last step is a student
        (such as ``student_``), or a fitted student alone.
    X_sample : array-like or DataFrame of shape (n_samples, n_features)
        A few rows of what the model is given at serving time (raw rows, before
        the preprocessing): they fix the input's width and column order and are
        passed through the scikit-learn steps to check them. DataFrames must have
        numeric columns only.
    path : str or path-like, default=None
        Where to write the model too; ``None`` only returns it.

    Returns
    -------
    onnx.ModelProto
        A graph with one input ``"X"``, float64 of shape ``(n_rows, n_features)``
        (columns in the order of ``feature_names_in_`` when the model saw names),
        and one output ``"probabilities"``, float64 of shape ``(n_rows,
        n_classes)``, columns in the order of ``classes_``. The labels are in the
        model's metadata (``metadata_props["classes"]``, JSON), with the input
        column names (``"input_columns"``) and the student family.

    Raises
    ------
    ImportError
        When ``onnx`` (or ``skl2onnx``, for preprocessing steps other than the
        default ones) is not installed: ``pip install "skdistill[onnx]"``.
    NotImplementedError
        For a student family or a preprocessing step that cannot be exported,
        and for DataFrames with non-numeric (categorical) columns.
    ValueError
        When ``X_sample`` does not have the columns the model was fitted on.

    See Also
    --------
    HPMDistiller.predict_proba : What the exported graph computes.

    Notes
    -----
    Feed the graph float64 rows. It computes in float64 and rounds to float32
    exactly where the libraries do: before a scikit-learn or XGBoost tree, and
    before the torch network. Its probabilities agree with ``predict_proba`` to
    about 1e-15 for tree, LightGBM and linear students (onnxruntime's graph
    optimizations may move the last digits, up to about 1e-9), and to float32
    precision (about 1e-7) for XGBoost, which sums its trees in float32, and for
    MLPs.

    The MLP goes through ``torch.onnx.export(..., dynamo=False)``: the
    TorchScript exporter, at opset 20, the highest it knows (the dynamo exporter,
    the default since torch 2.9, needs ``onnxscript``). The trees use
    ``ai.onnx.ml.TreeEnsemble`` (opset 5, float64 thresholds and leaves), which
    onnxruntime runs from version 1.21 on.

    Categorical columns would need string inputs and their encoders in the graph;
    they are not supported yet.

    Examples
    --------
    >>> import onnxruntime as ort
    >>> from sklearn.datasets import load_iris
    >>> from skdistill import TreeStudent
    >>> from skdistill.export import to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> student = TreeStudent(max_depth=3, random_state=0).fit(X, y)
    >>> model = to_onnx(student, X[:5])
    >>> session = ort.InferenceSession(model.SerializeToString())
    >>> proba = session.run(None, {"X": X})[0]
    >>> bool(abs(proba - student.predict_proba(X)).max() < 1e-12)
    True
    """
    onnx = _import_onnx()
    steps, student = _unpack(distiller_or_student)
    convert = _STUDENT_CONVERTERS.get(type(student))
    if convert is None:
        raise NotImplementedError(
            f"to_onnx cannot export a {type(student).__name__} student; the "
            f"supported families are {_supported_families()}."
        )
    sample, columns = _checked_sample(X_sample, steps[0] if steps else student)
    graph = _Graph()
    Z, Z_sample = _INPUT, sample
    for step in steps:
        Z, Z_sample = _convert_step(graph, step, Z, Z_sample)
    if Z_sample.shape[1] != student.n_features_in_:
        raise ValueError(
            f"the preprocessing outputs {Z_sample.shape[1]} columns but the "
            f"student was fitted on {student.n_features_in_}."
        )
    proba = convert(graph, student, Z)
    graph.add("Identity", [proba], output=_OUTPUT)
    model = graph.model(np.shape(sample)[1], len(student.classes_))
    _describe(model, student, columns)
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        onnx.save_model(model, path)
    return model


def _import_onnx():
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            f"skdistill.export needs the onnx package: {_INSTALL_HINT}"
        ) from error
    return onnx


def _unpack(model):
    """The fitted preprocessing steps and the fitted student of ``model``."""
    if isinstance(getattr(model, "student_", None), Pipeline):
        model = model.student_  # a fitted HPMDistiller
    check_is_fitted(model)
    if not isinstance(model, Pipeline):
        return [], model
    steps = [step for _, step in model.steps[:-1]
             if step is not None and not _is_passthrough(step)]
    return steps, model.steps[-1][1]


def _supported_families():
    return ", ".join(cls.__name__ for cls in _STUDENT_CONVERTERS)


def _is_passthrough(step):
    return isinstance(step, str) and step == "passthrough"


def _checked_sample(X_sample, first):
    """``X_sample`` checked to be numeric, in ``first``'s column order; the columns.

    When ``first`` (the first step, or the student) saw column names, the sample
    is a DataFrame with those columns in that order (the fitted steps may select
    columns by name); otherwise a float64 array.
    """
    names = getattr(first, "feature_names_in_", None)
    columns = None if names is None else [str(name) for name in names]
    if hasattr(X_sample, "columns"):
        import pandas as pd

        if columns is not None:
            missing = sorted(set(columns) - {str(c) for c in X_sample.columns})
            if missing:
                raise ValueError(f"X_sample lacks the columns {missing}.")
            X_sample = X_sample[columns]
        categorical = [
            str(name) for name, dtype in X_sample.dtypes.items()
            if not pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
        ]
        if categorical:
            raise NotImplementedError(
                "to_onnx supports numeric inputs only: mixed-type DataFrames are "
                f"not supported (categorical columns: {categorical})."
            )
        sample = X_sample if columns is not None else X_sample.to_numpy(
            dtype=np.float64, na_value=np.nan)
    else:
        try:
            sample = np.asarray(X_sample, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise NotImplementedError(
                "to_onnx supports numeric inputs only: X_sample has non-numeric "
                "values."
            ) from error
        if sample.ndim != 2:
            raise ValueError(
                f"X_sample must be 2-dimensional; got shape {sample.shape}.")
        if columns is not None and sample.shape[1] == len(columns):
            import pandas as pd

            sample = pd.DataFrame(sample, columns=columns)
    n_features = getattr(first, "n_features_in_", np.shape(sample)[1])
    if np.shape(sample)[1] != n_features:
        raise ValueError(
            f"X_sample has {np.shape(sample)[1]} columns; the model was fitted on "
            f"{n_features}."
        )
    return sample, columns


def _describe(model, student, columns):
    """Labels, input columns and family in the model's metadata."""
    from onnx import helper

    classes = [c.item() if hasattr(c, "item") else c for c in student.classes_]
    props = {"classes": json.dumps(classes, default=str),
             "student": type(student).__name__}
    if columns is not None:
        props["input_columns"] = json.dumps(columns)
    helper.set_model_props(model, props)


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

    def model(self, n_features, n_classes):
        from onnx import TensorProto, helper

        graph = helper.make_graph(
            self.nodes, "skdistill_student",
            [helper.make_tensor_value_info(_INPUT, TensorProto.DOUBLE,
                                           [None, n_features])],
            [helper.make_tensor_value_info(_OUTPUT, TensorProto.DOUBLE,
                                           [None, n_classes])],
            initializer=self.initializers,
        )
        from . import __version__

        return helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid(domain, version)
                           for domain, version in self.opsets.items()],
            ir_version=_IR_VERSION,
            producer_name="skdistill",
            producer_version=__version__,
        )


# --- preprocessing -------------------------------------------------------------


def _convert_step(graph, step, Z, sample):
    """Nodes computing ``step.transform``; the output's name and the sample's."""
    out_sample = sample if _is_identity(step) else step.transform(sample)
    if hasattr(out_sample, "toarray"):
        raise NotImplementedError(
            f"to_onnx cannot export {type(step).__name__}: it outputs a sparse "
            "matrix; use a dense preprocessing."
        )
    out_sample = np.asarray(out_sample, dtype=np.float64)
    if _is_identity(step):
        return Z, out_sample
    if isinstance(step, Pipeline):
        for _, inner in step.steps:
            if inner is not None and not _is_passthrough(inner):
                Z, sample = _convert_step(graph, inner, Z, sample)
        return Z, out_sample
    if isinstance(step, ColumnTransformer):
        return _column_transformer(graph, step, Z, sample), out_sample
    if isinstance(step, _FastTransform):
        return _convert_step(graph, step.transformer_, Z, sample)[0], out_sample
    if type(step) is SimpleImputer:
        return _simple_imputer(graph, step, Z), out_sample
    if type(step) is StandardScaler:
        return _standard_scaler(graph, step, Z), out_sample
    return _skl2onnx_step(graph, step, Z, np.shape(sample)[1]), out_sample


def _is_identity(step):
    return _is_passthrough(step) or (
        type(step) is FunctionTransformer and step.func is None)


def _column_transformer(graph, transformer, Z, sample):
    """Each transformer on its columns, outputs side by side as scikit-learn does."""
    # Fitted column indices per transformer name ("remainder" included): the
    # mapping scikit-learn itself uses to select the columns in ``transform``.
    indices = transformer._transformer_to_input_indices
    weights = transformer.transformer_weights or {}
    parts = []
    for name, step, _ in transformer.transformers_:
        columns = list(indices.get(name, []))
        if (isinstance(step, str) and step == "drop") or not columns:
            continue
        part = graph.add("Gather", [Z, graph.const(columns, np.int64)], axis=1)
        part_sample = _safe_indexing(sample, columns, axis=1)
        part, _ = _convert_step(graph, step, part, part_sample)
        if name in weights:
            part = graph.add("Mul", [part, graph.const(weights[name])])
        parts.append(part)
    if not parts:
        raise NotImplementedError("the ColumnTransformer outputs no column.")
    return parts[0] if len(parts) == 1 else graph.add("Concat", parts, axis=1)


def _simple_imputer(graph, imputer, Z):
    """Fill the missing values with ``statistics_``; missing-value indicators."""
    statistics = np.asarray(imputer.statistics_)
    if statistics.dtype.kind not in "fiub":
        raise NotImplementedError(
            "to_onnx supports numeric inputs only: this SimpleImputer fills "
            f"{statistics.dtype} values."
        )
    statistics = statistics.astype(np.float64)
    missing_values = imputer.missing_values
    if isinstance(missing_values, Real) and np.isnan(missing_values):
        mask = graph.add("IsNaN", [Z])
    else:
        mask = graph.add("Equal", [Z, graph.const(missing_values)])
    kept = np.isfinite(statistics) | bool(imputer.keep_empty_features)
    filled = graph.add("Where", [mask, graph.const(np.where(kept, statistics, 0.0)),
                                 Z])
    if not kept.all():  # scikit-learn drops the features it never saw a value of
        filled = graph.add("Gather", [filled, graph.const(np.flatnonzero(kept),
                                                          np.int64)], axis=1)
    if not imputer.add_indicator or len(imputer.indicator_.features_) == 0:
        return filled
    indicator = graph.add("Gather", [mask, graph.const(imputer.indicator_.features_,
                                                       np.int64)], axis=1)
    return graph.add("Concat", [filled, graph.cast(indicator, "DOUBLE")], axis=1)


def _standard_scaler(graph, scaler, Z):
    if scaler.with_mean:
        Z = graph.add("Sub", [Z, graph.const(scaler.mean_)])
    if scaler.with_std:
        Z = graph.add("Div", [Z, graph.const(scaler.scale_)])
    return Z


def _skl2onnx_step(graph, step, Z, n_features):
    """Any other transformer, converted by skl2onnx on float64 inputs."""
    try:
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import DoubleTensorType
    except ImportError as error:
        raise ImportError(
            f"exporting the preprocessing step {type(step).__name__} needs the "
            f"skl2onnx package: {_INSTALL_HINT}"
        ) from error
    try:
        model = convert_sklearn(
            step, initial_types=[("X", DoubleTensorType([None, n_features]))],
            target_opset={"": _OPSET, "ai.onnx.ml": 3},
        )
    except Exception as error:  # skl2onnx raises many types for "unsupported"
        raise NotImplementedError(
            f"to_onnx cannot export the preprocessing step {type(step).__name__}: "
            f"skl2onnx failed with {type(error).__name__}: {error}"
        ) from error
    out = graph.inline(model, Z, graph.name(type(step).__name__))
    from onnx import TensorProto

    if model.graph.output[0].type.tensor_type.elem_type != TensorProto.DOUBLE:
        out = graph.cast(out, "DOUBLE")
    return out


# --- students ------------------------------------------------------------------


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
    import torch
    from onnx import load_model_from_string

    module = copy.deepcopy(student.module_).to("cpu").eval()
    buffer = io.BytesIO()
    options = {}
    if "dynamo" in _parameters(torch.onnx.export):
        options["dynamo"] = False  # the TorchScript exporter: no onnxscript needed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        torch.onnx.export(
            module, (torch.zeros(1, student.n_features_in_),), buffer,
            input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "rows"}, "logits": {0: "rows"}},
            opset_version=_OPSET, **options,
        )
    network = load_model_from_string(buffer.getvalue())
    # MLPStudent feeds the network float32 rows and takes a float64 softmax.
    logits = graph.inline(network, graph.cast(Z, "FLOAT"), "mlp")
    return graph.add("Softmax", [graph.cast(logits, "DOUBLE")], axis=1)


def _parameters(function):
    import inspect

    return inspect.signature(function).parameters


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
                                                       graph.const(_SUM_FLOOR)])])
    inverse = 1.0 / temperature
    if inverse == 1.0:
        return proba
    log_proba = graph.add("Log", [graph.add("Clip", [proba, graph.const(_LOG_FLOOR),
                                                     graph.const(1.0)])])
    return graph.add("Softmax", [graph.add("Div", [log_proba,
                                                   graph.const(inverse)])], axis=1)


# --- trees ---------------------------------------------------------------------


@dataclass
class _Tree:
    """One tree as arrays over its nodes; leaves have ``left == -1``.

    ``missing_left``: where a missing value goes; ``value``: the leaves' output;
    ``mode``: ``_BRANCH_LEQ`` (``x <= t`` goes left) or ``_BRANCH_LT``.
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    value: np.ndarray
    mode: int


def _tree_ensemble(graph, Z, trees, n_targets):
    """One ``ai.onnx.ml.TreeEnsemble`` node summing ``(target, _Tree)`` pairs."""
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
            modes.append(tree.mode)
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
