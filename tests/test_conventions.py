"""The habits of scikit-learn users: pipelines with sparse output, tags."""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdistill import HPMDistiller

_RNG = np.random.RandomState(0)
FRAME = pd.DataFrame({"x": _RNG.normal(size=120),
                      "city": _RNG.choice(["paris", "lyon", "nice"], 120)})
Y = np.array((FRAME["x"] > 0) ^ (FRAME["city"] == "nice"), dtype=int)
Y[::10] = 1 - Y[::10]  # label noise: no teacher is perfect on unseen rows
FAST = {"student": "tree", "augment": None, "cv": 2, "random_state": 0}


def test_a_pipeline_with_a_one_hot_encoder_feeds_sparse_rows():
    encode = ColumnTransformer([("scale", StandardScaler(), ["x"]),
                                ("one_hot", OneHotEncoder(), ["city"])],
                               sparse_threshold=1.0)
    assert sp.issparse(encode.fit_transform(FRAME))
    pipeline = make_pipeline(encode, HPMDistiller(LogisticRegression(), **FAST))
    pipeline.fit(FRAME, Y)
    assert pipeline.score(FRAME, Y) > 0.8


def test_sparse_and_dense_rows_give_the_same_fit():
    X = np.column_stack([FRAME["x"], FRAME["city"] == "nice"]).astype(float)
    dense = HPMDistiller(LogisticRegression(), **FAST).fit(X, Y)
    sparse = HPMDistiller(LogisticRegression(), **FAST).fit(sp.csr_matrix(X), Y)
    np.testing.assert_array_equal(sparse.predict_proba(sp.csr_matrix(X)),
                                  dense.predict_proba(X))


def test_tags_say_what_is_accepted():
    tags = HPMDistiller().__sklearn_tags__().input_tags
    assert tags.sparse and tags.allow_nan and tags.categorical and tags.string


def _prefit_tree():
    from sklearn.tree import DecisionTreeClassifier

    X = FRAME[["x"]].assign(nice=FRAME["city"] == "nice")
    return X, DecisionTreeClassifier(random_state=0).fit(X[:80], Y[:80])


def test_given_validation_rows_measure_the_report_and_all_rows_train():
    X, teacher = _prefit_tree()
    distiller = HPMDistiller(teacher, **FAST).fit(X[:80], Y[:80], X_val=X[80:],
                                                  y_val=Y[80:])
    assert distiller.report_.n_validation == 40
    assert distiller.report_.teacher_accuracy == teacher.score(X[80:], Y[80:]) < 1


def test_a_prefit_teacher_perfect_on_the_validation_rows_warns():
    import pytest

    from skdistill import SkdistillWarning

    X, teacher = _prefit_tree()
    with pytest.warns(SkdistillWarning, match=r"\['decisiontreeclassifier'\] "
                                              "score 1.0 .*X_val"):
        HPMDistiller(teacher, **FAST).fit(X[:80], Y[:80])


def test_validation_rows_are_checked():
    import pytest

    X, teacher = _prefit_tree()
    distiller = HPMDistiller(teacher, **FAST)
    with pytest.raises(ValueError, match="X_val and y_val must be given together"):
        distiller.fit(X, Y, X_val=X)
    with pytest.raises(ValueError, match=r"y_val has labels that y lacks: \[7\]"):
        distiller.fit(X, Y, X_val=X[:2], y_val=[0, 7])
    with pytest.raises(ValueError, match="feature names"):
        distiller.fit(X, Y, X_val=X.rename(columns={"x": "z"}), y_val=Y)


def test_cloning_a_distiller_with_a_fitted_unfrozen_teacher_warns():
    import warnings

    import pytest
    from sklearn.base import clone
    from sklearn.frozen import FrozenEstimator

    from skdistill import SkdistillWarning

    X, teacher = _prefit_tree()
    with pytest.warns(SkdistillWarning, match=r"unfits its fitted teacher\(s\) "
                                              r"\['decisiontreeclassifier'\]"):
        clone(HPMDistiller(teacher))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkdistillWarning)
        clone(HPMDistiller(FrozenEstimator(teacher)))
        clone(HPMDistiller([("tree", clone(teacher))]))
