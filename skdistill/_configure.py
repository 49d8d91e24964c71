"""Adaptive configuration of the student (HPM-KD component i): the fit's step.

An explicit ``student`` is used as given. ``student="auto"`` ranks the
candidate space (:mod:`._candidates`) with what the prior and the optimization
memory learned (:mod:`._ranker`), then races the best ranked by successive
halving on a selection split of the training rows (:mod:`._halving`), within
the size budget and the serving limits.
"""

import dataclasses
import time
import uuid
import warnings
from dataclasses import dataclass, field
from functools import partial
from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples
from tqdm.auto import tqdm

from ._candidates import (
    FAMILIES,
    SCHEDULE_FAMILIES,
    candidate_space,
    reference_candidate,
    with_fixed,
    within_size_budget,
)
from ._chain import fit_chain
from ._halving import (
    LATENCY_ROWS,
    MAX_SEARCH_ROWS,
    Limits,
    SearchData,
    distillation_check,
    least_over_limits,
    plan_rungs,
    probe_limits,
    reference_check,
    scaled_search,
    size_check,
    successive_halving,
)
from ._parallel import run_jobs
from ._progress import logger
from ._ranker import ranker_for
from ._served_latency import served_latency_ms
from ._task import teachers_trusted
from ._temperature import AdaptiveTemperature, as_scheduler
from ._transfer import TransferRows, selection_rows, selection_split
from .exceptions import SkdistillWarning
from .metrics import model_size, predict_latency
from .students import REGRESSION_STUDENT_FAMILIES, STUDENT_FAMILIES

# temperature="auto" for students that take a number: the middle of the 1-4 range
# of Hinton et al. (2015); students that follow a schedule get AdaptiveTemperature,
# which starts here.
CONSTANT_TEMPERATURE = 2.0
# alpha="auto" for a student the user chose.
DEFAULT_ALPHA = 0.7


@dataclass(frozen=True)
class Configuration:
    """What the student is fitted with, and how it was chosen.

    Attributes
    ----------
    student : estimator
        The unfitted student, with the fit's seed, verbosity and device.
    temperature : float or scheduler
        Given to the student's ``fit``.
    alpha : float
        Weight of the soft targets.
    details : dict
        What ``report_.details["configuration"]`` shows.
    evaluations : list of Evaluation
        Every candidate the search fitted and measured.
    """

    student: object
    temperature: object
    alpha: float
    details: dict
    evaluations: list = field(default_factory=list)


@dataclass(frozen=True)
class Request:
    """The distiller's parameters that the configuration reads."""

    student: object
    temperature: object
    alpha: object
    distill_loss: str | None
    chain: object
    min_compression: float | None
    search_budget: int | None
    limits: Limits
    device: str
    verbose: int
    n_jobs: int | None
    latency_measure: str = "python"

    @classmethod
    def from_params(cls, params):
        """The request of a distiller's parameters (``get_params(deep=False)``)."""
        return cls(
            student=params["student"], temperature=params.get("temperature"),
            alpha=params["alpha"], distill_loss=params.get("distill_loss"),
            chain=params.get("chain", False),
            min_compression=params.get("min_compression"),
            search_budget=params.get("search_budget"),
            limits=Limits(params["max_student_bytes"], params["max_latency_ms"]),
            device=params["device"], verbose=params["verbose"],
            n_jobs=params["n_jobs"],
            latency_measure=params.get("latency_measure", "python"))


def configure(request, transfer, teacher_size, preprocessor, X_student, meta,
              memory, teacher_names, seed, time_budget=None):
    """The student, temperature and alpha to fit.

    Parameters
    ----------
    request : Request
        What the user asked for.
    transfer : TransferSet
        The training rows and their targets.
    teacher_size : ModelSize
        Sets the size budget with ``min_compression``.
    preprocessor : transformer
        The student's fitted preprocessing, served with it.
    X_student : array-like or DataFrame
        The training rows in the student's columns (to time the preprocessing).
    meta : dict or None
        The task's meta-features (see :func:`~._ranker.meta_features`).
    memory : OptimizationMemory or None
        Its experiments refine the ranking; the search's evaluations go there.
    teacher_names : list of str
        What the memory records of the teachers.
    seed : int
        Seeds the search and the student.
    time_budget : TimeBudget, default=None
        The fit's ``time_limit``: the search stops when it runs out.

    Returns
    -------
    Configuration
    """
    if request.student != "auto":
        student = student_template(request.student,
                                   transfer.task.student_families)
        return Configuration(
            with_fit_settings(student, request, seed), user_temperature(request),
            DEFAULT_ALPHA if request.alpha == "auto" else request.alpha,
            {"source": "user", "config": config_of(student)})
    n_inputs, n_classes = transfer.Z.shape[1], transfer.targets.shape[1]
    preprocessor_size = model_size(preprocessor)
    kind = transfer.task.kind
    ranker, source = ranker_for(
        [] if memory is None else memory.experiments(), meta, kind)
    ranked, predicted = ranker.rank(meta, candidates(
        request, teacher_size, preprocessor_size, n_inputs, n_classes, kind))
    winner, evaluations = search(
        ranked, lambda: search_data(transfer, preprocessor, preprocessor_size,
                                    X_student, seed, request.latency_measure),
        request, seed, search_recorder(memory, meta, teacher_names), time_budget)
    details = {
        "source": source, "config": winner.as_dict(),
        "search_budget": request.search_budget, "n_fits": len(evaluations),
        "rungs": len({e.rung for e in evaluations if e.rung != "probe"}),
        "distillation_check": distillation_check(evaluations, winner),
        "reference_check": reference_check(evaluations, winner),
        "size_check": size_check(evaluations, winner),
        "meta_features": meta,
        "ranking": [{"config": c.as_dict(), "predicted": p}
                    for c, p in zip(ranked[:5], predicted, strict=False)],
    }
    return Configuration(
        with_fit_settings(winner.make_student(), request, seed),
        winner.student_temperature(), winner.alpha, details, evaluations)


def distil_or_not(transfer, configuration, seed, n_jobs):
    """A named student with ``alpha="auto"``: its default alpha, or 0.

    The configured student is fitted twice on the transfer set less its
    selection rows (:func:`~._transfer.selection_split`, the rows of the
    augmentation check), with the configured alpha and with 0 (the true
    target alone); 0 is kept only when it scores strictly higher on the
    selection rows, as the search's distil-or-not twin is: on the selection
    score where the fused teachers are at least as accurate there as both fits
    (:func:`~._task.teachers_trusted`), on the task's score otherwise.

    Returns
    -------
    configuration : Configuration
        With the chosen alpha; ``details["distillation_check"]`` has both
        scores and whether the distillation was kept.
    scores : tuple of float or None
        The chosen fit's score and selection score on the selection rows
        (:meth:`~._transfer.TransferSet.scores`): the augmentation check's fit
        without MUNGE rows, which it need not repeat (None when nothing was
        fitted).
    """
    training, select = selection_split(transfer, seed)
    if len(select) == 0:
        return _with_check(configuration, configuration.alpha, {
            "kept_distillation": True, "reason": "too few rows to choose on"}), None
    alphas = (configuration.alpha, 0.0)
    n_inputs, n_outputs = transfer.Z.shape[1], transfer.targets.shape[1]
    jobs = [(configuration.student, [], training, configuration.temperature,
             alpha, n_inputs, n_outputs) for alpha in alphas]
    chains = run_jobs(fit_chain, jobs, [len(training.y)] * 2, n_jobs)
    scores = [transfer.scores(chain[-1].model, select) for chain in chains]
    decisive = int(teachers_trusted(transfer.task, transfer.y[select],
                                    transfer.targets[select],
                                    [score for score, _ in scores]))
    chosen = 1 if scores[1][decisive] > scores[0][decisive] else 0
    name = transfer.task.score_name
    check = {"distilled": {"alpha": alphas[0], name: scores[0][0]},
             "hard_labels": {"alpha": 0.0, name: scores[1][0]},
             "kept_distillation": chosen == 0}
    return _with_check(configuration, alphas[chosen], check), scores[chosen]


def _with_check(configuration, alpha, check):
    return dataclasses.replace(configuration, alpha=alpha, details={
        **configuration.details, "distillation_check": check})


def runner_up(configuration, request, seed):
    """The search's best candidate of another family than the winner's, as a
    :class:`Configuration` (None when the search measured none).

    The search races its candidates without MUNGE rows; ``augment="auto"``
    then tries them on the winner alone. A student that learns from the
    synthetic rows more than from the real ones (a network, against a linear
    winner) can lose the race and still be the better student with them, so
    the check tries the runner-up with them as well
    (:func:`~._augment.augmentation_check`). Among the race's candidates
    measured within the serving limits (not its twin's nor its reference's
    fits, which the ranking did not choose), on the most rows each was fitted
    on, the best
    scored (``Evaluation.score``, the selection score) of another family; its
    ``details`` keep the search's, with its own ``config``, so that
    :func:`searched_scores` finds its fit.
    """
    winner = configuration.details.get("config", {}).get("family")
    best = {}
    for evaluation in configuration.evaluations:
        candidate = evaluation.candidate
        if (evaluation.rung == "probe" or evaluation.twin or evaluation.reference
                or evaluation.score is None or not evaluation.within_limits
                or candidate.family == winner):
            continue
        key = repr(candidate.as_dict())
        if key not in best or evaluation.n_rows > best[key].n_rows:
            best[key] = evaluation
    if not best:
        return None
    chosen = max(best.values(), key=lambda e: (e.n_rows, e.score)).candidate
    return Configuration(
        with_fit_settings(chosen.make_student(), request, seed),
        chosen.student_temperature(), chosen.alpha,
        {**configuration.details, "config": chosen.as_dict()},
        configuration.evaluations)


def searched_scores(configuration, n_rows):
    """The configured student's score (the task's: accuracy, R²) and selection
    score on the selection rows, if the search measured them after training on
    ``n_rows`` rows (:func:`searched_evaluation`); else None."""
    evaluation = searched_evaluation(configuration, n_rows)
    return None if evaluation is None else (evaluation.accuracy, evaluation.score)


def searched_evaluation(configuration, n_rows):
    """The search's :class:`~._halving.Evaluation` of the configured student
    trained on ``n_rows`` rows, with its fitted ``model``; else None.

    The search fits each candidate with the fit's seed on nested parts of the
    training rows less the selection rows; when the winner's last fit trained
    on all ``n_rows`` of them (the search's rows are all the training rows up
    to :data:`~._halving.MAX_SEARCH_ROWS`, and its last rung was not cut), it
    is the very fit the augmentation check makes without MUNGE rows.
    """
    config = configuration.details.get("config")
    for evaluation in reversed(configuration.evaluations):
        if (evaluation.rung != "probe" and evaluation.n_rows == n_rows
                and evaluation.accuracy is not None
                and evaluation.candidate.as_dict() == config):
            return evaluation
    return None


def candidates(request, teacher_size, preprocessor_size, n_inputs, n_classes,
               kind="classification"):
    """The candidate space of the task's ``kind`` less what the user fixed or
    the budgets exclude."""
    families = FAMILIES
    scheduled = request.temperature is not None and not (  # None: regression
        isinstance(request.temperature, Real) or request.temperature == "auto")
    if scheduled:
        families = SCHEDULE_FAMILIES  # a schedule: students that follow one
    elif not isinstance(request.chain, (str, bool)) and request.chain > 0:
        families = tuple(f for f in families if f != "linear")  # no size
    space = with_fixed(
        candidate_space(families, kind),
        temperature=None if request.temperature == "auto" else request.temperature,
        alpha=None if request.alpha == "auto" else request.alpha)
    max_bytes, max_parameters = np.inf, None
    if request.min_compression is not None:
        max_bytes = teacher_size.n_bytes / request.min_compression
        if teacher_size.n_parameters is not None:
            max_parameters = teacher_size.n_parameters / request.min_compression
    if request.limits.max_bytes is not None:
        max_bytes = min(max_bytes, request.limits.max_bytes)
    return within_size_budget(space, n_inputs, n_classes,
                              max_bytes=max_bytes - preprocessor_size.n_bytes,
                              max_parameters=max_parameters)


def search_data(transfer, preprocessor, preprocessor_size, X_student, seed,
                latency_measure="python"):
    """The selection split of the search, and the preprocessing's cost.

    With ``latency_measure="onnx"`` the candidates' latency is their graph's,
    preprocessing included, on :data:`LATENCY_ROWS` raw rows.
    """
    training, select = selection_rows(transfer, seed)
    search = partial(SearchData, TransferRows(transfer, training),
                     transfer.Z[select], transfer.y[select],
                     transfer.targets[select],
                     extra_bytes=preprocessor_size.n_bytes)
    if latency_measure == "onnx":
        rows = np.resize(np.arange(_num_samples(X_student)), LATENCY_ROWS)
        return search(latency=partial(served_latency_ms, preprocessor,
                                      _safe_indexing(X_student, rows)))
    rows = np.arange(min(LATENCY_ROWS, _num_samples(X_student)))
    sample = _safe_indexing(X_student, rows)
    return search(extra_ms=(1000.0 * predict_latency(preprocessor.transform, sample)
                            * LATENCY_ROWS / _num_samples(sample)))


def search(ranked, make_data, request, seed, on_rung, time_budget=None):
    """The winning candidate and every evaluation the search made.

    ``make_data`` builds the :class:`SearchData`, only when it is needed.
    With serving limits, the best ranked candidates within them are found
    first (probes on a few rows, not counted in ``search_budget``). Each rung
    is logged (and, with ``verbose=2``, counted on a bar) as it ends.
    """
    limits = request.limits
    if not request.search_budget and not limits.any:
        return ranked[0], []
    data = make_data()
    settings = {"random_state": seed, "device": request.device, "verbose": 0,
                **loss_setting(request)}
    # Fewer fits and rungs on small data (the rule: _halving.SEARCH_SCALE).
    budget, max_rungs = scaled_search(request.search_budget or 0,
                                      len(data.training.y))
    # "Distil or not" is one more fit, when the race still has two or more.
    check_distillation = request.alpha == "auto" and budget >= 3
    search_rows = min(len(data.training.y), MAX_SEARCH_ROWS)
    plan = (plan_rungs(len(ranked), budget - check_distillation, search_rows,
                       max_rungs) if len(data.y_select) else [])
    n_fits = None if limits.any else (sum(count for count, _ in plan)
                                      + check_distillation * (len(plan) > 0))
    with RungFeedback(on_rung, request.verbose, n_fits) as on_rung:
        return _race(ranked, plan, data, request, settings, seed, on_rung,
                     check_distillation, time_budget, (budget, max_rungs))


def _race(ranked, plan, data, request, settings, seed, on_rung,
          check_distillation, time_budget, scale):
    """:func:`search` once its rows and rungs are planned; ``scale`` is the
    ``(budget, max_rungs)`` of :func:`~._halving.scaled_search`."""
    limits, (budget, max_rungs) = request.limits, scale
    evaluations, space = [], ranked
    if limits.any:
        ranked, evaluations = probe_limits(
            ranked, plan[0][0] if plan else 1, data, limits, settings,
            request.n_jobs, seed, on_rung)
        if not ranked:
            return closest_to_limits(evaluations, limits), evaluations
        # Fewer candidates within the limits: the rungs are planned for them.
        plan = plan_rungs(len(ranked), budget - check_distillation,
                          min(len(data.training.y), MAX_SEARCH_ROWS),
                          max_rungs) if plan else []
    if not plan or len(ranked) < 2:
        return ranked[0], evaluations
    reference = reference_candidate(space)
    winner, searched = successive_halving(
        ranked, plan, data, limits, settings, request.n_jobs, seed, on_rung,
        check_distillation=check_distillation, budget=time_budget, space=space,
        reference=reference)
    evaluations += searched
    if winner is None:
        winner = closest_to_limits(searched, limits)
    return winner, evaluations


def closest_to_limits(evaluations, limits):
    """The candidate closest to the serving limits, with a warning."""
    closest = least_over_limits(evaluations, limits)
    warnings.warn(
        f"No candidate student was within max_student_bytes={limits.max_bytes} "
        f"and max_latency_ms={limits.max_latency_ms}; the closest one is used: "
        f"{closest.as_dict()}.", SkdistillWarning, stacklevel=9)
    return closest


class RungFeedback:
    """Each rung of the search, as it ends: logged at INFO with its duration.

    With ``verbose >= 2`` a bar counts the search's fits (``n_fits``, None when
    unknown in advance) rung by rung. Called with a rung's evaluations, it
    passes them on to ``on_rung`` (e.g. :func:`search_recorder`'s callback).
    """

    def __init__(self, on_rung, verbose, n_fits):
        self.on_rung = on_rung
        self.bar = tqdm(total=n_fits, desc="search", unit="fit", leave=False,
                        disable=verbose < 2, dynamic_ncols=True)
        self.start = time.perf_counter()

    def __call__(self, evaluations):
        now = time.perf_counter()
        seconds, self.start = now - self.start, now
        first = evaluations[0]
        scores = [e.score for e in evaluations if e.score is not None]
        name = ("twin check" if first.twin else "size check"
                if first.grown_from is not None else "reference check"
                if first.reference else f"rung {first.rung}")
        logger.info("search %s: %d candidate(s) on %d rows, best selection score %s: "
                    "%.2f s", name, len(evaluations), first.n_rows,
                    f"{max(scores):.4f}" if scores else "-", seconds,
                    extra={"phase": "search_rung", "rung": first.rung,
                           "seconds": seconds})
        self.bar.set_postfix_str(name)
        if self.bar.total is not None:  # the size check's fits are not planned
            self.bar.total = max(self.bar.total, self.bar.n + len(evaluations))
        self.bar.update(len(evaluations))
        if self.on_rung is not None:
            self.on_rung(evaluations)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.bar.close()


def search_recorder(memory, meta, teacher_names):
    """A callback that records each rung of the search in the memory, or None."""
    if memory is None:
        return None
    run = uuid.uuid4().hex

    def record(evaluations):
        for evaluation in evaluations:
            memory.record(evaluation.as_experiment(
                meta, f"{run}/rung{evaluation.rung}", teacher_names))

    return record


def follows_schedules(student):
    """Whether ``student`` (a family name, "auto" or an instance) takes a schedule."""
    if student == "auto":
        return True  # the configuration keeps to families that do
    family = STUDENT_FAMILIES[student] if isinstance(student, str) else type(student)
    return getattr(family, "accepts_temperature_schedule", False)


def user_temperature(request):
    """The temperature (a number or a fresh scheduler) of a student the user chose.

    ``None`` for a distiller without a temperature (the regressor's).
    """
    if request.temperature is None:
        return None
    if request.temperature != "auto":
        return as_scheduler(request.temperature)
    if follows_schedules(request.student):
        return AdaptiveTemperature()
    return CONSTANT_TEMPERATURE


def student_template(student, families=STUDENT_FAMILIES):
    """The unfitted student the user asked for (a family or an instance).

    ``families`` maps the family names to the task's student classes
    (``task.student_families``).
    """
    if not isinstance(student, str):
        return clone(student)
    return families[student]()


def with_fit_settings(student, request, seed):
    """The student with the distiller's seed, verbosity and device.

    The student shows its bar over epochs or rounds at the distiller's
    ``verbose=2``.
    """
    params = {"verbose": int(request.verbose >= 2), "device": request.device,
              **loss_setting(request)}
    if isinstance(request.student, str) or student.get_params().get(
            "random_state", 0) is None:
        params["random_state"] = seed
    known = student.get_params(deep=False)
    return student.set_params(**{k: v for k, v in params.items() if k in known})


def loss_setting(request):
    """The distiller's ``distill_loss`` for the students that take one (the
    regressor has none)."""
    if request.distill_loss is None:
        return {}
    return {"distill_loss": request.distill_loss}


def family_of(student):
    """The family name of a student (or the name itself); ``"custom"`` if unknown."""
    if isinstance(student, str):
        return student
    for families in (STUDENT_FAMILIES, REGRESSION_STUDENT_FAMILIES):
        for family, cls in families.items():
            if type(student) is cls:
                return family
    return "custom"


def config_of(student):
    """What the memory records of a student the user gave."""
    family = family_of(student)
    params = student.get_params(deep=False)
    if family == "mlp":
        return {"family": family,
                "size": [int(s) for s in np.ravel(params["hidden_layer_sizes"])]}
    if family == "lgbm":
        return {"family": family,
                "size": [int(params["n_estimators"]), int(params["num_leaves"])]}
    if family == "tree" and params["max_depth"] is not None:
        return {"family": family, "size": [int(params["max_depth"])]}
    return {"family": family}
