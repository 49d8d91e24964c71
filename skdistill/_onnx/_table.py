"""Tables with categorical columns: two graph inputs and the encoders as nodes.

When the student's default preprocessing saw categorical columns, the graph
takes two inputs: ``"X"``, the numeric columns (float64, or float32), and
``"X_categorical"``, the categorical columns as strings in their canonical form
(:func:`skdistill._preprocess.canonical_category`; a missing value is
``"__missing__"``). :func:`feeds` builds both from a DataFrame. One
``LabelEncoder`` node looks up every column's category at once (each value
prefixed by its column's position), then ordinal codes or one-hot columns are
written as scikit-learn's encoders (fitted in ``fit``) give them: a constant
number of nodes, whatever the number of columns (one chain per column made
single-row serving cost 92-247 µs on tables with 4-10 category columns). The
one-hot block is left to the student's converter (:class:`_OneHotBlock`),
which reads it with fewer nodes where it can.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder

from .._preprocess import (
    MISSING,
    _categories_as_strings,
    _FastTransform,
    _one_hot_slots,
    canonical_category,
)
from ._graph import _INPUT, _combined, _Deferred

CATEGORICAL_INPUT = "X_categorical"


@dataclass(frozen=True)
class TableLayout:
    """Which of the student's columns are numeric and which categorical.

    Attributes
    ----------
    columns : list of str
        Every column, in the order the preprocessing was fitted on.
    numeric, categorical : list of int
        Positions in ``columns``, in the order of each graph input.
    """

    columns: list
    numeric: list
    categorical: list

    def names(self, positions):
        return [self.columns[i] for i in positions]


def table_layout(step, columns):
    """The layout of the default preprocessing ``step``, or None without
    categorical columns (then the graph has the one numeric input)."""
    transformer = getattr(step, "transformer_", None)
    if not isinstance(step, _FastTransform) or not isinstance(transformer,
                                                              ColumnTransformer):
        return None
    positions = transformer._transformer_to_input_indices
    categorical = list(positions.get("categorical", []))
    if not categorical:
        return None
    if len(positions.get("datetime", [])):
        names = [columns[i] for i in positions["datetime"]]
        raise NotImplementedError(
            f"to_onnx cannot export datetime or timedelta columns yet: {names}.")
    return TableLayout(list(columns), list(positions.get("numeric", [])),
                       categorical)


def table_preprocessing(graph, step, layout, numeric, numeric_sample, convert,
                        categorical=CATEGORICAL_INPUT):
    """The default preprocessing over the two inputs; the output's name.

    ``convert(graph, pipeline, Z, sample)`` converts the numeric branch (the
    imputer and scaler converters); the categorical branch, read from the
    string input ``categorical``, is written here.
    """
    parts = []
    for name, pipeline, _ in step.transformer_.transformers_:
        if name == "numeric" and layout.numeric:
            part, sample = convert(graph, pipeline, numeric, numeric_sample)
            parts.append((part, np.shape(sample)[1]))
        elif name == "categorical":
            parts.append((encoded(graph, pipeline[-1], categorical),
                          encoded_width(pipeline[-1])))
    # side by side, unwritten: the student's converter writes one Concat, or
    # folds the numeric scaling into its weights or thresholds
    if len(parts) == 1 and not isinstance(parts[0][0], _Deferred):
        return parts[0][0]
    return _combined(parts)


def encoded_width(encoder):
    """The number of columns :func:`encoded` outputs."""
    if isinstance(encoder, OneHotEncoder):
        return _one_hot_slots(encoder)[1]
    return len(encoder.categories_)


def encoded(graph, encoder, categorical):
    """Ordinal codes or one-hot columns of the string input ``categorical``.

    A constant number of nodes, whatever the number of columns: each value is
    prefixed by its column's position (``"<j>\\x1f<value>"``, one
    ``StringConcat`` of a constant row and the input), and one ``LabelEncoder``
    looks every prefixed value up at once, in keys made of every column's
    categories. Column ``j``'s keys all begin with ``"<j>\\x1f"``, so a value
    never matches another column's category.
    """
    keys = graph.add("StringConcat", [
        graph.const([_prefix(j) for j in range(len(encoder.categories_))],
                    object),
        categorical])
    if not isinstance(encoder, OneHotEncoder):
        return _ordinal(graph, encoder, keys)
    return _one_hot(graph, encoder, keys)


def _prefix(j):
    return f"{j}\x1f"


def _keys(encoder):
    """Every column's categories, prefixed by the column's position."""
    return [_prefix(j) + str(category)
            for j, categories in enumerate(encoder.categories_)
            for category in categories]


def _ordinal(graph, encoder, keys):
    """Positions in each column's categories; ``unknown_value`` for the unseen."""
    from onnx import numpy_helper

    positions = [float(i) for categories in encoder.categories_
                 for i in range(len(categories))]
    if graph.opsets["ai.onnx.ml"] >= 4:  # float64 values: no Cast node
        return graph.add(
            "LabelEncoder", [keys], domain="ai.onnx.ml",
            keys_tensor=numpy_helper.from_array(np.array(_keys(encoder),
                                                         dtype=object)),
            values_tensor=numpy_helper.from_array(np.array(positions)),
            default_tensor=numpy_helper.from_array(
                np.array([float(encoder.unknown_value)])))
    # float32 holds the positions exactly; onnxruntime's LabelEncoder has no
    # float64 values before ai.onnx.ml 4.
    codes = graph.add("LabelEncoder", [keys], domain="ai.onnx.ml",
                      keys_strings=_keys(encoder), values_floats=positions,
                      default_float=float(encoder.unknown_value))
    return graph.cast(codes, "DOUBLE")


# Up to this width the one-hot block is read from a constant table (rows of
# the identity: 3 nodes); a wider one would make the table too large.
_TABLE_WIDTH = 512


def _one_hot(graph, encoder, keys):
    """The one-hot block, deferred: its nodes are written when a consumer reads
    its columns; the trees read its codes instead (:class:`_OneHotBlock`)."""
    return _OneHotBlock(encoder, keys)


class _OneHotBlock(_Deferred):
    """The one-hot block of the prefixed values ``keys``, not yet written.

    :meth:`write` writes its columns. A consumer may read it otherwise, with
    fewer nodes: :meth:`codes`, per category column the one-hot column its
    value sets (a tree's split on one-hot column ``k`` becomes ``code != k``);
    :meth:`summed`, the sum over the category columns of a row of a matrix
    per one-hot column (the block's product with that matrix, for a linear
    layer); :meth:`values`, a number per one-hot column, one per category
    column.
    """

    def __init__(self, encoder, keys):
        self.encoder, self.keys = encoder, keys
        self.slots, self.width = _one_hot_slots(encoder)
        # Each one-hot column's category column.
        self.column_of = np.full(self.width, -1)
        for j, column_slots in enumerate(self.slots):
            self.column_of[column_slots[column_slots >= 0]] = j
        # What an unseen value of each column sets: its infrequent column, or
        # none (-1).
        self.unseen = np.array([column_slots[-1] for column_slots in self.slots])
        self.per_column = bool((self.unseen >= 0).any())

    @property
    def n_columns(self):
        return len(self.slots)

    def write(self, graph):
        if self.width > _TABLE_WIDTH:
            return _one_hot_node(graph, self.encoder, self.keys)
        return self.summed(graph, np.eye(self.width))

    def _lookup(self, graph, values, default):
        """One ``LabelEncoder`` of ``keys`` to ``values`` (one per one-hot
        column, ``default`` for none) of their category columns; an unseen
        value gets ``values[unseen]`` per column (one ``Add`` more)."""
        from onnx import numpy_helper

        values = np.append(np.asarray(values), default)
        seen = [values[column_slots[:-1]] for column_slots in self.slots]
        offsets = np.zeros(self.n_columns, dtype=values.dtype)
        if self.per_column:
            # The one default of the LabelEncoder, 0, becomes the column's own
            # by adding it to every value of the column.
            offsets = values[self.unseen]
            seen = [column - offset for column, offset
                    in zip(seen, offsets, strict=True)]
            default = values.dtype.type(0)
        values = np.concatenate(seen)
        if values.dtype == np.int64:
            out = graph.add("LabelEncoder", [self.keys], domain="ai.onnx.ml",
                            keys_strings=_keys(self.encoder),
                            values_int64s=values.tolist(),
                            default_int64=int(default))
        else:
            out = graph.add(
                "LabelEncoder", [self.keys], domain="ai.onnx.ml",
                keys_tensor=numpy_helper.from_array(np.array(_keys(self.encoder),
                                                             dtype=object)),
                values_tensor=numpy_helper.from_array(values),
                default_tensor=numpy_helper.from_array(np.array([default])))
        if self.per_column:
            out = graph.add("Add", [out, graph.const(offsets, offsets.dtype)])
        return out

    def codes(self, graph):
        """The name of the ``(n, n_columns)`` float64 codes; None where the
        graph's ``ai.onnx.ml`` opset has no float64 ``LabelEncoder``."""
        if graph.opsets["ai.onnx.ml"] < 4:
            return None
        return self._lookup(graph, np.arange(self.width, dtype=np.float64), -1.0)

    def values(self, graph, v):
        """The name of the ``(n, n_columns)`` float64 ``v[k]`` of the one-hot
        column ``k`` each value sets (0 for none); None where the graph's
        ``ai.onnx.ml`` opset has no float64 ``LabelEncoder``."""
        if graph.opsets["ai.onnx.ml"] < 4:
            return None
        return self._lookup(graph, np.asarray(v, dtype=np.float64), 0.0)

    def summed(self, graph, V, shift=None, dtype=np.float64):
        """The name of ``(n, V.shape[1])``: the block times ``V`` (a row per
        one-hot column), plus ``shift`` (spread over the category columns:
        each adds ``shift / n_columns``); None for a block too wide."""
        if self.width > _TABLE_WIDTH:
            return None
        V = np.asarray(V, dtype=np.float64)
        # Rows: V's, then zeros (a value that sets no column).
        table = np.vstack([V, np.zeros((1, V.shape[1]))])
        if shift is not None:
            table = table + np.asarray(shift, np.float64) / self.n_columns
        index = self._lookup(graph, np.arange(self.width), self.width)
        rows = graph.add("Gather", [graph.const(table, dtype), index], axis=0)
        return graph.add("ReduceSum", [rows, graph.const([1], np.int64)],
                         keepdims=0)


def _one_hot_node(graph, encoder, keys):
    """The one-hot block of a wide encoder (its table would be too large):
    each value's output column, then one ``OneHot``."""
    slots, width = _one_hot_slots(encoder)
    # An unseen value takes its column's last slot (the infrequent column, or
    # -1: none); -1 goes to an extra last column, sliced off at the end.
    seen = np.concatenate([column_slots[:-1] for column_slots in slots])
    unseen = np.array([column_slots[-1] for column_slots in slots])
    unseen = np.where(unseen < 0, width, unseen)
    per_column = bool((unseen != width).any())  # an infrequent column takes them
    slot = graph.add("LabelEncoder", [keys], domain="ai.onnx.ml",
                     keys_strings=_keys(encoder),
                     values_int64s=np.where(seen < 0, width, seen).tolist(),
                     default_int64=-1 if per_column else width)
    if per_column:
        slot = graph.add("Where", [
            graph.add("Less", [slot, graph.const(0, np.int64)]),
            graph.const(unseen, np.int64), slot])
    values = graph.const([0.0, 1.0], np.float32)  # onnxruntime has no float64 OneHot
    one_hot = graph.add("OneHot", [slot, graph.const([width + 1], np.int64),
                                   values], axis=-1)
    # Each column's slots are its own: summing over the columns sets one 1 each.
    total = graph.add("ReduceSum", [one_hot, graph.const([1], np.int64)],
                      keepdims=0)
    return graph.cast(graph.add("Slice", [total, graph.const([0], np.int64),
                                          graph.const([width], np.int64),
                                          graph.const([1], np.int64)]), "DOUBLE")


def layout_of(model):
    """The :class:`TableLayout` an exported model's metadata describes, or None."""
    import json

    props = {prop.key: prop.value for prop in model.metadata_props}
    if "categorical_columns" not in props:
        return None
    numeric = json.loads(props.get("input_columns", "[]"))
    categorical = json.loads(props["categorical_columns"])
    return TableLayout(numeric + categorical, list(range(len(numeric))),
                       list(range(len(numeric), len(numeric) + len(categorical))))


def feeds(layout, X, dtype):
    """The two inputs of a table graph from the DataFrame ``X``.

    Parameters
    ----------
    layout : TableLayout
    X : DataFrame
        Rows with (at least) the layout's columns, by name.
    dtype : numpy dtype
        Of the numeric input.

    Returns
    -------
    dict of str to ndarray
    """
    inputs = {CATEGORICAL_INPUT: np.column_stack([
        _canonical_strings(column)
        for column in columns_by_name(X, layout.names(layout.categorical))])}
    if layout.numeric:
        # column by column: selecting a list of columns of a frame with
        # categorical columns costs more (a one-row frame: about 2x)
        inputs[_INPUT] = np.column_stack([
            _numeric_values(column, dtype)
            for column in columns_by_name(X, layout.names(layout.numeric))])
    return inputs


def _numeric_values(column, dtype):
    """A numeric column's values as ``dtype``, missing values as NaN.

    A numpy column holds its missing values as NaN already; ``na_value`` is
    asked of the extension dtypes only (on a one-row int64 column it costs
    about 80 µs, the conversion itself 6 µs).
    """
    if isinstance(column.dtype, np.dtype):
        return column.to_numpy(dtype=dtype)
    return column.to_numpy(dtype=dtype, na_value=np.nan)


def frame_values(X, names, dtype):
    """The numeric DataFrame's columns ``names`` (compared as strings) as one
    ``dtype`` array, missing values as NaN.

    One ``to_numpy`` of the frame, after one selection of the columns unless
    they are ``names`` already: on one row of 64-85 numeric columns, selecting
    them costs about 0.5-0.7 ms, converting them one by one about 30 µs each,
    the frame's ``to_numpy`` under 10 µs.
    """
    if list(X.columns) != names and [str(c) for c in X.columns] != names:
        X = X[_labels(X, names)]
    return X.to_numpy(dtype=dtype, na_value=np.nan)


def columns_by_name(X, names):
    """The DataFrame's columns ``names`` (compared as strings), one by one
    (each categorical column is canonicalised on its own)."""
    return [X[label] for label in _labels(X, names)]


def _labels(X, names):
    """The DataFrame's column labels whose strings are ``names``."""
    by_name = {str(column): column for column in X.columns}
    missing = sorted(set(names) - set(by_name))
    if missing:
        raise ValueError(f"X lacks the columns {missing}.")
    return [by_name[name] for name in names]


# Up to this many rows a column's values are read one by one: pandas'
# factorization costs more than it saves on a few rows (one row per call when
# serving).
_FEW_ROWS = 64


def _canonical_strings(column):
    """A column's values in canonical form (missing: ``MISSING``), as objects."""
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        if len(column) > _FEW_ROWS:
            return _categorical_strings(column.array)
        return _few_categorical(column.array)
    if len(column) > _FEW_ROWS:
        values = _categories_as_strings(column.to_frame())[:, 0]
    else:
        values = np.array([np.nan if pd.isna(value) else canonical_category(value)
                           for value in column.to_numpy(dtype=object)],
                          dtype=object)
    values[pd.isna(values)] = MISSING
    return values


def _categorical_strings(values):
    """A ``Categorical``'s values in canonical form, read from its codes.

    Each category is put in canonical form once, as a Python scalar
    (``tolist``, as iterating the ``Categorical`` gives them to
    :func:`~skdistill._preprocess._canonical_column` in ``fit``), then taken
    by the codes: 6.5 ms on 10,000 rows of ames' 40 category columns, against
    57 ms through ``_categories_as_strings``.
    """
    categories = [canonical_category(value)
                  for value in values.categories.to_numpy().tolist()]
    return np.array(categories + [MISSING], dtype=object)[values.codes]


def _few_categorical(values):
    """A few rows of a ``Categorical`` in canonical form, read from its codes:
    the categories they use only (:func:`_categorical_strings` puts every
    category in canonical form, which costs more on one row)."""
    codes = values.codes
    used = values.categories.to_numpy()[np.maximum(codes, 0)].tolist()
    return np.array([MISSING if code < 0 else canonical_category(value)
                     for code, value in zip(codes, used, strict=True)],
                    dtype=object)
