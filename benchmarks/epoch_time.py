"""Epoch time of the MLP student against a bare torch loop of the same network.

Data: ``make_classification`` (fixed seed, ``min(features, 10)`` informative
columns, the rest noise) and soft targets made without fitting a teacher, ``p =
0.5 * onehot(y) + 0.5 * softmax(X @ W / 2)`` with ``W`` a fixed-seed Gaussian
matrix (the timing does not depend on what the targets say). Both sides train the
same network (``--hidden``, ReLU, float32) on the same rows for the same number of
epochs: batch 256, Adam (lr 1e-3, no weight decay, ``fused=True`` as
``MLPStudent`` builds it), loss ``(1 - alpha) * CE(y, q) + alpha * T^2 *
CE(soften(p, T), q_T)`` (the KD loss up to the targets' entropy), ``T = 4`` and
``alpha = 0.7`` constant, so the library runs no per-epoch validation pass.

- ``library``: ``MLPStudent(early_stopping=False).fit(X, y, soft_targets=p,
  temperature=T, alpha=alpha)``, the call ``fit_chain`` makes. ``_train`` and
  ``_run_epoch`` are wrapped with clocks (not changed): an epoch runs from one
  ``_run_epoch`` call to the next, so it holds all the loop's per-epoch work;
  setup is the rest of ``fit`` (validation, split, standardization, tensors,
  network, optimizer).
- ``bare``: the smallest honest loop: standardize once, ``torch.randperm`` per
  epoch, sliced minibatches, ``zero_grad``/``backward``/``step``, the epoch's mean
  loss read once. ``bare_default_adam``: the same with ``torch.optim.Adam``'s
  default (for-loop) implementation, for information.

The three alternate (order rotated each repeat) in one process, one torch thread,
BLAS/OpenMP capped at one, after a warm-up run of each. Run ``python -m
benchmarks.epoch_time`` (under a minute; ``--help``).
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from sklearn.datasets import make_classification
from torch import nn

from skdistill import MLPStudent
from skdistill.students import _mlp

from .common import RESULTS, git, one_thread, write_json

TARGET = 1.15
TEMPERATURE, ALPHA, BATCH, LR = 4.0, 0.7, 256, 1e-3


def make_problem(rows, features, classes, seed):
    """Rows (float32), labels and soft targets of the fixed-seed problem.

    Parameters
    ----------
    rows, features, classes, seed : int
        Size of the problem and its seed.

    Returns
    -------
    X : ndarray of shape (rows, features)
    y : ndarray of shape (rows,)
    soft : ndarray of shape (rows, classes)
        ``0.5 * onehot(y) + 0.5 * softmax(X @ W / 2)``.
    """
    X, y = make_classification(n_samples=rows, n_features=features,
                               n_informative=min(features, 10), n_redundant=0,
                               n_classes=classes,
                               random_state=seed)
    W = np.random.default_rng(seed).normal(size=(features, classes))
    z = X @ W / 2.0
    e = np.exp(z - z.max(axis=1, keepdims=True))
    soft = 0.5 * np.eye(classes)[y] + 0.5 * e / e.sum(axis=1, keepdims=True)
    return X.astype(np.float32), y, soft


def run_library(X, y, soft, hidden, epochs, seed):
    """Fit ``MLPStudent`` once; its fit time and the time of each epoch.

    ``MLPStudent._train`` (the epoch loop) and ``_run_epoch`` are wrapped with
    clocks, not changed: an epoch runs from one ``_run_epoch`` call to the next (or
    to the end of the loop), so it holds all the loop's per-epoch work.
    """
    stamps = []
    train, run_epoch = MLPStudent._train, _mlp._run_epoch

    def timed_train(self, *args, **kwargs):
        train(self, *args, **kwargs)
        stamps.append(time.perf_counter())

    def timed_epoch(*args, **kwargs):
        stamps.append(time.perf_counter())
        return run_epoch(*args, **kwargs)

    student = MLPStudent(hidden_layer_sizes=hidden, batch_size=BATCH,
                         learning_rate=LR, max_epochs=epochs, early_stopping=False,
                         random_state=seed)
    MLPStudent._train, _mlp._run_epoch = timed_train, timed_epoch
    try:
        start = time.perf_counter()
        student.fit(X, y, soft_targets=soft, temperature=TEMPERATURE, alpha=ALPHA)
        total = time.perf_counter() - start
    finally:
        MLPStudent._train, _mlp._run_epoch = train, run_epoch
    assert student.n_epochs_ == epochs == len(stamps) - 1
    epoch_s = np.diff(stamps).tolist()
    return {"epoch_s": epoch_s, "setup_s": total - sum(epoch_s),
            "final_loss": student.loss_curve_[-1]}


def run_bare(X, y, soft, hidden, epochs, seed, fused=True):
    """The bare torch loop once; seconds of its setup and of each epoch."""
    start = time.perf_counter()
    Xt = torch.from_numpy((X - X.mean(0)) / X.std(0))
    yt = torch.from_numpy(y.astype(np.int64))
    p = torch.softmax(torch.log(torch.from_numpy(soft).float()) / TEMPERATURE, 1)
    torch.manual_seed(seed)
    layers, width = [], X.shape[1]
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    net = nn.Sequential(*layers, nn.Linear(width, soft.shape[1]))
    optimizer = torch.optim.Adam(net.parameters(), lr=LR, fused=fused or None)
    n, stamps = len(yt), []
    for _ in range(epochs):
        stamps.append(time.perf_counter())
        order = torch.randperm(n)
        total = torch.zeros(())
        for s in range(0, n, BATCH):
            idx = order[s:s + BATCH]
            logits = net(Xt[idx])
            loss = ((1 - ALPHA) * F.cross_entropy(logits, yt[idx])
                    + ALPHA * TEMPERATURE**2
                    * F.cross_entropy(logits / TEMPERATURE, p[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(idx)
        epoch_loss = total.item() / n
    stamps.append(time.perf_counter())
    epoch_s = np.diff(stamps).tolist()
    # the library reports the KL, i.e. adds the targets' (constant) negative entropy
    neg_entropy = (p * torch.log(p)).sum(1).mean().item()
    return {"epoch_s": epoch_s, "setup_s": stamps[-1] - start - sum(epoch_s),
            "final_loss": epoch_loss + ALPHA * TEMPERATURE**2 * neg_entropy}


def git_commit():
    """The commit of the working tree, with ``-dirty`` when it has changes.

    Returns
    -------
    str
        ``"unknown"`` without git.
    """
    commit = git("rev-parse", "--short", "HEAD")
    if commit is None:
        return "unknown"
    dirty = git("status", "--porcelain", "--", "skdistill", "benchmarks/epoch_time.py")
    return commit + ("-dirty" if dirty else "")


def main(argv=None):
    """Run the benchmark, write its JSON and print the summary.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments (``None``: ``sys.argv[1:]``).

    Returns
    -------
    dict
        What was written to ``--out``.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--hidden", type=int, nargs="*", default=[64, 32])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "epoch_time.json")
    args = parser.parse_args(argv)
    hidden = tuple(args.hidden)
    runs = {
        "library": lambda e: run_library(X, y, soft, hidden, e, args.seed),
        "bare": lambda e: run_bare(X, y, soft, hidden, e, args.seed),
        "bare_default_adam": lambda e: run_bare(X, y, soft, hidden, e, args.seed,
                                                fused=False),
    }
    names = list(runs)
    with one_thread():
        X, y, soft = make_problem(args.rows, args.features, args.classes, args.seed)
        for name in names:  # warm-up: imports, allocator, first-call paths
            runs[name](1)
        measured = {name: [] for name in names}
        for r in range(args.repeats):
            for name in names[r % 3:] + names[:r % 3]:
                measured[name].append(runs[name](args.epochs))
    summary = {}
    for name, results in measured.items():
        summary[name] = {
            # every epoch of every repeat: robust to a burst of the machine's load
            "epoch_s_median": statistics.median(
                t for m in results for t in m["epoch_s"]),
            "epoch_s_median_per_repeat": [statistics.median(m["epoch_s"])
                                          for m in results],
            "setup_s_median": statistics.median(m["setup_s"] for m in results),
            "final_loss": results[-1]["final_loss"]}
    lib, bare = summary["library"], summary["bare"]
    ratio = lib["epoch_s_median"] / bare["epoch_s_median"]
    paired = [a / b for a, b in zip(lib["epoch_s_median_per_repeat"],
                                    bare["epoch_s_median_per_repeat"], strict=True)]
    result = {
        "what": "median seconds per epoch, library MLPStudent vs a bare torch loop",
        "config": {**vars(args), "out": str(args.out), "hidden": list(hidden),
                   "batch_size": BATCH, "learning_rate": LR,
                   "temperature": TEMPERATURE, "alpha": ALPHA, "dtype": "float32",
                   "soft_targets": "0.5 * onehot(y) + 0.5 * softmax(X @ W / 2)",
                   "threads": 1},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "torch": torch.__version__},
        "commit": git_commit(),
        "command": "python -m benchmarks.epoch_time " + " ".join(
            sys.argv[1:] if argv is None else argv),
        "results": summary,
        "ratio_library_to_bare": ratio,
        "ratio_per_repeat": paired,
        "ratio_median_of_repeats": statistics.median(paired),
        "ratio_bare_default_adam_to_bare":
            summary["bare_default_adam"]["epoch_s_median"] / bare["epoch_s_median"],
        "target": TARGET,
        "within_target": ratio <= TARGET,
    }
    write_json(args.out, result)
    print(f"epoch: library {lib['epoch_s_median'] * 1e3:.1f} ms, bare "
          f"{bare['epoch_s_median'] * 1e3:.1f} ms, ratio {ratio:.3f}x (paired "
          f"{result['ratio_median_of_repeats']:.3f}x) "
          f"(target <= {TARGET}x: {'met' if ratio <= TARGET else 'NOT met'}); "
          f"library setup {lib['setup_s_median'] * 1e3:.1f} ms; default-Adam "
          f"loop {result['ratio_bare_default_adam_to_bare']:.3f}x of bare")
    return result


if __name__ == "__main__":
    main()
