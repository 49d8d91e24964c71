"""An MLP student's fit with one torch thread against torch's default count.

``MLPStudent()`` (hidden layers (64, 32), early stopping) on breast cancer (569
rows), fitted ``--repeats`` times each way, alternating, after one untimed
warm-up fit: with :func:`skdistill.students._mlp_training.small_network_threads`
(one intra-op thread for a network under ``SMALL_NETWORK_PARAMETERS``) and with
that threshold at 0 (torch's default threads). Reports the medians and their
ratio; the epochs run must be the same both ways.

Run: ``python -m benchmarks.mlp_threads`` (a few seconds).
"""

import argparse
import statistics
import time

import torch
from sklearn.datasets import load_breast_cancer

from skdistill import MLPStudent
from skdistill.students import _mlp_training

from .common import load_average


def fit_seconds(X, y, threshold):
    """Seconds of one MLPStudent fit with ``SMALL_NETWORK_PARAMETERS=threshold``."""
    saved = _mlp_training.SMALL_NETWORK_PARAMETERS
    _mlp_training.SMALL_NETWORK_PARAMETERS = threshold
    try:
        started = time.perf_counter()
        student = MLPStudent(random_state=0).fit(X, y)
        return time.perf_counter() - started, student.n_epochs_
    finally:
        _mlp_training.SMALL_NETWORK_PARAMETERS = saved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    X, y = load_breast_cancer(return_X_y=True)
    MLPStudent(max_epochs=5, random_state=0).fit(X, y)
    load = load_average()
    times = {"one thread": [], "torch default": []}
    epochs = set()
    for _ in range(args.repeats):
        for label, threshold in (("one thread",
                                  _mlp_training.SMALL_NETWORK_PARAMETERS),
                                 ("torch default", 0)):
            seconds, n_epochs = fit_seconds(X, y, threshold)
            times[label].append(seconds)
            epochs.add(n_epochs)
    medians = {label: statistics.median(values) for label, values in times.items()}
    print(f"torch threads by default: {torch.get_num_threads()}; epochs {epochs}; "
          f"load: {load}")
    for label, median in medians.items():
        print(f"{label}: median {median:.3f} s over {args.repeats} fits")
    print(f"ratio one thread / default: "
          f"{medians['one thread'] / medians['torch default']:.3f}")
    return medians


if __name__ == "__main__":
    main()
