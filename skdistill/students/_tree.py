"""A shallow regression tree that learns the teachers' class probabilities."""

from numbers import Integral

import numpy as np
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils._param_validation import Interval

from ._base import BaseStudent
from ._docstrings import with_shared_docstring


@with_shared_docstring
class TreeStudent(BaseStudent):
    """Multi-output regression tree fitted on the target distribution.

    One :class:`~sklearn.tree.DecisionTreeRegressor` (squared error) predicts
    every class probability at once, so each leaf stores the weighted mean
    target distribution of its rows. With soft targets the splits follow where
    the teachers' probabilities change, not only where the hard labels do.

    Parameters
    ----------
    max_depth : int or None, default=6
        Maximum depth of the tree; ``None`` grows until the other limits stop it.
    min_samples_leaf : int, default=5
        Minimum number of training rows in a leaf.
    max_leaf_nodes : int or None, default=None
        Grow the tree best-first with at most this many leaves.
    random_state : int, RandomState instance or None, default=None
        Seeds the tree's tie-breaking between equally good splits.

    Attributes
    ----------
    {fitted_attributes}
    {temperature_attribute}
    tree_model_ : DecisionTreeRegressor
        The fitted multi-output regressor; its size is ``tree_model_.tree_.node_count``.

    See Also
    --------
    LGBMStudent : A small booster, more accurate for the same latency.

    Notes
    -----
    The squared error of a probability vector is the Brier score, a proper
    scoring rule: a leaf's mean is the best constant distribution for its rows.
    The base class clips and renormalises the predicted rows, then undoes the
    temperature.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdistill.students._tree import TreeStudent
    >>> X, y = load_iris(return_X_y=True)
    >>> student = TreeStudent(max_depth=3, random_state=0).fit(X, y)
    >>> student.predict_proba(X[:1]).round(2)
    array([[1., 0., 0.]])
    """

    _input_dtype = np.float32  # scikit-learn's trees split float32 values

    _parameter_constraints = {
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, max_depth=6, min_samples_leaf=5, max_leaf_nodes=None,
                 random_state=None):
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_leaf_nodes = max_leaf_nodes
        self.random_state = random_state

    def _fit_distribution(self, X, targets, sample_weight):
        self._validate_params()
        self.tree_model_ = DecisionTreeRegressor(
            criterion="squared_error",
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            max_leaf_nodes=self.max_leaf_nodes,
            random_state=self.random_state,
        ).fit(X, targets, sample_weight=sample_weight)

    def _predict_distribution(self, X):
        return self.tree_model_.predict(X)
