"""A small MLP on small data: patience in epochs, in steps, a cosine schedule.

The known failure (issue 14, lever 6): on mlc_churn a (16,) MLP stopped near
epoch 24 predicting the majority class, ten epochs of patience being only ~80
minibatch steps there. ``MLPStudent(hidden_layer_sizes=(16,))`` on the hard
labels, each dataset's student preprocessing (``default_preprocessor("mlp")``),
four settings: the defaults (patience 10 epochs, constant step size),
``patience_steps=1000``, ``lr_schedule="cosine"``, and both. Protocol: per seed a
stratified sample of ``--max-rows`` rows, a stratified 75/25 split (the suite's
``Split``), the MLP seeded with the same seed, scored on the 25 % only; one
thread.

Run::

    nice -n 10 python -m benchmarks.mlp_patience

    nice -n 10 python -m benchmarks.mlp_patience --max-rows 1000 \
        --seeds 0 1 2 3 4 --output mlp_patience_1000

Results: ``results/mlp_patience.json`` and ``results/mlp_patience.md`` (or
``--output``'s name).
"""

import time

import numpy as np

from skdistill import MLPStudent
from skdistill._preprocess import default_preprocessor

from .common import (
    RESULTS,
    accuracies,
    log,
    mean_std,
    pct,
    rows_by_dataset,
    run_seeded,
)
from .datasets import load
from .suite.fit import Split

COMMAND = "nice -n 10 python -m benchmarks.mlp_patience"
DATASETS = ("mlc_churn", "email", "hpc_data")
SETTINGS = {"default": {}, "patience_steps=1000": {"patience_steps": 1000},
            "cosine": {"lr_schedule": "cosine"},
            "both": {"patience_steps": 1000, "lr_schedule": "cosine"}}


def run_seed(name, seed, max_rows):
    """Every setting on one dataset and seed."""
    X, y, _ = load(name, max_rows, random_state=seed)
    split = Split(X, y, seed, latency_rows=1)
    prep = default_preprocessor("mlp", split.X_train).fit(split.X_train)
    Z_train, Z_test = prep.transform(split.X_train), prep.transform(split.X_test)
    row = {"dataset": name, "seed": seed,
           "majority": float(np.mean(split.y_test == np.bincount(
               split.y_train).argmax()))}
    for setting, params in SETTINGS.items():
        started = time.perf_counter()
        student = MLPStudent(hidden_layer_sizes=(16,), random_state=seed,
                             **params).fit(Z_train, split.y_train)
        row[setting] = {"accuracy": float(student.score(Z_test, split.y_test)),
                        "fit_s": time.perf_counter() - started,
                        "n_epochs": student.n_epochs_,
                        "best_epoch": student.best_epoch_}
    log(f"{name} seed {seed}: " + ", ".join(
        f"{s} {row[s]['accuracy']:.4f} ({row[s]['n_epochs']} ep)" for s in SETTINGS))
    return row


def render(document):
    lines = [
        "# A (16,) MLP on small data: patience in steps, cosine schedule", "",
        "Written by `benchmarks/mlp_patience.py` (its docstring gives the "
        "protocol). `MLPStudent(hidden_layer_sizes=(16,))` on the hard labels; test "
        f"accuracy in %, mean ± std over seeds {document['seeds']}, "
        f"{document['max_rows']} rows per dataset; differences against the "
        "default paired by seed, in points; epochs run, mean.", "",
        f"- command: `{document['command']}`",
        f"- commit: `{document['library']['commit']}`",
        f"- machine load before / after (`uptime`): `{document['uptime_before']}` "
        f"/ `{document['uptime_after']}`", "",
        "| dataset | majority class | " + " | ".join(SETTINGS) + " | "
        + " | ".join(f"{s} − default" for s in list(SETTINGS)[1:])
        + " | fit time both / default (median) |",
        "|---|---|" + "---|" * (2 * len(SETTINGS)),
    ]
    for name, mine in rows_by_dataset(document["rows"]).items():

        def acc(setting, mine=mine):
            return accuracies(mine, setting)

        cells = [pct(mean_std([r["majority"] for r in mine]))]
        for s in SETTINGS:
            epochs = np.mean([r[s]["n_epochs"] for r in mine])
            cells.append(f"{pct(mean_std(acc(s)))} ({epochs:.0f} ep)")
        cells += [pct(mean_std(acc(s) - acc("default")), signed=True)
                  for s in list(SETTINGS)[1:]]
        ratio = np.median([r["both"]["fit_s"] / r["default"]["fit_s"] for r in mine])
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ratio:.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    return run_seeded(argv, description=__doc__.splitlines()[0], command=COMMAND,
                      datasets=DATASETS, max_rows=3000, output="mlp_patience",
                      run_seed=run_seed, render=render, results=RESULTS)


if __name__ == "__main__":
    main()
