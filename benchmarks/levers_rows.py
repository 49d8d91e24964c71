"""Issue 14, levers 2 and 3: every row reaches the student (``final_rows``) and
a transfer set sized for it (``augment_ratio="auto"``).

The suite's protocol (``benchmarks/run.py``): per seed, a stratified 75/25 split
of a sample of each dataset; the test rows are only scored. The teachers are the
suite's three (XGBoost, LightGBM, an encoded RandomForest), with
``--teacher-estimators`` trees each to keep the run short; the student is one
MLP with ``--width`` hidden units (the compression curve's one-layer network;
16 units is about 100x fewer parameters than the teachers on these datasets).

Methods, all with that student and otherwise the defaults (``augment="auto"``):

- ``baseline``: ``final_rows="train"``, ``augment_ratio=4.0`` (today's defaults);
- ``all``: ``final_rows="all"``;
- ``ratio_auto``: ``augment_ratio="auto"``;
- ``ratio_16``: ``augment="munge", augment_ratio=16``;
- ``all+auto``: both levers.

Run (about 5 minutes of CPU on 2 cores)::

    nice -n 10 python -m benchmarks.levers_rows

Results: ``results/levers_rows.json`` (every fit) and ``levers_rows.md``.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from skdistill import MLPStudent

from .common import RESULTS, library, load_average, log, one_thread, write_json
from .datasets import load
from .suite.fit import Split, fit_distiller, make_teachers, warm_up

COMMAND = "python -m benchmarks.levers_rows"
DATASETS = ("mlc_churn", "email", "hpc_data")
METHODS = {
    "baseline": {},
    "all": {"final_rows": "all"},
    "ratio_auto": {"augment_ratio": "auto"},
    "ratio_16": {"augment": "munge", "augment_ratio": 16.0},
    "all+auto": {"final_rows": "all", "augment_ratio": "auto"},
}


def run_dataset(name, seeds, max_rows, n_estimators, width, methods):
    """Every method on one dataset, seed by seed."""
    fits = []
    for seed in seeds:
        X, y, _ = load(name, max_rows, random_state=seed)
        split = Split(X, y, seed, latency_rows=10)
        for method in methods:
            params = {**METHODS[method], "student": MLPStudent(
                hidden_layer_sizes=(width,), random_state=seed)}
            cpu = time.process_time()
            distiller, fit_s = fit_distiller(
                split, make_teachers(seed, n_estimators), params, seed)
            details = distiller.report_.details
            check = details["configuration"].get("augment_ratio_check") or {}
            fit = {"dataset": name, "seed": seed, "method": method,
                   "accuracy": float(distiller.score(split.X_test, split.y_test)),
                   "fit_s": fit_s, "cpu_s": time.process_time() - cpu,
                   "n_synthetic_rows": details["n_synthetic_rows"],
                   "chosen_ratio": check.get("chosen", "-"),
                   "curve": check.get("curve"),
                   "final_rows": details["final_rows"]}
            fits.append(fit)
            log(f"  {name} seed={seed} {method}: acc={fit['accuracy']:.4f} "
                f"fit={fit_s:.1f}s ratio={fit['chosen_ratio']}", stdout=True)
    return fits


def summarise(fits, methods):
    """Per dataset and method: accuracy, Δ and fit-time ratio against the
    baseline, paired by seed."""
    rows = []
    for dataset in dict.fromkeys(f["dataset"] for f in fits):
        by = {m: {f["seed"]: f for f in fits
                  if f["dataset"] == dataset and f["method"] == m}
              for m in methods}
        base = by["baseline"]
        for method, runs in by.items():
            seeds = sorted(runs)
            rows.append({
                "dataset": dataset, "method": method,
                "accuracy": float(np.mean([runs[s]["accuracy"] for s in seeds])),
                "delta": [runs[s]["accuracy"] - base[s]["accuracy"] for s in seeds],
                "fit_time_ratio": float(np.median(
                    [runs[s]["fit_s"] / base[s]["fit_s"] for s in seeds])),
                "chosen": [runs[s]["chosen_ratio"] for s in seeds]})
    return rows


def to_markdown(document):
    """The summary as one Markdown table."""
    lines = ["# Levers 2 and 3 of issue 14: final_rows and augment_ratio", "",
             f"Command: `{document['command']}`; seeds {document['seeds']}; "
             f"{document['max_rows']:,}-row samples; MLP student "
             f"({document['width']},); teachers of {document['n_estimators']} "
             f"trees; commit `{document['commit']}`; load {document['load']}. "
             "Test accuracy (%), mean over seeds; Δ paired by seed against the "
             "baseline of the same run (per seed, then mean); fit-time ratio: "
             "median over seeds.", "",
             "| dataset | method | accuracy | Δ vs baseline (per seed) | mean Δ | "
             "fit time vs baseline | ratio chosen |",
             "|---|---|---|---|---|---|---|"]
    for r in document["summary"]:
        per_seed = ", ".join(f"{100 * d:+.1f}" for d in r["delta"])
        lines.append(
            f"| {r['dataset']} | {r['method']} | {100 * r['accuracy']:.1f} | "
            f"{per_seed} | {100 * np.mean(r['delta']):+.2f} | "
            f"{r['fit_time_ratio']:.2f}x | {r['chosen']} |")
    return "\n".join(lines)


def main(argv=None):
    """Run the methods and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS),
                        choices=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--teacher-estimators", type=int, default=30)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args(argv)
    methods = ["baseline", *(m for m in options.methods if m != "baseline")]
    start = time.perf_counter()
    fits = []
    with one_thread():
        warm_up()
        for name in options.datasets:
            fits += run_dataset(name, options.seeds, options.max_rows,
                                options.teacher_estimators, options.width, methods)
    document = {"command": " ".join([COMMAND, *(argv or [])]),
                "seeds": options.seeds, "max_rows": options.max_rows,
                "width": options.width, "n_estimators": options.teacher_estimators,
                "commit": library()["commit"][:7], "load": load_average(),
                "wall_s": time.perf_counter() - start, "fits": fits,
                "summary": summarise(fits, methods)}
    write_json(options.out / "levers_rows.json", document)
    (options.out / "levers_rows.md").write_text(to_markdown(document) + "\n")
    print(to_markdown(document))
    return document


if __name__ == "__main__":
    main()
