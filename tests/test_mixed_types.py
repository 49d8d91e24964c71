"""Real tabular data: categorical columns and missing values, teachers on raw rows."""

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.ensemble import HistGradientBoostingClassifier

from skdistill import HPMDistiller, MLPStudent


@pytest.fixture(scope="module")
def mixed_frame():
    rng = np.random.RandomState(0)
    n = 600
    frame = pd.DataFrame({
        "amount": rng.lognormal(size=n),
        "age": rng.randint(18, 80, size=n).astype(float),
        "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], size=n)),
        "region": rng.choice(["north", "south", "east", "west"], size=n).astype(object),
    })
    logit = (np.log(frame["amount"]) + (frame["plan"] == "pro") * 1.5
             - (frame["region"] == "south") * 1.0 + (frame["age"] - 50) / 20)
    y = np.where(logit + rng.logistic(size=n) > 0.3, "churn", "stay")
    frame.loc[rng.rand(n) < 0.1, "amount"] = np.nan
    frame.loc[rng.rand(n) < 0.1, "region"] = None
    frame["region"] = frame["region"].astype("category")
    return frame, y


def _prefit_lightgbm(frame, y):
    return lightgbm.LGBMClassifier(n_estimators=30, num_leaves=7,
                                   verbose=-1).fit(frame, y)


def _prefit_xgboost(frame, y):
    model = xgboost.XGBClassifier(n_estimators=30, max_depth=3,
                                  enable_categorical=True, tree_method="hist")
    return model.fit(frame, (y == "stay").astype(int))


def _agreement(student, teacher):
    """Agreement with the teacher, which must beat always predicting its majority."""
    _, counts = np.unique(teacher, return_counts=True)
    assert np.mean(student == teacher) > counts.max() / len(teacher)
    return np.mean(student == teacher)


# The heaviest of the default step (about 6 s each): CI's slow step runs it.
@pytest.mark.slow
def test_prefit_boosters_on_raw_frame_distil_into_an_mlp(mixed_frame):
    frame, y = mixed_frame
    teacher = _prefit_lightgbm(frame, y)
    student = MLPStudent(hidden_layer_sizes=(16,), random_state=0)
    distiller = HPMDistiller(teacher, student, random_state=0).fit(frame, y)
    alone = distiller.student_
    predictions = alone.predict(frame)
    assert set(predictions) <= {"churn", "stay"}
    assert _agreement(predictions, teacher.predict(frame)) > 0.85
    np.testing.assert_array_equal(distiller.feature_names_in_, frame.columns)


@pytest.mark.slow  # a 3 s fit
def test_xgboost_teacher_with_integer_labels_on_raw_frame(mixed_frame):
    frame, y = mixed_frame
    y_int = (y == "stay").astype(int)
    teacher = _prefit_xgboost(frame, y)
    distiller = HPMDistiller(teacher, "mlp", random_state=0).fit(frame, y_int)
    # measured: 0.825 agreement; the teacher's majority class covers 0.53
    assert _agreement(distiller.predict(frame), teacher.predict(frame)) > 0.8


def test_student_handles_unseen_categories_and_missing_values(mixed_frame):
    frame, y = mixed_frame
    distiller = HPMDistiller(_prefit_lightgbm(frame, y), "tree", random_state=0)
    distiller.fit(frame, y)
    new_rows = frame.head(5).copy()
    new_rows["region"] = pd.Categorical(["mars", None, "north", "east", "west"])
    new_rows.loc[new_rows.index[0], "age"] = np.nan
    assert distiller.student_.predict_proba(new_rows).shape == (5, 2)


@pytest.mark.parametrize("student", ["mlp", "tree"])
def test_complete_categorical_columns_with_augmentation(mixed_frame, student):
    # One categorical column with no missing value: pandas (copy-on-write) hands
    # out a read-only view of its values.
    frame, y = mixed_frame
    frame = frame[["amount", "age", "plan"]]
    teacher = lightgbm.LGBMClassifier(n_estimators=30, num_leaves=7, verbose=-1)
    distiller = HPMDistiller(teacher, student, augment="munge", augment_ratio=1.0,
                             random_state=0).fit(frame, y)
    assert distiller.report_.details["n_synthetic_rows"] == 480
    teacher_labels = distiller.teachers_[0].predict(frame)
    assert _agreement(distiller.predict(frame), teacher_labels) > 0.7


@pytest.mark.parametrize("student", [pytest.param("mlp", marks=pytest.mark.slow),
                                     "tree"])
def test_integer_column_labels_are_labels_not_positions(mixed_frame, student):
    # Labels 3, 0, 2, 1 in that order: read as positions, "amount" (label 3)
    # would be taken for "region" (position 3), a categorical column.
    # (LightGBM itself mixes them up: scikit-learn's booster is the teacher.)
    frame, y = mixed_frame
    numbered = frame.set_axis([3, 0, 2, 1], axis=1)
    teacher = HistGradientBoostingClassifier(max_iter=30,
                                             categorical_features="from_dtype")
    named = HPMDistiller(teacher, student=student, random_state=0).fit(frame, y)
    renamed = HPMDistiller(teacher, student=student, random_state=0).fit(numbered,
                                                                          y)
    np.testing.assert_allclose(renamed.student_[0].transform(numbered),
                               named.student_[0].transform(frame))
    np.testing.assert_array_equal(renamed.predict(numbered), named.predict(frame))
