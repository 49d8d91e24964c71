"""What ``latency_measure="onnx"`` costs a fit, and what it measures.

Issue 17, item 3. On ``wa_churn`` and ``credit_data`` (at most ``--max-rows``
rows, a stratified sample), ``HPMDistiller(student="auto")`` with a prefit
LightGBM teacher (100 trees), ``augment=None``, ``chain=False`` and the default
``search_budget=12`` is fitted with ``latency_measure="python"`` and ``"onnx"``,
alternating, ``--repeats`` times each, on one thread. For each: the fit's
seconds (median), the configuration phase's, the winner, the report's student
latency per 1,000 rows and the candidates' median latency per 1,000 rows.

Run: ``nice -n 10 python -m benchmarks.latency_measure`` (about two minutes);
writes ``benchmarks/results/latency_measure.json``.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from lightgbm import LGBMClassifier

from skdistill import HPMDistiller

from .common import RESULTS, git, load_average, one_thread, write_json
from .datasets import load

DATASETS = ("wa_churn", "credit_data")
MEASURES = ("python", "onnx")


def fit_once(X, y, teacher, measure):
    distiller = HPMDistiller(teacher, student="auto", augment=None, chain=False,
                             latency_measure=measure, random_state=0, n_jobs=1)
    start = time.perf_counter()
    distiller.fit(X, y)
    report = distiller.report_
    return {
        "fit_s": time.perf_counter() - start,
        "configuration_s": report.timings_s.get("configuration"),
        "student": repr(distiller.student_[-1]),
        "report_ms_per_1000_rows": 1e6 * report.student_latency_s
        / report.n_validation,
        "candidates_median_ms_per_1000_rows": float(np.median(
            [c["latency_ms"] for c in report.details["candidates"]])),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-rows", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--output", type=Path,
                        default=RESULTS / "latency_measure.json")
    args = parser.parse_args(argv)
    results = {"commit": git("rev-parse", "--short", "HEAD"),
               "load_before": load_average(), "threads": 1, "figures": {}}
    with one_thread():
        for dataset in DATASETS:
            X, y, _ = load(dataset, max_rows=args.max_rows, random_state=0)
            teacher = LGBMClassifier(n_estimators=100, n_jobs=1, verbose=-1,
                                     random_state=0).fit(X, y)
            runs = {measure: [] for measure in MEASURES}
            for _ in range(args.repeats):
                for measure in MEASURES:
                    runs[measure].append(fit_once(X, y, teacher, measure))
            results["figures"][dataset] = {
                measure: {"runs": fits,
                          "median_fit_s": float(np.median([f["fit_s"] for f in fits]))}
                for measure, fits in runs.items()}
    results["load_after"] = load_average()
    write_json(args.output, results)
    print(f"load before: {results['load_before']}; after: {results['load_after']}")
    for dataset, figures in results["figures"].items():
        for measure, fig in figures.items():
            last = fig["runs"][-1]
            print(f"{dataset:12s} {measure:6s} fit {fig['median_fit_s']:5.1f} s "
                  f"(configuration {last['configuration_s'] or 0:.1f} s) | student "
                  f"{last['report_ms_per_1000_rows']:7.2f} ms/1k rows, candidates "
                  f"{last['candidates_median_ms_per_1000_rows']:7.2f} | "
                  f"{last['student']}")
    return results


if __name__ == "__main__":
    main()
