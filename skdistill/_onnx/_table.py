"""Tables with categorical columns: two graph inputs and the encoders as nodes.

When the student's default preprocessing saw categorical columns, the graph
takes two inputs: ``"X"``, the numeric columns (float64, or float32), and
``"X_categorical"``, the categorical columns as strings in their canonical form
(:func:`skdistill._preprocess.canonical_category`; a missing value is
``"__missing__"``). :func:`feeds` builds both from a DataFrame. Each category is
looked up by a ``LabelEncoder`` node, then ordinal codes or one-hot columns are
written as scikit-learn's encoders (fitted in ``fit``) give them.
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
from ._graph import _INPUT

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


def table_preprocessing(graph, step, layout, numeric, numeric_sample, convert):
    """The default preprocessing over the two inputs; the output's name.

    ``convert(graph, pipeline, Z, sample)`` converts the numeric branch (the
    imputer and scaler converters); the categorical branch is written here.
    """
    parts = []
    for name, pipeline, _ in step.transformer_.transformers_:
        if name == "numeric" and layout.numeric:
            parts.append(convert(graph, pipeline, numeric, numeric_sample)[0])
        elif name == "categorical":
            parts.append(_encoded(graph, pipeline[-1]))
    return parts[0] if len(parts) == 1 else graph.add("Concat", parts, axis=1)


def _encoded(graph, encoder):
    """Ordinal codes or one-hot columns of the categorical input."""
    codes = [_codes(graph, j, categories)
             for j, categories in enumerate(encoder.categories_)]
    if not isinstance(encoder, OneHotEncoder):
        unknown = float(encoder.unknown_value)
        columns = [graph.add("Where", [
            graph.add("Less", [code, graph.const(0, np.int64)]),
            graph.const(unknown), graph.cast(code, "DOUBLE")]) for code in codes]
        return graph.add("Concat", columns, axis=1) if len(columns) > 1 \
            else columns[0]
    slots, width = _one_hot_slots(encoder)
    # Column -1 (an unseen category with no infrequent column) goes to an extra
    # last column, sliced off at the end.
    depth = graph.const([width + 1], np.int64)
    values = graph.const([0.0, 1.0], np.float32)  # onnxruntime has no float64 OneHot
    total = None
    for code, column_slots in zip(codes, slots, strict=True):
        index = graph.add("Where", [
            graph.add("Less", [code, graph.const(0, np.int64)]),
            graph.const(len(column_slots) - 1, np.int64), code])
        slot = graph.add("Gather", [graph.const(column_slots, np.int64), index],
                         axis=0)
        slot = graph.add("Where", [graph.add("Less", [slot, graph.const(0, np.int64)]),
                                   graph.const(width, np.int64), slot])
        one_hot = graph.add("OneHot", [graph.add("Squeeze", [slot, graph.const(
            [1], np.int64)]), depth, values], axis=-1)
        total = one_hot if total is None else graph.add("Add", [total, one_hot])
    return graph.cast(graph.add("Slice", [total, graph.const([0], np.int64),
                                          graph.const([width], np.int64),
                                          graph.const([1], np.int64)]), "DOUBLE")


def _codes(graph, j, categories):
    """Column ``j`` of the categorical input as positions in ``categories``
    (-1: unseen), shape (n_rows, 1)."""
    column = graph.add("Gather", [CATEGORICAL_INPUT, graph.const([j], np.int64)],
                       axis=1)
    keys = [str(category) for category in categories]
    return graph.add("LabelEncoder", [column], domain="ai.onnx.ml",
                     keys_strings=keys, values_int64s=list(range(len(keys))),
                     default_int64=-1)


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
        inputs[_INPUT] = np.column_stack([
            column.to_numpy(dtype=dtype, na_value=np.nan)
            for column in columns_by_name(X, layout.names(layout.numeric))])
    return inputs


def columns_by_name(X, names):
    """The DataFrame's columns ``names`` (compared as strings), one by one.

    Selecting a list of columns costs more than the rest of a one-row call.
    """
    by_name = {str(column): column for column in X.columns}
    missing = sorted(set(names) - set(by_name))
    if missing:
        raise ValueError(f"X lacks the columns {missing}.")
    return [X[by_name[name]] for name in names]


# Up to this many rows a column's values are read one by one: pandas'
# factorization costs more than it saves on a few rows (one row per call when
# serving).
_FEW_ROWS = 64


def _canonical_strings(column):
    """A column's values in canonical form (missing: ``MISSING``), as objects."""
    import pandas as pd

    if len(column) > _FEW_ROWS:
        values = _categories_as_strings(column.to_frame())[:, 0]
    else:
        values = np.array([np.nan if pd.isna(value) else canonical_category(value)
                           for value in column.to_numpy(dtype=object)],
                          dtype=object)
    values[pd.isna(values)] = MISSING
    return values
