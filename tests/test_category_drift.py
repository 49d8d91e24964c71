"""A categorical column whose dtype changes between fit and predict keeps its values.

A round trip through a CSV file or a database turns int categories into floats or
strings (and bools into 0/1): the default preprocessing matches category values by
value, so the student sees the same codes (it once matched their string forms,
``"20.0" != "20"``, and every value became an unseen category).
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from skdistill import HPMDistiller
from skdistill._preprocess import default_preprocessor

_NUMBERS = np.array([10, 20, 30, 20, 10, 30, 30, 20] * 5)
_BOOLS = _NUMBERS > 15


def _as(kind, values):
    """``values`` (ints or bools) in another dtype, as a drifted column would be."""
    if kind == "int":
        return pd.Series(values.astype(np.int64))
    if kind == "float":
        return pd.Series(values.astype(np.float64))
    if kind == "string":
        return pd.Series(values.astype(str), dtype=object)
    if kind == "category":
        return pd.Series(pd.Categorical(values))
    if kind == "bool":
        return pd.Series(values.astype(bool))
    raise AssertionError(kind)


_KINDS = ["int", "float", "string", "category", "bool"]


@pytest.mark.parametrize("family", ["mlp", "tree"])
@pytest.mark.parametrize("at_predict", _KINDS)
@pytest.mark.parametrize("at_fit", _KINDS)
def test_category_values_match_across_dtypes(at_fit, at_predict, family):
    # A column in one dtype at fit (categorical for string, category and bool;
    # numeric for int and float), the same values in each dtype at predict.
    values = _BOOLS if "bool" in (at_fit, at_predict) else _NUMBERS
    other = np.linspace(0, 1, len(values))
    fit = pd.DataFrame({"code": _as(at_fit, values), "x": other})
    new = pd.DataFrame({"code": _as(at_predict, values), "x": other})
    preprocessor = default_preprocessor(family, fit).fit(fit)
    expected = preprocessor.transform(fit)
    np.testing.assert_array_equal(preprocessor.transform(new), expected)
    # scikit-learn's own transform (the fallback path) matches too.
    np.testing.assert_array_equal(preprocessor.transformer_.transform(new),
                                  expected)


def test_int_categories_read_back_as_floats_predict_the_same():
    rng = np.random.RandomState(0)
    code = rng.choice([10, 20, 30], 300)
    x = rng.normal(size=300)
    y = ((code == 20) ^ (x > 0.5)).astype(int)
    frame = pd.DataFrame({"code": pd.Categorical(code), "x": x})
    distiller = HPMDistiller(LogisticRegression(), student="tree", augment=None,
                             random_state=0).fit(frame, y)
    drifted = frame.assign(code=frame["code"].astype(np.float64))
    np.testing.assert_array_equal(distiller.predict_proba(drifted),
                                  distiller.predict_proba(frame))
