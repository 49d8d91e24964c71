"""A default teacher's fit on a busy machine: threads capped to the free cores, or not.

``HPMDistiller`` with its default teacher (HistGradientBoosting, fitted with its
cross-fitted copies) and a small fixed MLP student on the digits (1,797 rows),
fitted alternately with the library's thread cap (``available_cores``: the cores
less the 1-minute load average) and without it (every core, as before), while
``--competitors`` CPU-bound processes spin (default: one per core) and with none.
Each figure is the median of ``--repeats`` fits; the ratios are to the capped fit
on the idle machine of the same run (the issue's target: the loaded fit at most
2.5x the idle one). The load average when each fit starts is recorded.

Run: ``python -m benchmarks.under_load`` (several minutes on 2 cores: the
uncapped fits under load are slow).
"""

import argparse
import multiprocessing
import os
import statistics
import time
import warnings

from joblib import cpu_count
from sklearn.datasets import load_digits

from skdistill import HPMDistiller, MLPStudent
from skdistill import _base as base_module
from skdistill._teacher_outputs import PROCESS_CACHE


def _spin(stop):
    while not stop.is_set():
        pass


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
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,))
                for _ in range(competitors)]
    for spinner in spinners:
        spinner.start()
    try:
        if competitors:
            time.sleep(30)  # let the 1-minute load average see them
        times, loads = {"capped": [], "uncapped": []}, []
        for _ in range(repeats):
            for label in times:
                loads.append(os.getloadavg()[0])
                times[label].append(fit_seconds(X, y, label == "capped"))
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join()
    return {label: statistics.median(values) for label, values in times.items()}, loads


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--competitors", type=int, default=cpu_count())
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    main()
