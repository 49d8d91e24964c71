"""What the teachers say: fitting them, cross-fitting them, their outputs, cached.

The teachers HPMDistiller fits itself are fitted together with their
cross-fitted copies (one queue, longest first); the copies give out-of-fold
outputs on the training rows, so that neither the student's targets nor the
gate learn from a teacher that repeats the labels it memorised. With
``prefit_teachers="cross_fit"`` prefit teachers get the same treatment through
copies of their unfitted twins (see :func:`~skdistill._teachers.unfitted_twin`),
for a teacher fitted on the very rows given to ``fit``. Outputs are kept,
keyed by fingerprints of the teachers and of everything else they depend on, in
this process (:data:`PROCESS_CACHE`, least recently used out first) and in the
optimization memory's cache, so that a refit with the same teachers and rows (a
grid search over the distiller's own parameters) does not run them again.
"""

import sys
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import _safe_indexing

from ._fingerprint import fingerprint_data, fingerprint_estimator
from ._parallel import estimated_cost, run_jobs
from ._teachers import EncodedLabelsClassifier, fit_one, is_fitted, unfitted_twin
from .exceptions import SkdistillWarning
from .metrics import ModelSize, model_size


@dataclass(frozen=True)
class TeacherOutputs:
    """The fitted teachers and their outputs on the training rows.

    Attributes
    ----------
    teachers : list of estimators
        Fitted, in the order given; prefit ones are the very objects given.
    targets : ndarray of shape (n_teachers, n_samples, n_outputs)
        What the student's targets are fused from.
    gate : ndarray of shape (n_teachers, n_samples, n_outputs)
        What the gate (or the accuracy weights) learns on: out-of-fold for the
        cross-fitted teachers whenever it learns.
    size : ModelSize
        The teachers' size, measured once.
    """

    teachers: list
    targets: np.ndarray
    gate: np.ndarray
    size: ModelSize


def teacher_outputs(teachers, X, y, sample_weight, task, *, cv, soft_targets,
                    gate_learns, random_state, n_jobs, memory, timed,
                    prefit_teachers="as_is", names=None):
    """Fit the teachers that need it and label the training rows with them.

    Parameters
    ----------
    teachers : list of estimators
        Fitted (used as they are) or not (cloned and fitted).
    X, y, sample_weight
        The training rows.
    task : ClassificationTask
        What a teacher outputs (see ``_task``).
    cv : int
        Folds of the cross-fitted copies.
    soft_targets : {"oof", "in_sample"}
        Where the targets on the training rows come from.
    gate_learns : bool
        Whether the fusion learns from the teachers' outputs (then they are
        out-of-fold for the cross-fitted teachers, whatever ``soft_targets``).
    random_state : int
        Seeds the folds.
    n_jobs : int or None
        Workers.
    memory : OptimizationMemory or None
        Its cache keeps the outputs.
    timed : callable
        ``timed(phase)`` is a context that times a phase of the fit.
    prefit_teachers : {"cross_fit", "as_is"}
        Whether prefit teachers are cross-fitted too (through their unfitted
        twins) or label the training rows as they are.
    names : list of str, optional
        The teachers' names, for the warning about a prefit teacher that cannot
        be cross-fitted.

    Returns
    -------
    TeacherOutputs
    """
    oof, oof_cache = None, None
    wants_oof = gate_learns or soft_targets == "oof"
    twins = prefit_twins(teachers, prefit_teachers if wants_oof else "as_is", names)
    if wants_oof and any(not is_fitted(t) or twin is not None
                         for t, twin in zip(teachers, twins, strict=True)):
        # A cross-fitted prefit teacher is keyed by its unfitted twin (its
        # parameters), never by its fitted state as its in-sample outputs are.
        keyed = [t if twin is None else twin
                 for t, twin in zip(teachers, twins, strict=True)]
        oof_cache = OutputCache(memory, "oof", keyed,
                                (X, y, sample_weight, task.cache_key(), cv,
                                 random_state))
        oof = oof_cache.get()
    with timed("teachers"):
        fitted, _, fresh_oof = fit_and_cross_fit(
            teachers, X, y, sample_weight, task, cv, random_state, n_jobs,
            cross_fit=oof_cache is not None and oof is None, prefit_twins=twins)
    if fresh_oof is not None:
        oof = oof_cache.put(fresh_oof)
    size = model_size(fitted)  # pickles them: measured once
    with timed("soft_targets"):
        if soft_targets == "oof" and oof is not None:
            targets, gate = oof, oof
        else:
            targets = teachers_outputs_cached(memory, fitted, X, task, n_jobs)
            gate = targets if oof is None else oof
    return TeacherOutputs(fitted, targets, gate, size)


def prefit_twins(teachers, prefit_teachers, names=None):
    """Per teacher, the unfitted twin whose copies are cross-fitted, or None.

    None for the teachers fitted here (they are their own template), and for
    every prefit teacher with ``prefit_teachers="as_is"``. With ``"cross_fit"``,
    a prefit teacher without a twin (a torch module, an uncloneable object)
    labels its rows as it is, with a warning naming it.
    """
    twins = []
    for index, teacher in enumerate(teachers):
        twin = None
        if prefit_teachers == "cross_fit" and is_fitted(teacher):
            twin = unfitted_twin(teacher)
            if twin is None:
                _warn_not_cross_fitted(index, teacher, names)
        twins.append(twin)
    return twins


def _warn_not_cross_fitted(index, teacher, names):
    name = names[index] if names is not None else f"teacher {index}"
    inner = teacher.module if hasattr(teacher, "module") else teacher
    warnings.warn(
        f"prefit teacher {name!r} ({type(inner).__name__}) cannot be cloned "
        "unfitted, so it is not cross-fitted: it labels the rows given to fit as "
        "it is, and if it was fitted on them its targets there mostly repeat the "
        "hard labels. Give it unfitted (HPMDistiller then fits it and its "
        "cross-fitted copies), fit on rows it never saw, or set "
        "prefit_teachers='as_is' to keep its own outputs without this warning.",
        SkdistillWarning, stacklevel=4)


def teachers_outputs_cached(memory, teachers, X, task, n_jobs):
    """:func:`teachers_outputs`, through the memory's cache."""
    return cached_output(memory, "proba", teachers, (X, task.cache_key()),
                         lambda: teachers_outputs(teachers, X, task, n_jobs))


def cached_output(memory, tag, teachers, data, compute):
    """``compute()``, or what it returned before for these teachers and data.

    The memory's cache is keyed by fingerprints of the teachers (their fitted
    state, or their parameters when unfitted) and of everything else the output
    depends on (``data``).
    """
    cache = OutputCache(memory, tag, teachers, data)
    cached = cache.get()
    return cached if cached is not None else cache.put(compute())


class OutputCache:
    """One entry of the caches of teacher outputs (see cached_output).

    Looked up in :data:`PROCESS_CACHE`, then in the memory's cache (when a
    memory is given); stored in both. Nothing is cached for teachers that fit
    at random, nor with a memory whose ``cache`` is off.
    """

    def __init__(self, memory, tag, teachers, data):
        self.memory, self.tag, self.keys = memory, tag, None
        if ((memory is not None and not memory.cache)
                or any(_fits_at_random(t) for t in teachers)):
            return
        teacher_keys = [fingerprint_estimator(t) for t in teachers]
        # The libraries that fit and run the teachers are part of the output.
        data_key = fingerprint_data((data, _library_versions()))
        if None not in teacher_keys and data_key is not None:
            self.keys = (fingerprint_data(teacher_keys), data_key)
        if memory is not None and not memory.active:
            self.memory = None

    def get(self):
        """The stored output, or None."""
        if self.keys is None:
            return None
        found = PROCESS_CACHE.get((*self.keys, self.tag))
        if found is None and self.memory is not None:
            found = self.memory.cached_proba(*self.keys, self.tag)
            if found is not None:
                PROCESS_CACHE.put((*self.keys, self.tag), found)
        return found

    def put(self, output):
        """Store ``output``; return it."""
        output = np.asarray(output)
        if self.keys is not None:
            PROCESS_CACHE.put((*self.keys, self.tag), output)
            if self.memory is not None:
                self.memory.store_proba(*self.keys, output, self.tag)
        return output


class ProcessCache:
    """Teacher outputs kept in memory for the length of the process.

    At most ``max_bytes`` of arrays, least recently used out first (an array
    larger than that is not kept). Arrays are stored as read-only copies and
    handed out as fresh copies, so that no caller changes another's. Safe
    under threads.

    Parameters
    ----------
    max_bytes : int
        The most bytes of arrays kept.
    """

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self._arrays = OrderedDict()
        self._n_bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        """A copy of the array stored under ``key``, or None."""
        with self._lock:
            array = self._arrays.get(key)
            if array is None:
                return None
            self._arrays.move_to_end(key)
        return array.copy()

    def put(self, key, array):
        """Keep a copy of ``array`` under ``key`` (numeric arrays only)."""
        array = np.asarray(array)
        if array.dtype.hasobject or array.nbytes > self.max_bytes:
            return
        stored = array.copy()
        stored.flags.writeable = False
        with self._lock:
            previous = self._arrays.pop(key, None)
            if previous is not None:
                self._n_bytes -= previous.nbytes
            self._arrays[key] = stored
            self._n_bytes += stored.nbytes
            while self._n_bytes > self.max_bytes:
                _, dropped = self._arrays.popitem(last=False)
                self._n_bytes -= dropped.nbytes

    def clear(self):
        """Forget every array."""
        with self._lock:
            self._arrays.clear()
            self._n_bytes = 0

    def __len__(self):
        return len(self._arrays)

    @property
    def n_bytes(self):
        """Bytes of the arrays kept."""
        return self._n_bytes


# The process's cache of teacher outputs: 256 MiB, about 30 million probabilities
# (e.g. three teachers' outputs on a million rows of five classes, twice).
PROCESS_CACHE = ProcessCache(256 * 2**20)


def _fits_at_random(teacher):
    """An unfitted teacher without a seed: its outputs differ from fit to fit."""
    if is_fitted(teacher) or not hasattr(teacher, "get_params"):
        return False
    params = teacher.get_params()
    return any(value is None for key, value in params.items()
               if key.rsplit("__", 1)[-1] in ("random_state", "seed"))


def _library_versions():
    versions = []
    for name in ("sklearn", "lightgbm", "xgboost", "torch"):
        module = sys.modules.get(name)
        versions.append(getattr(module, "__version__", None))
    return tuple(versions)


def fit_and_cross_fit(teachers, X, y, sample_weight, task, cv, random_state,
                      n_jobs, cross_fit=True, prefit_twins=None):
    """Fit the unfitted teachers and their cross-fitted copies in one dispatch.

    One queue, longest first, for the teachers and their fold copies (and
    those of the prefit teachers' twins): the workers stay busy until the last
    job instead of waiting, between two queues, for the slowest teacher.

    ``prefit_twins`` (per teacher, see :func:`prefit_twins`; None: no prefit
    teacher is cross-fitted) gives the unfitted twins of the prefit teachers to
    cross-fit; the prefit teachers themselves are returned untouched.

    Returns
    -------
    fitted : list of estimators
        Same order as ``teachers``; prefit ones are the very same objects.
    fitted_here : list of bool
        Whether HPMDistiller fitted each teacher itself.
    oof : ndarray of shape (n_teachers, n_samples, n_outputs) or None
        What :func:`out_of_fold_outputs` returns, when ``cross_fit``.
    """
    fitted_here = [not is_fitted(t) for t in teachers]
    to_fit = [t for t, here in zip(teachers, fitted_here, strict=True) if here]
    templates = _templates(teachers, fitted_here, prefit_twins)
    cross_fit = cross_fit and any(t is not None for t in templates)
    n_rows, n_features = _shape(X)
    jobs = [(fit_one, clone(t), X, y, sample_weight, task) for t in to_fit]
    costs = [estimated_cost(t, n_rows, n_features) for t in to_fit]
    kinds = [_job_kind("fit", t) for t in to_fit]
    folds = []
    if cross_fit:
        folds = _fold_jobs(templates, task.strata(y), cv, random_state)
        fold_jobs, fold_costs, fold_kinds = _fold_dispatch(
            templates, folds, X, y, sample_weight, task)
        jobs, costs, kinds = jobs + fold_jobs, costs + fold_costs, kinds + fold_kinds
    results = run_jobs(_apply, jobs, costs, n_jobs, kinds=kinds)
    fitted_clones = iter(results[:len(to_fit)])
    fitted = [next(fitted_clones) if fit_it else t
              for t, fit_it in zip(teachers, fitted_here, strict=True)]
    if not cross_fit:
        return fitted, fitted_here, None
    oof = _assemble_oof(teachers, templates, X, len(y), task, folds,
                        results[len(to_fit):], n_jobs)
    return fitted, fitted_here, oof


def _templates(teachers, fitted_here, prefit_twins):
    """Per teacher, what its cross-fitted copies are cloned from, or None."""
    twins = prefit_twins or [None] * len(teachers)
    return [t if here else twin
            for t, here, twin in zip(teachers, fitted_here, twins, strict=True)]


def _apply(function, *args):
    return function(*args)


def out_of_fold_outputs(teachers, templates, X, y, sample_weight, task, cv,
                        random_state, n_jobs):
    """Honest outputs of the teachers on their own training rows.

    A teacher with a template (itself when HPMDistiller fits it, the unfitted
    twin of a prefit one) labels each row of ``X`` with a copy of the template
    fitted on the other folds (cross-fitting), so that its targets are not the
    memorised hard labels. A teacher without one (None) labels ``X`` as it is.

    Returns
    -------
    ndarray of shape (n_teachers, n_samples, n_outputs)
    """
    folds = _fold_jobs(templates, task.strata(y), cv, random_state)
    jobs, costs, kinds = _fold_dispatch(templates, folds, X, y, sample_weight, task)
    results = run_jobs(_apply, jobs, costs, n_jobs, kinds=kinds)
    return _assemble_oof(teachers, templates, X, len(y), task, folds, results,
                         n_jobs)


def _fold_jobs(templates, strata, cv, random_state):
    """``(teacher index, (fit rows, predict rows))`` for every cross-fitted copy."""
    smallest = np.bincount(np.unique(strata, return_inverse=True)[1]).min()
    n_splits = max(2, min(cv, smallest))
    folds = list(StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
                 .split(np.zeros(len(strata)), strata))
    return [(t, fold) for t, template in enumerate(templates)
            if template is not None for fold in folds]


def _fold_dispatch(templates, folds, X, y, sample_weight, task):
    """Jobs (for :func:`_apply`), costs and kinds of the cross-fitted copies."""
    n_features = _shape(X)[1]
    jobs = [(_fold_outputs, templates[t], X, y, sample_weight, fit_rows,
             predict_rows, task) for t, (fit_rows, predict_rows) in folds]
    costs = [estimated_cost(templates[t], len(fit_rows), n_features)
             for t, (fit_rows, _) in folds]
    kinds = [_job_kind("fit", templates[t]) for t, _ in folds]
    return jobs, costs, kinds


def _assemble_oof(teachers, templates, X, n_samples, task, folds, results,
                  n_jobs):
    as_is = [t for t, template in enumerate(templates) if template is None]
    outputs = np.empty((len(teachers), n_samples, task.n_outputs))
    if as_is:
        outputs[as_is] = teachers_outputs([teachers[t] for t in as_is], X, task,
                                          n_jobs)
    for (t, (_, predict_rows)), fold_outputs in zip(folds, results, strict=True):
        outputs[t, predict_rows] = fold_outputs
    return outputs


def _fold_outputs(teacher, X, y, sample_weight, fit_rows, predict_rows, task):
    weight = None if sample_weight is None else sample_weight[fit_rows]
    copy = fit_one(clone(teacher), _safe_indexing(X, fit_rows), y[fit_rows], weight,
                   task)
    return task.teacher_outputs(copy, _safe_indexing(X, predict_rows))


def teachers_outputs(teachers, X, task, n_jobs, chunk_size=50_000):
    """Outputs of every teacher on ``X`` (``task.teacher_outputs``), chunked and
    in parallel.

    Returns
    -------
    ndarray of shape (n_teachers, n_samples, n_outputs)
    """
    n_samples, n_features = _shape(X)
    chunks = [np.arange(start, min(start + chunk_size, n_samples))
              for start in range(0, n_samples, chunk_size)]
    jobs = [(t, rows) for t in range(len(teachers)) for rows in chunks]
    results = run_jobs(
        task.teacher_outputs,
        [(teachers[t], _safe_indexing(X, rows)) for t, rows in jobs],
        [estimated_cost(teachers[t], len(rows), n_features) for t, rows in jobs],
        n_jobs, kinds=[_job_kind("predict", teachers[t]) for t, _ in jobs])
    per_teacher = [np.concatenate(results[t * len(chunks):(t + 1) * len(chunks)])
                   for t in range(len(teachers))]
    return np.stack(per_teacher)


def _shape(X):
    """Rows and columns of an array or DataFrame."""
    return X.shape[0], (X.shape[1] if len(X.shape) > 1 else 1)


def _job_kind(action, teacher):
    """``"fit:ClassName"``: what the memory times jobs by."""
    inner = teacher.estimator if isinstance(teacher, EncodedLabelsClassifier) \
        else teacher
    return f"{action}:{type(inner).__name__}"
