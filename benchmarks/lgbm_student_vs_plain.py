"""The LightGBM student against a plain LightGBM of the same size, hard labels.

On one suite dataset (2,000-row samples, the suite's split, seeds 0-5): a plain
``LGBMClassifier`` of 50 trees x 15 leaves on the raw table (categorical columns
split natively) and on the student's default preprocessing (ordinal codes), and
``LGBMStudent`` of the same size on the hard labels at each learning rate of the
search's candidates. Test accuracy in points, mean and per seed.

Run: ``python -m benchmarks.lgbm_student_vs_plain hpc_data [more datasets]``
(about 20 s per dataset).
"""

import sys
import warnings

import numpy as np
from lightgbm import LGBMClassifier

from skdistill import LGBMStudent
from skdistill._candidates import LEARNING_RATES
from skdistill._preprocess import default_preprocessor

from .datasets import load
from .suite.fit import Split

SEEDS = range(6)
TREES, LEAVES = 50, 15


def accuracies(name, seed):
    """Test accuracy of each model on one seed's split."""
    X, y, _ = load(name, 2000, random_state=seed)
    split = Split(X, y, seed)
    preprocessor = default_preprocessor("lgbm", split.X_train).fit(split.X_train)
    Z_train, Z_test = (preprocessor.transform(split.X_train),
                       preprocessor.transform(split.X_test))
    classes, codes = np.unique(split.y_train, return_inverse=True)

    def plain(X_fit, X_score):
        model = LGBMClassifier(n_estimators=TREES, num_leaves=LEAVES, n_jobs=1,
                               random_state=seed, verbose=-1)
        return np.mean(model.fit(X_fit, split.y_train).predict(X_score)
                       == split.y_test)

    scores = {"plain, raw table": plain(split.X_train, split.X_test),
              "plain, ordinal codes": plain(Z_train, Z_test)}
    for rate in LEARNING_RATES["lgbm"]:
        student = LGBMStudent(n_estimators=TREES, num_leaves=LEAVES,
                              learning_rate=rate, random_state=seed)
        predicted = classes[student.fit(Z_train, codes).predict(Z_test)]
        scores[f"student, learning_rate={rate:g}"] = np.mean(
            predicted == split.y_test)
    return scores


def main(names):
    warnings.simplefilter("ignore")
    for name in names:
        print(name)
        per_seed = [accuracies(name, seed) for seed in SEEDS]
        for model in per_seed[0]:
            values = [100 * scores[model] for scores in per_seed]
            print(f"  {model:32s} {np.mean(values):6.2f}  "
                  + " ".join(f"{v:.1f}" for v in values))


if __name__ == "__main__":
    main(sys.argv[1:] or ["hpc_data"])
