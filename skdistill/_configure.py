"""Adaptive configuration of the student (HPM-KD component i): what to try first.

* :func:`meta_features` describes a task: its rows, columns, classes, and how the
  teachers do on their out-of-fold outputs on the training rows.
* :func:`candidate_space` lists the configurations a student may take: a family
  (MLP, LightGBM, tree, linear), a size, a temperature, an alpha (0: no
  distillation, the student learns the hard labels), and for the students that
  train by steps a learning rate and a number of epochs.
* :class:`Ranker` learns, from past experiments, which configurations beat the
  others of the same experiment on tasks like this one: the experiments that ship
  with the package (the prior, ``skdistill/data/prior.json``, made by
  ``python -m benchmarks.make_prior``) and those of the optimization memory,
  weighted :data:`MEMORY_WEIGHT` times more.

The budgeted search over the ranked candidates is in ``_halving.py``.
"""

import dataclasses
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from numbers import Real

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from ._temperature import as_scheduler
from .students import LGBMStudent, LinearStudent, MLPStudent, TreeStudent

# MLP hidden layers, widest first.
MLP_SIZE_LADDER = ((128, 64), (64, 32), (32, 16), (16,), (8,), (4,))
# LightGBM (n_estimators, num_leaves) and tree depths, largest last.
LGBM_SIZES = ((10, 7), (25, 7), (50, 15), (100, 31))
TREE_DEPTHS = (3, 5, 7, 9)
# Students that follow a schedule try the adaptive one and two constants; the
# others take a number.
SCHEDULE_TEMPERATURES = ("adaptive", 2.0, 4.0)
CONSTANT_TEMPERATURES = (1.0, 2.0, 4.0)
# Weights of the soft targets. Each structure also has one twin at alpha 0, the
# student on the hard labels alone (the search may find that distilling does not
# pay); its temperature is unused and fixed to NO_DISTILLATION_TEMPERATURE.
ALPHAS = (0.5, 0.7, 0.9)
NO_DISTILLATION_TEMPERATURE = 1.0
# Learning rates per family (the students' defaults are 1e-3 and 0.1); the MLP's
# epochs are its most epochs, its early-stopping patience a tenth of them.
LEARNING_RATES = {"mlp": (1e-3, 3e-3, 1e-2), "lgbm": (0.05, 0.1, 0.3)}
MLP_EPOCHS = (100, 300)
_MLP_PATIENCE_SHARE = 10
_MLP_DEFAULTS = MLPStudent()
_DEFAULT_TRAINING = {"mlp": (_MLP_DEFAULTS.learning_rate, _MLP_DEFAULTS.max_epochs),
                     "lgbm": (LGBMStudent().learning_rate, None)}
FAMILIES = ("mlp", "lgbm", "tree", "linear")
SCHEDULE_FAMILIES = ("mlp", "lgbm")
# Pickled fitted MLPStudent minus its float32 weights: torch state dict, sklearn
# wrapper and training curves. Measured with ``len(pickle.dumps(student))`` on
# students fitted inside HPMDistiller: 7.4 kB to 9.1 kB.
_MLP_PICKLE_OVERHEAD_BYTES = 10_000
# Pickled TreeStudent: ~1.5 kB, plus per node the 64-byte node record and one
# float64 per class. Pickled LGBMStudent: ~6 kB, 212 B per tree, 53 B per node
# (fitted on 3,000 rows, 2 and 5 classes: within 10 % of these).
_TREE_BYTES = (1_500, 64, 8)
_LGBM_BYTES = (6_000, 212, 53)
_LINEAR_BYTES = 1_000
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
_CATEGORICAL_SAMPLE = 2_000


def mlp_parameters(n_inputs, hidden_layer_sizes, n_outputs):
    """Weights and biases of a fully connected network."""
    widths = (n_inputs, *hidden_layer_sizes, n_outputs)
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))


@dataclass(frozen=True)
class Configuration:
    """What the student is fitted with, and how it was chosen.

    Attributes
    ----------
    student : estimator
        The unfitted student.
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


def meta_features(X, y, n_inputs, teacher_proba):
    """What the configuration knows of a task before training a student.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The training rows, as given to ``fit``.
    y : ndarray of shape (n_samples,)
        Labels encoded ``0 .. n_classes - 1``.
    n_inputs : int
        Width of the student's preprocessed input.
    teacher_proba : ndarray of shape (n_teachers, n_samples, n_classes)
        The teachers' out-of-fold probabilities on the training rows.

    Returns
    -------
    dict
        The keys of :data:`META_FEATURES`: rows, raw features, preprocessed
        inputs, classes, class entropy (normalised to [0, 1]), the fraction of
        categorical-like columns, the number of teachers, and the accuracy, mean
        top probability and mean pairwise disagreement of the teachers.
    """
    n_teachers, n_rows, n_classes = teacher_proba.shape
    shares = np.bincount(y, minlength=n_classes) / n_rows
    shares = shares[shares > 0]
    mean = teacher_proba.mean(axis=0)
    predicted = teacher_proba.argmax(axis=2)
    pairs = [(i, j) for i in range(n_teachers) for j in range(i + 1, n_teachers)]
    return {
        "n_rows": int(n_rows),
        "n_features": int(np.shape(X)[1]),
        "n_inputs": int(n_inputs),
        "n_classes": int(n_classes),
        "class_entropy": float(-np.sum(shares * np.log(shares)) / np.log(n_classes)),
        "categorical_fraction": categorical_fraction(X),
        "n_teachers": int(n_teachers),
        "teacher_accuracy": float(np.mean(mean.argmax(axis=1) == y)),
        "teacher_confidence": float(np.mean(mean.max(axis=1))),
        "teacher_disagreement": float(np.mean(
            [np.mean(predicted[i] != predicted[j]) for i, j in pairs]) if pairs
            else 0.0),
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


@dataclass(frozen=True)
class Candidate:
    """One configuration of the student: family, size, targets and training.

    Parameters
    ----------
    family : {"mlp", "lgbm", "tree", "linear"}
        The student family.
    size : tuple of int
        Hidden layer widths (mlp), ``(n_estimators, num_leaves)`` (lgbm),
        ``(max_depth,)`` (tree), ``()`` (linear).
    temperature : float, str or scheduler, default="adaptive"
        What the student's ``fit`` gets as ``temperature`` (a name of a schedule
        is resolved by :func:`~skdistill._temperature.as_scheduler`).
    alpha : float, default=0.7
        Weight of the soft targets; 0 trains on the hard labels alone.
    learning_rate : float or None, default=None
        The MLP's or LightGBM's learning rate; None keeps the student's default.
    epochs : int or None, default=None
        The MLP's most epochs, with early stopping after ``epochs // 10``
        epochs without progress; None keeps the student's defaults (200 and 10).
    """

    family: str
    size: tuple = ()
    temperature: object = "adaptive"
    alpha: float = 0.7
    learning_rate: float | None = None
    epochs: int | None = None

    def make_student(self):
        """The unfitted student of this configuration."""
        training = {}
        if self.learning_rate is not None:
            training["learning_rate"] = self.learning_rate
        if self.family == "mlp":
            if self.epochs is not None:
                training.update(max_epochs=self.epochs, n_iter_no_change=max(
                    1, self.epochs // _MLP_PATIENCE_SHARE))
            return MLPStudent(hidden_layer_sizes=tuple(self.size), **training)
        if self.family == "lgbm":
            n_estimators, num_leaves = self.size
            return LGBMStudent(n_estimators=n_estimators, num_leaves=num_leaves,
                               **training)
        if self.family == "tree":
            return TreeStudent(max_depth=self.size[0])
        return LinearStudent()

    def student_temperature(self):
        """A fresh number or scheduler for the student's ``fit``."""
        return as_scheduler(self.temperature)

    def without_distillation(self):
        """The same student and training on the hard labels alone (alpha 0)."""
        return dataclasses.replace(self, alpha=0.0,
                                   temperature=NO_DISTILLATION_TEMPERATURE)

    def as_dict(self):
        """The configuration as JSON-friendly values (what the memory stores)."""
        temperature = self.temperature
        if not isinstance(temperature, (str, Real)):
            temperature = type(temperature).__name__
        config = {"family": self.family, "size": [int(s) for s in self.size],
                  "temperature": temperature if isinstance(temperature, str)
                  else float(temperature), "alpha": float(self.alpha)}
        if self.learning_rate is not None:
            config["learning_rate"] = float(self.learning_rate)
        if self.epochs is not None:
            config["epochs"] = int(self.epochs)
        return config

    @classmethod
    def from_dict(cls, config):
        """The candidate :meth:`as_dict` described."""
        learning_rate, epochs = config.get("learning_rate"), config.get("epochs")
        return cls(config["family"], tuple(config.get("size") or ()),
                   config.get("temperature", "adaptive"),
                   float(config.get("alpha", 0.7)),
                   None if learning_rate is None else float(learning_rate),
                   None if epochs is None else int(epochs))

    def capacity(self, n_inputs, n_classes):
        """Most learned parameters (weights, or tree nodes) this student can have."""
        trees_per_round = n_classes if n_classes > 2 else 1
        if self.family == "mlp":
            return mlp_parameters(n_inputs, tuple(self.size), n_classes)
        if self.family == "lgbm":
            n_estimators, num_leaves = self.size
            return n_estimators * trees_per_round * (2 * num_leaves - 1)
        if self.family == "tree":
            return 2 ** (self.size[0] + 1) - 1
        return n_classes * (n_inputs + 1)

    def estimated_bytes(self, n_inputs, n_classes):
        """Pickled size of the fitted student, at most (trees at full growth)."""
        capacity = self.capacity(n_inputs, n_classes)
        if self.family == "mlp":
            return 4 * capacity + _MLP_PICKLE_OVERHEAD_BYTES
        if self.family == "lgbm":
            base, per_tree, per_node = _LGBM_BYTES
            trees = self.size[0] * (n_classes if n_classes > 2 else 1)
            return base + per_tree * trees + per_node * capacity
        if self.family == "tree":
            base, per_node, per_class = _TREE_BYTES
            return base + capacity * (per_node + per_class * n_classes)
        return _LINEAR_BYTES + 8 * capacity

    def features(self, n_inputs, n_classes):
        """Numbers describing the candidate to the ranker."""
        temperature = self.temperature
        if isinstance(temperature, str):
            scheduled, temperature = 1.0, float(as_scheduler(temperature).start)
        elif isinstance(temperature, Real):
            scheduled, temperature = 0.0, float(temperature)
        else:
            scheduled = 1.0
            temperature = float(getattr(temperature, "start", 2.0))
        depth = {"mlp": len(self.size),
                 "lgbm": math.log2(self.size[1]) if self.family == "lgbm" else 0,
                 "tree": self.size[0] if self.family == "tree" else 0}
        learning_rate, epochs = self.training()
        return [*(float(self.family == f) for f in FAMILIES),
                math.log10(max(1, self.capacity(n_inputs, n_classes))),
                float(depth.get(self.family, 0)), scheduled, temperature,
                float(self.alpha), float(self.alpha == 0),
                math.log10(learning_rate) if learning_rate else 0.0,
                math.log10(epochs) if epochs else 0.0]

    def training(self):
        """The learning rate and epochs the student trains with (None: no such)."""
        if self.family not in LEARNING_RATES:
            return None, None
        default_rate, default_epochs = _DEFAULT_TRAINING[self.family]
        return self.learning_rate or default_rate, self.epochs or default_epochs


def candidate_space(families=FAMILIES):
    """Every configuration of ``families`` the manager may try.

    Returns
    -------
    list of Candidate
        Sizes of :data:`MLP_SIZE_LADDER`, :data:`LGBM_SIZES` and
        :data:`TREE_DEPTHS`; the learning rates of :data:`LEARNING_RATES` and (MLP)
        the epochs of :data:`MLP_EPOCHS`; each with every temperature of its kind
        and every alpha of :data:`ALPHAS`, and once without distillation
        (alpha 0, :meth:`Candidate.without_distillation`).
    """
    sizes = {"mlp": MLP_SIZE_LADDER, "lgbm": LGBM_SIZES,
             "tree": tuple((d,) for d in TREE_DEPTHS), "linear": ((),)}
    space = []
    for family in families:
        temperatures = (SCHEDULE_TEMPERATURES if family in SCHEDULE_FAMILIES
                        else CONSTANT_TEMPERATURES)
        for size in sizes[family]:
            for learning_rate, epochs in _training_grid(family):
                base = Candidate(family, size, learning_rate=learning_rate,
                                 epochs=epochs)
                space += [dataclasses.replace(base, temperature=t, alpha=a)
                          for t in temperatures for a in ALPHAS]
                space.append(base.without_distillation())
    return space


def _training_grid(family):
    """The (learning rate, epochs) pairs of a family; (None, None) without them."""
    rates = LEARNING_RATES.get(family, (None,))
    epochs = MLP_EPOCHS if family == "mlp" else (None,)
    return [(rate, epoch) for rate in rates for epoch in epochs]


def with_fixed(candidates, temperature=None, alpha=None):
    """The candidates with the temperature and/or alpha the user fixed, deduplicated."""
    return list(dict.fromkeys(
        dataclasses.replace(
            candidate,
            temperature=candidate.temperature if temperature is None else temperature,
            alpha=candidate.alpha if alpha is None else alpha)
        for candidate in candidates))


def within_size_budget(candidates, n_inputs, n_classes, max_bytes=None,
                       max_parameters=None):
    """The candidates whose estimated size fits both budgets.

    When none does, the candidates of the smallest estimated size are returned,
    so that there is always something to fit.
    """
    max_bytes = np.inf if max_bytes is None else max_bytes
    max_parameters = np.inf if max_parameters is None else max_parameters
    fitting = [c for c in candidates
               if c.capacity(n_inputs, n_classes) <= max_parameters
               and c.estimated_bytes(n_inputs, n_classes) <= max_bytes]
    if fitting:
        return fitting
    smallest = min(c.estimated_bytes(n_inputs, n_classes) for c in candidates)
    return [c for c in candidates
            if c.estimated_bytes(n_inputs, n_classes) == smallest]


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


def load_prior():
    """The experiments that ship with the package (``data/prior.json``).

    Returns
    -------
    list of dict
        Experiments in the memory's format; empty when the file is missing.
    """
    path = resources.files("skdistill") / "data" / "prior.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text())["experiments"]


@lru_cache(maxsize=1)
def prior_ranker():
    """The ranker of the prior alone, fitted once per process."""
    return Ranker(load_prior())


def ranker_for(memory_experiments, meta=None):
    """The ranker to use, and where its knowledge comes from.

    Parameters
    ----------
    memory_experiments : list of dict
        Experiments read from the optimization memory (may be empty).
    meta : dict or None, default=None
        Meta-features of the task at hand: memory experiments on tasks far from
        it weigh less (see :class:`Ranker`).

    Returns
    -------
    ranker : Ranker
    source : {"memory+prior", "prior", "none"}
        ``"memory+prior"`` when the memory holds at least one usable group.
    """
    prior = prior_ranker()
    if memory_experiments:
        ranker = Ranker(load_prior(), memory_experiments, meta)
        if ranker.n_rows_["memory"]:
            return ranker, "memory+prior"
    return prior, "prior" if prior.n_rows_["prior"] else "none"
