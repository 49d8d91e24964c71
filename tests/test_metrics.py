"""Model sizes: the parameters counted for each kind of model."""

import lightgbm as lgb
import numpy as np
import pytest
from sklearn.datasets import make_classification

from skdistill._candidates import Candidate
from skdistill._capacity import student_capacity
from skdistill.metrics import count_parameters


@pytest.mark.parametrize("n_classes", [2, 4])
def test_lightgbm_nodes_are_counted_from_every_tree(n_classes):
    X, y = make_classification(n_samples=400, n_features=8, n_informative=5,
                               n_classes=n_classes, random_state=0)
    model = lgb.LGBMClassifier(n_estimators=20, num_leaves=7, verbose=-1,
                               random_state=0).fit(X, y)
    trees = model.booster_.dump_model()["tree_info"]
    assert len(trees) == 20 * (n_classes if n_classes > 2 else 1)
    expected = sum(2 * tree["num_leaves"] - 1 for tree in trees)
    assert count_parameters(model) == expected
    assert count_parameters(model.booster_) == expected


@pytest.mark.parametrize("family, size", [("mlp", (16, 8)), ("lgbm", (25, 7)),
                                          ("tree", (5,)), ("linear", ())])
def test_a_candidates_capacity_is_its_students(family, size):
    for temperature in (1.0, "adaptive"):
        candidate = Candidate(family, size, temperature=temperature, alpha=0.5,
                              learning_rate=0.05 if family != "tree" else None)
        assert candidate.capacity(12, 3) == student_capacity(
            candidate.make_student(), 12, 3)
    # the inputs or the classes change it (a tree: neither)
    if family != "tree":
        assert Candidate(family, size).capacity(24, 5) != candidate.capacity(12, 3)
    assert np.isfinite(candidate.capacity(12, 3))
