"""The default preprocessing's fast path computes what scikit-learn's steps compute."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer

from skdistill import _preprocess
from skdistill._preprocess import default_preprocessor


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "amount": rng.normal(size=n),
        "count": rng.integers(0, 5, n).astype(float),
        "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], n)),
        # Mixed types in one column: encoded as strings.
        "mixed": rng.choice(np.array(["p", "q", None, 1], dtype=object), n),
        "flag": rng.random(n) > 0.5,
        "empty": np.nan,
        # 50 levels: beyond max_categories=32, the rarest share one column.
        "city": pd.Categorical(rng.choice([f"c{i}" for i in range(50)], n,
                                          p=np.linspace(1, 3, 50) / 100)),
    })
    frame.loc[::7, "amount"] = np.nan
    frame.loc[::5, "plan"] = np.nan
    return frame


@pytest.fixture(scope="module")
def train_and_new():
    train = _frame(600, 0)
    new = _frame(300, 1)
    new.loc[new.index[0], "mixed"] = "never seen"
    new.loc[new.index[1], "count"] = np.nan  # count had no NaN in fit
    new["flag"] = new["flag"].astype(object)
    new.loc[new.index[2], "flag"] = np.nan
    # Other category levels, in another order, than at fit.
    new["plan"] = pd.Categorical(new["plan"].astype(object).where(
        new.index % 4 != 0, "enterprise"), categories=["pro", "enterprise", "basic"])
    return train, new


@pytest.mark.parametrize("family", ["mlp", "linear", "tree", "lgbm", "custom"])
def test_fast_path_equals_scikit_learn(train_and_new, family):
    train, new = train_and_new
    preprocessor = default_preprocessor(family, train).fit(train)
    for X in (train, new):
        fast = preprocessor.transform(X)
        # The fast path itself computes it (no fallback to scikit-learn).
        np.testing.assert_array_equal(preprocessor._fast_transform(X), fast)
        reference = preprocessor.transformer_.transform(X)
        assert fast.shape == reference.shape
        np.testing.assert_array_equal(fast, reference)
    one_hot = family in ("mlp", "linear", "custom")
    # The rare cities share one column; a tree sees one code per column.
    # Numeric: 3 columns and 2 missing-value indicators; then plan, mixed (with
    # a missing category each), flag, city.
    expected = 5 + (4 + 4 + 2 + 32 if one_hot else 4)
    assert preprocessor.transform(new).shape[1] == expected


def test_fast_path_on_arrays():
    X = _frame(400, 0)[["amount", "count", "empty"]].to_numpy()
    preprocessor = default_preprocessor("mlp", X).fit(X)
    np.testing.assert_array_equal(preprocessor.transform(X),
                                  preprocessor.transformer_.transform(X))
    # Three columns and the indicators of the two with missing values.
    assert preprocessor.transform(X).shape == (400, 5)


def test_other_input_goes_to_scikit_learn(train_and_new):
    train, _ = train_and_new
    preprocessor = default_preprocessor("mlp", train).fit(train)
    # Columns are matched by name, as ColumnTransformer does.
    np.testing.assert_array_equal(
        preprocessor.transform(train[train.columns[::-1]]),
        preprocessor.transform(train))
    with pytest.raises(ValueError, match="columns are missing"):
        preprocessor.transform(train.drop(columns=["amount"]))
    text = train.assign(amount=np.where(train.index == 3, "abc", "1.5"))
    with pytest.raises(ValueError, match="could not convert"):
        preprocessor.transform(text)


@pytest.mark.parametrize("family", ["mlp", "tree"])
@pytest.mark.parametrize("as_array", [False, True])
def test_many_rows_are_transformed_a_block_at_a_time_with_the_same_output(
        train_and_new, monkeypatch, family, as_array):
    # Large inputs go through blocks written into one output (the peak memory
    # of a fit at 1M rows); blocks of 64 rows here, the last one partial.
    train, new = train_and_new
    if as_array:
        train, new = (frame[["amount", "count", "empty"]].to_numpy()
                      for frame in (train, new))
    preprocessor = default_preprocessor(family, train).fit(train)
    monkeypatch.setattr(_preprocess, "TRANSFORM_BLOCK_ROWS", 64)
    blocked = preprocessor._fast_transform(new)
    assert new.shape[0] % 64 != 0
    np.testing.assert_array_equal(blocked, preprocessor.transformer_.transform(new))


def _late_surprises(n):
    """A frame whose missing values, rare categories and 40-level column show
    up only in its last rows, past the first ones a subset would take."""
    frame = _frame(n, 3)
    frame["amount"] = frame["amount"].fillna(0.5)
    frame.loc[frame.index[-1], "amount"] = np.nan        # its only NaN
    frame["plan"] = frame["plan"].cat.add_categories(["legacy"])
    frame.loc[frame.index[-2], "plan"] = "legacy"          # seen once, late
    frame["wide"] = pd.Categorical(np.r_[np.zeros(n - 40, int), np.arange(40)])
    frame["when"] = pd.date_range("2020-01-01", periods=n, freq="h")
    frame.loc[frame.index[-3], "when"] = pd.NaT
    return frame


@pytest.mark.parametrize("family", ["mlp", "tree"])
def test_a_large_frame_is_fitted_branch_by_branch_to_the_same_statistics(
        monkeypatch, family):
    # Fitted branch by branch (no whole output at the peak) above the
    # threshold, 300 rows here: the same preprocessing as the plain fit.
    X = _late_surprises(1_200)
    plain = default_preprocessor(family, X).fit(X)
    monkeypatch.setattr(_preprocess, "FIT_BY_BRANCH_ROWS", 300)
    fitted_rows = []
    fit = ColumnTransformer.fit
    monkeypatch.setattr(ColumnTransformer, "fit", lambda self, X, y=None:
                        fitted_rows.append(len(X)) or fit(self, X, y))
    by_branch = default_preprocessor(family, X).fit(X)
    # One ColumnTransformer fit, on a few rows (no fallback to the plain fit):
    # the first 1,000, the late NaNs and categories, the 40 levels.
    assert len(fitted_rows) == 1 and fitted_rows[0] < len(X)
    np.testing.assert_array_equal(by_branch.transformer_.transform(X),
                                  plain.transformer_.transform(X))
    np.testing.assert_array_equal(by_branch.get_feature_names_out(),
                                  plain.get_feature_names_out())
    for name, step in plain.transformer_.named_transformers_.items():
        other = by_branch.transformer_.named_transformers_[name]
        for fitted, twin in zip(step, other, strict=True):
            for attribute in ("statistics_", "mean_", "scale_"):
                if hasattr(fitted, attribute):
                    np.testing.assert_array_equal(getattr(twin, attribute),
                                                  getattr(fitted, attribute))
            if hasattr(fitted, "categories_"):
                assert [list(c) for c in twin.categories_] == \
                    [list(c) for c in fitted.categories_]
