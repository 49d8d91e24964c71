"""Progressive distillation chain (HPM-KD component ii).

Between the teachers and the student, "assistants" of the student's family with
geometrically shrinking capacity (Mirzadeh et al., 2020, "Improved Knowledge
Distillation via Teacher Assistant"): with ``m`` assistants there are ``K = m + 1``
steps and step ``k`` has capacity

    C_k = C_teacher ** (1 - k / K) * C_student ** (k / K),   k = 1 .. K,

so that every model is the same factor smaller than the one before it. Capacity
is counted as the report counts it: weights of a network, nodes of trees.

The first assistant learns from the fused teachers' targets ``p``; every later
step learns from ``MIXING * q_prev + (1 - MIXING) * p``, where ``q_prev`` is the
previous step's output on the same rows (``task.serving_method``: predicted
probabilities for classification, predictions for regression): the student
hears a model close to its own size, and the teachers never drop out of its
targets. The regression students scale as their classification twins do.
"""

import copy
import inspect
import math
import time
from dataclasses import dataclass

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import clone

from ._capacity import mlp_parameters, student_capacity, student_family
from ._parallel import run_jobs
from ._transfer import selection_split
from .students import STUDENT_FAMILIES

# Weight of the previous step's probabilities in a step's targets (the rest is the
# fused teachers'): equal voices, so neither the nearest model nor the teachers
# dominate.
MIXING = 0.5
# chain="auto" keeps neighbouring models at least this factor apart in capacity (a
# model barely larger than the next teaches it nothing new), and tries at most
# _MAX_AUTO_ASSISTANTS assistants.
MIN_STEP_RATIO = 4.0
_MAX_AUTO_ASSISTANTS = 3
# Widest layer an assistant network may have.
_MAX_MLP_WIDTH = 4096
_MAX_LGBM_LEAVES = 4096
_MAX_XGB_DEPTH = 12
# The families whose size the chain scales (classification's and regression's).
_SCALABLE = ("mlp", "tree", "lgbm", "xgb")


@dataclass(frozen=True)
class ChainStep:
    """One fitted model of a chain: an assistant, or the student at the end."""

    model: object
    capacity: float | None
    seconds: float


def scalable_capacity(student, n_inputs, n_classes):
    """The student's capacity where the chain can scale it, else ``None``.

    Networks, trees with ``max_depth`` or ``max_leaf_nodes``, and boosters
    scale; a linear model has a single size.
    """
    if student_family(student) not in _SCALABLE:
        return None
    return student_capacity(student, n_inputs, n_classes)


def with_capacity(student, capacity, n_inputs, n_classes):
    """An unfitted copy of ``student`` grown (or shrunk) to about ``capacity``.

    MLPs scale every hidden layer by one factor; trees set ``max_leaf_nodes``;
    boosters scale their trees and their rounds each by the square root of the
    capacity ratio.
    """
    own = scalable_capacity(student, n_inputs, n_classes)
    params = student.get_params(deep=False)
    factor = capacity / own
    family = student_family(student)
    if family == "mlp":
        hidden = _scaled_widths(tuple(params["hidden_layer_sizes"]), capacity,
                                n_inputs, n_classes, params["numeric_embedding"])
        return clone(student).set_params(hidden_layer_sizes=hidden)
    if family == "tree":
        return clone(student).set_params(
            max_depth=None, max_leaf_nodes=max(2, round((capacity + 1) / 2)))
    trees_per_round = n_classes if n_classes > 2 else 1
    if family == "lgbm":
        leaves = int(np.clip(round(params["num_leaves"] * math.sqrt(factor)), 2,
                             _MAX_LGBM_LEAVES))
        rounds = max(1, round(capacity / ((2 * leaves - 1) * trees_per_round)))
        return clone(student).set_params(num_leaves=leaves, n_estimators=rounds)
    if family == "xgb":
        depth = int(np.clip(round(params["max_depth"]
                                  + math.log2(math.sqrt(factor))), 1, _MAX_XGB_DEPTH))
        rounds = max(1, round(capacity / ((2 ** (depth + 1) - 1) * trees_per_round)))
        return clone(student).set_params(max_depth=depth, n_estimators=rounds)
    raise ValueError(f"{type(student).__name__} has no capacity to scale.")


def _scaled_widths(hidden, capacity, n_inputs, n_classes, embedding=None):
    """Hidden widths, all scaled by one factor, whose network (with its numeric
    ``embedding``) has ~``capacity``."""
    def widths(scale):
        return tuple(int(min(_MAX_MLP_WIDTH, max(1, round(h * scale))))
                     for h in hidden)

    low, high = 1e-3, float(_MAX_MLP_WIDTH)
    for _ in range(60):  # bisection on the scale; the count grows with it
        middle = math.sqrt(low * high)
        if mlp_parameters(n_inputs, widths(middle), n_classes,
                          embedding) < capacity:
            low = middle
        else:
            high = middle
    return min((widths(low), widths(high)), key=lambda w: abs(
        mlp_parameters(n_inputs, w, n_classes, embedding) - capacity))


def assistant_capacities(teacher_capacity, own_capacity, n_assistants):
    """Capacities of the assistants, largest first (the geometric rule above)."""
    steps = n_assistants + 1
    return [teacher_capacity ** (1 - k / steps) * own_capacity ** (k / steps)
            for k in range(1, steps)]


def max_auto_assistants(teacher_capacity, own_capacity):
    """Most assistants ``chain="auto"`` tries: neighbours >= MIN_STEP_RATIO apart."""
    if teacher_capacity is None or own_capacity is None or own_capacity <= 0:
        return 0
    ratio = teacher_capacity / own_capacity
    if ratio < MIN_STEP_RATIO ** 2:
        return 0
    return min(_MAX_AUTO_ASSISTANTS,
               int(math.floor(math.log(ratio) / math.log(MIN_STEP_RATIO))) - 1)


def fit_chain(student, capacities, transfer, temperature, alpha, n_inputs,
              n_classes):
    """Fit the assistants of ``capacities`` in turn, then the student.

    Parameters
    ----------
    student : estimator
        Unfitted student; the assistants are copies of it at other sizes.
    capacities : list of float
        Capacities of the assistants, largest first (may be empty).
    transfer : TransferSet
        Rows and the fused teachers' targets.
    temperature : float or scheduler
        Each step gets its own copy.
    alpha : float
        Weight of the soft targets.
    n_inputs, n_classes : int
        Width of the rows and number of classes.

    Returns
    -------
    list of ChainStep
        The assistants, then the student.
    """
    models = [with_capacity(student, c, n_inputs, n_classes) for c in capacities]
    models.append(clone(student))
    targets, steps = transfer.targets, []
    for model, capacity in zip(models, [*capacities, None], strict=True):
        start = time.perf_counter()
        extra = {}
        if temperature is not None:  # None: a student without one (regression)
            extra["temperature"] = copy.deepcopy(temperature)
        if (transfer.synthetic is not None
                and "synthetic_rows" in inspect.signature(model.fit).parameters):
            extra["synthetic_rows"] = transfer.synthetic
        model.fit(transfer.Z, transfer.y, sample_weight=transfer.weight,
                  soft_targets=targets, alpha=alpha, **extra)
        steps.append(ChainStep(model, capacity, time.perf_counter() - start))
        if capacity is not None:
            previous = np.reshape(transfer.task.serving_method(model)(transfer.Z),
                                  transfer.targets.shape)
            targets = MIXING * previous + (1 - MIXING) * transfer.targets
    own = scalable_capacity(student, n_inputs, n_classes)
    steps[-1] = ChainStep(steps[-1].model, own, steps[-1].seconds)
    return steps


def fit_branches(student, teacher_capacity, branches, temperature, alpha, n_inputs,
                 n_classes, n_jobs):
    """Fit one chain per ``(n_assistants, transfer set)`` branch, in parallel.

    Returns
    -------
    list of list of ChainStep
        One chain per branch.
    """
    own = scalable_capacity(student, n_inputs, n_classes)
    plans = [assistant_capacities(teacher_capacity, own, m) if m else []
             for m, _ in branches]
    jobs = [(student, plan, transfer, temperature, alpha, n_inputs, n_classes)
            for plan, (_, transfer) in zip(plans, branches, strict=True)]
    # Cost: rows times total capacity of the branch (its student included).
    costs = [len(transfer.y) * (sum(plan) + (own or 1.0))
             for plan, (_, transfer) in zip(plans, branches, strict=True)]
    return run_jobs(fit_chain, jobs, costs, n_jobs,
                    kinds=[f"chain:{type(student).__name__}"] * len(jobs))


def choose_assistants(scores, max_assistants, min_improvement):
    """How many assistants to keep, from the scores measured so far.

    Walks from no assistant upwards and adds one while the next count improves the
    score by at least ``min_improvement``.

    Parameters
    ----------
    scores : dict of int to float
        Validation fidelity of the final student per number of assistants.
    max_assistants : int
        Largest count allowed.
    min_improvement : float
        Smallest gain that earns another step.

    Returns
    -------
    chosen : int
        The count to keep so far.
    next_to_try : int or None
        The count whose score would decide whether to go on, or ``None`` when the
        walk has stopped.
    """
    chosen = 0
    while chosen < max_assistants:
        if chosen + 1 not in scores:
            return chosen, chosen + 1
        if scores[chosen + 1] < scores[chosen] + min_improvement:
            break
        chosen += 1
    return chosen, None


def check_chain_fits_student(chain, student, families=STUDENT_FAMILIES):
    """Raise a ValueError when a fixed chain is asked of a student of one size.

    ``families`` maps the family names to the task's student classes
    (``task.student_families``).
    """
    if isinstance(chain, (str, bool)) or chain == 0 or student == "auto":
        return  # the configuration keeps to families that scale
    template = families[student]() if isinstance(student, str) else student
    if scalable_capacity(template, n_inputs=1, n_classes=2) is None:
        raise ValueError(
            f"chain={chain} needs a student whose size can be scaled (an MLP, "
            f"a tree with max_depth or max_leaf_nodes, a LightGBM or XGBoost "
            f"student); {student!r} has a single size."
        )


def fit_student(configuration, transfer, teacher_capacity, chain, min_improvement,
                seed, n_jobs):
    """Fit the chain ending in the configured student on the transfer set.

    Parameters
    ----------
    configuration : Configuration
        The student, its temperature and alpha.
    transfer : TransferSet
        The rows and targets the chain learns from (its selection rows, from
        ``X_val``, only choose: see :meth:`TransferSet.trainable`).
    teacher_capacity : float
        The teachers' capacity (parameters, see ``ModelSize.capacity``).
    chain : "auto", bool or int
        The distiller's ``chain``: how many assistants, or search them.
    min_improvement : float
        Selection fidelity that earns ``chain="auto"`` one more assistant.
    seed : int
        Seeds the selection split of the chain search.
    n_jobs : int or None
        Workers for the chain search's branches.

    Returns
    -------
    steps : list of ChainStep
        The assistants, then the student.
    search : dict of int to float
        With ``chain="auto"``: selection fidelity per number of assistants.
    """
    n_inputs, n_classes = transfer.Z.shape[1], transfer.targets.shape[1]
    student = clone(configuration.student)
    own_capacity = scalable_capacity(student, n_inputs, n_classes)
    search, refitted = {}, None
    if chain is False:
        n_assistants = 0
    elif chain is True or chain == "auto":
        n_assistants, search, refitted = _search_assistants(
            student, teacher_capacity, own_capacity, transfer, configuration,
            min_improvement, seed, n_jobs)
    else:
        n_assistants = int(chain)
    if refitted is not None:
        return refitted, search
    capacities = (assistant_capacities(teacher_capacity, own_capacity,
                                       n_assistants) if n_assistants else [])
    steps = fit_chain(student, capacities, transfer.trainable(),
                      configuration.temperature,
                      configuration.alpha, n_inputs, n_classes)
    return steps, search


def _search_assistants(student, teacher_capacity, own_capacity, transfer,
                       configuration, min_improvement, seed, n_jobs):
    """The number of assistants chosen on a selection split of the real rows.

    Branches with 0, 1, 2... assistants train on the rest of the transfer set
    (several at a time with ``n_jobs``); an assistant is kept while it raises
    the student's fidelity to the fused teachers on the selection rows by at
    least ``min_improvement``. With several workers, the plain student is
    refitted on all rows alongside the first branches, in case the search
    keeps no assistant: a worker would otherwise idle.

    Returns
    -------
    n_assistants : int
    scores : dict of int to float
    refitted : list of ChainStep or None
        The chosen chain already fitted on all rows, if it was.
    """
    max_assistants = max_auto_assistants(teacher_capacity, own_capacity)
    training, select = selection_split(transfer, seed)
    if max_assistants == 0 or len(select) == 0:
        return 0, {}, None
    task = transfer.task
    teacher_pred = task.predictions(transfer.targets[select])
    n_inputs, n_classes = transfer.Z.shape[1], transfer.targets.shape[1]
    batch = max(1, effective_n_jobs(n_jobs))
    scores, next_count, plain_refit = {}, 0, None
    while next_count is not None:
        counts = list(range(next_count,
                            min(max_assistants, next_count + batch - 1) + 1))
        branches = [(count, training) for count in counts]
        speculate = batch > 1 and next_count == 0
        if speculate:
            branches.append((0, transfer.trainable()))
        chains = fit_branches(student, teacher_capacity, branches,
                              configuration.temperature, configuration.alpha,
                              n_inputs, n_classes, n_jobs)
        if speculate:
            plain_refit = chains.pop()
        for count, steps in zip(counts, chains, strict=True):
            student_pred = steps[-1].model.predict(transfer.Z[select])
            scores[count] = task.agreement(student_pred, teacher_pred)
        chosen, next_count = choose_assistants(scores, max_assistants,
                                               min_improvement)
    return chosen, scores, plain_refit if chosen == 0 else None


def chain_report(chain, Z_valid, y_valid, teacher_pred, task):
    """Each step of the chain measured on the validation rows."""
    rows = []
    for index, step in enumerate(chain):
        predicted = step.model.predict(Z_valid)
        rows.append({
            "role": "student" if index == len(chain) - 1 else "assistant",
            "capacity": step.capacity,
            task.score_name: task.score(y_valid, predicted),
            "fidelity": task.agreement(predicted, teacher_pred),
            "time_s": step.seconds,
        })
    return rows
