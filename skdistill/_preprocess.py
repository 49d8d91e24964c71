"""The student's own preprocessing, fitted inside ``fit`` and carried in ``student_``.

Teachers receive ``X`` exactly as the user gave it; the student gets numbers. Numeric
columns are imputed (median, with missing-value indicators) and scaled; categorical
columns (object, category, string or boolean dtype) are one-hot encoded for
networks and linear models, ordinal encoded for trees and boosters.
"""

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)

ONE_HOT_FAMILIES = ("mlp", "linear")
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
    transformer : estimator
        An unfitted transformer.
    """
    numeric = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True,
                      keep_empty_features=True),
        StandardScaler(),
    )
    if not hasattr(X, "columns"):
        return numeric
    if family in ONE_HOT_FAMILIES or family == "custom":
        categorical = make_pipeline(
            SimpleImputer(strategy="constant", fill_value="__missing__"),
            OneHotEncoder(handle_unknown="infrequent_if_exist",
                          max_categories=32, sparse_output=False),
        )
    else:
        categorical = make_pipeline(
            SimpleImputer(strategy="constant", fill_value="__missing__"),
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
        )
    return ColumnTransformer(
        [
            ("numeric", numeric, _DtypeMask(categorical=False)),
            ("categorical", _as_object_then(categorical),
             _DtypeMask(categorical=True)),
        ],
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )


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
        return chosen if self.categorical else ~chosen


def _as_object_then(pipeline):
    """Cast categorical columns to strings first, so mixed types encode cleanly."""
    return make_pipeline(
        FunctionTransformer(_categories_as_strings, feature_names_out="one-to-one"),
        *[step for _, step in pipeline.steps],
    )


def _categories_as_strings(X):
    """Categorical columns as an object array of str, missing values as NaN."""
    missing = X.isna().to_numpy()
    # A copy: pandas' copy-on-write may hand out a read-only view.
    values = X.astype(str).to_numpy(dtype=object, copy=True)
    values[missing] = np.nan
    return values
