"""The candidate space of the adaptive configuration (HPM-KD component i).

:func:`candidate_space` lists the configurations a student may take: a family
(MLP, LightGBM, tree, linear), a size, a temperature, an alpha (0: no
distillation, the student learns the hard labels), and for the students that
train by steps a learning rate and a number of epochs. :class:`Candidate`
describes one of them, estimates its size, and builds its student.
"""

import dataclasses
import functools
import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from ._capacity import student_capacity
from ._temperature import as_scheduler
from .students import (
    REGRESSION_STUDENT_FAMILIES,
    STUDENT_FAMILIES,
    LGBMStudent,
    MLPStudent,
)
from .students._mlp_training import AUTO_EPOCHS

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
# The ranking's features count a default network's epochs (max_epochs="auto") as
# the 200 it trains for on all but small sets.
_DEFAULT_TRAINING = {"mlp": (_MLP_DEFAULTS.learning_rate, AUTO_EPOCHS),
                     "lgbm": (LGBMStudent().learning_rate, None)}
FAMILIES = ("mlp", "lgbm", "tree", "linear")
# The distil-or-not twin of a LightGBM student trains at LightGBM's default
# learning rate (0.1), not the prior's choice for the distilled student: on
# hpc_data the distilled 50 x 15 student at 0.05 trailed the plain LightGBM of
# the same size at 0.1 by 1.0 point over six seeds, more than two standard
# errors, and the twin at 0.05 never tried 0.1 (benchmarks/README.md, session 9).
PLAIN_TWIN_FAMILIES = ("lgbm",)
# The search's size check (``_halving``) grows a winner of these families, whose
# fits are cheap, one size up their ladder at a time. At 20,000 diamonds rows the
# race's 50 x 15 LightGBM trailed the teachers by 1.8 points while a 100 x 31 one
# matched them; the race had not tried it (benchmarks/README.md, session 10). The
# LightGBM ladder has one step more than the search space, 100 x 15, between 50 x
# 15 and 100 x 31 in bytes.
SIZE_LADDERS = {"lgbm": ((10, 7), (25, 7), (50, 15), (100, 15), (100, 31)),
                "tree": tuple((depth,) for depth in TREE_DEPTHS)}
# The race's reference (``_halving._reference_check``): the plain LightGBM a
# user would train instead of distilling (hard labels, LightGBM's default
# learning rate), at issue 14's baseline size or the largest below it within
# the size budget. It challenges the race's winner: on hpc_data at all rows the
# ranker's LightGBM (10 x 7 at alpha 0.9) lost the first rung to a (64, 32)
# network that then trailed the plain 50 x 15 LightGBM by 3.6 points on the
# test rows; fitted on the same rows, that LightGBM led by 5 points of
# selection score (benchmarks/README.md, session 11).
REFERENCE_SIZES = ((50, 15), (25, 7), (10, 7))
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
# The student classes of each task's kind (``task.kind``), by family name.
STUDENT_CLASSES = {"classification": STUDENT_FAMILIES,
                   "regression": REGRESSION_STUDENT_FAMILIES}


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
        epochs without progress; None keeps the student's defaults (``"auto"`` and 10).
    kind : {"classification", "regression"}, default="classification"
        The task's kind: which students (:data:`STUDENT_CLASSES`) it builds.
        Regression candidates have no temperature (None).
    """

    family: str
    size: tuple = ()
    temperature: object = "adaptive"
    alpha: float = 0.7
    learning_rate: float | None = None
    epochs: int | None = None
    kind: str = "classification"

    def make_student(self):
        """The unfitted student of this configuration."""
        training = {}
        if self.learning_rate is not None:
            training["learning_rate"] = self.learning_rate
        student_class = STUDENT_CLASSES[self.kind][self.family]
        if self.family == "mlp":
            if self.epochs is not None:
                training.update(max_epochs=self.epochs, n_iter_no_change=max(
                    1, self.epochs // _MLP_PATIENCE_SHARE))
            return student_class(hidden_layer_sizes=tuple(self.size), **training)
        if self.family == "lgbm":
            n_estimators, num_leaves = self.size
            return student_class(n_estimators=n_estimators, num_leaves=num_leaves,
                                 **training)
        if self.family == "tree":
            return student_class(max_depth=self.size[0])
        return student_class()

    def student_temperature(self):
        """A fresh number or scheduler for the student's ``fit`` (None: none)."""
        return None if self.temperature is None else as_scheduler(self.temperature)

    def without_distillation(self):
        """The same student and training on the hard labels alone (alpha 0)."""
        return dataclasses.replace(
            self, alpha=0.0, temperature=None if self.temperature is None
            else NO_DISTILLATION_TEMPERATURE)

    def plain_twin(self):
        """What the search's distil-or-not check races this candidate against:
        the same structure on the hard labels alone, as a user would train it
        without distilling (a booster at its library's default learning rate,
        :data:`PLAIN_TWIN_FAMILIES`; the others with this candidate's
        training). It may be the candidate itself (a booster on the hard
        labels at the default rate): then there is nothing to check.
        """
        twin = self.without_distillation()
        if self.family in PLAIN_TWIN_FAMILIES:
            twin = dataclasses.replace(
                twin, learning_rate=_DEFAULT_TRAINING[self.family][0])
        return twin

    def larger(self, space):
        """This candidate one size up its family's ladder (:data:`SIZE_LADDERS`),
        its targets and training kept, when the search's ``space`` (its
        candidates, within the size budget) has that size or a larger one of
        the ladder (sizes grow in bytes along it); else None."""
        ladder = SIZE_LADDERS.get(self.family, ())
        size = tuple(self.size)
        if size not in ladder:
            return None
        above = ladder[ladder.index(size) + 1:]
        in_space = {tuple(c.size) for c in space if c.family == self.family}
        if not in_space.intersection(above):
            return None
        return dataclasses.replace(self, size=above[0])

    def as_dict(self):
        """The configuration as JSON-friendly values (what the memory stores)."""
        temperature = self.temperature
        if isinstance(temperature, Real):
            temperature = float(temperature)
        elif not isinstance(temperature, (str, type(None))):
            temperature = type(temperature).__name__
        config = {"family": self.family, "size": [int(s) for s in self.size],
                  "temperature": temperature, "alpha": float(self.alpha)}
        if self.learning_rate is not None:
            config["learning_rate"] = float(self.learning_rate)
        if self.epochs is not None:
            config["epochs"] = int(self.epochs)
        if self.kind != "classification":
            config["kind"] = self.kind
        return config

    @classmethod
    def from_dict(cls, config):
        """The candidate :meth:`as_dict` described."""
        learning_rate, epochs = config.get("learning_rate"), config.get("epochs")
        return cls(config["family"], tuple(config.get("size") or ()),
                   config.get("temperature", "adaptive"),
                   float(config.get("alpha", 0.7)),
                   None if learning_rate is None else float(learning_rate),
                   None if epochs is None else int(epochs),
                   config.get("kind", "classification"))

    def capacity(self, n_inputs, n_classes):
        """Most learned parameters (weights, or tree nodes) this student can have."""
        return _capacity(self.kind, self.family, tuple(self.size), n_inputs,
                         n_classes)

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
        elif temperature is None:  # regression: nothing to soften
            scheduled, temperature = 0.0, 1.0
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


def candidate_space(families=FAMILIES, kind="classification"):
    """Every configuration of ``families`` the manager may try.

    ``kind`` is the task's: regression candidates build regression students
    and take no temperature (each structure with every alpha, and once
    without distillation).

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
        if kind != "classification":
            temperatures = (None,)
        for size in sizes[family]:
            for learning_rate, epochs in _training_grid(family):
                base = Candidate(family, size, learning_rate=learning_rate,
                                 epochs=epochs, kind=kind,
                                 temperature=temperatures[0])
                space += [dataclasses.replace(base, temperature=t, alpha=a)
                          for t in temperatures for a in ALPHAS]
                space.append(base.without_distillation())
    return space


def reference_candidate(space):
    """The race's reference in ``space`` (:data:`REFERENCE_SIZES`), or None.

    The plain twin (:meth:`Candidate.plain_twin`) of the space's LightGBM of
    the largest reference size it has; None when the space has no such
    LightGBM, or not its plain twin (the user fixed alpha or temperature).
    """
    for size in REFERENCE_SIZES:
        sized = [c for c in space if c.family == "lgbm" and tuple(c.size) == size]
        if sized:
            twin = sized[0].plain_twin()
            return twin if twin in space else None
    return None


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


@functools.lru_cache(maxsize=4096)
def _capacity(kind, family, size, n_inputs, n_classes):
    # Kept: a search asks each candidate's capacity many times (the ranker's
    # features, the size budget, the bytes), and making its student to read
    # its parameters was 0.4 s of a 2.3 s fit on 750 rows (profiled). The
    # capacity depends on the family and size alone, not on the training.
    student = Candidate(family, size, kind=kind).make_student()
    return student_capacity(student, n_inputs, n_classes)
