"""Fits whose predictions were saved before the architecture change (``2dce242``).

``python tests/behaviour_cases.py`` writes ``tests/data/behaviour_2dce242.npz``;
``test_behaviour_unchanged.py`` fits the same cases and compares. Each case goes
through a different path of ``fit``: the configuration search with two fitted
teachers and the augmentation check; a prefit teacher with a fixed MLP, a chain
and MUNGE rows on a DataFrame with a categorical column; the chain search with a
tree student and accuracy-weighted fusion.

The prefit case keeps ``prefit_teachers="as_is"``, the only behaviour before
that parameter: its teacher was fitted on the rows given to ``fit``, so
``"cross_fit"`` changes its targets, as it should. Every case keeps
``final_rows="train"``, the only behaviour before that parameter: the default
(``"all"``) refits the served student on the validation rows too, which changes
its predictions, as it should.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator

from skdistill import HPMDistiller, MLPStudent, TreeStudent

SNAPSHOT = Path(__file__).parent / "data" / "behaviour_2dce242.npz"


def _search_case():
    X, y = load_breast_cancer(return_X_y=True)
    rows = np.random.RandomState(0).permutation(len(y))
    train, test = rows[:400], rows[400:]
    distiller = HPMDistiller(
        teachers=[HistGradientBoostingClassifier(max_iter=30, random_state=0),
                  RandomForestClassifier(n_estimators=30, random_state=0)],
        student="auto", search_budget=6, augment="auto", final_rows="train",
        random_state=0)
    return distiller, X[train], y[train], X[test]


def _prefit_chain_case():
    X, y = make_classification(n_samples=500, n_features=6, n_informative=4,
                               n_classes=3, random_state=1)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    frame["colour"] = pd.Categorical(np.array(["red", "green", "blue"])[
        (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)])
    teacher = HistGradientBoostingClassifier(
        max_iter=40, random_state=0, categorical_features="from_dtype").fit(
        frame[:400], y[:400])
    distiller = HPMDistiller(
        teachers=FrozenEstimator(teacher),
        student=MLPStudent(hidden_layer_sizes=(16,), max_epochs=40),
        chain=1, augment="munge", augment_ratio=1.0, temperature="adaptive",
        final_rows="train",
        prefit_teachers="as_is", random_state=1)
    return distiller, frame[:400], y[:400], frame[400:]


def _chain_search_case():
    X, y = make_classification(n_samples=600, n_features=8, n_informative=5,
                               random_state=2)
    distiller = HPMDistiller(
        teachers=[HistGradientBoostingClassifier(max_iter=30, random_state=0),
                  RandomForestClassifier(n_estimators=20, random_state=0)],
        student=TreeStudent(max_depth=4), fusion="accuracy", chain="auto",
        final_rows="train",
        augment=None, random_state=2)
    return distiller, X[:450], y[:450], X[450:]


CASES = {"search": _search_case, "prefit_chain": _prefit_chain_case,
         "chain_search": _chain_search_case}


def fitted_proba(name):
    """The case's distiller fitted, and its probabilities on the case's test rows."""
    distiller, X, y, X_test = CASES[name]()
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        distiller.fit(X, y)
    finally:
        torch.set_num_threads(previous)
    return distiller, distiller.predict_proba(X_test)


if __name__ == "__main__":
    np.savez(SNAPSHOT, **{name: fitted_proba(name)[1] for name in CASES})
    print(f"wrote {SNAPSHOT}")
