"""A default fit on a busy machine, against the same fit on the idle one.

Two modes. Without ``--fits`` (the first measurement): ``HPMDistiller`` with its
default teacher (HistGradientBoosting, fitted with its cross-fitted copies) and a
small fixed MLP student on the digits (1,797 rows), fitted alternately with the
library's thread cap (``available_cores``: the cores less the other
processes' busy time on them) and without it (every core, as before), while
``--competitors`` CPU-bound processes spin (default: one per core) and with
none. Each figure is the median of ``--repeats`` fits; the ratios are to the
capped fit on the idle machine of the same run. The load average when each fit
starts is recorded.

With ``--fits demo,suite`` (the issue's target: the loaded fit at most 2.5x the
idle one): the demo's fit exactly as ``python -m skdistill demo`` makes it (its
own function, output discarded) and a suite dataset's ``HPMDistiller()`` fit
(the suite's split and its three teachers, ``n_jobs`` and everything else left
at the defaults; ``--dataset``, ``--rows``), each fitted idle and loaded
alternately (the order swapped every repeat), the process's teacher cache
cleared before every fit. A loaded fit starts ``--settle`` seconds after the
spinners, so that the 1-minute load average sees them; an idle fit starts once
that load average is at most ``--idle-load`` (or after ``--cool-max`` seconds).
Writes ``results/<--output>.json`` and ``.md``.

Run: ``python -m benchmarks.under_load`` (several minutes on 2 cores: the
uncapped fits under load are slow); ``python -m benchmarks.under_load --fits
demo,suite`` (about 20 minutes). At normal priority: ``nice`` would hand the
spinners the cores.
"""

import argparse
import io
import multiprocessing
import os
import statistics
import sys
import time
import warnings
from contextlib import contextmanager, redirect_stdout

from joblib import cpu_count
from sklearn.datasets import load_digits

from skdistill import HPMDistiller, MLPStudent
from skdistill import _base as base_module
from skdistill._parallel import available_cores
from skdistill._teacher_outputs import PROCESS_CACHE

from .common import RESULTS, library, load_average, log, machine, uptime, write_json

COMMAND = "python -m benchmarks.under_load"


def _spin(stop):
    while not stop.is_set():
        pass


@contextmanager
def spinning(competitors):
    """Within the block, ``competitors`` processes spin on the CPU."""
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,))
                for _ in range(competitors)]
    for spinner in spinners:
        spinner.start()
    try:
        yield spinners
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join()


def fit_seconds(X, y, capped):
    """Seconds of one default-teacher fit, with the thread cap or without."""
    saved = base_module.available_cores
    if not capped:
        base_module.available_cores = cpu_count
    PROCESS_CACHE.clear()  # each fit runs its teachers
    try:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            HPMDistiller(student=MLPStudent(hidden_layer_sizes=(32,), max_epochs=30,
                                            random_state=0),
                         augment=None, random_state=0).fit(X, y)
        return time.perf_counter() - started
    finally:
        base_module.available_cores = saved


def measure(X, y, repeats, competitors):
    """Median seconds capped and uncapped, with ``competitors`` spinning."""
    with spinning(competitors):
        if competitors:
            time.sleep(30)  # let the 1-minute load average see them
        times, loads = {"capped": [], "uncapped": []}, []
        for _ in range(repeats):
            for label in times:
                loads.append(os.getloadavg()[0])
                times[label].append(fit_seconds(X, y, label == "capped"))
    return {label: statistics.median(values) for label, values in times.items()}, loads


def demo_fit():
    """The demo's fit, as ``python -m skdistill demo`` makes it; output discarded.

    Returns
    -------
    HPMDistiller
        The fitted distiller (its ``report_`` has the phases).
    """
    from skdistill.__main__ import demo

    with redirect_stdout(io.StringIO()):
        return demo(random_state=0)


def suite_fit(dataset, rows, seed=0):
    """A callable fitting ``HPMDistiller()`` on a suite dataset's training rows.

    Parameters
    ----------
    dataset : str
        A key of ``benchmarks.datasets.DATASETS``.
    rows : int or None
        Stratified sample of the dataset (before the suite's 75/25 split).
    seed : int, default=0
        The sample's, the split's, the teachers' and the fit's seed.

    Returns
    -------
    callable
        No arguments; returns the fitted distiller.
    """
    from .datasets import load
    from .suite.fit import Split, make_teachers

    X, y, _ = load(dataset, rows, random_state=seed)
    split = Split(X, y, seed)

    def fit():
        return HPMDistiller(make_teachers(seed), random_state=seed).fit(
            split.X_train, split.y_train)
    return fit


def timed_fit(fit):
    """One fit after clearing the teacher cache: seconds, phases, threads given.

    Parameters
    ----------
    fit : callable
        No arguments; returns a fitted distiller.

    Returns
    -------
    dict
        ``seconds``, ``phases_s`` (``report_.timings_s``), ``cores_given``
        (``available_cores()`` when it started) and ``load_start``.
    """
    PROCESS_CACHE.clear()  # each fit runs its teachers
    record = {"load_start": os.getloadavg()[0], "cores_given": available_cores()}
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        distiller = fit()
    record["seconds"] = time.perf_counter() - started
    record["phases_s"] = dict(distiller.report_.timings_s)
    return record


def cool_down(max_load, max_wait):
    """Wait until the 1-minute load average is at most ``max_load``.

    Returns
    -------
    float
        Seconds waited (at most about ``max_wait``).
    """
    started = time.perf_counter()
    while (os.getloadavg()[0] > max_load
           and time.perf_counter() - started < max_wait):
        time.sleep(5)
    return time.perf_counter() - started


def one_state(fit, loaded, args):
    """One fit, idle (after the cool-down) or with one spinner per competitor."""
    if not loaded:
        waited = cool_down(args.idle_load, args.cool_max)
        return {**timed_fit(fit), "waited_s": waited}
    with spinning(args.competitors):
        time.sleep(args.settle)
        return {**timed_fit(fit), "waited_s": args.settle}


def alternate(fits, args):
    """Every fit idle and loaded, ``args.repeats`` times, order swapped per repeat.

    Returns
    -------
    list of dict
        One record per fit: ``fit``, ``state``, ``repeat`` and :func:`timed_fit`'s.
    """
    records = []
    for repeat in range(args.repeats):
        states = (False, True) if repeat % 2 == 0 else (True, False)
        for name, fit in fits.items():
            for loaded in states:
                record = one_state(fit, loaded, args)
                state = "loaded" if loaded else "idle"
                records.append({"fit": name, "state": state, "repeat": repeat,
                                **record})
                log(f"{name} {state} repeat {repeat}: {record['seconds']:.1f} s, "
                    f"load {record['load_start']:.2f}, "
                    f"{record['cores_given']} core(s) given")
    return records


def summarise(records):
    """Per fit: median idle and loaded seconds and their ratio, phase by phase.

    Returns
    -------
    dict
        ``{fit: {"idle_s", "loaded_s", "ratio", "phases": {phase: {...}}}}``.
    """
    summary = {}
    for name in dict.fromkeys(record["fit"] for record in records):
        mine = [record for record in records if record["fit"] == name]
        summary[name] = _medians(mine, lambda record: record["seconds"])
        phases = dict.fromkeys(phase for record in mine
                               for phase in record["phases_s"])
        summary[name]["phases"] = {
            phase: _medians(mine, lambda record, p=phase:
                            record["phases_s"].get(p, 0.0))
            for phase in phases}
    return summary


def _medians(records, value):
    idle = statistics.median(value(r) for r in records if r["state"] == "idle")
    loaded = statistics.median(value(r) for r in records if r["state"] == "loaded")
    return {"idle_s": idle, "loaded_s": loaded,
            "ratio": loaded / idle if idle else None}


def render(document):
    """The markdown of a ``--fits`` run: the ratios, then every phase."""
    lines = [f"# Under load: `{document['command']}`", "",
             f"{document['machine']}, commit `{document['library']['commit'][:7]}`;"
             f" {document['competitors']} spinning process(es) when loaded; "
             f"load before: {document['load_before']}, after: "
             f"{document['load_after']}.", "",
             "| fit | idle (median s) | loaded (median s) | loaded / idle |",
             "|---|---|---|---|"]
    for name, figures in document["summary"].items():
        lines.append(f"| {name} | {figures['idle_s']:.1f} | "
                     f"{figures['loaded_s']:.1f} | {figures['ratio']:.2f}x |")
    lines += ["", "| fit | phase | idle s | loaded s | loaded / idle |",
              "|---|---|---|---|---|"]
    for name, figures in document["summary"].items():
        for phase, phase_figures in figures["phases"].items():
            ratio = phase_figures["ratio"]
            lines.append(f"| {name} | {phase} | {phase_figures['idle_s']:.2f} | "
                         f"{phase_figures['loaded_s']:.2f} | "
                         f"{'—' if ratio is None else f'{ratio:.2f}x'} |")
    lines += ["", "| fit | state | repeat | seconds | load at start | cores given |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {r['fit']} | {r['state']} | {r['repeat']} | {r['seconds']:.1f} |"
              f" {r['load_start']:.2f} | {r['cores_given']} |"
              for r in document["records"]]
    return "\n".join(lines) + "\n"


def run_fits(args, argv):
    """The ``--fits`` mode: every named fit idle and loaded; writes the results."""
    makers = {"demo": lambda: demo_fit,
              "suite": lambda: suite_fit(args.dataset, args.rows)}
    fits = {name: makers[name]() for name in args.fits.split(",")}
    demo_fit()  # warm-up: imports, torch's first optimizer, the boosters
    document = {"command": " ".join([COMMAND, *argv]), "library": library(),
                "machine": machine(), "competitors": args.competitors,
                "dataset": args.dataset, "rows": args.rows,
                "uptime_before": uptime()}
    document["load_before"] = load_average(document["uptime_before"])
    document["records"] = alternate(fits, args)
    document["uptime_after"] = uptime()
    document["load_after"] = load_average(document["uptime_after"])
    document["summary"] = summarise(document["records"])
    write_json(RESULTS / f"{args.output}.json", document)
    (RESULTS / f"{args.output}.md").write_text(render(document))
    log(f"wrote {RESULTS / args.output}.md")
    return document


def run_capped(args):
    """The first mode: the digits fit capped and uncapped, idle then loaded."""
    X, y = load_digits(return_X_y=True)
    fit_seconds(X, y, capped=True)  # warm-up: imports, torch's first optimizer
    idle, idle_loads = measure(X, y, args.repeats, 0)
    loaded, loaded_loads = measure(X, y, args.repeats, args.competitors)
    baseline = idle["capped"]
    print(f"{cpu_count()} cores; load averages idle {idle_loads}, "
          f"with {args.competitors} competitors {loaded_loads}")
    for name, figures in (("idle", idle), ("loaded", loaded)):
        for label, seconds in figures.items():
            print(f"{name:6} {label:8} median {seconds:7.1f} s  "
                  f"{seconds / baseline:5.2f}x the idle capped fit")
    return {"idle": idle, "loaded": loaded}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--competitors", type=int, default=cpu_count())
    parser.add_argument("--fits", default=None,
                        help="comma-separated, of demo and suite: the idle "
                             "against loaded mode")
    parser.add_argument("--dataset", default="flights")
    parser.add_argument("--rows", type=int, default=16_000)
    parser.add_argument("--settle", type=float, default=30.0)
    parser.add_argument("--idle-load", type=float, default=0.45)
    parser.add_argument("--cool-max", type=float, default=180.0)
    parser.add_argument("--output", default="under_load")
    args = parser.parse_args(argv)
    if args.fits:
        return run_fits(args, sys.argv[1:] if argv is None else list(argv))
    return run_capped(args)


if __name__ == "__main__":
    main()
