"""Load-balanced parallel dispatch (HPM-KD component v).

Every parallel step of a fit (fitting teachers, cross-fitting them, querying them in
chunks, training chain branches) goes through :func:`run_jobs`:

* jobs are dispatched longest-expected-first (LPT: Graham, 1969), so that the
  slowest job does not start last and keep one worker busy alone at the end;
* inside each worker, BLAS, OpenMP and torch thread pools are capped so that
  ``workers * threads <= cores``, and estimators that carry their own thread
  count (``n_jobs``, ``nthread``, ``num_threads``) are capped the same way while
  they run: without it, two workers each running a booster on every core fight
  over the cores and a fit with ``n_jobs=2`` can be many times slower than
  ``n_jobs=1``;
* it is plain joblib, so any backend works: processes (the default), threads, or
  a Dask cluster through ``joblib.parallel_config(backend="dask")``.
"""

import contextvars
import os
import sys
import threading
import time
from contextlib import contextmanager

import numpy as np
from joblib import Parallel, cpu_count, delayed, effective_n_jobs
from threadpoolctl import threadpool_limits

from .students._mlp_training import resolved_max_epochs

# Estimator parameters that set a library's own thread count.
_THREAD_PARAMS = ("n_jobs", "nthread", "num_threads", "thread_count")
# Parameters that count an estimator's rounds, trees or epochs.
_ITERATION_PARAMS = ("n_estimators", "max_iter", "max_epochs")
# The cap of the job running in this thread, for estimators fitted inside it.
_job_state = threading.local()
# The optimization memory of the running fit: job durations go there, and its
# recorded speeds turn estimated costs into expected seconds.
_memory = contextvars.ContextVar("skdistill_memory", default=None)


@contextmanager
def recording_to(memory):
    """Within the block, :func:`run_jobs` records durations in ``memory``."""
    token = _memory.set(memory)
    try:
        yield memory
    finally:
        _memory.reset(token)


def lpt_order(costs):
    """Job indices, longest expected first (ties keep their order).

    Parameters
    ----------
    costs : sequence of float
        Expected cost of each job.

    Returns
    -------
    list of int
    """
    return sorted(range(len(costs)), key=lambda i: -costs[i])


def estimated_cost(estimator, n_rows, n_features):
    """Expected cost of fitting ``estimator``: rows * features * iterations.

    Iterations are the estimator's rounds, trees or epochs where it names them
    (``n_estimators``, ``max_iter``, ``max_epochs``; a wrapped estimator's count
    where the wrapper has none), else 1.
    """
    params = estimator.get_params(deep=True) if hasattr(estimator, "get_params") \
        else {}
    counts = sorted((key.count("__"), count) for key, value in params.items()
                    if key.rsplit("__", 1)[-1] in _ITERATION_PARAMS
                    and (count := _as_count(key, value, params, n_rows)) is not None)
    iterations = counts[0][1] if counts else 1
    return float(n_rows) * max(n_features, 1) * max(iterations, 1)


def _as_count(key, value, params, n_rows):
    """An iteration count; a network's ``max_epochs="auto"`` as the epochs it
    resolves to on ``n_rows`` rows (its ``batch_size`` beside it); None for
    anything else."""
    if value == "auto" and key.endswith("max_epochs"):
        prefix = key[:-len("max_epochs")]
        return resolved_max_epochs(value, n_rows,
                                   params.get(prefix + "batch_size", 256),
                                   params.get(prefix + "early_stopping", True))
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def run_jobs(function, jobs, costs, n_jobs, kinds=None):
    """Run ``function(*job)`` for every job, longest first, capped threads.

    Parameters
    ----------
    function : callable
        Called once per job with the job's arguments.
    jobs : list of tuple
        Arguments of each call.
    costs : sequence of float
        Expected cost of each job (see :func:`estimated_cost`).
    n_jobs : int or None
        Workers, joblib semantics; under a ``parallel_config`` backend (threads,
        Dask) that backend runs them.
    kinds : sequence of str, default=None
        What each job is (e.g. ``"fit:RandomForestClassifier"``). Inside
        :func:`recording_to`, the memory's recorded seconds per unit of cost of
        each kind turn the costs into expected seconds (the dispatch order), and
        the jobs' durations are recorded against the costs given.

    Returns
    -------
    list
        Results in the order of ``jobs``.
    """
    if not jobs:
        return []
    memory = _memory.get()
    # The order follows the expected seconds; the memory records the raw costs,
    # as its speeds are seconds per unit of raw cost.
    order_by = costs
    if memory is not None and kinds is not None:
        order_by = expected_seconds(memory, costs, kinds)
    n_workers = min(effective_n_jobs(n_jobs), len(jobs))
    if n_workers == 1:  # in this thread, with the cores it already has
        timed = [_timed_call(function, job) for job in jobs]
    else:
        timed = _run_parallel(function, jobs, order_by, n_workers)
    if memory is not None and kinds is not None:
        for kind, cost, (_, seconds) in zip(kinds, costs, timed, strict=True):
            memory.record_duration(kind, cost, seconds)
    return [result for result, _ in timed]


def expected_seconds(memory, costs, kinds):
    """Costs scaled by each kind's recorded seconds per unit of cost.

    Kinds the memory has not seen yet take the median speed of those it has; with
    none seen, the costs are returned as they are.
    """
    speeds = {kind: memory.duration_model(kind) for kind in set(kinds)}
    known = [speed for speed in speeds.values() if speed]
    if not known:
        return list(costs)
    fallback = float(np.median(known))
    return [cost * (speeds[kind] or fallback)
            for cost, kind in zip(costs, kinds, strict=True)]


def _timed_call(function, args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def _run_parallel(function, jobs, costs, n_workers):
    threads = threads_per_worker(n_workers)
    order = lpt_order(costs)
    # The same caps around the whole call: BLAS and torch pools are per process,
    # and under the threading backend a job that ends must not lift them for the
    # jobs still running.
    with worker_thread_limits(threads):
        results = Parallel(n_jobs=n_workers)(
            delayed(_run_capped)(function, jobs[i], threads) for i in order
        )
    ordered = [None] * len(jobs)
    for index, result in zip(order, results, strict=True):
        ordered[index] = result
    return ordered


def threads_per_worker(n_workers):
    """Threads each of ``n_workers`` workers may use so that none waits for a core."""
    return max(1, cpu_count() // max(1, n_workers))


def _run_capped(function, args, threads):
    # A Dask worker may sit on a machine with fewer cores than the client's.
    threads = max(1, min(threads, cpu_count()))
    with worker_thread_limits(threads):
        return _timed_call(function, args)


@contextmanager
def worker_thread_limits(threads):
    """Cap BLAS, OpenMP and torch thread pools to ``threads`` inside the block."""
    torch = sys.modules.get("torch")  # only a worker that uses torch pays for it
    previous_torch = torch.get_num_threads() if torch is not None else None
    previous_cap = getattr(_job_state, "threads", None)
    _job_state.threads = threads
    try:
        with threadpool_limits(limits=threads):
            if torch is not None:
                torch.set_num_threads(threads)
            yield threads
    finally:
        _job_state.threads = previous_cap
        if torch is not None:
            torch.set_num_threads(previous_torch)


def available_cores():
    """Cores a fit may use without waiting for the machine's other work.

    joblib's count (it honours the CPU affinity and cgroup quotas), less the
    cores that other processes kept busy, rounded, at least one. OpenMP pools
    that spin on every core slow down far more than their share when other work
    runs: a HistGradientBoosting fit on digits took 27-33 s with its default 2
    threads and 4-6 s with one, at load 2.9 on 2 cores.

    On Linux the other work is read from ``/proc/stat``: the busy time of the
    CPUs this process may run on, less this process's own CPU time
    (:class:`OtherWork`). The load average is the fallback elsewhere; it also
    counts tasks waiting on input and output (a machine with a disk or network
    share busy shows a load of 1 on idle cores), so it is not used where the
    CPUs' own counters can be read.
    """
    cores = cpu_count()
    others = OTHER_WORK.update()
    if others is not None:
        # The CPUs this process may run on can be more than a cgroup quota lets
        # it use: the others take from the CPUs, the quota caps what is left.
        free = OTHER_WORK.n_cpus - others
    else:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # not on this platform
            return cores
        free = cores - max(0.0, load - OWN_LOAD.update())
    return max(1, min(cores, int(free + 0.5)))


def _damped(estimate, measured, wall):
    """``estimate`` moved towards ``measured`` over ``wall`` seconds, the way
    the kernel's 1-minute load average moves (an exponential time constant of
    60 s)."""
    kept = np.exp(-wall / 60.0)
    return kept * estimate + (1.0 - kept) * measured


class OwnLoad:
    """This process's share of the 1-minute load average, estimated.

    The kernel's load average is an exponentially damped mean of the runnable
    threads with a one-minute time constant. Each :meth:`update` takes the
    process's CPU seconds since the last one over the wall seconds since then
    as its mean number of busy cores in that interval, and damps the earlier
    estimate the way the kernel damps the load. The first interval starts when
    the estimator is made (the library's import), so the work done between the
    import and the first fit (fitting the teachers, say) counts.
    """

    def __init__(self, clock=time.monotonic, cpu_clock=time.process_time):
        self.clock, self.cpu_clock = clock, cpu_clock
        self.estimate, self.last = 0.0, (clock(), cpu_clock())
        self._lock = threading.Lock()

    def update(self):
        """The estimate now (cores' worth of load from this process)."""
        with self._lock:
            now, cpu = self.clock(), self.cpu_clock()
            wall = now - self.last[0]
            if wall > 0:
                busy = max(0.0, cpu - self.last[1]) / wall
                self.estimate = _damped(self.estimate, busy, wall)
            self.last = (now, cpu)
            return self.estimate


# The estimate :func:`available_cores` takes off the load average.
OWN_LOAD = OwnLoad()


def cpu_busy_seconds(cpus, stat_path="/proc/stat"):
    """Seconds the CPUs ``cpus`` spent busy since boot, from ``/proc/stat``.

    Busy is user, nice, system, irq, softirq and steal time; idle and iowait
    are not (a task waiting on a disk holds no CPU).

    Parameters
    ----------
    cpus : iterable of int
        CPU numbers (``os.sched_getaffinity(0)``).
    stat_path : str, default="/proc/stat"

    Returns
    -------
    float or None
        None where the file cannot be read or lacks one of the CPUs.
    """
    wanted = {f"cpu{cpu}" for cpu in cpus}
    try:
        with open(stat_path) as stat:
            lines = [line.split() for line in stat if line.startswith("cpu")]
    except OSError:
        return None
    rows = {fields[0]: fields[1:] for fields in lines}
    if not wanted or not wanted <= rows.keys():
        return None
    ticks = sum(sum(int(value) for value in rows[cpu][:3] + rows[cpu][5:8])
                for cpu in wanted)
    return ticks / os.sysconf("SC_CLK_TCK")


class OtherWork:
    """Cores' worth of the other processes' work on this process's CPUs.

    Each :meth:`update` takes the CPUs' busy seconds since the last one
    (:func:`cpu_busy_seconds`) less this process's CPU seconds, over the wall
    seconds since then, and damps the earlier estimate with a one-minute time
    constant, as the load average does. The first interval starts when it is
    made (the library's import), and with no estimate yet its measure becomes
    the estimate. When the last measure is more than ``stale_after`` seconds
    old, the mean since then says little about the last minute: a fresh window
    is measured instead and becomes the estimate. A first or fresh measure
    spans at least ``min_window`` seconds; the update waits for the rest (the
    CPUs' counters advance in ticks of 10 ms).
    """

    def __init__(self, cpus=None, clock=time.monotonic, cpu_clock=time.process_time,
                 busy_seconds=cpu_busy_seconds, sleep=time.sleep, min_window=0.1,
                 stale_after=60.0):
        if cpus is None:
            cpus = (os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity")
                    else range(os.cpu_count() or 1))
        self.cpus, self.n_cpus = sorted(cpus), len(cpus)
        self.clock, self.cpu_clock, self.busy_seconds = clock, cpu_clock, busy_seconds
        self.sleep, self.min_window, self.stale_after = sleep, min_window, stale_after
        self.estimate = None
        self.last = self._snapshot()
        self._lock = threading.Lock()

    def _snapshot(self):
        return self.clock(), self.cpu_clock(), self.busy_seconds(self.cpus)

    def update(self):
        """The estimate now (cores), or None where the counters cannot be read."""
        with self._lock:
            if self.last[2] is None:
                return None
            wall = self.clock() - self.last[0]
            fresh = self.estimate is None or wall > self.stale_after
            if wall > self.stale_after:
                self.last, wall = self._snapshot(), 0.0
            if fresh and wall < self.min_window:
                self.sleep(self.min_window - wall)
            now = self._snapshot()
            wall = now[0] - self.last[0]
            if now[2] is None or self.last[2] is None:
                return None
            if wall > 0:
                own = max(0.0, now[1] - self.last[1])
                others = max(0.0, now[2] - self.last[2] - own) / wall
                self.estimate = others if fresh \
                    else _damped(self.estimate, others, wall)
                self.last = now
            return self.estimate


# The other work :func:`available_cores` takes off the cores (Linux).
OTHER_WORK = OtherWork()


def job_thread_cap():
    """Threads the job running in this thread may use (all cores outside a job)."""
    return getattr(_job_state, "threads", None) or cpu_count()


@contextmanager
def capped_estimator_threads(estimator, threads=None):
    """Lower an estimator's own thread parameters to ``threads`` while it runs.

    ``threads=None`` takes the cap of the running job (:func:`job_thread_cap`).
    Negative values ("all cores") and values above ``threads`` are capped; the
    original values are put back afterwards, so the caller sees the parameters it
    set. Yields those original values (for clones made inside the block).
    ``None`` is capped too outside scikit-learn, where it means every core
    (LightGBM counts the physical cores itself); in scikit-learn it means one.
    ``0`` (the OpenMP default) is left to :func:`worker_thread_limits`.
    """
    if not hasattr(estimator, "get_params"):
        yield {}
        return
    threads = job_thread_cap() if threads is None else threads
    params = estimator.get_params(deep=False)
    original = {name: params[name] for name in _THREAD_PARAMS if name in params}
    none_means_all = not type(estimator).__module__.startswith("sklearn.")
    capped = {name: threads for name, value in original.items()
              if (value is None and none_means_all)
              or (isinstance(value, int) and (value < 0 or value > threads))}
    changed = {name: original[name] for name in capped}
    if capped:
        estimator.set_params(**capped)
    try:
        yield changed
    finally:
        if capped:
            estimator.set_params(**changed)
