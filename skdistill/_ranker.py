"""What the adaptive configuration learned from past experiments (component i).

* :func:`meta_features` describes a task: its rows, columns, classes, and how the
  teachers do on their out-of-fold outputs on the training rows.
* :class:`Ranker` learns, from past experiments, which configurations beat the
  others of the same experiment on tasks like this one: the experiments that ship
  with the package (the prior of the task's kind, ``skdistill/data/prior.json``
  made by ``python -m benchmarks.make_prior`` for classification,
  ``regression_prior.json`` by ``python -m benchmarks.make_regression_prior``
  for regression) and those of the optimization memory,
  weighted :data:`MEMORY_WEIGHT` times more.
"""

import json
import math
from functools import lru_cache
from importlib import resources

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from ._candidates import (
    FAMILIES,
    LGBM_SIZES,
    MLP_SIZE_LADDER,
    TREE_DEPTHS,
    Candidate,
)

# Rows of the memory count up to this many times a row of the prior in the
# ranker: this many for a task like the one at hand, less the farther its task is
# (squared distance d2 of the meta-features, in standard deviations of the prior's
# tasks: weight MEMORY_WEIGHT * exp(-d2 / _SIMILARITY_SCALE)).
MEMORY_WEIGHT = 4.0
_SIMILARITY_SCALE = 10.0
META_FEATURES = ("n_rows", "n_features", "n_inputs", "n_classes", "class_entropy",
                 "categorical_fraction", "n_teachers", "teacher_accuracy",
                 "teacher_confidence", "teacher_disagreement")
# A numeric column with at most this many distinct integer values counts as
# categorical-like; they are counted on at most _CATEGORICAL_SAMPLE rows.
_CATEGORICAL_MAX_LEVELS = 10
# Scores below this count as this in the ranker: a diverged regression student
# (R² far below 0) would otherwise drag its group's mean and make every other
# candidate look good. Accuracies never reach it.
SCORE_FLOOR = -1.0
_CATEGORICAL_SAMPLE = 2_000


def meta_features(X, y, n_inputs, teacher_outputs, task):
    """What the configuration knows of a task before training a student.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The training rows, as given to ``fit``.
    y : ndarray of shape (n_samples,)
        Their targets.
    n_inputs : int
        Width of the student's preprocessed input.
    teacher_outputs : ndarray of shape (n_teachers, n_samples, n_outputs)
        The teachers' out-of-fold outputs on the training rows.
    task : ClassificationTask
        Describes the targets and the teachers (``task.target_meta``).

    Returns
    -------
    dict
        ``task``, the task's kind (``"classification"``, ``"regression"``:
        the ranker reads experiments of the same kind only), and the keys of
        :data:`META_FEATURES`: rows, raw features, preprocessed
        inputs, the fraction of categorical-like columns and the number of
        teachers, then the task's own (for classification: classes, class
        entropy, and the accuracy, mean top probability and mean pairwise
        disagreement of the teachers).
    """
    n_teachers, n_rows, _ = teacher_outputs.shape
    return {
        "n_rows": int(n_rows),
        "n_features": int(np.shape(X)[1]),
        "n_inputs": int(n_inputs),
        "categorical_fraction": categorical_fraction(X),
        "n_teachers": int(n_teachers),
        **task.target_meta(y, teacher_outputs),
        "task": task.kind,
    }


def categorical_fraction(X):
    """Fraction of columns that are categorical or look it.

    Categorical, string, object and boolean columns of a DataFrame count, and so
    do numeric columns with at most 10 distinct integer values.
    """
    if hasattr(X, "columns"):
        flags = [_categorical_column(X[name]) for name in X.columns]
    else:
        X = np.asarray(X, dtype=np.float64)
        flags = [_few_integer_levels(X[:, j]) for j in range(X.shape[1])]
    return float(np.mean(flags)) if flags else 0.0


def _categorical_column(column):
    """Whether a DataFrame column is categorical (not a number) or looks it."""
    if column.dtype.kind not in "iuf":  # object, category, string, boolean
        return True
    return _few_integer_levels(column.to_numpy(dtype=np.float64, na_value=np.nan))


def _few_integer_levels(values):
    values = values[:_CATEGORICAL_SAMPLE]
    values = values[np.isfinite(values)]
    if len(values) == 0 or np.any(values != np.round(values)):
        return False
    return len(np.unique(values)) <= _CATEGORICAL_MAX_LEVELS



def meta_vector(meta):
    """The meta-features as the ranker reads them (counts on a log scale)."""
    logged = ("n_rows", "n_features", "n_inputs")
    return [math.log10(max(1.0, float(meta[name]))) if name in logged
            else float(meta[name]) for name in META_FEATURES]


class Ranker:
    """Predicts how much a candidate beats the others of its experiment.

    Each past experiment group (the candidates evaluated on the same rows of the
    same task) gives, per candidate, its accuracy minus the group's mean accuracy,
    so that the difficulty of a task cancels; a random forest maps the task's
    meta-features and the candidate's description to that relative score.

    Parameters
    ----------
    prior : list of dict
        Experiments that ship with the package.
    memory : list of dict, default=()
        Experiments of the optimization memory.
    meta : dict or None, default=None
        Meta-features of the task at hand. A memory experiment weighs
        ``MEMORY_WEIGHT * exp(-d2 / 10)`` rows of the prior, ``d2`` the squared
        distance of its task's meta-features to these, each in standard
        deviations over the prior's tasks: up to 4 rows for a task like this
        one, next to nothing for an unrelated one. ``None``: 4 rows each.

    Attributes
    ----------
    n_rows_ : dict of str to int
        Usable experiment rows from the prior and from the memory.
    """

    def __init__(self, prior, memory=(), meta=None):
        prior_rows, prior_targets = _training_rows(prior)
        memory_rows, memory_targets = _training_rows(memory)
        self.n_rows_ = {"prior": len(prior_targets), "memory": len(memory_targets)}
        rows, targets = prior_rows + memory_rows, prior_targets + memory_targets
        weights = [1.0] * len(prior_rows) + _memory_weights(memory_rows, prior_rows,
                                                            meta)
        self._model = None
        if rows:
            self._model = RandomForestRegressor(
                n_estimators=100, min_samples_leaf=3, max_features=0.6,
                random_state=0, n_jobs=1)
            self._model.fit(np.asarray(rows), np.asarray(targets),
                            sample_weight=np.asarray(weights))

    def predict(self, meta, candidates):
        """Predicted relative accuracy of each candidate (zeros without data)."""
        if self._model is None:
            return np.zeros(len(candidates))
        base = meta_vector(meta)
        rows = [base + c.features(meta["n_inputs"], meta["n_classes"])
                for c in candidates]
        return self._model.predict(np.asarray(rows))

    def rank(self, meta, candidates):
        """The candidates, best predicted first; ties go to the smaller model.

        Returns
        -------
        ranked : list of Candidate
        scores : list of float
            Their predicted relative accuracies, in the same order.
        """
        scores = self.predict(meta, candidates)
        n_inputs, n_classes = meta["n_inputs"], meta["n_classes"]
        order = sorted(range(len(candidates)), key=lambda i: (
            -scores[i], candidates[i].estimated_bytes(n_inputs, n_classes), i))
        return [candidates[i] for i in order], [float(scores[i]) for i in order]


def _memory_weights(memory_rows, prior_rows, meta):
    """The weight of each memory row: MEMORY_WEIGHT, less for distant tasks."""
    if meta is None or not memory_rows:
        return [MEMORY_WEIGHT] * len(memory_rows)
    n_meta = len(META_FEATURES)
    reference = np.unique(np.asarray(prior_rows or memory_rows)[:, :n_meta], axis=0)
    scale = reference.std(axis=0) if len(reference) > 1 else np.ones(n_meta)
    scale = np.where(scale > 1e-9, scale, 1.0)
    distance = (np.asarray(memory_rows)[:, :n_meta] - meta_vector(meta)) / scale
    squared = np.sum(distance**2, axis=1)
    return list(MEMORY_WEIGHT * np.exp(-squared / _SIMILARITY_SCALE))


def _training_rows(experiments):
    """Ranker rows (meta-features + candidate) and relative accuracies.

    Experiments without a group, a usable configuration or an accuracy are left
    out, and so are groups of fewer than two distinct configurations.
    """
    groups = {}
    for experiment in experiments:
        parsed = _parse(experiment)
        if parsed is not None:
            groups.setdefault(parsed[0], []).append(parsed[1:])
    rows, targets = [], []
    for members in groups.values():
        if len({candidate for _, candidate, _ in members}) < 2:
            continue
        members = [(meta, candidate, max(accuracy, SCORE_FLOOR))
                   for meta, candidate, accuracy in members]
        mean = np.mean([accuracy for _, _, accuracy in members])
        for meta, candidate, accuracy in members:
            rows.append(meta_vector(meta) + candidate.features(meta["n_inputs"],
                                                               meta["n_classes"]))
            targets.append(accuracy - mean)
    return rows, targets


def _parse(experiment):
    """``(group, meta, candidate, accuracy)`` of one experiment, or None."""
    group = (experiment.get("extra") or {}).get("group")
    meta = experiment.get("dataset") or {}
    config = experiment.get("config") or {}
    accuracy = experiment.get("val_accuracy")
    if (group is None or accuracy is None or config.get("family") not in FAMILIES
            or any(meta.get(name) is None for name in META_FEATURES)):
        return None
    try:
        candidate = Candidate.from_dict(config)
        candidate.features(meta["n_inputs"], meta["n_classes"])
    except (KeyError, TypeError, ValueError):
        return None
    return group, meta, candidate, float(accuracy)


# The prior of each kind of task, in ``skdistill/data/``: classification's made
# by ``python -m benchmarks.make_prior``, regression's by
# ``python -m benchmarks.make_regression_prior``.
PRIOR_FILES = {"classification": "prior.json",
               "regression": "regression_prior.json"}


def load_prior(kind="classification"):
    """The experiments of a kind of task that ship with the package.

    Parameters
    ----------
    kind : {"classification", "regression"}, default="classification"
        The task's kind: ``data/prior.json`` or ``data/regression_prior.json``.

    Returns
    -------
    list of dict
        Experiments in the memory's format; empty when the file is missing.
    """
    path = resources.files("skdistill") / "data" / PRIOR_FILES[kind]
    if not path.is_file():
        return []
    return json.loads(path.read_text())["experiments"]


def prior_ranker(kind="classification"):
    """The ranker of the kind's prior alone, fitted once per process."""
    return _prior_ranker(kind)  # one cache key per kind, however it is passed


@lru_cache(maxsize=2)
def _prior_ranker(kind):
    return Ranker(load_prior(kind))


def task_of(experiment):
    """The kind of task an experiment was made on; unmarked ones (before
    regression fits were recorded) are classification."""
    return (experiment.get("dataset") or {}).get("task", "classification")


def ranker_for(memory_experiments, meta=None, kind="classification"):
    """The ranker to use, and where its knowledge comes from.

    Only experiments of the task's kind count: a regression fit never ranks
    the candidates of a classification task, nor the reverse.

    Parameters
    ----------
    memory_experiments : list of dict
        Experiments read from the optimization memory (may be empty).
    meta : dict or None, default=None
        Meta-features of the task at hand: memory experiments on tasks far from
        it weigh less (see :class:`Ranker`).
    kind : {"classification", "regression"}, default="classification"
        The task's kind (``task.kind``).

    Returns
    -------
    ranker : Ranker or FixedOrder
    source : {"memory+prior", "prior", "memory", "fixed order", "none"}
        ``"memory+prior"`` when the memory holds at least one usable group,
        with the kind's prior (:data:`PRIOR_FILES`). Without a prior of the
        kind (a missing file), a regression task is ranked by its own memory
        experiments (``"memory"``) or by :class:`FixedOrder` (``"fixed
        order"``).
    """
    memory_experiments = [e for e in memory_experiments if task_of(e) == kind]
    prior = prior_ranker(kind)
    if memory_experiments:
        ranker = Ranker(load_prior(kind), memory_experiments, meta)
        if ranker.n_rows_["memory"]:
            return ranker, ("memory+prior" if ranker.n_rows_["prior"]
                            else "memory")
    if prior.n_rows_["prior"]:
        return prior, "prior"
    return (FixedOrder(), "fixed order") if kind != "classification" else (
        prior, "none")


class FixedOrder:
    """The ranking of a task without a prior nor a memory of its kind.

    A fixed, documented order, not learned: alpha 0.7, then 0.9, 0.5 and no
    distillation (alpha 0); the family's default learning rate first (then
    the others, lowest first) and, for the MLP, the shorter training first;
    sizes from the middle of each family's ladder outwards (the default
    size first); ties to the smaller estimated size. The search then races
    the first of each family (:func:`~._halving.diverse_order`).
    """

    def rank(self, meta, candidates):
        """The candidates in the fixed order, and zero predicted scores."""
        ranked = sorted(candidates, key=lambda c: fixed_order_key(
            c, meta["n_inputs"], meta["n_classes"]))
        return ranked, [0.0] * len(ranked)


_ALPHA_ORDER = (0.7, 0.9, 0.5, 0.0)


def fixed_order_key(candidate, n_inputs, n_classes):
    """Where :class:`FixedOrder` puts a candidate (smaller first)."""
    ladder = {"mlp": MLP_SIZE_LADDER, "lgbm": LGBM_SIZES,
              "tree": tuple((d,) for d in TREE_DEPTHS)}.get(candidate.family, ((),))
    size = tuple(candidate.size)
    middle = (len(ladder) - 1) / 2
    distance = abs(ladder.index(size) - middle) if size in ladder else len(ladder)
    rate, epochs = candidate.training()
    default_rate = {"mlp": 1e-3, "lgbm": 0.1}.get(candidate.family)
    alpha = (_ALPHA_ORDER.index(candidate.alpha) if candidate.alpha in _ALPHA_ORDER
             else len(_ALPHA_ORDER))
    return (alpha, rate != default_rate, rate or 0.0, epochs or 0, distance,
            candidate.estimated_bytes(n_inputs, n_classes))
