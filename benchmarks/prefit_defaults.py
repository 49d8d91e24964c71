"""The library's defaults with the teacher most people give it, for A/B runs.

Per seed a stratified sample of ``--max-rows`` rows and the suite's 75/25 split
(``suite.fit.Split``); a prefit 400-tree XGBoost fitted on the training rows
(``common.prefit_xgboost``), given through ``FrozenEstimator``; then

- ``default``: ``HPMDistiller(FrozenEstimator(xgb))``;
- ``mlp default``: the same with ``student=MLPStudent((w,))``, one hidden layer
  100 times smaller than the teacher in parameters (``plain_recipe.prefit_case``).

Test accuracy and fit seconds per fit; one thread. Two runs of it (one from a
work tree of the commit before a change, one from the change) compared with
``--compare``: differences paired by dataset and seed.

Run::

    nice -n 5 python -m benchmarks.prefit_defaults --seeds 0 1 2 3 4 5 --output NAME
    python -m benchmarks.prefit_defaults --compare BEFORE.json AFTER.json

Results: ``results/<output>.json`` and ``.md``.
"""

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.frozen import FrozenEstimator

from skdistill import HPMDistiller, MLPStudent

from .common import (
    RESULTS,
    accuracies,
    log,
    mean_std,
    pct,
    rows_by_dataset,
    run_seeded,
    timed,
)
from .plain_recipe import prefit_case
from .suite.fit import warm_up

COMMAND = "nice -n 5 python -m benchmarks.prefit_defaults"
DATASETS = ("mlc_churn", "hpc_data", "diamonds", "digits")
METHODS = ("default", "mlp default")


def run_seed(name, seed, max_rows):
    """Both methods on one dataset and seed: test accuracy and fit seconds."""
    split, teacher, _, width = prefit_case(name, seed, max_rows)
    frozen = FrozenEstimator(teacher)
    students = {"default": {},
                "mlp default": {"student": MLPStudent((width,), random_state=seed)}}
    row = {"dataset": name, "seed": seed, "width": width}
    for method, params in students.items():
        distiller, seconds = timed(lambda params=params: HPMDistiller(
            frozen, n_jobs=1, random_state=seed, **params).fit(
                split.X_train, split.y_train))
        row[method] = {"accuracy": float(distiller.score(split.X_test,
                                                         split.y_test)),
                       "fit_s": seconds}
    log(f"{name} seed {seed}: " + ", ".join(
        f"{m} {row[m]['accuracy']:.4f}" for m in METHODS))
    return row


def render(document):
    """Accuracy and median fit seconds of each method per dataset."""
    lines = [f"# Defaults with a prefit XGBoost\n\n- command: `{document['command']}`",
             f"- commit: `{document['library']['commit']}`",
             f"- machine load before / after (`uptime`): "
             f"`{document['uptime_before']}` / `{document['uptime_after']}`", "",
             "| dataset | " + " | ".join(f"{m} | fit s" for m in METHODS) + " |",
             "|---|" + "---|---|" * len(METHODS)]
    for name, mine in rows_by_dataset(document["rows"]).items():
        cells = [f"{pct(mean_std(accuracies(mine, m)))} | "
                 f"{np.median([r[m]['fit_s'] for r in mine]):.1f}" for m in METHODS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def compare(before, after):
    """Per method and dataset: after − before in points (mean ± standard
    error over the seeds both ran), the seeds better and worse, and the median
    fit-time ratio."""
    key = {(r["dataset"], r["seed"]): r for r in before["rows"]}
    paired = [(key[r["dataset"], r["seed"]], r) for r in after["rows"]
              if (r["dataset"], r["seed"]) in key]
    lines = ["| method | dataset | after − before (points) | better / worse | fit |",
             "|---|---|---|---|---|"]
    for method in METHODS:
        every = []
        for name in dict.fromkeys(b["dataset"] for b, _ in paired):
            pairs = [(b, a) for b, a in paired if b["dataset"] == name]
            diff = np.array([100 * (a[method]["accuracy"] - b[method]["accuracy"])
                             for b, a in pairs])
            every += list(diff)
            ratio = np.median([a[method]["fit_s"] / b[method]["fit_s"]
                               for b, a in pairs])
            lines.append(f"| {method} | {name} | {_mean_se(diff)} | "
                         f"{(diff > 0).sum()} / {(diff < 0).sum()} | {ratio:.2f}x |")
        lines.append(f"| {method} | all | {_mean_se(np.array(every))} | | |")
    return "\n".join(lines) + "\n"


def _mean_se(diff):
    se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    return f"{diff.mean():+.2f} ± {se:.2f}"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--compare"]:
        before, after = (json.loads(Path(path).read_text()) for path in argv[1:3])
        print(compare(before, after), end="")
        return None
    return run_seeded(argv, description=__doc__.splitlines()[0], command=COMMAND,
                      datasets=DATASETS, max_rows=2000, output="prefit_defaults",
                      run_seed=run_seed, render=render, results=RESULTS,
                      before=warm_up)


if __name__ == "__main__":
    main()
