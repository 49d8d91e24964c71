"""The columns the student sees: a serving-time subset of the teachers' columns.

The teachers read every column of ``X``; a student given ``student_features`` reads
only the chosen ones, so that serving needs only those. This module checks the
selection against ``X`` (before any work) and takes the chosen columns from a row
set, by name when the rows have column names, by position otherwise.
"""

from numbers import Integral

import numpy as np
from sklearn.utils import _safe_indexing


def resolve_student_features(student_features, n_features, feature_names):
    """The student's columns, checked against the columns of ``X``.

    Parameters
    ----------
    student_features : array-like or None
        Column names, integer indices (negative ones count from the end) or a
        boolean mask over the columns; ``None`` selects every column.
    n_features : int
        Number of columns of ``X``.
    feature_names : ndarray of str or None
        ``X``'s column names (``feature_names_in_``), or None when it has none.

    Returns
    -------
    ndarray of shape (n_student_features,)
        Names (object dtype) when ``X`` has column names, else integer indices,
        in the order given (ascending for a mask).

    Raises
    ------
    ValueError
        For an empty selection, unknown names, names when ``X`` has no column
        names, indices out of range, a mask of the wrong length, a mix of kinds,
        or a column selected twice.
    """
    if student_features is None:
        positions = np.arange(n_features)
    else:
        positions = _positions(student_features, n_features, feature_names)
    if feature_names is None:
        return positions
    return np.asarray(feature_names, dtype=object)[positions]


def _positions(student_features, n_features, feature_names):
    chosen = np.asarray(student_features, dtype=object)
    if chosen.ndim != 1:
        raise ValueError(
            "student_features must be a one-dimensional list of column names, "
            f"indices or a boolean mask; got an array of shape {chosen.shape}."
        )
    items = chosen.tolist()
    if not items:
        raise ValueError("student_features selects no column; choose at least one.")
    if all(isinstance(item, (bool, np.bool_)) for item in items):
        positions = _mask_positions(items, n_features)
    elif all(isinstance(item, Integral) and not isinstance(item, bool)
             for item in items):
        positions = _index_positions(items, n_features)
    elif all(isinstance(item, str) for item in items):
        positions = _name_positions(items, feature_names)
    else:
        kinds = sorted({type(item).__name__ for item in items})
        raise ValueError(
            "student_features must be all column names (str), all integer "
            "indices, or a boolean mask; got a mix of "
            f"{', '.join(kinds)}: {items!r}."
        )
    _reject_duplicates(positions, feature_names)
    return positions


def _mask_positions(mask, n_features):
    if len(mask) != n_features:
        raise ValueError(
            f"student_features as a boolean mask needs one entry per column of X "
            f"({n_features}); got {len(mask)}."
        )
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    if positions.size == 0:
        raise ValueError("student_features is a mask with no True entry: it "
                         "selects no column; choose at least one.")
    return positions


def _index_positions(indices, n_features):
    outside = [index for index in indices if not -n_features <= index < n_features]
    if outside:
        raise ValueError(
            f"student_features has indices out of range for X's {n_features} "
            f"columns: {outside}."
        )
    return np.asarray(indices, dtype=np.intp) % n_features


def _name_positions(names, feature_names):
    if feature_names is None:
        raise ValueError(
            f"student_features names columns {names!r} but X has no column "
            "names; give integer indices or a boolean mask, or fit on a "
            "DataFrame with string column names."
        )
    column = {name: position for position, name in enumerate(feature_names)}
    unknown = [name for name in names if name not in column]
    if unknown:
        raise ValueError(
            f"student_features names columns that X lacks: {unknown}. X has "
            f"{len(column)} columns."
        )
    return np.asarray([column[name] for name in names], dtype=np.intp)


def _reject_duplicates(positions, feature_names):
    values, counts = np.unique(positions, return_counts=True)
    repeated = values[counts > 1]
    if repeated.size:
        shown = (repeated.tolist() if feature_names is None
                 else [str(feature_names[p]) for p in repeated])
        raise ValueError(f"student_features selects columns more than once: "
                         f"{shown}.")


def student_columns(X, student_features, feature_names):
    """The student's columns of ``X``: all of ``X`` when it selects every column.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Rows with the columns seen in ``fit``, already validated.
    student_features : ndarray
        The resolved selection (see :func:`resolve_student_features`).
    feature_names : ndarray of str or None
        The column names seen in ``fit``.

    Returns
    -------
    array-like or DataFrame of shape (n_samples, n_student_features)
        Selected by name when both ``X`` and ``fit``'s data have column names,
        otherwise by position (a DataFrame whose labels are not strings is
        relabelled ``0 .. n_student_features - 1``).
    """
    if feature_names is None:
        positions = np.asarray(student_features, dtype=np.intp)
    else:
        column = {name: position for position, name in enumerate(feature_names)}
        positions = np.asarray([column[name] for name in student_features],
                               dtype=np.intp)
    if np.array_equal(positions, np.arange(_n_columns(X))):
        return X
    if not hasattr(X, "columns"):
        return _safe_indexing(X, positions, axis=1)
    if feature_names is not None:
        return _safe_indexing(X, list(student_features), axis=1)
    # Labels that are not strings (integers) are taken for positions by the
    # student's ColumnTransformer: label the chosen columns by their new ones.
    subset = _safe_indexing(X, positions, axis=1)
    subset.columns = range(len(positions))
    return subset


def _n_columns(X):
    return X.shape[1] if len(X.shape) > 1 else 1
