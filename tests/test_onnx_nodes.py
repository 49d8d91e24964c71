"""The exported graph's nodes: few (each costs a served row 2-3 µs), and still
equal to ``predict_proba`` (issue 17, target (c))."""

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from skdistill import LGBMStudent, LinearStudent, MLPStudent, TreeStudent, XGBStudent
from skdistill._onnx._trees import _F32_LEQ, _F32_LT, _F64_LEQ, _exact_thresholds
from skdistill._preprocess import default_preprocessor
from skdistill.export import onnx_inputs, to_onnx

pd = pytest.importorskip("pandas")
pytest.importorskip("onnx", reason='needs pip install "skdistill[onnx]"')
ort = pytest.importorskip("onnxruntime", reason='needs pip install "skdistill[onnx]"')

STUDENTS = {
    "linear": LinearStudent,
    "tree": lambda: TreeStudent(max_depth=5, random_state=0),
    "lgbm": lambda: LGBMStudent(n_estimators=20, random_state=0),
    "xgb": lambda: XGBStudent(n_estimators=20, random_state=0),
    "mlp": lambda: MLPStudent(hidden_layer_sizes=(16, 8), max_epochs=5,
                              random_state=0),
}
# float32 networks and XGBoost's float32 sums; the others to rounding
TOLERANCE = {"mlp": 1e-5, "xgb": 1e-5}


def _frame(n_rows=600, seed=0):
    """Numeric columns (one with NaN, one far from 0: a large mean over its
    scale), a category column with NaN and a rare-level one (infrequent
    column) and a few-level one."""
    rng = np.random.RandomState(seed)
    levels = [f"l{i}" for i in range(50)]
    weights = np.linspace(1, 0.1, 50)
    frame = pd.DataFrame({
        "a": rng.randn(n_rows),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue", None], n_rows)),
        "year": 2000.0 + rng.randint(0, 20, n_rows),
        "many": rng.choice(levels, n_rows, p=weights / weights.sum()),
        "few": rng.choice(["u", "v"], n_rows),
    })
    frame.loc[rng.rand(n_rows) < 0.1, "a"] = np.nan
    score = (frame["a"].fillna(0) + (frame["colour"] == "red")
             + (frame["many"] < "l2") + (frame["year"] - 2010) / 10)
    return frame, score.to_numpy()


def _labels(score, n_classes):
    return np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)
                                          [1:-1]))


def _pipeline(family, frame, y, preprocessing=None):
    preprocess = default_preprocessor(preprocessing or family, frame).fit(frame)
    student = STUDENTS[family]().fit(preprocess.transform(frame), y)
    return Pipeline([("preprocess", preprocess), ("student", student)])


def _rows(frame):
    """Test rows with unseen categories and missing values."""
    rows = frame.copy()
    rows.loc[rows.index[:20], "many"] = "unseen"
    rows.loc[rows.index[10:30], "few"] = "unseen"
    rows["colour"] = rows["colour"].cat.add_categories(["purple"])
    rows.loc[rows.index[30:40], "colour"] = "purple"
    rows.loc[rows.index[40:50], "colour"] = None
    return rows


def _ops_and_difference(pipeline, frame, rows):
    model = to_onnx(pipeline, frame[:5])
    session = ort.InferenceSession(model.SerializeToString())
    proba = session.run(None, onnx_inputs(model, rows))[0]
    return ([node.op_type for node in model.graph.node],
            np.abs(proba - pipeline.predict_proba(rows)).max())


# The nodes of each family's graph on a table with categorical columns (one
# with an infrequent column: the "Add") and numeric ones with missing values
# (indicators: the "Cast"). A change that adds a node should show here.
_CODES = ["StringConcat", "LabelEncoder", "Add"]
_NUMERIC = ["IsNaN", "Where", "Cast", "Concat"]
EXPECTED = {
    # one number per category column, into the Gemm with the numeric columns
    ("linear", 2): _CODES + _NUMERIC + ["Gemm", "Softmax", "Identity"],
    # the weights' rows of the categories, summed: the Gemm's C
    ("linear", 3): _CODES + ["Gather", "ReduceSum"] + _NUMERIC + [
        "Gemm", "Softmax", "Identity"],
    # "year"'s offset after scaling (its mean over its scale) is large: the
    # first layer runs in float64, then a Cast to the network's float32
    ("mlp", 3): _CODES + ["Gather", "ReduceSum"] + _NUMERIC + [
        "Gemm", "Cast", "Relu", "Gemm", "Relu", "Gemm", "Cast", "Softmax",
        "Identity"],
    # the trees read the raw numeric columns (a missing value goes where its
    # fill would) and the ordinal codes: no imputation, no indicator
    ("tree", 3): ["StringConcat", "LabelEncoder", "Concat", "TreeEnsemble",
                  "Identity"],
    ("xgb", 3): ["StringConcat", "LabelEncoder", "Concat", "TreeEnsemble",
                 "Softmax", "Identity"],
    ("lgbm", 2): ["StringConcat", "LabelEncoder", "Concat", "TreeEnsemble",
                  "Softmax", "Identity"],
}


@pytest.mark.parametrize("family, n_classes", list(EXPECTED))
def test_table_graph_has_these_nodes_and_matches_predict_proba(family, n_classes):
    frame, score = _frame()
    pipeline = _pipeline(family, frame[:500], _labels(score[:500], n_classes))
    ops, difference = _ops_and_difference(pipeline, frame[:500], _rows(frame[500:]))
    assert ops == EXPECTED[family, n_classes]
    assert difference <= TOLERANCE.get(family, 1e-12)


def test_mlp_first_layer_runs_in_float32_on_columns_near_zero():
    frame, score = _frame()
    frame = frame.drop(columns="year")
    pipeline = _pipeline("mlp", frame[:500], _labels(score[:500], 3))
    ops, difference = _ops_and_difference(pipeline, frame[:500], _rows(frame[500:]))
    assert ops == _CODES + ["Gather", "ReduceSum"] + _NUMERIC + [
        "Cast", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Cast", "Softmax",
        "Identity"]
    assert difference <= 1e-5


@pytest.mark.parametrize("family", ["lgbm", "tree", "xgb"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_trees_read_a_one_hot_block_as_its_codes(family, n_classes):
    """Trees on one-hot columns (the linear preprocessing) split on the
    category codes: no one-hot node, and no imputation either."""
    frame, score = _frame()
    pipeline = _pipeline(family, frame[:500], _labels(score[:500], n_classes),
                         preprocessing="linear")
    ops, difference = _ops_and_difference(pipeline, frame[:500], _rows(frame[500:]))
    assert ops == ["StringConcat", "LabelEncoder", "Add", "Concat", "TreeEnsemble"] + (
        [] if family == "tree" else ["Softmax"]) + ["Identity"]
    assert difference <= TOLERANCE.get(family, 1e-12)


@pytest.mark.parametrize("family", ["linear", "lgbm"])
@pytest.mark.parametrize("temperature", [3.0, 1.0 + 1e-14, 0.5])
def test_temperature_is_folded_into_the_logits_where_it_can_be(family, temperature):
    """T >= 1: no node (``softmax(T * logits)``); T < 1 keeps the sharpening's
    nodes (the floor at 1e-12 would matter)."""
    frame, score = _frame()
    pipeline = _pipeline(family, frame[:500], _labels(score[:500], 3))
    pipeline[-1].temperature_ = temperature
    ops, difference = _ops_and_difference(pipeline, frame[:500], _rows(frame[500:]))
    assert ("LogSoftmax" in ops) == (temperature < 1)
    assert difference <= 1e-9


@pytest.mark.parametrize("compare", [_F32_LEQ, _F64_LEQ, _F32_LT])
def test_folded_thresholds_split_every_float_as_the_library_does(compare):
    rng = np.random.RandomState(0)
    n = 300
    mean = rng.randn(n) * 10.0 ** rng.randint(-3, 5, n)
    scale = np.abs(rng.randn(n)) * 10.0 ** rng.randint(-3, 4, n) + 1e-300
    threshold = rng.randn(n) * 3
    threshold[::3] = threshold[::3].astype(np.float32)  # on float32 values
    u = _exact_thresholds(threshold, mean, scale, compare)
    # every float64 within 4 steps of u, and others around the mean
    near = [u]
    for direction in (np.inf, -np.inf):
        x = u
        for _ in range(4):
            x = np.nextafter(x, direction)
            near.append(x)
    x = np.vstack(near + [mean + scale * rng.randn(n) * 5 for _ in range(20)])
    z = (x - mean) / scale
    if compare == _F64_LEQ:
        expected = z <= threshold
    else:
        z = z.astype(np.float32).astype(np.float64)
        expected = z <= threshold if compare == _F32_LEQ else z < threshold
    assert ((x <= u) == expected).all()


def test_tree_splits_rows_on_float32_boundaries_as_scikit_learn_does():
    """Rows a few float64 steps from a threshold of the scaled feature."""
    frame, score = _frame()
    pipeline = _pipeline("tree", frame[:500], _labels(score[:500], 3),
                         preprocessing="linear")  # the scaler before the tree
    transformer = pipeline[0].transformer_
    scaler = transformer.named_transformers_["numeric"][-1]
    numeric = frame.columns[transformer._transformer_to_input_indices["numeric"]]
    tree = pipeline[-1].tree_model_.tree_
    rows = []
    for node in np.flatnonzero(tree.children_left >= 0):
        feature = tree.feature[node]
        if feature >= len(numeric):
            continue  # an indicator or a one-hot column
        x = tree.threshold[node] * scaler.scale_[feature] + scaler.mean_[feature]
        for direction in (np.inf, -np.inf):
            value = x
            for _ in range(4):
                row = frame.iloc[[0]].copy()
                row[numeric[feature]] = value
                rows.append(row)
                value = np.nextafter(value, direction)
    assert len(rows) > 0
    rows = pd.concat(rows)
    _, difference = _ops_and_difference(pipeline, frame[:500], rows)
    assert difference == 0.0


def _walk(tree, x):
    """A ``_Tree``'s leaf value for the row ``x`` (no missing values)."""
    from skdistill._onnx._trees import _BRANCH_EQ, _BRANCH_LEQ, _BRANCH_NEQ

    node = 0
    while tree.left[node] >= 0:
        mode = tree.mode if np.ndim(tree.mode) == 0 else tree.mode[node]
        value, threshold = x[tree.feature[node]], tree.threshold[node]
        goes_left = {_BRANCH_LEQ: value <= threshold, _BRANCH_EQ: value == threshold,
                     _BRANCH_NEQ: value != threshold}[int(mode)]
        node = tree.left[node] if goes_left else tree.right[node]
    return tree.value[node]


def test_equal_and_unequal_splits_rewritten_as_less_or_equal_ones():
    """A tree of == / != splits on integer codes, and <= splits, gives every
    row the same leaf once its splits are all <=."""
    from skdistill._onnx._trees import (
        _BRANCH_EQ,
        _BRANCH_LEQ,
        _BRANCH_NEQ,
        _as_less_or_equal,
        _only_less_or_equal,
        _Tree,
    )

    # a full tree of depth 4: nodes 0-14 split, 15-30 leaves
    n_split, n_nodes = 15, 31
    left = np.r_[2 * np.arange(n_split) + 1, np.full(n_nodes - n_split, -1)]
    right = np.r_[2 * np.arange(n_split) + 2, np.full(n_nodes - n_split, -1)]
    for seed in range(20):
        rng = np.random.RandomState(seed)
        mode = rng.choice([_BRANCH_LEQ, _BRANCH_EQ, _BRANCH_NEQ], n_nodes).astype(
            np.uint8)
        tree = _Tree(rng.randint(0, 3, n_nodes), rng.randint(-1, 4, n_nodes) + np.where(
            mode == _BRANCH_LEQ, 0.5, 0.0), left, right, np.zeros(n_nodes, bool),
            rng.randn(n_nodes), mode)
        rewritten = _as_less_or_equal(tree)
        assert _only_less_or_equal(rewritten)
        for x in np.array(np.meshgrid(*[np.arange(-1, 5)] * 3)).reshape(3, -1).T:
            assert _walk(rewritten, x) == _walk(tree, x)
