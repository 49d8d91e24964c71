"""Fit time and peak memory of the default ``HPMDistiller()`` on flights, to 1M rows.

``HPMDistiller(random_state=0)`` with every default, its default teacher
included (scikit-learn's ``HistGradientBoostingClassifier``, fitted with its
cross-fitted copies), on the suite's flights data (``benchmarks/datasets.py``:
327,346 labelled rows of the 336,776, 11 feature columns of which 3 categorical),
all rows used for training (no test split: nothing here scores accuracy):

- ``N`` rows below the labelled count: a stratified sample (``datasets.load``'s
  ``max_rows``, seed 0);
- ``all``: the 327,346 labelled rows;
- ``N`` above it (e.g. 1,000,000): the labelled rows, then copies of them with
  Gaussian noise of 1 % of each numeric column's standard deviation added to
  every numeric column (NaN stays NaN; seed 0, a fresh draw per copy; the
  integer columns become float64 in every copy, the original's included), the
  categorical columns and the target kept; concatenated and cut to the first
  ``N`` rows (1M: the original, two noisy copies and 17,962 rows of a third).

Each size is fitted in a fresh child process. The child records its peak
resident memory (``ru_maxrss``) once the data is built (the baseline: a process
that only loaded the data and imported the library), at the end of every phase
the ``skdistill`` logger reports, and at the end of the fit. The memory bound of
issue 15 is 3x the training data's size in float64 (rows x 11 columns x 8
bytes, the categories counted as one column of codes each) plus 1 GiB.

Run: ``python -m benchmarks.large_data`` (default sizes 42,000, 84,000, 168,000,
all and 1,000,000; writes ``results/large_data.json`` and ``.md`` after every
size, so a cut run keeps what it measured).
"""

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .common import (
    RESULTS,
    ROOT,
    library,
    load_average,
    log,
    machine,
    uptime,
    write_json,
)

COMMAND = "python -m benchmarks.large_data"
DATASET = "flights"
NOISE = 0.01  # the noisy copies' standard deviation, per numeric column's
GIB = 1024 ** 3


def flights_rows(n_rows, seed=0, noise=NOISE):
    """The flights rows of one size, as the module docstring says.

    Parameters
    ----------
    n_rows : int or None
        Rows; None for all labelled rows.
    seed : int, default=0
        The sample's and the noise's seed.
    noise : float, default=NOISE
        The copies' noise, a share of each numeric column's standard deviation.

    Returns
    -------
    X : DataFrame
    y : ndarray
    """
    from .datasets import load

    X, y, _ = load(DATASET)
    if n_rows is None or n_rows == len(y):
        return X, y
    if n_rows < len(y):
        X, y, _ = load(DATASET, n_rows, random_state=seed)
        return X, y
    return repeated_with_noise(X, y, n_rows, seed, noise)


def repeated_with_noise(X, y, n_rows, seed=0, noise=NOISE):
    """``X`` then noisy copies of it, cut to ``n_rows`` rows.

    Parameters
    ----------
    X : DataFrame
    y : ndarray
    n_rows : int
        More than ``len(X)``.
    seed : int, default=0
    noise : float, default=NOISE
        0 gives exact copies.

    Returns
    -------
    X : DataFrame
        The numeric columns as float64; copy ``k >= 1`` adds
        ``N(0, (noise * std)^2)`` to each numeric column; categories kept.
    y : ndarray
        ``y`` repeated.
    """
    rng = np.random.default_rng(seed)
    numeric = X.select_dtypes(include="number").columns
    X = X.astype({column: "float64" for column in numeric})
    scale = noise * X[numeric].std().to_numpy()
    copies = [X]
    for _ in range(-(-n_rows // len(X)) - 1):
        noisy = X.copy()
        noisy[numeric] = X[numeric].to_numpy() + rng.normal(
            0.0, 1.0, (len(X), len(numeric))) * scale
        copies.append(noisy)
    X = pd.concat(copies, ignore_index=True).iloc[:n_rows]
    return X.reset_index(drop=True), np.tile(y, len(copies))[:n_rows]


def peak_rss_mb():
    """This process's peak resident memory so far, in MiB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakPerPhase(logging.Handler):
    """A handler noting the peak memory when each logged phase ends."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.started = time.perf_counter()
        self.events = []

    def emit(self, record):
        self.events.append({"phase": getattr(record, "phase", None),
                            "seconds": getattr(record, "seconds", None),
                            "message": record.getMessage()[:200],
                            "at_s": time.perf_counter() - self.started,
                            "peak_rss_mb": peak_rss_mb()})


def fit_point(n_rows, noise=NOISE):
    """Build the rows, fit ``HPMDistiller()`` on them, measure: one child's work.

    Parameters
    ----------
    n_rows : int or None
        As :func:`flights_rows`.
    noise : float, default=NOISE
        As :func:`flights_rows`.

    Returns
    -------
    dict
    """
    from skdistill import HPMDistiller

    X, y = flights_rows(n_rows, noise=noise)
    point = {"n_rows": len(y), "n_columns": X.shape[1],
             "data_float64_mb": len(y) * X.shape[1] * 8 / 1024 ** 2,
             "frame_mb": X.memory_usage(deep=True).sum() / 1024 ** 2,
             "rss_data_only_mb": peak_rss_mb()}
    handler, logger = PeakPerPhase(), logging.getLogger("skdistill")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        distiller = HPMDistiller(random_state=0).fit(X, y)
    point.update(fit_s=time.perf_counter() - started, peak_rss_mb=peak_rss_mb(),
                 phases_s=dict(distiller.report_.timings_s),
                 final_rows=distiller.report_.details.get("final_rows"),
                 student=repr(distiller.student_[-1]), log=handler.events)
    return point


def run_child(size, timeout, noise=NOISE):
    """Fit one size in a fresh process; its point, or why it has none."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "point.json"
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.large_data", "--child",
                 size, str(out), "--noise", str(noise)], cwd=ROOT,
                capture_output=True, text=True, check=False, timeout=timeout)
            error = (done.stderr or "no output").strip().splitlines()[-1:]
        except subprocess.TimeoutExpired:
            error = [f"cut after {timeout} s"]
        wall = time.perf_counter() - started
        if out.is_file():
            return {"status": "ok", "child_wall_s": wall,
                    **json.loads(out.read_text())}
    return {"status": "failed", "size": size, "child_wall_s": wall,
            "error": (error or ["?"])[0][:300]}


def derived(point, smallest):
    """Seconds per 100k rows, the memory bound and the ratios of one point."""
    per_100k = point["fit_s"] / point["n_rows"] * 1e5
    bound_mb = 3 * point["data_float64_mb"] + GIB / 1024 ** 2
    return {"s_per_100k": per_100k,
            "s_per_100k_ratio": per_100k / smallest if smallest else 1.0,
            "bound_mb": bound_mb,
            "peak_over_bound": point["peak_rss_mb"] / bound_mb,
            "fit_increase_mb": point["peak_rss_mb"] - point["rss_data_only_mb"]}


def render(document):
    """The markdown: one row per size, each phase per 100k rows, peaks by phase."""
    points = [p for p in document["points"] if p["status"] == "ok"]
    lines = [f"# Large data: `{document['command']}`", "",
             f"{document['machine']}, commit `{document['library']['commit'][:7]}`;"
             f" noise {document['noise']}; load before: {document['load_before']},"
             f" after: {document.get('load_after', '?')}.", "",
             "| rows | fit s | s per 100k rows | / smallest's | peak RSS MB | "
             "data-only RSS MB | bound MB | peak / bound | student |",
             "|---|---|---|---|---|---|---|---|---|"]
    for p in points:
        lines.append(
            f"| {p['n_rows']:,} | {p['fit_s']:.1f} | {p['s_per_100k']:.1f} | "
            f"{p['s_per_100k_ratio']:.2f}x | {p['peak_rss_mb']:.0f} | "
            f"{p['rss_data_only_mb']:.0f} | {p['bound_mb']:.0f} | "
            f"{p['peak_over_bound']:.2f} | `{p['student']}` |")
    lines += [f"| {p['size']} | failed: {p['error']} |||||||"
              for p in document["points"] if p["status"] != "ok"]
    return "\n".join(lines + _phase_table(points) + _peak_table(points)) + "\n"


def _refit_s(point):
    return (point.get("final_rows") or {}).get("refit_seconds", 0.0)


def _phase_table(points):
    """Seconds per 100k rows of each phase, the final_rows refit included."""
    phases = list(dict.fromkeys(k for p in points for k in p["phases_s"]))
    lines = ["", "Seconds per 100k rows by phase (refit: `final_rows='all'`'s "
             "refit on every row, outside `timings_s`):", "",
             "| rows | " + " | ".join(phases) + " | refit |",
             "|---|" + "---|" * (len(phases) + 1)]
    return lines + [f"| {p['n_rows']:,} | " + " | ".join(
        f"{v / p['n_rows'] * 1e5:.2f}"
        for v in [*(p["phases_s"].get(k, 0.0) for k in phases), _refit_s(p)])
        + " |" for p in points]


def _peak_table(points):
    """The peak RSS (MB) when each logged phase ended."""
    lines = ["", "Peak RSS (MB) when each phase ended (the skdistill log):", ""]
    for p in points:
        ends = [e for e in p["log"]
                if e["phase"] and not e["phase"].startswith("search")]
        lines.append(f"- {p['n_rows']:,} rows: data {p['rss_data_only_mb']:.0f}; "
                     + "; ".join(f"{e['phase']} {e['peak_rss_mb']:.0f}"
                                 for e in ends)
                     + f"; fit end {p['peak_rss_mb']:.0f}")
    return lines


def write(document, output):
    """Write ``results/<output>.json`` and ``.md`` (after every size)."""
    write_json(RESULTS / f"{output}.json", document)
    (RESULTS / f"{output}.md").write_text(render(document))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+",
                        default=["42000", "84000", "168000", "all", "1000000"])
    parser.add_argument("--timeout", type=int, default=3600,
                        help="seconds one size may take before it is cut")
    parser.add_argument("--noise", type=float, default=NOISE,
                        help="the copies' noise, a share of each numeric "
                             "column's standard deviation (0: exact copies)")
    parser.add_argument("--output", default="large_data")
    parser.add_argument("--child", nargs=2, metavar=("SIZE", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        size, out = args.child
        write_json(out, fit_point(None if size == "all" else int(size),
                                  args.noise))
        return None
    document = {"command": " ".join([COMMAND, *(sys.argv[1:] if argv is None
                                                else argv)]),
                "library": library(), "machine": machine(), "noise": args.noise,
                "uptime_before": uptime(), "points": []}
    document["load_before"] = load_average(document["uptime_before"])
    smallest = None
    for size in args.sizes:
        point = run_child(size, args.timeout, args.noise)
        if point["status"] == "ok":
            smallest = smallest or point["fit_s"] / point["n_rows"] * 1e5
            point.update(derived(point, smallest))
        document["points"].append(point)
        document["uptime_after"] = uptime()
        document["load_after"] = load_average(document["uptime_after"])
        write(document, args.output)
        log(f"{size}: {point.get('fit_s', point.get('error'))} "
            f"(load {document['load_after']})")
    return document


if __name__ == "__main__":
    main()
