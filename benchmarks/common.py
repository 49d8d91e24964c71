"""Helpers shared by the benchmark scripts, written once.

Paths, progress lines, one-thread runs, statistics over seeds and their
percentages, what a result records of the library and the machine, and the
writing of a JSON result. Each script under ``benchmarks/`` answers one question
with these (as scikit-learn's ``asv_benchmarks`` share ``common.py``).
``benchmarks/reference.py`` imports none of it: it also runs, as a script, in the
reference's own virtual environment.
"""

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from skdistill import HPMDistiller

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"


def log(message, stdout=False):
    """Print a progress line now.

    Parameters
    ----------
    message : str
    stdout : bool, default=False
        Print to standard output instead of standard error.
    """
    print(message, file=sys.stdout if stdout else sys.stderr, flush=True)


@contextmanager
def one_thread():
    """Run the block on one thread: one torch thread, BLAS and OpenMP capped.

    The torch setting stays after the block, as a benchmark process wants.
    """
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield


def mean_std(values):
    """Mean and (population) standard deviation of ``values``.

    Parameters
    ----------
    values : sequence of float

    Returns
    -------
    dict
        ``{"mean": float, "std": float}``.
    """
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "std": float(values.std())}


def timed(fit):
    """``fit()``'s result and the seconds it took.

    Parameters
    ----------
    fit : callable
        Called once, with no arguments.

    Returns
    -------
    result : object
    seconds : float
    """
    started = time.perf_counter()
    result = fit()
    return result, time.perf_counter() - started


def prefit_xgboost(seed, X, y):
    """The teacher most people distil: a 400-tree ``XGBClassifier`` fitted on
    ``X, y`` (one thread, categorical columns as such).

    Parameters
    ----------
    seed : int
    X : DataFrame
    y : array-like

    Returns
    -------
    XGBClassifier
    """
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=400, n_jobs=1, random_state=seed,
                         enable_categorical=True, tree_method="hist").fit(X, y)


def rows_by_dataset(rows):
    """Each dataset's rows (one per seed), datasets in the order they first come.

    Parameters
    ----------
    rows : list of dict
        Each with a ``"dataset"`` key.

    Returns
    -------
    dict of str to list of dict
    """
    grouped = {}
    for row in rows:
        grouped.setdefault(row["dataset"], []).append(row)
    return grouped


def accuracies(rows, method):
    """The test accuracy of ``method`` in each row: ``row[method]["accuracy"]``.

    Parameters
    ----------
    rows : list of dict
    method : str

    Returns
    -------
    ndarray of shape (len(rows),)
    """
    return np.array([row[method]["accuracy"] for row in rows])


def pct(stats, signed=False):
    """``mean ± std`` of a fraction, in percent, one decimal.

    Parameters
    ----------
    stats : dict or None
        With ``mean`` and ``std``; None (or empty) gives "—".
    signed : bool, default=False
        Write the sign of the mean (for differences).

    Returns
    -------
    str
    """
    if not stats:
        return "—"
    sign = "+" if signed else ""
    return f"{100 * stats['mean']:{sign}.1f} ± {100 * stats['std']:.1f}"


def describe_student(student):
    """The student's class and size, e.g. ``MLPStudent(32, 16)``.

    Parameters
    ----------
    student : estimator
        The student itself (the last step of ``distiller.student_``).

    Returns
    -------
    str
        ``MLPStudent(32, 16)``, ``LGBMStudent(100 trees x 15 leaves)``,
        ``XGBStudent(100 trees, max_depth=4)``, ``TreeStudent(max_depth=6)`` or
        ``LinearStudent()``.
    """
    params = student.get_params()
    if "hidden_layer_sizes" in params:
        size = params["hidden_layer_sizes"]
    elif "num_leaves" in params:
        size = f"({params['n_estimators']} trees x {params['num_leaves']} leaves)"
    elif "n_estimators" in params:
        size = (f"({params['n_estimators']} trees, "
                f"max_depth={params.get('max_depth')})")
    elif "max_depth" in params:
        size = f"(max_depth={params['max_depth']})"
    else:
        size = "()"
    return f"{type(student).__name__}{size}"


def git(*args):
    """What a git command prints, run in the checkout.

    Parameters
    ----------
    *args : str
        Its arguments, e.g. ``"rev-parse", "HEAD"``.

    Returns
    -------
    str or None
        Its standard output, stripped; None when git is missing or fails.
    """
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def library(defaults_shown=None):
    """What a result records of the library that produced it.

    Parameters
    ----------
    defaults_shown : sequence of str or None, default=None
        HPMDistiller parameters whose defaults are recorded (None: all but
        ``teachers``).

    Returns
    -------
    dict
        ``commit`` (of the checkout, "" without git), ``skdistill_modified``
        (whether ``skdistill/`` differs from it) and ``defaults`` (their reprs).
    """
    defaults = HPMDistiller().get_params()
    if defaults_shown is None:
        defaults_shown = [name for name in defaults if name != "teachers"]
    return {"commit": git("rev-parse", "HEAD") or "",
            "skdistill_modified": bool(git("status", "--porcelain", "skdistill")),
            "defaults": {name: repr(defaults[name]) for name in defaults_shown}}


def versions(*modules):
    """Python's version and each module's, by import name.

    Parameters
    ----------
    *modules : str
        Import names, e.g. ``"sklearn", "torch"``; they key the result.

    Returns
    -------
    dict
    """
    return {"python": platform.python_version(),
            **{name: import_module(name).__version__ for name in modules}}


def machine():
    """The processor architecture and the cores this process may use.

    Returns
    -------
    str
        E.g. ``"x86_64, 2 cores"``.
    """
    return f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores"


def uptime():
    """What ``uptime`` prints (the machine's load), or "" where it cannot run."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def load_average(printed=None):
    """The load averages of ``uptime``'s output (run now when not given)."""
    printed = uptime() if printed is None else printed
    return printed.split("load average:")[-1].strip() if printed else "?"


def best_call_times(calls, repeats):
    """Best wall time of each zero-argument callable over ``repeats`` rounds,
    the callables alternating within each round (garbage collection off
    inside a call)."""
    best = dict.fromkeys(calls, np.inf)
    for _ in range(repeats):
        for name, call in calls.items():
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                call()
                best[name] = min(best[name], time.perf_counter() - start)
            finally:
                gc.enable()
    return best


def alternating_call_times(calls, n_calls, block=100, warm_up=0):
    """p50 and p99 seconds of each one-row callable, the callables alternating
    in blocks of ``block`` calls (garbage collection off inside a block).

    ``calls`` maps a name to ``call(i)`` for the ``i``-th row; each first makes
    ``warm_up`` untimed calls on rows ``n_calls`` onwards.
    """
    for call in calls.values():
        for i in range(warm_up):
            call(n_calls + i)
    times = {name: [] for name in calls}
    for start in range(0, n_calls, block):
        for name, call in calls.items():
            gc.collect()
            gc.disable()
            try:
                for i in range(start, min(start + block, n_calls)):
                    begin = time.perf_counter()
                    call(i)
                    times[name].append(time.perf_counter() - begin)
            finally:
                gc.enable()
    return {name: {"p50_s": float(np.percentile(t, 50)),
                   "p99_s": float(np.percentile(t, 99))}
            for name, t in times.items()}


def write_json(path, document, indent=2, end="\n", **options):
    """Write ``document`` as JSON, creating the folder; numpy values as Python's.

    Parameters
    ----------
    path : path-like
    document : dict
    indent : int or None, default=2
    end : str, default="\\n"
        Written after the document (each result file keeps its own format).
    **options
        More arguments of :func:`json.dumps` (e.g. ``separators``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=indent, default=_json_default,
                               **options) + end)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def run_seeded(argv, *, description, command, datasets, max_rows, output,
               run_seed, render, results, before=None, summarise=None):
    """The command line and loop of a benchmark over datasets and seeds.

    Parses ``--datasets``, ``--seeds``, ``--max-rows``, ``--output`` and
    ``--out``; runs ``run_seed(name, seed, max_rows)`` for every pair on one
    thread (after ``before()``, e.g. a warm-up); writes ``<output>.json`` (the
    command, the library, the load before and after, the wall time, the rows
    and ``summarise(rows)`` when given) and ``<output>.md`` (``render``).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--datasets", nargs="+", default=list(datasets))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--max-rows", type=int, default=max_rows)
    parser.add_argument("--output", default=output)
    parser.add_argument("--out", default=str(results),
                        help="folder of the results (default: results/)")
    args = parser.parse_args(argv)
    document = {"command": " ".join([command, *(argv if argv is not None
                                                else sys.argv[1:])]),
                "library": library(), "seeds": args.seeds,
                "max_rows": args.max_rows, "uptime_before": uptime()}
    started = time.perf_counter()
    with one_thread():
        if before is not None:
            before()
        rows = [run_seed(name, seed, args.max_rows)
                for name in args.datasets for seed in args.seeds]
    document.update(wall_s=time.perf_counter() - started,
                    uptime_after=uptime(), rows=rows)
    if summarise is not None:
        document["summary"] = summarise(rows)
    out = Path(args.out)
    write_json(out / f"{args.output}.json", document)
    (out / f"{args.output}.md").write_text(render(document))
    log(f"wrote {out / args.output}.md")
    return document
