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
previous step's predicted probabilities on the same rows: the student hears a
model close to its own size, and the teachers never drop out of its targets.
"""

import copy
import inspect
import math
import time
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from ._configure import mlp_parameters
from ._parallel import run_jobs
from .students import LGBMStudent, MLPStudent, TreeStudent, XGBStudent

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


@dataclass(frozen=True)
class TransferSet:
    """The rows a student learns from: preprocessed inputs and their targets."""

    Z: np.ndarray
    y: np.ndarray
    targets: np.ndarray
    weight: np.ndarray | None
    synthetic: np.ndarray | None = None

    @property
    def n_synthetic(self):
        """Number of synthetic rows in the set."""
        return 0 if self.synthetic is None else int(self.synthetic.sum())

    def extended(self, Z, y, targets):
        """Append synthetic rows (weighted like an average real row)."""
        n_real, n_new = len(self.y), len(y)
        weight = None
        if self.weight is not None:
            weight = np.concatenate([self.weight,
                                     np.full(n_new, self.weight.mean())])
        synthetic = np.concatenate([np.zeros(n_real, bool), np.ones(n_new, bool)])
        return TransferSet(np.vstack([self.Z, Z]), np.concatenate([self.y, y]),
                           np.vstack([self.targets, targets]), weight, synthetic)

    def subset(self, rows):
        """The set restricted to ``rows``."""
        weight = None if self.weight is None else self.weight[rows]
        synthetic = None if self.synthetic is None else self.synthetic[rows]
        return TransferSet(self.Z[rows], self.y[rows], self.targets[rows], weight,
                           synthetic)


@dataclass(frozen=True)
class ChainStep:
    """One fitted model of a chain: an assistant, or the student at the end."""

    model: object
    capacity: float | None
    seconds: float


def student_capacity(student, n_inputs, n_classes):
    """Capacity of a student family member before fitting, or ``None``.

    Weights and biases of an MLP; the most nodes a tree or a booster's trees may
    grow. ``None`` where the family has a single size (linear models), no bound
    (a tree without ``max_depth`` or ``max_leaf_nodes``), or is not known.
    """
    params = student.get_params(deep=False)
    if type(student) is MLPStudent:
        return float(mlp_parameters(n_inputs, tuple(params["hidden_layer_sizes"]),
                                    n_classes))
    if type(student) is TreeStudent:
        bounds = []
        if params["max_depth"] is not None:
            bounds.append(2 ** (params["max_depth"] + 1) - 1)
        if params["max_leaf_nodes"] is not None:
            bounds.append(2 * params["max_leaf_nodes"] - 1)
        return float(min(bounds)) if bounds else None
    trees_per_round = n_classes if n_classes > 2 else 1
    if type(student) is LGBMStudent:
        return float(params["n_estimators"] * (2 * params["num_leaves"] - 1)
                     * trees_per_round)
    if type(student) is XGBStudent:
        return float(params["n_estimators"] * (2 ** (params["max_depth"] + 1) - 1)
                     * trees_per_round)
    return None


def with_capacity(student, capacity, n_inputs, n_classes):
    """An unfitted copy of ``student`` grown (or shrunk) to about ``capacity``.

    MLPs scale every hidden layer by one factor; trees set ``max_leaf_nodes``;
    boosters scale their trees and their rounds each by the square root of the
    capacity ratio.
    """
    own = student_capacity(student, n_inputs, n_classes)
    params = student.get_params(deep=False)
    factor = capacity / own
    if type(student) is MLPStudent:
        hidden = _scaled_widths(tuple(params["hidden_layer_sizes"]), capacity,
                                n_inputs, n_classes)
        return clone(student).set_params(hidden_layer_sizes=hidden)
    if type(student) is TreeStudent:
        return clone(student).set_params(
            max_depth=None, max_leaf_nodes=max(2, round((capacity + 1) / 2)))
    trees_per_round = n_classes if n_classes > 2 else 1
    if type(student) is LGBMStudent:
        leaves = int(np.clip(round(params["num_leaves"] * math.sqrt(factor)), 2,
                             _MAX_LGBM_LEAVES))
        rounds = max(1, round(capacity / ((2 * leaves - 1) * trees_per_round)))
        return clone(student).set_params(num_leaves=leaves, n_estimators=rounds)
    if type(student) is XGBStudent:
        depth = int(np.clip(round(params["max_depth"]
                                  + math.log2(math.sqrt(factor))), 1, _MAX_XGB_DEPTH))
        rounds = max(1, round(capacity / ((2 ** (depth + 1) - 1) * trees_per_round)))
        return clone(student).set_params(max_depth=depth, n_estimators=rounds)
    raise ValueError(f"{type(student).__name__} has no capacity to scale.")


def _scaled_widths(hidden, capacity, n_inputs, n_classes):
    """Hidden widths, all scaled by one factor, whose network has ~``capacity``."""
    def widths(scale):
        return tuple(int(min(_MAX_MLP_WIDTH, max(1, round(h * scale))))
                     for h in hidden)

    low, high = 1e-3, float(_MAX_MLP_WIDTH)
    for _ in range(60):  # bisection on the scale; the count grows with it
        middle = math.sqrt(low * high)
        if mlp_parameters(n_inputs, widths(middle), n_classes) < capacity:
            low = middle
        else:
            high = middle
    return min((widths(low), widths(high)), key=lambda w: abs(
        mlp_parameters(n_inputs, w, n_classes) - capacity))


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
        if (transfer.synthetic is not None
                and "synthetic_rows" in inspect.signature(model.fit).parameters):
            extra["synthetic_rows"] = transfer.synthetic
        model.fit(transfer.Z, transfer.y, sample_weight=transfer.weight,
                  soft_targets=targets, temperature=copy.deepcopy(temperature),
                  alpha=alpha, **extra)
        steps.append(ChainStep(model, capacity, time.perf_counter() - start))
        if capacity is not None:
            targets = (MIXING * model.predict_proba(transfer.Z)
                       + (1 - MIXING) * transfer.targets)
    own = student_capacity(student, n_inputs, n_classes)
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
    own = student_capacity(student, n_inputs, n_classes)
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
