"""``python -m benchmarks.run``: its options, the run, the merge, the files written."""

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import reference
from ..common import (
    RESULTS,
    library,
    log,
    machine,
    one_thread,
    versions,
    write_json,
)
from ..datasets import (
    DATASETS,
    REGRESSION_DATASETS,
    describe,
    describe_regression,
    load,
    load_regression,
)
from .config import (
    COMMAND,
    LATENCY_ROWS,
    REGRESSION_SUITES,
    ROW_GROUPS,
    SUITES,
    TITLE,
)
from .fit import Split, warm_up
from .plots import plot
from .regression import (
    regression_markdown,
    regression_targets,
    run_regression_split,
    summarise_regression,
    summarise_regression_curve,
)
from .render import to_markdown, update_readme
from .rows import run_split, selected_rows
from .scale import run_scale, scale_child
from .summarise import summarise, summarise_curve, targets


@dataclass(frozen=True)
class Task:
    """What differs between the classification and the regression suite.

    Everything else (the options, the loop over datasets and seeds, the merge,
    the files written) is shared.
    """

    suites: dict
    datasets: tuple
    load: Callable  # (name, max_rows, seed) -> X, y
    describe: Callable
    stratify: bool
    run_split: Callable
    summarise: Callable
    summarise_curve: Callable
    targets: Callable
    to_markdown: Callable
    prefix: str
    plots: bool


TASKS = {
    "classification": Task(
        SUITES, tuple(DATASETS),
        lambda name, cap, seed: load(name, cap, random_state=seed)[:2], describe,
        True, run_split, summarise, summarise_curve, targets, to_markdown,
        "suite", True),
    "regression": Task(
        REGRESSION_SUITES, tuple(REGRESSION_DATASETS),
        lambda name, cap, seed: load_regression(name, cap, random_state=seed),
        describe_regression, False, run_regression_split, summarise_regression,
        summarise_regression_curve, regression_targets, regression_markdown,
        "regression", False),
}


def run(argv=None):
    """Run a suite and write its results.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    dict or None
        The JSON document written to ``suite_<name>.json`` (None from a scale
        child, which writes its point alone).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    options = parse_options(argv)
    if options.scale_child:
        dataset, fraction, out = options.scale_child
        with one_thread():
            scale_child(dataset, float(fraction), out, options)
        return None
    if options.merge:
        return merge(options.merge, options, argv)
    library_info = library()
    start = time.perf_counter()
    scale = []
    with one_thread():
        warm_up()
        infos, rows, curve = _run_table_and_curve(options)
        if options.scale:
            log(f"scale: {options.scale[0]}")
            scale = run_scale(*options.scale, options)
    results = assemble(_meta(options, argv, infos, library_info, start), infos,
                       rows, curve, scale)
    write(results, options)
    return results


def _run_table_and_curve(options):
    """Every dataset and seed of the table and of the curve, in order."""
    task = TASKS[options.task]
    rows, curve, infos = [], [], {}
    for name in dict.fromkeys([*options.datasets, *options.curve_datasets]):
        for seed in options.seeds:
            X, y = task.load(name, _cap(name, options), seed)
            infos.setdefault(name, task.describe(name, X, y))
            log(f"{name} seed={seed}: {len(X):,} rows")
            new_rows, new_curve = task.run_split(
                name, Split(X, y, seed, options.latency_rows, task.stratify),
                options, with_curve=name in options.curve_datasets)
            if name in options.datasets:
                rows += new_rows
            curve += new_curve
    return infos, rows, curve


def _meta(options, argv, infos, library_info, start):
    """How the run was made; its wall time runs from ``start`` to now."""
    caps = {name: _cap(name, options) for name in infos}
    return {
        "command": " ".join([COMMAND, *argv]), "task": options.task,
        "suite": options.suite,
        "seeds": options.seeds, "datasets": options.datasets,
        "curve_datasets": options.curve_datasets,
        "curve_ratios": options.curve_ratios,
        "teacher_estimators": options.teacher_estimators,
        "latency_rows": options.latency_rows,
        "rows": options.rows or "all",
        "row_caps": caps,
        "rows_note": ", ".join(f"{n} {'all' if c is None else f'<= {c:,}'}"
                               for n, c in caps.items()),
        "library": library_info,
        "versions": versions("sklearn", "torch", "xgboost", "lightgbm"),
        "machine": machine(),
        "reference_python": str(options.reference_python
                                or reference.find_python()),
        "wall_s": time.perf_counter() - start,
    }


def _cap(dataset, options):
    caps = [c for c in (options.max_rows, options.row_caps.get(dataset))
            if c is not None]
    return min(caps) if caps else None


def parse_options(argv):
    """The run's options: the command line over the suite's settings.

    Parameters
    ----------
    argv : list of str

    Returns
    -------
    argparse.Namespace
    """
    parser = _parser()
    options = parser.parse_args(argv)
    task = TASKS[options.task]
    try:
        selected_rows(options.rows)
    except ValueError as error:
        parser.error(str(error))
    if options.rows is not None and options.task != "classification":
        parser.error("--rows selects rows of the classification suite only")
    for name in [*(options.datasets or []), *(options.curve_datasets or [])]:
        if name not in task.datasets:
            parser.error(f"{name!r} is not a dataset of the {options.task} suite: "
                         f"choose from {sorted(task.datasets)}")
    suite = task.suites[options.suite]
    if options.datasets is None:
        options.datasets = list(suite["datasets"])
    options.seeds = options.seeds or list(suite["seeds"])
    options.explicit_max_rows = options.max_rows
    options.row_caps = {} if options.max_rows is not None else suite["row_caps"]
    if options.max_rows is None:
        options.max_rows = suite["max_rows"]
    if options.curve_datasets is None:
        options.curve_datasets = list(suite["curve_datasets"])
    options.curve_ratios = [int(r) if float(r).is_integer() else r for r in
                            (options.curve_ratios or suite["curve_ratios"])]
    options.scale = None if options.no_scale else suite["scale"]
    return options


def _parser():
    every = sorted({*DATASETS, *REGRESSION_DATASETS})
    parser = argparse.ArgumentParser(prog=COMMAND, description=TITLE)
    parser.add_argument("--task", choices=sorted(TASKS), default="classification",
                        help="the classification suite (HPMDistiller) or the "
                             "regression one (HPMRegressor, "
                             "benchmarks/suite/regression.py)")
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument("--datasets", nargs="*", choices=every,
                        help="instead of the suite's (none: no table, e.g. to run "
                             "the scale section alone)")
    parser.add_argument("--seeds", nargs="+", type=int, help="instead of the suite's")
    parser.add_argument("--max-rows", type=int,
                        help="stratified sample of at most this many rows per "
                             "dataset (instead of the suite's cap)")
    parser.add_argument("--curve-datasets", nargs="*", choices=every,
                        help="instead of the suite's (none: no curve)")
    parser.add_argument("--curve-ratios", nargs="+", type=float,
                        help="instead of the suite's")
    parser.add_argument("--no-scale", action="store_true",
                        help="skip the flights scale section")
    parser.add_argument("--teacher-estimators", type=int,
                        help="trees per teacher (default: the libraries' 100)")
    parser.add_argument("--latency-rows", type=int, default=LATENCY_ROWS,
                        help="rows the predict speed-up is timed on")
    parser.add_argument("--rows", nargs="+", metavar="ROW",
                        help="only these rows besides the teachers and "
                             "HPMDistiller() (always run): groups "
                             f"({', '.join(ROW_GROUPS)}) or row names; "
                             "default: every row")
    parser.add_argument("--no-reference", action="store_true",
                        help="record the reference row as skipped")
    parser.add_argument("--reference-python", type=Path,
                        help="the reference venv's interpreter (default: "
                             "benchmarks.reference.find_python())")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--update-readme", action="store_true",
                        help="put the headline table in README.md")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                        help="run nothing: merge these results of disjoint "
                             "datasets into suite_<suite>.* under --out")
    parser.add_argument("--scale-child", nargs=3, help=argparse.SUPPRESS)
    return parser


def assemble(meta, infos, rows, curve, scale):
    """The results document: the fits, their summaries and the targets.

    Parameters
    ----------
    meta : dict
        How the run was made.
    infos : dict
        Dataset name -> its description.
    rows, curve, scale : list of dict
        Every fit of the table, of the curve and of the scale section.

    Returns
    -------
    dict
    """
    task = TASKS[meta.get("task", "classification")]
    table = task.summarise(rows)
    curve_summary = task.summarise_curve(curve) if curve else []
    return {"meta": meta, "datasets": infos, "table": table, "curve": curve_summary,
            "scale": scale, "targets": task.targets(table, curve_summary, scale),
            "runs": rows, "curve_runs": curve}


def merge(paths, options, argv):
    """One results document from several runs (e.g. two processes, or some rows).

    The runs may hold disjoint datasets, or the same datasets with other rows
    (``--rows``): a fit (dataset, seed and row; for the curve, dataset, seed,
    ratio and method) found in several documents is taken from the last one.
    The meta of the first document is kept, with every command (this merge's
    last), the datasets, row caps and library commits of all, and the longest
    wall time (they ran side by side).

    Parameters
    ----------
    paths : list of path-like
        Their ``suite_<name>.json``.
    options : argparse.Namespace
        Where and how to write the merged document.
    argv : list of str
        This merge's command line.

    Returns
    -------
    dict
    """
    documents = [json.loads(Path(path).read_text()) for path in paths]
    meta = dict(documents[0]["meta"])
    meta["command"] = " && ".join([*(d["meta"]["command"] for d in documents),
                                   " ".join([COMMAND, *argv])])
    meta["library_commits"] = [d["meta"]["library"]["commit"] for d in documents]
    for key in ("datasets", "curve_datasets"):
        meta[key] = list(dict.fromkeys(name for d in documents
                                       for name in d["meta"][key]))
    meta["row_caps"] = {name: cap for d in documents
                        for name, cap in d["meta"]["row_caps"].items()}
    meta["rows_note"] = ", ".join(dict.fromkeys(
        d["meta"]["rows_note"] for d in documents if d["meta"]["rows_note"]))
    meta["wall_s"] = max(d["meta"]["wall_s"] for d in documents)
    meta["merged_from"] = [str(path) for path in paths]
    results = assemble(
        meta, {k: v for d in documents for k, v in d["datasets"].items()},
        _last_of_each([r for d in documents for r in d["runs"]],
                      ("dataset", "seed", "row")),
        _last_of_each([c for d in documents for c in d["curve_runs"]],
                      ("dataset", "seed", "ratio", "method")),
        [p for d in documents for p in d["scale"]])
    write(results, options)
    return results


def _last_of_each(fits, keys):
    """The fits in first-seen order of their keys, the last fit of each key."""
    last = {tuple(f[k] for k in keys): f for f in fits}
    return list(last.values())


def write(results, options):
    """The JSON, the markdown, the plots and (on request) the README block.

    Parameters
    ----------
    results : dict
    options : argparse.Namespace
        ``out``, ``suite``, ``no_plots`` and ``update_readme``.
    """
    task = TASKS[results["meta"].get("task", "classification")]
    out, prefix = options.out, f"{task.prefix}_{options.suite}"
    out.mkdir(parents=True, exist_ok=True)
    results["meta"]["plots"] = ([] if options.no_plots or not task.plots
                                else plot(results, out, prefix))
    write_json(out / f"{prefix}.json", results, indent=1, end="")
    (out / f"{prefix}.md").write_text(task.to_markdown(results))
    if options.update_readme and task.prefix == "suite":
        update_readme(results, out / f"{prefix}.md")
    log(f"done in {results['meta']['wall_s'] / 60:.1f} min; wrote {out}/{prefix}.*")
