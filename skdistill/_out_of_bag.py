"""Out-of-bag outputs: a bagged forest labels its own training rows honestly.

A random forest fitted with bootstrap samples left each row out of about a
third of its trees; those trees' average on the row is an out-of-sample
output (Breiman, 2001), as the cross-fitted copies' are. One forest fitted on
every row then replaces ``cv`` copies fitted on the other folds: on the
README's 398 rows, the five copies of a 100-tree ``RandomForestClassifier``
took about 1.5 s of a 3-5 s fit.

The forest fitted for it is the teacher's twin with ``oob_score=True``: each
row is labelled by about a third of its trees, where a copy's output averages
all of them. A forest with enough trees to leave each row out of as many
trees as the teacher has (about 2.7x) was measured too: its students were
level with these, over six seeds of ten datasets, for 2.7x the cost
(``benchmarks/README.md``, "A bagged forest labels its rows out of bag").

Only where it stays honest: a scikit-learn forest with ``bootstrap=True`` and
enough trees that every row is expected out of bag somewhere, alone or at the
end of a ``Pipeline`` whose earlier steps learn nothing from the labels
(scikit-learn's preprocessing and imputation, in ``ColumnTransformer`` or
``Pipeline`` too: ``TargetEncoder`` cross-fits itself). A row that still sat
in every bootstrap sample sends the teacher back to the copies.
"""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import Pipeline

from ._teachers import fit_one

_FORESTS = (RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier,
            ExtraTreesRegressor)
# Steps before the forest that cannot carry a row's label into its features.
_UNSUPERVISED_MODULES = ("sklearn.preprocessing", "sklearn.impute")
# A forest is used when fewer than this many rows are expected to sit in
# every one of its bootstrap samples.
MAX_EXPECTED_UNCOVERED = 0.01
# scikit-learn's warning for rows that no tree left out.
_NO_OOB = "do not have OOB scores"


def out_of_bag_capable(template, n_rows):
    """Whether the unfitted ``template`` can label ``n_rows`` training rows
    out of bag instead of through cross-fitted copies.

    Parameters
    ----------
    template : estimator
        What the copies would be cloned from.
    n_rows : int
        The training rows.

    Returns
    -------
    bool
    """
    forest = _forest_step(template)
    if forest is None or not forest.bootstrap:
        return False
    # A row sits in a tree's bootstrap sample with probability 1 - left_out,
    # in every one of them with that to the power of the trees.
    left_out = _left_out_fraction(forest, n_rows)
    trees = out_of_bag_trees(template, n_rows)
    return n_rows * (1.0 - left_out) ** trees < MAX_EXPECTED_UNCOVERED


def out_of_bag_trees(template, n_rows):
    """Trees of the forest fitted for the out-of-bag outputs: the teacher's.

    ``n_rows`` is unused here; ``benchmarks/out_of_bag_targets.py`` replaces
    this function to measure other counts."""
    return _forest_step(template).n_estimators


def _left_out_fraction(forest, n_rows):
    """The chance that a row is left out of one tree's bootstrap sample."""
    draws = forest.max_samples
    if draws is None:
        draws = n_rows
    elif isinstance(draws, float):
        draws = max(round(n_rows * draws), 1)
    return (1.0 - 1.0 / n_rows) ** min(draws, n_rows)


def _forest_step(template):
    """The forest ``template`` ends in, or None (also when a step before it
    may learn from the labels)."""
    if isinstance(template, _FORESTS):
        return template
    if (isinstance(template, Pipeline) and isinstance(template.steps[-1][1], _FORESTS)
            and all(_unsupervised(step) for _, step in template.steps[:-1])):
        return template.steps[-1][1]
    return None


def _unsupervised(step):
    if step is None or isinstance(step, str):  # "passthrough", "drop"
        return True
    if isinstance(step, Pipeline):
        return all(_unsupervised(inner) for _, inner in step.steps)
    if isinstance(step, ColumnTransformer):
        return all(_unsupervised(inner) for _, inner, _ in step.transformers)
    return type(step).__module__.startswith(_UNSUPERVISED_MODULES)


def _with_out_of_bag(template, n_rows):
    """``template`` (a clone) set to keep its out-of-bag outputs, with
    :func:`out_of_bag_trees` trees."""
    prefix = f"{template.steps[-1][0]}__" if isinstance(template, Pipeline) else ""
    return template.set_params(**{
        f"{prefix}oob_score": True,
        f"{prefix}n_estimators": out_of_bag_trees(template, n_rows)})


def fit_out_of_bag(template, X, y, sample_weight, task):
    """Fit a clone of ``template`` on every row; its out-of-bag outputs.

    Parameters
    ----------
    template : estimator
        Unfitted, :func:`out_of_bag_capable` (left untouched).
    X, y, sample_weight
        The training rows.
    task : ClassificationTask or RegressionTask
        What an output is.

    Returns
    -------
    fitted : estimator or None
        The forest fitted on every row (as ``task`` fits teachers); None when
        some row sat in every bootstrap sample.
    outputs : ndarray of shape (n_samples, n_outputs) or None
        Its out-of-bag outputs, as ``task.teacher_outputs`` gives a
        teacher's.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = fit_one(_with_out_of_bag(clone(template), len(y)), X, y,
                         sample_weight, task)
    uncovered = False
    for warning in caught:
        if _NO_OOB in str(warning.message):
            uncovered = True
        else:
            warnings.warn_explicit(warning.message, warning.category,
                                   warning.filename, warning.lineno)
    out_of_bag = _OutOfBag(fitted)
    # A classifier's rows that no tree left out are all zeros: the check holds
    # where the warning went to another thread's catch_warnings.
    if uncovered or out_of_bag.uncovered_rows():
        return None, None
    return fitted, task.teacher_outputs(out_of_bag, np.empty((len(y), 0)))


class _OutOfBag:
    """A fitted forest's out-of-bag outputs on its training rows, answered as
    its predictions there (so that ``task.teacher_outputs`` aligns them)."""

    def __init__(self, fitted):
        forest = fitted
        while not isinstance(forest, _FORESTS):
            forest = (forest.steps[-1][1] if isinstance(forest, Pipeline)
                      else forest.estimator_)  # EncodedLabelsClassifier
        self.classes_ = getattr(fitted, "classes_", None)
        self._outputs = (forest.oob_decision_function_
                         if hasattr(forest, "oob_decision_function_")
                         else forest.oob_prediction_)
        if self.classes_ is not None:
            self.predict_proba = self._answer
        else:
            self.predict = self._answer

    def uncovered_rows(self):
        """Whether some row has no out-of-bag probabilities (classifiers)."""
        return self.classes_ is not None and bool(
            (np.asarray(self._outputs).sum(axis=1) == 0).any())

    def _answer(self, X):
        return self._outputs
