"""The student's own preprocessing, fitted inside ``fit`` and carried in ``student_``.

Teachers receive ``X`` exactly as the user gave it; the student gets numbers. Numeric
columns are imputed (median, with missing-value indicators) and scaled; categorical
columns (object, category, string or boolean dtype) are one-hot encoded for
networks and linear models, ordinal encoded for trees and boosters.

Category values are compared by value, not by their dtype's string form: a value
that is a number (an int, a float, a bool, or a string that reads as a finite
number such as ``"20"`` or ``"20.0"``; ``"True"`` and ``"False"`` are 1 and 0)
is written in one canonical form (``20``, ``20.0`` and ``"20"`` are all ``"20"``),
so a column whose categories were ints at fit and come back as floats or strings
at predict (a round trip through a CSV file or a database) keeps its categories.
Strings that read as the same number (``"07"`` and ``"7"``) are one category.

scikit-learn fits these steps; ``_FastTransform`` then serves them in a few numpy
passes. scikit-learn's own ``transform`` validates every column and looks up
object values one at a time in Python, which made it most of a small student's
predict time (29 of 31 ms on 10,000 rows of wa_churn with a depth-9 tree).
"""

import math
from numbers import Integral, Number

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)
from sklearn.utils.validation import check_is_fitted

ONE_HOT_FAMILIES = ("mlp", "linear")
MISSING = "__missing__"
_CATEGORICAL_DTYPES = ["object", "category", "string", "bool"]


def default_preprocessor(family, X):
    """Build the default preprocessing for a student family and an input ``X``.

    Parameters
    ----------
    family : str
        Student family (``"mlp"``, ``"tree"``, ``"lgbm"``, ``"xgb"``, ``"linear"``,
        or ``"custom"``).
    X : array-like or DataFrame
        The training input, used only to see whether it has categorical columns.

    Returns
    -------
    transformer : _FastTransform
        An unfitted transformer (scikit-learn's steps, served fast).
    """
    numeric = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True,
                      keep_empty_features=True),
        StandardScaler(),
    )
    if not hasattr(X, "columns"):
        return _FastTransform(numeric)
    if family in ONE_HOT_FAMILIES or family == "custom":
        categorical = make_pipeline(
            SimpleImputer(strategy="constant", fill_value=MISSING),
            OneHotEncoder(handle_unknown="infrequent_if_exist",
                          max_categories=32, sparse_output=False),
        )
    else:
        categorical = make_pipeline(
            SimpleImputer(strategy="constant", fill_value=MISSING),
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
        )
    branches = [
        ("numeric", numeric, _DtypeMask(categorical=False)),
        ("categorical", _as_object_then(categorical), _DtypeMask(categorical=True)),
    ]
    if _datetime_columns(X).any():
        # Dates and durations as seconds (since 1970 for dates), then as numbers.
        branches.append(("datetime", make_pipeline(
            FunctionTransformer(_as_seconds, feature_names_out="one-to-one"),
            clone(numeric)), _DatetimeMask()))
    return _FastTransform(ColumnTransformer(
        branches,
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    ))


def _datetime_columns(X):
    """Mask of the datetime (timezone-aware or not) and timedelta columns."""
    import pandas as pd

    return np.array([pd.api.types.is_datetime64_any_dtype(dtype)
                     or pd.api.types.is_timedelta64_dtype(dtype)
                     for dtype in X.dtypes], dtype=bool)


class _DatetimeMask:
    """Selects the datetime and timedelta columns of a DataFrame."""

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __call__(self, X):
        return _datetime_columns(X)


def _as_seconds(X):
    """Datetime columns as seconds since 1970 (UTC), timedeltas as seconds."""
    import pandas as pd

    columns = []
    for i in range(X.shape[1]):
        column = X.iloc[:, i]
        if pd.api.types.is_timedelta64_dtype(column.dtype):
            seconds = column.dt.total_seconds()
        else:
            column = pd.to_datetime(column)
            if column.dt.tz is not None:
                column = column.dt.tz_convert("UTC").dt.tz_localize(None)
            seconds = (column - pd.Timestamp(0)).dt.total_seconds()
        columns.append(seconds.to_numpy(dtype=np.float64, na_value=np.nan))
    return np.column_stack(columns) if columns else np.empty((X.shape[0], 0))


class _DtypeMask:
    """Selects the categorical (or the other) columns of a DataFrame by a mask.

    A boolean mask, not the column labels that ``make_column_selector`` returns:
    ``ColumnTransformer`` reads integer labels as positions, so a DataFrame whose
    columns are named ``2, 0, 1`` would have its columns mixed up.
    """

    def __init__(self, categorical):
        self.categorical = categorical

    def __repr__(self):
        return f"{type(self).__name__}(categorical={self.categorical})"

    def __call__(self, X):
        chosen = X.columns.isin(
            X.select_dtypes(include=_CATEGORICAL_DTYPES).columns)
        return chosen if self.categorical else ~chosen & ~_datetime_columns(X)


def _as_object_then(pipeline):
    """Cast categorical columns to strings first, so mixed types encode cleanly."""
    return make_pipeline(
        FunctionTransformer(_categories_as_strings, feature_names_out="one-to-one"),
        *[step for _, step in pipeline.steps],
    )


def _categories_as_strings(X):
    """Categorical columns as an object array of canonical str, missing as NaN."""
    if not hasattr(X, "iloc"):
        import pandas as pd

        X = pd.DataFrame(np.asarray(X, dtype=object))
    columns = [_canonical_column(X.iloc[:, i]) for i in range(X.shape[1])]
    if not columns:
        return np.empty((X.shape[0], 0), dtype=object)
    return np.column_stack(columns)


def _canonical_column(column):
    """One column's values in their canonical string form (see the module doc)."""
    import pandas as pd

    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    canonical = np.array([canonical_category(value) for value in uniques]
                         + [np.nan], dtype=object)
    return canonical[codes]


def canonical_category(value):
    """The string a category value is matched by: numbers in one form.

    Ints, floats, bools and strings that read as a finite number become the
    number's shortest form (an integral value without ``.0``); ``"True"`` and
    ``"False"`` are ``"1"`` and ``"0"``; anything else is ``str(value)``.
    """
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, str):
        if value in ("True", "False"):
            return "1" if value == "True" else "0"
        try:
            number = float(value)
        except ValueError:
            return value
        return _number_form(number) if math.isfinite(number) else value
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Number) and not isinstance(value, complex):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if not math.isfinite(number):
            return str(value)
        if number.is_integer():
            return _number_form(number)
        # str of a numpy float is its shortest form in its own precision
        # (float32's 0.1 is "0.1", not float64's reading of it).
        return str(value) if isinstance(value, np.floating) else repr(number)
    return str(value)


def _number_form(number):
    return str(int(number)) if number.is_integer() else repr(number)


# The fast path transforms more rows than this a block at a time.
TRANSFORM_BLOCK_ROWS = 65_536
# A ColumnTransformer on more rows than this is fitted branch by branch
# (:func:`_fit_by_branch`).
FIT_BY_BRANCH_ROWS = 65_536


def _fit_by_branch(transformer, X):
    """``transformer.fit(X)`` without the whole transformed output.

    ``ColumnTransformer.fit`` builds the transformed rows and the parts it
    stacks: twice the output at the peak (at 800,000 rows x 59 columns, 750 MB
    for nothing). Here the ``ColumnTransformer`` is fitted on a few rows that
    hold every category and a missing value of every column that has one (so
    every branch has the width it would have on ``X``), then each branch's
    pipeline is refitted on all of ``X``'s columns it reads, which builds no
    output of its last step: the same fitted statistics as a fit on ``X``. If a
    branch's width still came out otherwise, the plain fit is made.
    """
    fitted = transformer.fit(X.iloc[_representative_rows(X)])
    positions = fitted._transformer_to_input_indices
    widths = {}
    for name, step, _ in fitted.transformers_:
        if name in positions and len(positions[name]) and hasattr(step, "fit"):
            columns = X.iloc[:, positions[name]]
            step.fit(columns)
            widths[name] = step.transform(columns.iloc[:1]).shape[1]
    expected = {name: piece.stop - piece.start
                for name, piece in fitted.output_indices_.items() if name in widths}
    if widths != expected:
        return clone(transformer).fit(X)
    return fitted


def _representative_rows(X, head=1_000):
    """Rows of the DataFrame ``X`` with every value of its categorical columns
    and a missing value of every column that has one (and the first ``head``)."""
    import pandas as pd

    rows = [np.arange(min(head, X.shape[0]))]
    # the columns the categorical branch encodes: their values set its width
    categorical = _DtypeMask(categorical=True)(X)
    for position in range(X.shape[1]):
        column = X.iloc[:, position]
        missing = np.flatnonzero(column.isna().to_numpy())
        rows.append(missing[:1])
        if categorical[position]:
            codes, _ = pd.factorize(column, use_na_sentinel=True)
            rows.append(np.unique(codes, return_index=True)[1])
    return np.unique(np.concatenate(rows))


class _FastTransform(TransformerMixin, BaseEstimator):
    """The default preprocessing: fitted by scikit-learn, served by numpy.

    ``fit`` fits ``transformer`` (a clone: ``transformer_``) and reads what its
    steps learned: the columns of each branch, the imputer's fill values and
    missing-value indicators, the scaler's means and scales, the encoder's
    categories (and infrequent ones). ``transform`` computes the same output from
    these in a few vectorized passes. Input that the fast path cannot read as
    fitted (other columns, non-numeric values in a numeric column) goes to
    ``transformer_.transform``, which raises scikit-learn's own errors.

    Parameters
    ----------
    transformer : Pipeline or ColumnTransformer
        As built by :func:`default_preprocessor`: a numeric pipeline (imputer
        with indicators, then scaler), or a ``ColumnTransformer`` of it and a
        categorical pipeline (strings, constant imputer, one-hot or ordinal
        encoder).
    """

    def __init__(self, transformer):
        self.transformer = transformer

    def fit(self, X, y=None):
        """Fit ``transformer`` and compile its fast path.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : _FastTransform
        """
        transformer = clone(self.transformer)
        if isinstance(transformer, ColumnTransformer) and hasattr(X, "iloc") \
                and X.shape[0] > FIT_BY_BRANCH_ROWS:
            self.transformer_ = _fit_by_branch(transformer, X)
        else:
            self.transformer_ = transformer.fit(X)
        self.n_features_in_ = self.transformer_.n_features_in_
        names = getattr(self.transformer_, "feature_names_in_", None)
        if names is not None:
            self.feature_names_in_ = names
        self._numeric, self._categorical = _compile(self.transformer_)
        return self

    def transform(self, X):
        """Transform ``X`` as ``transformer_.transform`` would, faster.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        Z : ndarray of shape (n_samples, n_output_features)
        """
        check_is_fitted(self)
        try:
            return self._fast_transform(X)
        except _NotServedError:
            return self.transformer_.transform(X)

    def get_feature_names_out(self, input_features=None):
        """Output feature names, as ``transformer_`` gives them.

        Parameters
        ----------
        input_features : array-like of str or None, default=None

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        return self.transformer_.get_feature_names_out(input_features)

    def _fast_transform(self, X):
        names = getattr(self, "feature_names_in_", None)
        if hasattr(X, "columns"):
            if names is None or not np.array_equal(
                    np.asarray(X.columns, dtype=object), names):
                raise _NotServedError
        elif names is not None or not hasattr(X, "shape") or X.ndim != 2:
            raise _NotServedError
        if X.shape[1] != self.n_features_in_:
            raise _NotServedError
        branches = [branch for branch in (self._numeric, self._categorical)
                    if branch is not None]
        if not branches:
            raise _NotServedError
        if X.shape[0] <= TRANSFORM_BLOCK_ROWS:
            parts = [branch.transform(X) for branch in branches]
            return parts[0] if len(parts) == 1 else np.hstack(parts)
        # Each block's parts go straight into the output: the parts of every
        # row and their stack would hold the output twice at the peak.
        out = np.empty((X.shape[0], sum(branch.width for branch in branches)))
        for start in range(0, X.shape[0], TRANSFORM_BLOCK_ROWS):
            rows = slice(start, start + TRANSFORM_BLOCK_ROWS)
            block = X.iloc[rows] if hasattr(X, "iloc") else X[rows]
            column = 0
            for branch in branches:
                out[rows, column:column + branch.width] = branch.transform(block)
                column += branch.width
        return out


class _NotServedError(Exception):
    """The fast path cannot read this input as fitted: scikit-learn transforms it."""


def _compile(transformer):
    """The fast numeric and categorical branches of a fitted transformer."""
    if not isinstance(transformer, ColumnTransformer):
        return _NumericBranch(transformer,
                              np.arange(transformer.n_features_in_)), None
    # The column positions scikit-learn itself selects in ``transform`` (the
    # ONNX export reads the same mapping).
    positions = transformer._transformer_to_input_indices
    branches = {"numeric": _NumericBranch, "categorical": _CategoricalBranch}
    if any(len(positions[name]) for name, _, _ in transformer.transformers_
           if name not in branches and name != "remainder"):
        return None, None  # a branch the fast path does not know: scikit-learn's
    compiled = {name: branches[name](step, positions[name])
                for name, step, _ in transformer.transformers_
                if name in branches and len(positions[name])}
    return compiled.get("numeric"), compiled.get("categorical")


class _NumericBranch:
    """Median fill, missing-value indicators and standard scaling, in numpy."""

    def __init__(self, pipeline, positions):
        imputer, scaler = pipeline[0], pipeline[-1]
        self.positions = np.asarray(positions)
        self.fill = np.asarray(imputer.statistics_, dtype=np.float64)
        # keep_empty_features: a column empty in fit is filled with 0.
        self.fill = np.where(np.isnan(self.fill), 0.0, self.fill)
        indicator = getattr(imputer, "indicator_", None)
        self.indicated = (np.asarray(indicator.features_) if indicator is not None
                          else np.empty(0, dtype=int))
        self.mean = scaler.mean_
        self.scale = scaler.scale_
        self.width = len(self.positions) + len(self.indicated)

    def transform(self, X):
        values = _numeric_values(X, self.positions)
        missing = np.isnan(values)
        values = np.where(missing, self.fill, values)
        if len(self.indicated):
            values = np.hstack([values, missing[:, self.indicated]])
        values -= self.mean
        values /= self.scale
        return values


def _numeric_values(X, positions):
    """The numeric columns as a float64 array, missing values as NaN."""
    try:
        if hasattr(X, "iloc"):
            return X.iloc[:, positions].to_numpy(dtype=np.float64,
                                                 na_value=np.nan)
        return np.asarray(X, dtype=np.float64)[:, positions]
    except (TypeError, ValueError) as error:
        raise _NotServedError from error


class _CategoricalBranch:
    """Categories matched as strings, then one-hot or ordinal codes, in numpy."""

    def __init__(self, pipeline, positions):
        import pandas as pd  # only DataFrames have categorical columns

        encoder = pipeline[-1]
        self.positions = np.asarray(positions)
        self.categories = [pd.Index(categories)
                           for categories in encoder.categories_]
        self.missing_codes = [categories.get_indexer([MISSING])[0]
                              for categories in self.categories]
        self.one_hot = isinstance(encoder, OneHotEncoder)
        if self.one_hot:
            self.slots, self.width = _one_hot_slots(encoder)
        else:
            self.unknown = float(encoder.unknown_value)
            self.width = len(self.positions)

    def transform(self, X):
        codes = [_codes(X.iloc[:, position], categories, missing_code)
                 for position, categories, missing_code in zip(
                     self.positions, self.categories, self.missing_codes,
                     strict=True)]
        if not self.one_hot:
            return np.column_stack([np.where(code < 0, self.unknown, code)
                                    for code in codes]).astype(np.float64)
        out = np.zeros((X.shape[0], self.width))
        rows = np.arange(X.shape[0])
        for code, slots in zip(codes, self.slots, strict=True):
            # slots[-1] (for code -1, unknown) is the infrequent column or -1.
            columns = slots[code]
            hit = columns >= 0
            out[rows[hit], columns[hit]] = 1.0
        return out


def _one_hot_slots(encoder):
    """Each category's output column (-1: none), the unknown's last; the width.

    scikit-learn's layout: per input column, its frequent categories in order,
    then one column for the infrequent ones (which also takes unknown values
    under ``handle_unknown="infrequent_if_exist"``).
    """
    infrequent = getattr(encoder, "infrequent_categories_",
                         [None] * len(encoder.categories_))
    slots, start = [], 0
    for categories, rare in zip(encoder.categories_, infrequent, strict=True):
        is_rare = (np.isin(categories, rare) if rare is not None
                   else np.zeros(len(categories), dtype=bool))
        frequent = np.cumsum(~is_rare) - 1
        n_frequent = int((~is_rare).sum())
        rare_column = start + n_frequent if is_rare.any() else -1
        columns = np.where(is_rare, rare_column, start + frequent)
        slots.append(np.append(columns, rare_column))
        start += n_frequent + int(is_rare.any())
    return slots, start


def _codes(column, categories, missing_code):
    """A column's positions in ``categories`` (-1: unseen), matched by value.

    Values are matched in their canonical string form (:func:`canonical_category`).
    Missing values take ``missing_code``, the position of the imputer's
    ``MISSING`` category (-1 where fit saw no missing value).
    """
    import pandas as pd

    if column.dtype == "category":
        levels = column.cat.categories
        level_codes = column.cat.codes.to_numpy()
    else:
        level_codes, levels = pd.factorize(column, use_na_sentinel=True)
    # Match the column's few distinct values, then index by their codes (the
    # extra last slot takes code -1, a missing value).
    matched = categories.get_indexer(
        [canonical_category(level) for level in levels])
    return np.append(matched, missing_code)[level_codes]
