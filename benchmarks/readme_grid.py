"""The README's ``GridSearchCV`` block with and without its seeds, against plain KD.

On breast_cancer (70/30 split, 398 training rows), a prefit ``XGBClassifier``
and ``RandomForestClassifier`` wrapped in ``FrozenEstimator``, the README's grid
(``MLPStudent`` hidden sizes x temperature, 5 folds, refit), run in this order by
the labels given:

- ``plain``: the same grid over plain KD (``small_data_time.PlainKD``);
- ``unseeded``: ``HPMDistiller`` and the forest without ``random_state``: each
  fit draws its own validation rows and folds, and the forest's copies are
  fitted anew every time;
- ``seeded``: the README as written (``random_state=0`` on both): the
  cross-fitted copies are fitted once per fold and reused by the candidates.

Run: ``nice -n 5 python -m benchmarks.readme_grid plain unseeded seeded plain``
(about 3 minutes); prints seconds and test accuracy per grid.
"""

import sys
import time
import warnings

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, train_test_split
from xgboost import XGBClassifier

from skdistill import HPMDistiller, MLPStudent

from .small_data_time import PlainKD
from .suite.fit import warm_up

SPACE = {"student__hidden_layer_sizes": [(16,), (64, 32)], "temperature": [1.0, 3.0]}


def grid_seconds(label, X_train, y_train, X_test, y_test):
    """Seconds and test accuracy of one grid (see the module's labels)."""
    seeds = {"random_state": 0} if label == "seeded" else {}
    xgb = XGBClassifier(n_jobs=1).fit(X_train, y_train)
    forest = RandomForestClassifier(n_jobs=1, **seeds).fit(X_train, y_train)
    frozen = [FrozenEstimator(xgb), FrozenEstimator(forest)]
    estimator = (PlainKD(frozen, MLPStudent(random_state=0)) if label == "plain"
                 else HPMDistiller(teachers=frozen, student=MLPStudent(), **seeds))
    started = time.perf_counter()
    search = GridSearchCV(estimator, SPACE).fit(X_train, y_train)
    return time.perf_counter() - started, search.score(X_test, y_test)


def main(labels):
    warnings.simplefilter("ignore")
    warm_up()
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3,
                                                        random_state=0)
    for label in labels:
        seconds, accuracy = grid_seconds(label, X_train, y_train, X_test, y_test)
        print(f"{label}: {seconds:.1f} s, test accuracy {accuracy:.4f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["plain", "unseeded", "seeded", "plain"])
