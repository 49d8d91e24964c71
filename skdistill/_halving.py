"""Successive halving over the ranked candidates (HPM-KD component i, its search).

The search never sees the rows that measure the report: it works inside the
training rows, on a selection split of their real rows (:class:`SearchData`). At
rung ``k`` every candidate still in the race is fitted on the same nested,
stratified part of the other training rows (a quarter, a half, then all of them
with three rungs) and scored on the selection rows, against their labels and the
fused teachers' outputs there (``task.selection_score``); the better scored half
within the serving limits goes on (ties: the smaller model, then the better
ranked). The candidates of a rung are fitted in parallel (longest first, see
:func:`~skdistill._parallel.run_jobs`); size and latency are measured afterwards,
one model at a time. The caller refits the winner on all transfer rows.
"""

import dataclasses
import math
import pickle
from dataclasses import dataclass

import numpy as np
from joblib import effective_n_jobs

from ._chain import fit_chain
from ._parallel import estimated_cost, run_jobs
from ._task import teachers_trusted
from ._time_budget import unlimited
from ._transfer import TransferRows, TransferSet
from .metrics import count_parameters, predict_latency

MAX_RUNGS = 3
# No rung trains on fewer rows than this (fewer rungs instead).
MIN_RUNG_ROWS = 50
# Latency is measured on this many rows and reported per this many rows.
LATENCY_ROWS = 1_000
# With serving limits, candidates are first measured on students fitted on this
# many rows.
PROBE_ROWS = 256


@dataclass(frozen=True)
class SearchData:
    """What the search trains on and scores on.

    Attributes
    ----------
    training : TransferRows or TransferSet
        Rows the candidates learn from (the training rows less the selection
        rows), copied a subset at a time.
    Z_select : ndarray of shape (n_select, n_inputs)
        Selection rows, preprocessed; may be empty (no scores then).
    y_select : ndarray of shape (n_select,)
        Their true labels.
    outputs_select : ndarray of shape (n_select, n_outputs)
        The fused teachers' outputs on them.
    extra_bytes : int
        Pickled bytes of the preprocessing served with the student.
    extra_ms : float
        Preprocessing time per 1,000 rows.
    latency : callable or None
        ``latency(model)``: milliseconds per 1,000 rows of the candidate as it
        serves, preprocessing included (``latency_measure="onnx"``); None times
        the student's Python method and adds ``extra_ms``.
    """

    training: TransferRows | TransferSet
    Z_select: np.ndarray
    y_select: np.ndarray
    outputs_select: np.ndarray
    extra_bytes: int = 0
    extra_ms: float = 0.0
    latency: object = None


@dataclass(frozen=True)
class Limits:
    """The user's serving budget: the most bytes and milliseconds per 1,000 rows."""

    max_bytes: float | None = None
    max_latency_ms: float | None = None

    @property
    def any(self):
        """Whether there is a limit at all."""
        return self.max_bytes is not None or self.max_latency_ms is not None

    def excess(self, evaluation):
        """How far over its limits an evaluation is: 1.0 or less is within."""
        ratios = [1.0]
        if self.max_bytes is not None:
            ratios.append(evaluation.n_bytes / self.max_bytes)
        if self.max_latency_ms is not None:
            ratios.append(evaluation.latency_ms / self.max_latency_ms)
        return max(ratios)


@dataclass(frozen=True)
class Evaluation:
    """One candidate fitted on ``n_rows`` rows and measured on the selection rows."""

    candidate: object
    rung: object  # int, or "probe"
    n_rows: int
    # What ranks the candidates: the task's selection score (against the labels
    # and the teachers' outputs); ``accuracy`` is the task's own score.
    score: float | None
    accuracy: float | None
    fidelity: float | None
    n_bytes: int
    n_parameters: int | None
    latency_ms: float
    fit_seconds: float
    within_limits: bool
    # True for the twin without distillation of the distil-or-not check.
    twin: bool = False
    # The size check's larger candidates: the candidate each was grown from.
    grown_from: object = None
    # True for the reference's fit of the reference check.
    reference: bool = False
    # The fitted student, kept for the length of the fit: the reference and
    # size checks predict with it, and the augmentation check reuses the
    # winner's (see _configure.searched_evaluation).
    model: object = dataclasses.field(default=None, repr=False, compare=False)

    def as_experiment(self, meta, group, teachers):
        """The evaluation as an experiment of the optimization memory.

        ``meta`` are the task's meta-features; its row count becomes the rows
        this candidate was fitted on. ``group`` names the experiments made on the
        same rows (a rung of one search).
        """
        return {"dataset": {**meta, "n_rows": self.n_rows},
                "teachers": {"names": list(teachers)},
                "config": self.candidate.as_dict(),
                "val_accuracy": self.accuracy, "val_fidelity": self.fidelity,
                "student_bytes": self.n_bytes, "student_params": self.n_parameters,
                "latency_ms": self.latency_ms, "fit_seconds": self.fit_seconds,
                "extra": {"group": group, "rung": self.rung,
                          "kind": "configuration_search"}}

    def as_dict(self, score_name="accuracy"):
        """The evaluation as plain values (for the report); the task's score
        (the ``accuracy`` field) under ``score_name`` (``"r2"``), the one that
        ranks as ``"selection_score"``."""
        return {"config": self.candidate.as_dict(), "rung": self.rung,
                "rows": self.n_rows, score_name: self.accuracy,
                "selection_score": self.score, "fidelity": self.fidelity,
                "bytes": self.n_bytes,
                "parameters": self.n_parameters, "latency_ms": self.latency_ms,
                "fit_s": self.fit_seconds, "within_limits": self.within_limits}


# The search's last rung fits at most this many rows (and the earlier rungs their
# halves): above it, the search's cost stops growing with the rows, while the
# final student still trains on all of them.
MAX_SEARCH_ROWS = 20_000
# The size check runs on at least this many selection rows: below, a larger
# student rarely beats the winner by more than the noise of the two scores
# (about 3 points of accuracy on 300 rows), and its fit would be spent for
# nothing.
SIZE_CHECK_MIN_SELECTION_ROWS = 1_000

# The search's cost in proportion to the data: up to ``rows`` training rows of
# the search, at most ``fits`` fits (the distil-or-not twin included) in at most
# ``rungs`` rungs, whatever ``search_budget`` allows above that. Tiny data gets
# a tiny search: on the README's 398 rows the search of ``search_budget=12``
# cost 11 fits and 4.6 s for a student fitted in 0.02 s; its candidates differ
# little there (``benchmarks/small_data_time.py``).
SEARCH_SCALE = ((1_000, 4, 1), (5_000, 8, 2))


def scaled_search(budget, n_rows):
    """The fits and rungs a search on ``n_rows`` training rows may spend.

    Parameters
    ----------
    budget : int
        ``search_budget``: the most fits on any data.
    n_rows : int
        Rows the search's last rung trains on (the training rows less the
        selection rows, before :data:`MAX_SEARCH_ROWS`).

    Returns
    -------
    budget : int
        ``min(budget, fits)`` of the first :data:`SEARCH_SCALE` step whose
        ``rows`` is at least ``n_rows``; ``budget`` above every step.
    max_rungs : int
        That step's ``rungs``; :data:`MAX_RUNGS` above every step.
    """
    for rows, fits, rungs in SEARCH_SCALE:
        if n_rows <= rows:
            return min(budget, fits), rungs
    return budget, MAX_RUNGS


def plan_rungs(n_candidates, budget, n_rows, max_rungs=MAX_RUNGS):
    """How many candidates each rung fits, and on how many rows.

    The most candidates whose halving costs at most ``budget`` fits: rung ``k``
    of ``R`` fits ``ceil(n / 2**k)`` candidates on ``n_rows / 2**(R - 1 - k)``
    rows, with ``R = min(max_rungs, ceil(log2(n)))`` (fewer when a rung would
    have fewer than :data:`MIN_RUNG_ROWS` rows), so the last rung has two to
    four candidates on all rows (with three rungs; up to ``budget`` with one).

    Returns
    -------
    list of (int, int)
        ``(candidates, rows)`` per rung; empty when the budget buys no
        comparison (fewer than two fits, or fewer than two candidates).
    """
    for n_first in range(min(n_candidates, budget), 1, -1):
        n_rungs = min(max_rungs, math.ceil(math.log2(n_first)))
        while n_rungs > 1 and n_rows / 2 ** (n_rungs - 1) < MIN_RUNG_ROWS:
            n_rungs -= 1
        counts = [math.ceil(n_first / 2**k) for k in range(n_rungs)]
        if sum(counts) <= budget:
            return [(count, math.ceil(n_rows / 2 ** (n_rungs - 1 - k)))
                    for k, count in enumerate(counts)]
    return []


def successive_halving(ranked, plan, data, limits, fit_settings, n_jobs, seed,
                       on_rung=None, check_distillation=False, budget=None,
                       space=None, reference=None):
    """Halve the ranked candidates rung by rung on growing parts of the rows.

    Parameters
    ----------
    ranked : list of Candidate
        Best ranked first; the first ones in :func:`diverse_order` enter the
        race.
    plan : list of (int, int)
        Candidates and rows of each rung, from :func:`plan_rungs` (which
        leaves one fit of the budget for the twin with
        ``check_distillation``).
    data : SearchData
        Training and selection rows.
    limits : Limits
        Candidates over them are measured but never go on, nor win.
    fit_settings : dict
        Parameters given to every student that has them (seed, device...).
    n_jobs : int or None
        Workers for the fits of a rung.
    seed : int
        Seeds the nested parts of the rows.
    on_rung : callable, default=None
        Called with the list of evaluations of each rung, as soon as it is done.
    check_distillation : bool, default=False
        Spend one fit of the budget on the winner's twin without distillation
        (:meth:`~skdistill._candidates.Candidate.plain_twin`: alpha 0, and a
        LightGBM student at LightGBM's default learning rate), fitted
        on the last rung's rows: the twin wins when it scores strictly higher
        on the selection rows (and within the limits), on the selection
        score where the fused teachers are at least as accurate there as both
        students, on accuracy otherwise (the selection score leans towards
        the teachers).
    budget : TimeBudget, default=None
        With a limit, the candidates of a rung are fitted a batch (one per
        worker) at a time, each batch (and the twin) only when its fits and the
        final student's fit, estimated from the fits measured so far, fit in
        the time left (the very first batch when :meth:`TimeBudget.allows` lets
        it); the race ends with the best candidate measured when time runs
        out. What is cut is recorded in it.
    space : list of Candidate, default=None
        The sizes the size check may grow the winner into (the search's
        candidates within the size budget, before any serving-limit probe
        narrowed them to ``ranked``); ``ranked`` by default.
    reference : Candidate, default=None
        After the race and the twin, challenges the winner
        (:func:`_reference_check`, :func:`~._candidates.reference_candidate`).

    Then, on enough selection rows, the size check (:func:`_size_check`) may
    grow the winner (or its twin) one size at a time.

    Returns
    -------
    winner : Candidate or None
        The best scored within the limits at the last rung (grown by the size
        check, or its twin); None when every candidate was over them.
    evaluations : list of Evaluation
    """
    budget = budget or unlimited()
    order = nested_order(data.training.task.strata(data.training.y), seed)
    alive, evaluations, last, measured = diverse_order(ranked), [], [], []
    total_rows = len(data.training.y) + len(data.y_select)
    for rung, (n_candidates, n_rows) in enumerate(plan):
        subset = data.training.subset(np.sort(order[:n_rows]))
        measured = _evaluate_within(budget, alive[:n_candidates], measured, subset,
                                    data, limits, fit_settings, n_jobs, rung,
                                    total_rows)
        if len(measured) < n_candidates:
            budget.cut(f"configuration search stopped in rung {rung + 1} of "
                       f"{len(plan)}, after {len(measured)} of {n_candidates} "
                       "candidates")
        if not measured:
            return alive[0], evaluations
        evaluations += measured
        if on_rung is not None:
            on_rung(measured)
        last = sorted((e for e in measured if e.within_limits),
                      key=lambda e: (-e.score, e.n_bytes))
        alive = [e.candidate for e in last]
        if not alive:
            return None, evaluations
        if len(measured) < n_candidates:
            return alive[0], evaluations
    if not last:
        return alive[0], evaluations
    best = last[0]
    if check_distillation and _has_twin(best.candidate):
        if not budget.allows(_fit_seconds(measured, plan[-1][1], total_rows)):
            budget.cut("distil-or-not check skipped")
            return best.candidate, evaluations
        twin = best.candidate.plain_twin()
        measured = [dataclasses.replace(evaluation, twin=True) for evaluation in
                    evaluate_all([twin], subset, data, limits, fit_settings,
                                 n_jobs, rung=len(plan) - 1)]
        evaluations += measured
        if on_rung is not None:
            on_rung(measured)
        if measured[0].within_limits and _twin_wins(measured[0], best, data):
            best = measured[0]
    if reference is not None:
        final_rung = [e for e in evaluations if e.rung == len(plan) - 1]
        best, challenged = _reference_check(best, reference, final_rung, subset,
                                            data, limits, fit_settings, budget,
                                            len(plan) - 1, total_rows)
        evaluations += challenged
        if challenged and on_rung is not None:
            on_rung(challenged)
    best, grown = _size_check(best, ranked if space is None else space, subset,
                              data, limits, fit_settings, budget, len(plan) - 1,
                              total_rows)
    if grown:
        evaluations += grown
        if on_rung is not None:
            on_rung(grown)
    return best.candidate, evaluations


def _size_check(best, space, subset, data, limits, fit_settings, budget, rung,
                total_rows):
    """The size check: the winner grown one size at a time.

    On at least :data:`SIZE_CHECK_MIN_SELECTION_ROWS` selection rows, the
    winner one size up its family's ladder
    (:meth:`~skdistill._candidates.Candidate.larger`, within the search's
    ``space``), fitted on the last rung's rows, replaces it when it is within
    the limits and beats it on the selection rows by more than the noise
    (:func:`_beats_beyond_noise`); then the next size up, while each wins and
    the time left pays for it (:func:`_growth_seconds`). The paired
    comparison predicts with the winner's model from the race
    (:attr:`Evaluation.model`), refitted only where none was kept.

    Returns
    -------
    best : Evaluation
        The winner, grown or not.
    grown : list of Evaluation
        The larger candidates measured, each with ``grown_from``.
    """
    grown = []
    if len(data.y_select) < SIZE_CHECK_MIN_SELECTION_ROWS:
        return best, grown
    best_model = best.model
    while (larger := best.candidate.larger(space)) is not None:
        if not budget.allows(_growth_seconds(best, larger, len(subset.y),
                                             total_rows, best_model is None)):
            budget.cut("size check stopped")
            break
        if best_model is None:
            best_model = fit_candidate(best.candidate, subset, fit_settings)[0]
        model, seconds = fit_candidate(larger, subset, fit_settings)
        measured = measure(larger, model, seconds, rung, len(subset.y), data,
                           limits)
        grown.append(dataclasses.replace(measured, grown_from=best.candidate))
        if not (measured.within_limits
                and _beats_beyond_noise(model, best_model, data)):
            break
        best, best_model = measured, model
    return best, grown


def _reference_check(best, reference, last, subset, data, limits, fit_settings,
                     budget, rung, total_rows):
    """The reference challenges the race's winner (``best``).

    Fitted on the last rung's rows, it replaces the winner when it is within
    the limits and more accurate on the selection rows beyond the noise
    (:func:`_beats_beyond_noise`). Not made when the reference was measured
    there already (``last``: the race's and the twin's fits of that rung): it
    then lost under the race's or the twin's own rule. The ranking
    chooses which candidates race; raced as one more candidate on few
    selection rows, the reference won by chance (at 2,000 rows: three of 60
    suite fits, each 1.8-3.4 points worse on the test rows), so it must show
    a margin instead.

    Returns
    -------
    best : Evaluation
    measured : list of Evaluation
        The reference's fit, when it was made here (with ``reference=True``).
    """
    if (best.model is None
            or any(e.candidate == reference for e in [best, *last])):
        return best, []
    if not budget.allows(_fit_seconds([best], len(subset.y), total_rows)):
        budget.cut("reference check skipped")
        return best, []
    measured = [dataclasses.replace(evaluation, reference=True) for evaluation in
                evaluate_all([reference], subset, data, limits, fit_settings,
                             None, rung)]
    if measured[0].within_limits and _beats_beyond_noise(measured[0].model,
                                                         best.model, data):
        return measured[0], measured
    return best, measured


def _growth_seconds(best, larger, n_rows, total_rows, refit):
    """Expected seconds of one step of the size check: the ``larger``
    candidate's fit on ``n_rows`` rows (and the winner's refit first, with
    ``refit``), then the final student's on ``total_rows`` at the larger rate.

    ``best``'s rate per row scaled by the product of the sizes (trees times
    leaves, or depth), which grows at least as fast as the fit's cost does:
    like :func:`_fit_seconds`, it errs on the side of stopping early.
    """
    rate = best.fit_seconds / best.n_rows
    larger_rate = rate * math.prod(larger.size) / math.prod(best.candidate.size)
    return (refit * rate * n_rows + larger_rate * n_rows
            + larger_rate * total_rows)


def _beats_beyond_noise(model, other, data):
    """Whether ``model`` scores higher than ``other`` on the selection rows by
    more than twice the standard error of the paired difference (the task's
    :meth:`row_scores` of each row, a paired t-test at about 5 %)."""
    task = data.training.task
    difference = (task.row_scores(data.y_select, model.predict(data.Z_select))
                  - task.row_scores(data.y_select, other.predict(data.Z_select)))
    noise = difference.std(ddof=1) / math.sqrt(len(difference))
    return difference.mean() > 2.0 * noise


def _has_twin(candidate):
    """Whether the distil-or-not check has a twin to race ``candidate``
    against: it distils, or trains otherwise than its plain twin."""
    return candidate.alpha > 0 or (candidate.plain_twin().training()
                                   != candidate.training())


def _evaluate_within(budget, candidates, previous, subset, data, limits,
                     fit_settings, n_jobs, rung, total_rows):
    """:func:`evaluate_all`, a batch at a time while the time left allows.

    Without a limit, every candidate at once. ``previous`` are the fits of the
    last rung: with the batches measured here, they estimate the next batch.
    """
    if not budget.active:
        return evaluate_all(candidates, subset, data, limits, fit_settings, n_jobs,
                            rung)
    batch, measured = max(1, effective_n_jobs(n_jobs)), []
    for start in range(0, len(candidates), batch):
        if not budget.allows(_fit_seconds(measured or previous, len(subset.y),
                                          total_rows)):
            break
        measured += evaluate_all(candidates[start:start + batch], subset, data,
                                 limits, fit_settings, n_jobs, rung)
    return measured


def _fit_seconds(known, n_rows, total_rows):
    """Expected seconds of one more fit on ``n_rows`` rows (at the slowest
    rate per row of the ``known`` fits) and then of the final student's on
    ``total_rows`` (at the rate of the best scored); None before any fit.

    Rates per row scaled linearly: fixed costs make it an overestimate for
    larger fits, so the budget errs on the side of stopping early.
    """
    if not known:
        return None
    slowest = max(e.fit_seconds / e.n_rows for e in known)
    best = min(known, key=lambda e: (-(e.score or 0.0), e.n_bytes))
    return slowest * n_rows + best.fit_seconds / best.n_rows * total_rows


def _twin_wins(twin, distilled, data):
    """Whether the twin without distillation beats the distilled winner on the
    selection rows: on the selection score where the teachers are at least as
    accurate there as both (:func:`~._task.teachers_trusted`), on accuracy
    otherwise."""
    task = data.training.task
    if teachers_trusted(task, data.y_select, data.outputs_select,
                        [twin.accuracy, distilled.accuracy]):
        return twin.score > distilled.score
    return twin.accuracy > distilled.accuracy


def distillation_check(evaluations, winner):
    """What the twin check of :func:`successive_halving` found, or None.

    Parameters
    ----------
    evaluations : list of Evaluation
    winner : Candidate
        The race's result: the twin when it won.

    Returns
    -------
    dict or None
        ``{"distilled": ..., "hard_labels": ..., "kept_distillation": bool,
        "twin_won": bool}``: the race's winner and its plain twin, as
        :meth:`Evaluation.as_dict`, whether the served student distils (the
        winner stayed and distils) and whether the twin won; None when no
        check was made.
    """
    twins = [e for e in evaluations if e.twin]
    if not twins:
        return None
    twin = twins[-1]
    # The winner: the best scored of its rung within the limits whose twin it is.
    distilled = min((e for e in evaluations
                     if e.rung == twin.rung and not e.twin and e.within_limits
                     and e.grown_from is None and not e.reference
                     and e.candidate.plain_twin() == twin.candidate),
                    key=lambda e: (-e.score, e.n_bytes))
    checked = _before_size_check(winner, evaluations)
    return {"distilled": distilled.as_dict(), "hard_labels": twin.as_dict(),
            "kept_distillation": checked != twin.candidate and winner.alpha > 0,
            "twin_won": checked == twin.candidate}


def size_check(evaluations, winner):
    """What the size check of :func:`successive_halving` found, or None.

    Returns
    -------
    dict or None
        ``{"from": ..., "tried": [...], "grown": bool}``: the winner before
        the check and the larger candidates it measured (as
        :meth:`Evaluation.as_dict`), and whether the served student is one of
        them; None when the check measured nothing.
    """
    grown = [e for e in evaluations if e.grown_from is not None]
    if not grown:
        return None
    return {"from": grown[0].grown_from.as_dict(),
            "tried": [e.as_dict() for e in grown],
            "grown": winner != grown[0].grown_from}


def reference_check(evaluations, winner):
    """What the reference check of :func:`successive_halving` found, or None.

    Returns
    -------
    dict or None
        ``{"reference": ..., "replaced_winner": bool}``: the reference's fit
        (as :meth:`Evaluation.as_dict`) and whether it replaced the race's
        winner; None when the check fitted nothing (no reference, or it raced
        to the last rung or won the race itself).
    """
    checked = [e for e in evaluations if e.reference]
    if not checked:
        return None
    return {"reference": checked[-1].as_dict(),
            "replaced_winner": _before_size_check(winner, evaluations)
            == checked[-1].candidate}


def _before_size_check(winner, evaluations):
    """The race's winner before the size check grew it (``winner`` itself when
    it did not)."""
    for evaluation in reversed(evaluations):
        if evaluation.grown_from is not None and evaluation.candidate == winner:
            winner = evaluation.grown_from
    return winner


def probe_limits(ranked, wanted, data, limits, fit_settings, n_jobs, seed,
                 on_rung=None):
    """The ``wanted`` best ranked candidates within the serving limits.

    Candidates are fitted on :data:`PROBE_ROWS` training rows (enough to measure
    size and latency, which hardly depend on the rows), as many at a time as there
    are workers, in rank order. A candidate over the limits rules out the
    candidates of its family that are not smaller (their estimated bytes are at
    least its own): they would be no smaller nor faster.

    Returns
    -------
    within : list of Candidate
        At most ``wanted``, in rank order; empty when none is within the limits.
    evaluations : list of Evaluation
        The probes, with ``rung="probe"``.
    """
    order = nested_order(data.training.task.strata(data.training.y), seed)
    subset = data.training.subset(np.sort(order[:PROBE_ROWS]))
    n_inputs, n_classes = subset.Z.shape[1], subset.targets.shape[1]
    pool, within, evaluations = list(ranked), [], []
    while pool and len(within) < wanted:
        batch, pool = pool[:effective_n_jobs(n_jobs)], pool[effective_n_jobs(n_jobs):]
        measured = evaluate_all(batch, subset, data, limits, fit_settings, n_jobs,
                                rung="probe")
        evaluations += measured
        if on_rung is not None:
            on_rung(measured)
        ruled_out = []  # failures so far in this batch, walked in rank order
        for evaluation in measured:
            candidate = evaluation.candidate
            if any(_rules_out(failed, candidate, n_inputs, n_classes)
                   for failed in ruled_out):
                continue  # the serial walk would never have probed it
            if evaluation.within_limits:
                within.append(candidate)
                continue
            ruled_out.append(candidate)
            pool = [c for c in pool
                    if not _rules_out(candidate, c, n_inputs, n_classes)]
    return within[:wanted], evaluations


def _rules_out(failed, candidate, n_inputs, n_classes):
    """Whether ``failed`` being over the limits rules out ``candidate``."""
    return (candidate.family == failed.family
            and candidate.estimated_bytes(n_inputs, n_classes)
            >= failed.estimated_bytes(n_inputs, n_classes))


def least_over_limits(evaluations, limits):
    """The evaluated candidate closest to the limits (smallest excess ratio)."""
    return min(evaluations, key=lambda e: (limits.excess(e), e.n_bytes)).candidate


def diverse_order(ranked):
    """The ranked candidates reordered so that the first ones differ in structure.

    A structure is a family and a size; its other candidates differ only in
    temperature and alpha. First comes the best ranked structure of each family,
    then the second best of each, and so on (in rank order within each round),
    each with its best ranked temperature and alpha; the other variants follow.
    Without it a race over the top of a ranking can be six variants of one tree.
    """
    structure_slot, family_count, seen, keys = {}, {}, {}, []
    for rank, candidate in enumerate(ranked):
        structure = (candidate.family, tuple(candidate.size))
        if structure not in structure_slot:
            structure_slot[structure] = family_count.get(candidate.family, 0)
            family_count[candidate.family] = structure_slot[structure] + 1
        variant = seen.get(structure, 0)
        seen[structure] = variant + 1
        keys.append((variant, structure_slot[structure], rank))
    return [ranked[i] for i in sorted(range(len(ranked)), key=keys.__getitem__)]


def nested_order(strata, seed):
    """A row order whose every prefix is stratified and holds every stratum."""
    rng = np.random.RandomState(seed)
    position = np.empty(len(strata))
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        position[rng.permutation(rows)] = np.arange(len(rows)) / len(rows)
    return np.lexsort((rng.random_sample(len(strata)), position))


def evaluate_all(candidates, transfer, data, limits, fit_settings, n_jobs, rung):
    """Fit the candidates on ``transfer`` (in parallel), then measure each."""
    jobs = [(c, transfer, fit_settings) for c in candidates]
    costs = [estimated_cost(c.make_student(), len(transfer.y), transfer.Z.shape[1])
             for c in candidates]
    fitted = run_jobs(fit_candidate, jobs, costs, n_jobs)
    return [measure(c, model, seconds, rung, len(transfer.y), data, limits)
            for c, (model, seconds) in zip(candidates, fitted, strict=True)]


def fit_candidate(candidate, transfer, fit_settings):
    """The candidate's student fitted on ``transfer``, and the seconds it took."""
    student = candidate.make_student()
    known = student.get_params(deep=False)
    student.set_params(**{k: v for k, v in fit_settings.items() if k in known})
    step = fit_chain(student, [], transfer, candidate.student_temperature(),
                     candidate.alpha, transfer.Z.shape[1],
                     transfer.targets.shape[1])[-1]
    return step.model, step.seconds


def _python_latency_ms(model, data):
    """Milliseconds per 1,000 rows of the student's Python method, and the
    preprocessing's."""
    latency_rows = data.training.subset(
        np.resize(np.arange(len(data.training.y)), LATENCY_ROWS)).Z
    serve = data.training.task.serving_method(model)
    return (1000.0 * predict_latency(serve, latency_rows)
            * LATENCY_ROWS / len(latency_rows) + data.extra_ms)


def measure(candidate, model, seconds, rung, n_rows, data, limits):
    """Selection score, accuracy and fidelity on the selection rows, size and
    latency."""
    accuracy, selection, agreement = score(
        model, data.Z_select, data.y_select, data.outputs_select,
        data.training.task)
    latency_ms = (data.latency(model) if data.latency is not None
                  else _python_latency_ms(model, data))
    n_bytes = len(pickle.dumps(model, protocol=5)) + data.extra_bytes
    evaluation = Evaluation(candidate, rung, n_rows, selection, accuracy,
                            agreement, n_bytes, count_parameters(model),
                            latency_ms, seconds, True, model=model)
    within = limits.excess(evaluation) <= 1.0
    return Evaluation(**{**evaluation.__dict__, "within_limits": within})


def score(model, Z, y, outputs, task):
    """The task's score, selection score and agreement of ``model`` on rows
    ``Z`` against their targets ``y`` and the fused teachers' ``outputs``;
    None each without rows.

    For classification: accuracy, the expected accuracy against the labels
    and the teachers (``task.selection_score``), and fidelity; the first two
    in the order of :meth:`~._transfer.TransferSet.scores`.
    """
    if len(y) == 0:
        return None, None, None
    predicted = model.predict(Z)
    return (task.score(y, predicted), task.selection_score(y, predicted, outputs),
            task.agreement(predicted, task.predictions(outputs)))


def pareto_front(evaluations, cost):
    """The candidates no other beats on selection score and on ``cost`` at once.

    Each candidate counts once, by its evaluation at its highest rung (the most
    rows); one dominates another when it scores at least as high (the score the
    search ranks by) and is at most as costly, and strictly better on one of
    the two.

    Parameters
    ----------
    evaluations : list of Evaluation
    cost : {"n_bytes", "latency_ms"}

    Returns
    -------
    list of Evaluation
        The non-dominated ones, cheapest first.
    """
    latest = {}
    for evaluation in evaluations:
        if evaluation.score is not None:
            latest[evaluation.candidate] = evaluation
    points = list(latest.values())

    def dominates(a, b):
        ca, cb = getattr(a, cost), getattr(b, cost)
        return (a.score >= b.score and ca <= cb
                and (a.score > b.score or ca < cb))

    front = [p for p in points if not any(dominates(q, p) for q in points)]
    return sorted(front, key=lambda e: getattr(e, cost))
