"""What the teachers say: fitting them, cross-fitting them, their outputs, cached.

The teachers HPMDistiller fits itself are fitted together with their
cross-fitted copies (one queue, longest first); the copies give out-of-fold
outputs on the training rows, so that neither the student's targets nor the
gate learn from a teacher that repeats the labels it memorised. With
``prefit_teachers="cross_fit"`` prefit teachers get the same treatment through
copies of their unfitted twins (see :func:`~skdistill._teachers.unfitted_twin`),
for a teacher fitted on the very rows given to ``fit``; with ``"auto"`` a prefit
teacher's cross-fitted outputs replace its own only where its loss on the rows
shows that it memorised them (:func:`memorisation_position`). Outputs are kept,
keyed by fingerprints of the teachers and of everything else they depend on, in
this process (:data:`PROCESS_CACHE`, least recently used out first) and in the
optimization memory's cache, so that a refit with the same teachers and rows (a
grid search over the distiller's own parameters) does not run them again.
"""

import sys
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import _safe_indexing

from ._fingerprint import fingerprint_data, fingerprint_estimator
from ._out_of_bag import fit_out_of_bag, out_of_bag_capable
from ._parallel import estimated_cost, run_jobs
from ._teachers import EncodedLabelsClassifier, fit_one, is_fitted, unfitted_twin
from .exceptions import SkdistillWarning
from .metrics import ModelSize, model_size, serialized_bytes


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
    prefit_checks : dict
        With ``prefit_teachers="auto"``, per cross-fitted prefit teacher (by
        name): whether it looked fitted on the rows, and the losses that said
        so (see :func:`judge_prefit`).
    templates : list of estimators or None
        Per teacher that saw the training rows (fitted here, or prefit and
        cross-fitted as fitted on them), the unfitted estimator a copy of it is
        fitted from; None for a teacher that labels the rows as it is.
    copies : list of (list of estimators or None) or None
        Per teacher, its cross-fitted copies (or out-of-bag forest), when kept
        (``keep_copies``) and fitted in this call.
    """

    teachers: list
    targets: np.ndarray
    gate: np.ndarray
    size: ModelSize
    prefit_checks: dict = field(default_factory=dict)
    templates: list = field(default_factory=list)
    copies: list | None = None


# A prefit teacher whose loss on the training rows lies less than this far from
# its cross-fitted copies' loss on their own fit rows (0) towards their loss on
# the rows they never saw (1), on a log scale, is taken to have memorised them.
IN_SAMPLE_POSITION = 0.5
# The copies' loss on their fit rows is measured on at most this many of them.
MAX_FIT_LOSS_ROWS = 50_000


def prefit_mode(soft_targets, gate_learns, prefit_teachers):
    """How prefit teachers label the training rows: ``prefit_teachers`` where
    out-of-fold outputs are wanted (as the targets, or for a gate that
    learns), else ``"as_is"``."""
    return prefit_teachers if gate_learns or soft_targets == "oof" else "as_is"


def teacher_outputs(teachers, X, y, sample_weight, task, *, cv, soft_targets,
                    gate_learns, random_state, n_jobs, memory, timed,
                    prefit_teachers="as_is", names=None, held_out=None,
                    keep_copies=False, budget=None):
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
    prefit_teachers : {"cross_fit", "as_is", "auto"}
        Whether prefit teachers are cross-fitted too (through their unfitted
        twins), label the training rows as they are, or are cross-fitted and
        keep their copies' outputs only where they memorised the rows
        (:func:`judge_prefit`).
    names : list of str, optional
        The teachers' names, for the warning about a prefit teacher that cannot
        be cross-fitted.
    held_out : ndarray of int, optional
        Rows no cross-fitted copy is fitted on (the rows the fit chooses on,
        :func:`~skdistill._transfer.choice_rows`): the copies are cross-fitted
        on the other rows, and label these with their mean.
    keep_copies : bool, default=False
        Keep the fitted copies (``TeacherOutputs.copies``); when the outputs
        come from a cache, the copies this process kept with them
        (``PROCESS_COPIES``), else the copies are fitted again.
    budget : TimeBudget, default=None
        With a limit and ``prefit_teachers="auto"``, the prefit teachers'
        copies are fitted only when the time they are expected to take
        (:func:`copies_within`) leaves time for the rest of the fit; else the
        prefit teachers label the rows as they are, and the budget records
        the cut.

    Returns
    -------
    TeacherOutputs
    """
    oof, oof_cache, fit_loss, loss_cache, kept = None, None, None, None, None
    wants_oof = gate_learns or soft_targets == "oof"
    mode = prefit_mode(soft_targets, gate_learns, prefit_teachers)
    twins = prefit_twins(teachers, mode, names)
    judged = [t for t, twin in enumerate(twins) if twin is not None] \
        if mode == "auto" else []
    if wants_oof and any(not is_fitted(t) or twin is not None
                         for t, twin in zip(teachers, twins, strict=True)):
        # A cross-fitted prefit teacher is keyed by its unfitted twin (its
        # parameters), never by its fitted state as its in-sample outputs are.
        keyed = [t if twin is None else twin
                 for t, twin in zip(teachers, twins, strict=True)]
        data = (X, y, sample_weight, task.cache_key(), cv, random_state, held_out)
        oof_cache = OutputCache(memory, "oof", keyed, data)
        oof = oof_cache.get()
        if judged:
            loss_cache = OutputCache(memory, "oof_fit_loss", keyed, data)
            fit_loss = loss_cache.get()
            oof = None if fit_loss is None else oof
        if keep_copies and oof is not None:
            kept = PROCESS_COPIES.get(oof_cache.keys)
            # Without them the copies are fitted again: what they label must
            # not depend on what this process fitted before.
            oof = None if kept is None else oof
    probes = {}
    if judged and oof is None and budget is not None and budget.active:
        within, probes = copies_within(budget, twins, judged, X, y, sample_weight,
                                       task, cv, random_state, held_out)
    else:
        within = True
    if not within:
        budget.cut("prefit teachers' copies skipped: they label their own rows "
                   "as they are")
        return teacher_outputs(
            teachers, X, y, sample_weight, task, cv=cv, soft_targets=soft_targets,
            gate_learns=gate_learns, random_state=random_state, n_jobs=n_jobs,
            memory=memory, timed=timed, prefit_teachers="as_is", names=names,
            held_out=held_out, keep_copies=keep_copies)
    try:
        with timed("teachers"):
            fresh = fit_and_cross_fit(
                teachers, X, y, sample_weight, task, cv, random_state, n_jobs,
                cross_fit=oof_cache is not None and oof is None,
                prefit_twins=twins, fit_loss_of=judged, held_out=held_out,
                keep_copies=keep_copies, probes=probes)
    except Exception as error:
        if not judged:
            raise
        # "auto" is the default: a prefit teacher whose copies cannot be fitted
        # as it was (e.g. early stopping that needs the eval_set it was given)
        # labels the rows as it is, as before "auto" existed.
        as_is = teacher_outputs(
            teachers, X, y, sample_weight, task, cv=cv, soft_targets=soft_targets,
            gate_learns=gate_learns, random_state=random_state, n_jobs=n_jobs,
            memory=memory, timed=timed, prefit_teachers="as_is", names=names,
            held_out=held_out, keep_copies=keep_copies)
        # Warned only now: an error that the fit without copies raises as well
        # was not the copies'.
        _warn_copies_failed([names[t] if names else f"teacher {t}"
                             for t in judged], error)
        return as_is
    fitted, copies = fresh.fitted, kept
    if fresh.oof is not None:
        oof = oof_cache.put(fresh.oof)
        fit_loss = loss_cache.put(fresh.fit_loss) if judged else None
        copies = fresh.copies
        if copies is not None:
            PROCESS_COPIES.put(oof_cache.keys, copies)
    size = model_size(fitted)  # pickles them: measured once
    with timed("soft_targets"):
        checks = {}
        if judged:
            oof, checks = judge_prefit(fitted, judged, oof, fit_loss, X, y,
                                       sample_weight, task, memory, n_jobs, names)
        if soft_targets == "oof" and oof is not None:
            targets, gate = oof, oof
        else:
            targets = teachers_outputs_cached(memory, fitted, X, task, n_jobs)
            gate = targets if oof is None else oof
    if mode == "auto":
        _warn_if_uncloneable_memorised(teachers, twins, targets, y, task, names)
    return TeacherOutputs(fitted, targets, gate, size, checks, _saw_the_rows(
        teachers, fresh.fitted_here, twins, mode, checks, names), copies)


# Under a time_limit, the prefit teachers' copies may take this share of the
# time left: the search, the checks and the student need the rest.
COPIES_SHARE = 0.5


def copies_within(budget, twins, judged, X, y, sample_weight, task, cv,
                  random_state, held_out=None):
    """Whether the ``judged`` prefit teachers' copies fit in the time left.

    One copy of each twin is fitted on the rows of its first cross-fitted
    copy (:func:`_fold_jobs`) and timed; their copies (``cv`` of them, one for
    a forest labelling out of bag) are expected to take that much each, and
    fit when that is at most :data:`COPIES_SHARE` of the time left. A probe
    is that first copy itself: the cross-fit reuses it
    (:func:`fit_and_cross_fit`'s ``probes``) instead of fitting it again. The
    probe of a forest labelling out of bag, fitted on fewer rows than its one
    copy, only times. A copy that cannot be fitted answers True: the copies'
    own fit then raises, and falls back with its warning.

    Returns
    -------
    within : bool
    probes : dict of int to estimator
        By teacher index, the fitted first copy of those whose copies are
        fitted fold by fold.
    """
    templates = [twin if t in judged else None for t, twin in enumerate(twins)]
    jobs = _fold_jobs(templates, task.strata(y), cv, random_state, held_out)
    expected, probes = 0.0, {}
    for index in judged:
        own = [job for job in jobs if job[0] == index]
        _, (fit_rows, _), out_of_bag = own[0]
        rows = fit_rows if out_of_bag is None else out_of_bag[0][0]
        weights = None if sample_weight is None else sample_weight[rows]
        started = time.perf_counter()
        try:
            probe = fit_one(clone(twins[index]), _safe_indexing(X, rows), y[rows],
                            weights, task)
        except Exception:
            return True, {}  # the copies' own fit raises it, and falls back
        seconds = time.perf_counter() - started
        if out_of_bag is None:
            probes[index] = probe
            expected += seconds * (len(own) - 1)
        else:
            expected += seconds
    within = expected <= COPIES_SHARE * (budget.left() - budget.reserved_s)
    return within, probes if within else {}


def _saw_the_rows(teachers, fitted_here, twins, mode, checks, names):
    """``TeacherOutputs.templates``: per teacher fitted on the training rows
    (here, or prefit and cross-fitted for that reason), what a copy of it is
    fitted from; None for the others."""
    templates = []
    for index, (teacher, here, twin) in enumerate(
            zip(teachers, fitted_here, twins, strict=True)):
        name = names[index] if names is not None else f"teacher {index}"
        memorised = twin is not None and (
            mode == "cross_fit" or checks.get(name, {}).get("cross_fitted", False))
        templates.append(teacher if here else twin if memorised else None)
    return templates


def judge_prefit(fitted, judged, oof, fit_loss, X, y, sample_weight, task, memory,
                 n_jobs, names):
    """``prefit_teachers="auto"``: out-of-fold outputs only for memorising teachers.

    Each judged prefit teacher keeps its cross-fitted copies' outputs in ``oof``
    when its own loss on the rows sits near its copies' loss on the rows they
    were fitted on (:func:`memorisation_position` below
    :data:`IN_SAMPLE_POSITION`): it was most likely fitted on them. Otherwise
    its own outputs replace them: it never saw the rows, so they are honest,
    and it learned from more rows than its copies.

    Returns
    -------
    oof : ndarray of shape (n_teachers, n_samples, n_outputs)
        A copy of ``oof`` with the judged teachers' chosen outputs.
    checks : dict
        Per judged teacher (by name): ``cross_fitted``, ``position`` and the
        three losses.
    """
    own = teachers_outputs_cached(memory, [fitted[t] for t in judged], X, task,
                                  n_jobs)
    oof, checks = oof.copy(), {}
    for t, own_outputs in zip(judged, own, strict=True):
        losses = {"loss_own": task.loss(y, own_outputs, sample_weight),
                  "loss_out_of_fold": task.loss(y, oof[t], sample_weight),
                  "loss_copies_fit_rows": float(fit_loss[t])}
        position = memorisation_position(*losses.values())
        cross_fitted = position < IN_SAMPLE_POSITION
        if not cross_fitted:
            oof[t] = own_outputs
        name = names[t] if names is not None else f"teacher {t}"
        checks[name] = {"cross_fitted": cross_fitted, "position": position,
                        **losses}
    return oof, checks


def memorisation_position(loss_own, loss_out_of_fold, loss_fit_rows):
    """Where a prefit teacher's loss on the rows lies, on a log scale, between
    its copies' loss on rows they were fitted on (0) and on rows they never
    saw (1).

    Near 0: the teacher does on these rows what a copy does on its own training
    rows, so it was most likely fitted on them. Near 1 (or above): it does what
    a copy does on new rows. 1 when the copies do not measurably memorise (their
    loss on new rows within 5 % of that on their fit rows): the teacher's
    outputs are then as honest in-sample as out.
    """
    # Copies (and teachers) that memorise perfectly have a loss of 0 there.
    floor = 1e-6 * loss_out_of_fold
    loss_fit_rows = max(loss_fit_rows, floor)
    if not loss_out_of_fold > 1.05 * loss_fit_rows:
        return 1.0
    return float(np.log(max(loss_own, floor) / loss_fit_rows)
                 / np.log(loss_out_of_fold / loss_fit_rows))


def _warn_if_uncloneable_memorised(teachers, twins, targets, y, task, names):
    """Warn, naming it, about a prefit teacher that cannot be cross-fitted and
    scores (nearly) perfectly on the rows it labels: it was likely fitted on them."""
    for index, (teacher, twin) in enumerate(zip(teachers, twins, strict=True)):
        if (is_fitted(teacher) and twin is None
                and task.score(y, task.predictions(targets[index])) >= 0.999):
            _warn_not_cross_fitted(index, teacher, names, stacklevel=5)


def prefit_twins(teachers, prefit_teachers, names=None):
    """Per teacher, the unfitted twin whose copies are cross-fitted, or None.

    None for the teachers fitted here (they are their own template), and for
    every prefit teacher with ``prefit_teachers="as_is"``. With ``"cross_fit"``
    or ``"auto"``, a prefit teacher without a twin (a torch module, an
    uncloneable object) labels its rows as it is; ``"cross_fit"`` warns, naming
    it (``"auto"`` warns only when it looks fitted on the rows).
    """
    twins = []
    for index, teacher in enumerate(teachers):
        twin = None
        if prefit_teachers in ("cross_fit", "auto") and is_fitted(teacher):
            twin = unfitted_twin(teacher)
            if twin is None and prefit_teachers == "cross_fit":
                _warn_not_cross_fitted(index, teacher, names)
        twins.append(twin)
    return twins


def _warn_not_cross_fitted(index, teacher, names, stacklevel=4):
    name = names[index] if names is not None else f"teacher {index}"
    inner = teacher.module if hasattr(teacher, "module") else teacher
    warnings.warn(
        f"prefit teacher {name!r} ({type(inner).__name__}) cannot be cloned "
        "unfitted, so it is not cross-fitted: it labels the rows given to fit as "
        "it is, and if it was fitted on them its targets there mostly repeat the "
        "hard labels. Give it unfitted (HPMDistiller then fits it and its "
        "cross-fitted copies), fit on rows it never saw, or set "
        "prefit_teachers='as_is' to keep its own outputs without this warning.",
        SkdistillWarning, stacklevel=stacklevel)


def _warn_copies_failed(names, error):
    warnings.warn(
        f"prefit_teachers='auto' could not fit copies of the prefit teacher(s) "
        f"{names} on the rows given to fit ({type(error).__name__}: {error}), so "
        "they label those rows as they are; if they were fitted on these rows, "
        "their targets there mostly repeat the hard labels. Set "
        "prefit_teachers='as_is' to skip the copies without this warning, or give "
        "the teachers unfitted.", SkdistillWarning, stacklevel=4)


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


class _BytesLRU:
    """Values kept for the length of the process: at most ``max_bytes`` of
    them (as each owner counts them), least recently used out first; a value
    over the bound on its own stays alone. Safe under threads.

    Parameters
    ----------
    max_bytes : int
        The most bytes kept.
    """

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self._entries = OrderedDict()
        self._n_bytes = 0
        self._lock = threading.Lock()

    def _fetch(self, key):
        """The value stored under ``key`` (now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def _store(self, key, value, n_bytes):
        """Keep ``value`` under ``key``, counted as ``n_bytes``."""
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._n_bytes -= previous[1]
            self._entries[key] = (value, n_bytes)
            self._n_bytes += n_bytes
            while self._n_bytes > self.max_bytes and len(self._entries) > 1:
                self._n_bytes -= self._entries.popitem(last=False)[1][1]

    def clear(self):
        """Forget every value."""
        with self._lock:
            self._entries.clear()
            self._n_bytes = 0

    def __len__(self):
        return len(self._entries)

    @property
    def n_bytes(self):
        """Bytes of the values kept."""
        return self._n_bytes


class ProcessCache(_BytesLRU):
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

    def get(self, key):
        """A copy of the array stored under ``key``, or None."""
        array = self._fetch(key)
        return None if array is None else array.copy()

    def put(self, key, array):
        """Keep a copy of ``array`` under ``key`` (numeric arrays only)."""
        array = np.asarray(array)
        if array.dtype.hasobject or array.nbytes > self.max_bytes:
            return
        stored = array.copy()
        stored.flags.writeable = False
        self._store(key, stored, stored.nbytes)


# The process's cache of teacher outputs: 256 MiB, about 30 million probabilities
# (e.g. three teachers' outputs on a million rows of five classes, twice).
PROCESS_CACHE = ProcessCache(256 * 2**20)


class ProcessCopies(_BytesLRU):
    """The teachers' cross-fitted copies of the last fits, by the key of their
    out-of-fold outputs, so that a refit that finds those outputs cached
    finds what labels its checks' synthetic rows too (``keep_copies``).

    At most ``max_bytes`` of copies (as pickled, :func:`_copies_bytes`),
    least recently used out first; copies larger than that are kept alone
    (the last fit's, which it holds anyway); a key of None is never stored.
    Bounded in bytes rather than entries: ``GridSearchCV`` fits each candidate
    on every fold in turn, and a cache of fewer entries than folds would
    lose each fold's copies just before the next candidate asks for them.
    Safe under threads.

    Parameters
    ----------
    max_bytes : int
        The most bytes of copies kept.
    """

    def get(self, key):
        """The copies stored under ``key``, or None."""
        return None if key is None else self._fetch(key)

    def put(self, key, copies):
        """Keep ``copies`` under ``key``."""
        if key is not None:
            self._store(key, copies, _copies_bytes(copies))


def _copies_bytes(copies):
    """Pickled bytes of the teachers' copies (per teacher, a list of fitted
    copies or None), estimated from one copy of each teacher: the copies of
    one teacher are alike, and pickling a large forest's five copies would
    cost seconds."""
    return sum(len(fold_copies) * serialized_bytes(fold_copies[0])
               for fold_copies in copies
               if fold_copies is not None and len(fold_copies))


# The copies of the process's last fits: 256 MiB, e.g. five folds of three
# 400-tree boosters on 20,000 rows, several times over.
PROCESS_COPIES = ProcessCopies(256 * 2**20)


# Libraries whose estimators read ``random_state=None`` as their own fixed
# default seed (XGBoost's 0, LightGBM's C++ defaults), not as numpy's global
# random state: their fits repeat, and their outputs can be cached.
_FIXED_DEFAULT_SEED = ("xgboost", "lightgbm")


def _fits_at_random(teacher):
    """An unfitted teacher without a seed: its outputs differ from fit to fit.

    Checks the teacher and every estimator nested in it (a ``Pipeline``'s
    steps, a wrapped estimator).
    """
    if is_fitted(teacher) or not hasattr(teacher, "get_params"):
        return False
    nested = [value for value in teacher.get_params(deep=True).values()
              if hasattr(value, "get_params")]
    return any(_draws_its_seed(estimator) for estimator in [teacher, *nested])


def _draws_its_seed(estimator):
    """Whether ``estimator``'s own seed is None and None means a fresh draw."""
    params = estimator.get_params(deep=False)
    unseeded = any(params.get(name, 0) is None for name in ("random_state", "seed"))
    library = type(estimator).__module__.partition(".")[0]
    return unseeded and library not in _FIXED_DEFAULT_SEED


def _library_versions():
    versions = []
    for name in ("sklearn", "lightgbm", "xgboost", "torch"):
        module = sys.modules.get(name)
        versions.append(getattr(module, "__version__", None))
    return tuple(versions)


class CrossFit(NamedTuple):
    """What :func:`fit_and_cross_fit` returns.

    Attributes
    ----------
    fitted : list of estimators
        Same order as the teachers; prefit ones are the very same objects.
    fitted_here : list of bool
        Whether HPMDistiller fitted each teacher itself.
    oof : ndarray of shape (n_teachers, n_samples, n_outputs) or None
        What :func:`out_of_fold_outputs` returns, when cross-fitted.
    fit_loss : ndarray of shape (n_teachers,) or None
        The copies' mean loss on their fit rows for the teachers of
        ``fit_loss_of`` (NaN for the others), when cross-fitted.
    copies : list of (list of estimators or None) or None
        Per teacher, its fitted copies, when kept (``keep_copies``).
    """

    fitted: list
    fitted_here: list
    oof: np.ndarray | None = None
    fit_loss: np.ndarray | None = None
    copies: list | None = None


def fit_and_cross_fit(teachers, X, y, sample_weight, task, cv, random_state,
                      n_jobs, cross_fit=True, prefit_twins=None, fit_loss_of=(),
                      held_out=None, keep_copies=False, probes=None):
    """Fit the unfitted teachers and their cross-fitted copies in one dispatch.

    One queue, longest first, for the teachers and their fold copies (and
    those of the prefit teachers' twins): the workers stay busy until the last
    job instead of waiting, between two queues, for the slowest teacher.

    ``prefit_twins`` (per teacher, see :func:`prefit_twins`; None: no prefit
    teacher is cross-fitted) gives the unfitted twins of the prefit teachers to
    cross-fit; the prefit teachers themselves are returned untouched.
    ``fit_loss_of`` lists the teachers whose copies also measure their loss on
    (at most :data:`MAX_FIT_LOSS_ROWS` of) the rows they were fitted on.
    ``held_out`` rows are left out of every copy's fit (see
    :func:`_fold_jobs`); ``keep_copies`` returns the fitted copies.
    ``probes`` (by teacher index) are first copies already fitted, by
    :func:`copies_within`: they only label their rows.

    Returns
    -------
    CrossFit
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
        folds = _fold_jobs(templates, task.strata(y), cv, random_state, held_out)
        fold_jobs, fold_costs, fold_kinds = _fold_dispatch(
            templates, folds, X, y, sample_weight, task, fit_loss_of, keep_copies,
            probes)
        jobs, costs, kinds = jobs + fold_jobs, costs + fold_costs, kinds + fold_kinds
    results = run_jobs(_apply, jobs, costs, n_jobs, kinds=kinds)
    fitted_clones = iter(results[:len(to_fit)])
    fitted = [next(fitted_clones) if fit_it else t
              for t, fit_it in zip(teachers, fitted_here, strict=True)]
    if not cross_fit:
        return CrossFit(fitted, fitted_here)
    oof, fit_loss, copies = _assemble_oof(teachers, templates, X, len(y), task,
                                          folds, results[len(to_fit):], n_jobs)
    return CrossFit(fitted, fitted_here, oof, fit_loss,
                    copies if keep_copies else None)


def _templates(teachers, fitted_here, prefit_twins):
    """Per teacher, what its cross-fitted copies are cloned from, or None."""
    twins = prefit_twins or [None] * len(teachers)
    return [t if here else twin
            for t, here, twin in zip(teachers, fitted_here, twins, strict=True)]


def _apply(function, *args):
    return function(*args)


def out_of_fold_outputs(teachers, templates, X, y, sample_weight, task, cv,
                        random_state, n_jobs, held_out=None):
    """Honest outputs of the teachers on their own training rows.

    A teacher with a template (itself when HPMDistiller fits it, the unfitted
    twin of a prefit one) labels each row of ``X`` with a copy of the template
    fitted on the other folds (cross-fitting), so that its targets are not the
    memorised hard labels. A teacher without one (None) labels ``X`` as it is.
    ``held_out`` rows are left out of every copy's fit (see :func:`_fold_jobs`).

    Returns
    -------
    ndarray of shape (n_teachers, n_samples, n_outputs)
    """
    folds = _fold_jobs(templates, task.strata(y), cv, random_state, held_out)
    jobs, costs, kinds = _fold_dispatch(templates, folds, X, y, sample_weight, task)
    results = run_jobs(_apply, jobs, costs, n_jobs, kinds=kinds)
    return _assemble_oof(teachers, templates, X, len(y), task, folds, results,
                         n_jobs)[0]


def _fold_jobs(templates, strata, cv, random_state, held_out=None):
    """``(teacher index, (fit rows, predict rows), fallback)`` for every
    cross-fitted copy (``fallback`` None).

    The copies are cross-fitted on the rows not ``held_out``, and each also
    labels the held-out rows (which then get the copies' mean). A forest that
    can label the rows out of bag
    (:func:`~skdistill._out_of_bag.out_of_bag_capable`) gets one copy instead,
    fitted on every row not held out and labelling every row; its
    ``fallback`` is the folds of the copies it is replaced by when some row
    sat in every bootstrap sample.
    """
    every_row = np.arange(len(strata))
    held_out = np.array([], dtype=int) if held_out is None else held_out
    rest = np.setdiff1d(every_row, held_out)
    folds = [(rest[fit_rows], np.concatenate([rest[predict_rows], held_out]))
             for fit_rows, predict_rows in _folds(strata[rest], cv, random_state)]
    jobs = []
    for t, template in enumerate(templates):
        if template is None:
            continue
        if out_of_bag_capable(template, len(rest)):
            jobs.append((t, (rest, every_row), folds))
        else:
            jobs.extend((t, fold, None) for fold in folds)
    return jobs


def _folds(strata, cv, random_state):
    """The cross-fitting folds: ``(fit rows, predict rows)`` pairs."""
    smallest = np.bincount(np.unique(strata, return_inverse=True)[1]).min()
    n_splits = max(2, min(cv, smallest))
    return list(StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
                .split(np.zeros(len(strata)), strata))


def _fold_dispatch(templates, folds, X, y, sample_weight, task, fit_loss_of=(),
                   keep=False, probes=None):
    """Jobs (for :func:`_apply`), costs and kinds of the cross-fitted copies
    (and out-of-bag forests) of :func:`_fold_jobs`; with ``keep``, each job
    returns its fitted copies too. A teacher's first copy is its probe where
    ``probes`` has one (see :func:`copies_within`)."""
    n_features = _shape(X)[1]
    probes = dict(probes or {})
    jobs, kinds = [], []
    for t, (fit_rows, predict_rows), fallback in folds:
        probe = None
        if fallback is not None:  # one forest, out of bag
            jobs.append((_out_of_bag_outputs, templates[t], X, y, sample_weight,
                         task, t in fit_loss_of, fallback, fit_rows, keep))
        else:
            probe = probes.pop(t, None)
            jobs.append((_fold_outputs, templates[t], X, y, sample_weight, fit_rows,
                         predict_rows, task, t in fit_loss_of, keep, probe))
        # A probe's job only predicts: not timed as a fit (the memory's model
        # of fit seconds per cost would learn a near-zero fit).
        kinds.append(_job_kind("fit" if probe is None else "predict", templates[t]))
    costs = [estimated_cost(templates[t], len(fit_rows), n_features)
             for t, (fit_rows, _), _ in folds]
    return jobs, costs, kinds


@dataclass
class _Copies:
    """What one job of :func:`_fold_dispatch` returns.

    Attributes
    ----------
    outputs : ndarray of shape (n_predict_rows, n_outputs)
        On the job's predict rows.
    fit_loss : float or None
        The copies' mean loss on their fit rows, when asked.
    models : list of estimators
        The fitted copies, when kept.
    """

    outputs: np.ndarray
    fit_loss: float | None = None
    models: list = field(default_factory=list)


def _assemble_oof(teachers, templates, X, n_samples, task, folds, results,
                  n_jobs):
    """The out-of-fold outputs, the copies' mean loss on their fit rows (NaN
    for the teachers whose copies did not measure it), and per teacher its
    kept copies (None when none was kept)."""
    as_is = [t for t, template in enumerate(templates) if template is None]
    outputs = np.empty((len(teachers), n_samples, task.n_outputs))
    if as_is:
        outputs[as_is] = teachers_outputs([teachers[t] for t in as_is], X, task,
                                          n_jobs)
    fit_losses = [[] for _ in teachers]
    copies = [[] for _ in teachers]
    parts = [[] for _ in teachers]
    for (t, (_, predict_rows), _), result in zip(folds, results, strict=True):
        if result.fit_loss is not None:
            fit_losses[t].append(result.fit_loss)
        copies[t].extend(result.models)
        parts[t].append((predict_rows, result.outputs))
    for t, teacher_parts in enumerate(parts):
        if teacher_parts:
            outputs[t] = _mean_per_row(teacher_parts, n_samples, task.n_outputs)
    fit_loss = np.array([np.mean(losses) if losses else np.nan
                         for losses in fit_losses])
    return outputs, fit_loss, [models or None for models in copies]


def _mean_per_row(parts, n_samples, n_outputs):
    """Outputs per row from ``(rows, outputs)`` parts: a row that several
    parts label (a held-out row, labelled by every copy) gets their mean."""
    sums, counts = np.zeros((n_samples, n_outputs)), np.zeros((n_samples, 1))
    for rows, outputs in parts:
        sums[rows] += outputs
        counts[rows] += 1
    return sums / counts


def _fold_outputs(teacher, X, y, sample_weight, fit_rows, predict_rows, task,
                  fit_loss=False, keep=False, fitted=None):
    """A copy's outputs on the rows it never saw; with ``fit_loss``, also its
    loss on (an even sample of) the rows it was fitted on; with ``keep``, the
    copy. ``fitted``: the copy, already fitted on ``fit_rows``."""
    copy = fitted
    if copy is None:
        weight = None if sample_weight is None else sample_weight[fit_rows]
        copy = fit_one(clone(teacher), _safe_indexing(X, fit_rows), y[fit_rows],
                       weight, task)
    return _Copies(
        task.teacher_outputs(copy, _safe_indexing(X, predict_rows)),
        _fit_rows_loss(copy, X, y, sample_weight, fit_rows, task) if fit_loss
        else None, [copy] if keep else [])


def _fit_rows_loss(copy, X, y, sample_weight, fit_rows, task):
    """A copy's loss on (an even sample of at most :data:`MAX_FIT_LOSS_ROWS`
    of) the rows it was fitted on."""
    sample = fit_rows[::max(1, len(fit_rows) // MAX_FIT_LOSS_ROWS)]
    sample_weight = None if sample_weight is None else sample_weight[sample]
    return task.loss(y[sample], task.teacher_outputs(copy, _safe_indexing(X, sample)),
                     sample_weight)


def _out_of_bag_outputs(template, X, y, sample_weight, task, fit_loss, folds,
                        fit_rows, keep=False):
    """A forest fitted on ``fit_rows``: its outputs on every row, out of bag
    on those and its predictions on the others (and, with ``fit_loss``, its
    loss on the rows it was fitted on; with ``keep``, the forest), as
    :func:`_fold_outputs` gives a copy's; the copies of ``folds``, one after
    the other, when some row sat in every bootstrap sample."""
    weight = None if sample_weight is None else sample_weight[fit_rows]
    fitted, out_of_bag = fit_out_of_bag(template, _safe_indexing(X, fit_rows),
                                        y[fit_rows], weight, task)
    if fitted is None:
        return _copies_outputs(template, X, y, sample_weight, task, fit_loss, folds,
                               keep)
    outputs = np.empty((len(y), task.n_outputs))
    outputs[fit_rows] = out_of_bag
    others = np.setdiff1d(np.arange(len(y)), fit_rows)
    if len(others):
        outputs[others] = task.teacher_outputs(fitted, _safe_indexing(X, others))
    return _Copies(
        outputs, _fit_rows_loss(fitted, X, y, sample_weight, fit_rows, task)
        if fit_loss else None, [fitted] if keep else [])


def _copies_outputs(template, X, y, sample_weight, task, fit_loss, folds,
                    keep=False):
    """Every fold's copy in this job: the outputs on every row (the copies'
    mean on rows several label), with ``fit_loss`` the copies' mean loss on
    their fit rows, with ``keep`` the copies."""
    losses, models, parts = [], [], []
    for fit_rows, predict_rows in folds:
        result = _fold_outputs(template, X, y, sample_weight, fit_rows,
                               predict_rows, task, fit_loss, keep)
        if fit_loss:
            losses.append(result.fit_loss)
        models.extend(result.models)
        parts.append((predict_rows, result.outputs))
    return _Copies(_mean_per_row(parts, len(y), task.n_outputs),
                   float(np.mean(losses)) if fit_loss else None, models)


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
