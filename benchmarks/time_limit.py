"""``time_limit``: is it kept, and what accuracy does each limit buy?

Per dataset: a stratified sample of ``--max-rows`` rows, the suite's 75/25 split
(``Split``), a 400-tree XGBoost teacher fitted on the training rows and given
through ``FrozenEstimator`` (the usual call), then ``HPMDistiller()`` with its
defaults and no limit, and with each limit of ``--limits``. For each: the fit's
seconds, their ratio to the limit (the target: at most 1.1, plus the final
student's fit), the test accuracy and what ``report_`` says was cut. One thread.
The teacher's own fit is not in the distiller's time; the process's cache of
teacher outputs is cleared before each fit, so each one runs the teacher.

Run::

    nice -n 5 python -m benchmarks.time_limit
    python -m benchmarks.time_limit --datasets email --limits 2 --max-rows 1000

Results: ``results/time_limit.json`` and ``results/time_limit.md``.
"""

import argparse
import time

from sklearn.frozen import FrozenEstimator
from xgboost import XGBClassifier

from skdistill import HPMDistiller
from skdistill._teacher_outputs import PROCESS_CACHE

from .common import RESULTS, library, load_average, log, one_thread, write_json
from .datasets import load
from .suite.fit import Split, warm_up

COMMAND = "nice -n 5 python -m benchmarks.time_limit"
DATASETS = ("mlc_churn", "email", "diamonds")
LIMITS = (2.0, 5.0, 15.0)


def run_dataset(name, limits, max_rows, seed=0):
    """The unlimited fit and one fit per limit, on one dataset."""
    X, y, _ = load(name, max_rows, random_state=seed)
    split = Split(X, y, seed, latency_rows=1)
    teacher = FrozenEstimator(XGBClassifier(
        n_estimators=400, n_jobs=1, random_state=seed, enable_categorical=True,
        tree_method="hist").fit(split.X_train, split.y_train))
    rows = []
    for limit in (None, *limits):
        PROCESS_CACHE.clear()  # every fit runs the teachers on its rows
        distiller = HPMDistiller(teacher, n_jobs=1, random_state=seed,
                                 time_limit=limit)
        started = time.perf_counter()
        distiller.fit(split.X_train, split.y_train)
        seconds = time.perf_counter() - started
        cut = (distiller.report_.details["time_limit"] or {}).get("cut", [])
        rows.append({
            "dataset": name, "limit_s": limit, "fit_s": seconds,
            "ratio_to_limit": None if limit is None else seconds / limit,
            "student_s": distiller.report_.timings_s.get("student"),
            "test_accuracy": distiller.score(split.X_test, split.y_test),
            "n_search_fits": distiller.report_.details["configuration"].get(
                "n_fits", 0),
            "student": type(distiller.student_[-1]).__name__, "cut": cut})
        log(f"{name} limit={limit}: {seconds:.1f} s, "
            f"acc {rows[-1]['test_accuracy']:.4f}, cut {cut}")
    return rows


def markdown(rows, load_before, load_after):
    lines = [
        "# `time_limit`: kept, and what each limit buys", "",
        f"`{COMMAND}`; load average {load_before} before, {load_after} after. "
        "A 400-tree XGBoost teacher prefit on the training rows; "
        "`HPMDistiller(time_limit=...)` defaults otherwise, one thread.", "",
        "| dataset | limit (s) | fit (s) | fit / limit | final student (s) | "
        "test accuracy | search fits | student | cut |",
        "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        ratio = "" if row["ratio_to_limit"] is None else f"{row['ratio_to_limit']:.2f}"
        lines.append(
            f"| {row['dataset']} | {row['limit_s'] or 'none'} | {row['fit_s']:.1f} | "
            f"{ratio} | {row['student_s'] or 0:.2f} | {row['test_accuracy']:.4f} | "
            f"{row['n_search_fits']} | {row['student']} | "
            f"{'; '.join(row['cut']) or '-'} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--limits", nargs="+", type=float, default=list(LIMITS))
    parser.add_argument("--max-rows", type=int, default=3000)
    parser.add_argument("--output", default="time_limit")
    args = parser.parse_args(argv)
    load_before = load_average()
    rows = []
    with one_thread():
        warm_up()
        for name in args.datasets:
            rows += run_dataset(name, args.limits, args.max_rows)
    load_after = load_average()
    document = {"command": COMMAND, "library": library(), "rows": rows,
                "load_average": [load_before, load_after]}
    write_json(RESULTS / f"{args.output}.json", document)
    (RESULTS / f"{args.output}.md").write_text(markdown(rows, load_before,
                                                        load_after))
    return document


if __name__ == "__main__":
    main()
