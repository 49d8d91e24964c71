"""Measures of a distillation: fidelity, retention, model size, latency.

Sizes are measured the same way for teachers and students, so that "compression"
means one thing everywhere: the learned parameters (weights of a network or linear
model, nodes of a tree or tree ensemble) and the serialized (pickled) bytes.
"""

import pickle
import re
import time
from dataclasses import dataclass

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from ._teachers import EncodedLabelsClassifier, TorchModuleTeacher


def fidelity(student_predictions, teacher_predictions):
    """Fraction of rows on which the student predicts the teacher's class.

    Parameters
    ----------
    student_predictions, teacher_predictions : array-like of shape (n_samples,)
        Predicted labels.

    Returns
    -------
    float
        Agreement in [0, 1].
    """
    return float(np.mean(np.asarray(student_predictions)
                         == np.asarray(teacher_predictions)))


def retention(student_accuracy, teacher_accuracy):
    """Student accuracy as a fraction of the teacher's."""
    return float(student_accuracy / teacher_accuracy) if teacher_accuracy else np.nan


@dataclass(frozen=True)
class ModelSize:
    """Size of a model.

    Attributes
    ----------
    n_parameters : int or None
        Learned parameters: network or linear weights, tree nodes. ``None`` when
        the model's kind is unknown.
    n_bytes : int
        Length of the pickled model.
    """

    n_parameters: int | None
    n_bytes: int

    @property
    def capacity(self):
        """Capacity as the chain counts it: parameters, else bytes / 4."""
        if self.n_parameters is not None:
            return float(self.n_parameters)
        return self.n_bytes / 4.0


def model_size(model):
    """Measure a fitted model, or a list of them (an ensemble), as :class:`ModelSize`.

    Parameters
    ----------
    model : estimator or list of estimators
        Fitted teachers or students; pipelines are measured with all their steps
        in the bytes and their final step in the parameters.

    Returns
    -------
    ModelSize
    """
    return ModelSize(count_parameters(model), serialized_bytes(model))


def serialized_bytes(model):
    """Bytes of ``model`` pickled (protocol 5).

    A model that the standard pickle cannot serialize (a lambda inside a
    ``FunctionTransformer``) is measured with cloudpickle (joblib's process
    workers use it), which writes such functions by value.
    """
    try:
        return _pickled_size(pickle.dump, model)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        try:
            import cloudpickle
        except ImportError:
            raise TypeError(
                f"{type(model).__name__} cannot be pickled ({error}), so its size "
                "cannot be measured; define its functions at module level, or "
                "install cloudpickle, which measures such models.") from error
        return _pickled_size(cloudpickle.dump, model)


class _ByteCounter:
    """A file that only counts what is written to it."""

    def __init__(self):
        self.n_bytes = 0

    def write(self, data):
        size = memoryview(data).nbytes
        self.n_bytes += size
        return size


def _pickled_size(dump, model):
    """Bytes ``dump`` (``pickle.dump`` or ``cloudpickle.dump``) writes for
    ``model``, counted as they are written: no copy of a large model is held."""
    counter = _ByteCounter()
    dump(model, counter, protocol=5)
    return counter.n_bytes


def count_parameters(model):
    """Learned parameters of a fitted model (weights, or nodes for trees).

    Returns ``None`` for a model whose kind is not known.
    """
    if isinstance(model, (list, tuple, np.ndarray)):
        members = np.ravel(np.asarray(model, dtype=object))
        counts = [count_parameters(m) for m in members]
        return None if any(c is None for c in counts) else int(sum(counts))
    for counter in _COUNTERS:
        count = counter(model)
        if count is not None:
            return int(count)
    return None


def _count_wrapped(model):
    if isinstance(model, Pipeline):
        return count_parameters(model.steps[-1][1])
    if isinstance(model, FrozenEstimator):
        return count_parameters(model.estimator)
    if isinstance(model, TorchModuleTeacher):
        return count_parameters(model.module)
    if isinstance(model, EncodedLabelsClassifier):
        return count_parameters(model.estimator_)
    return None


def _count_torch(model):
    module = getattr(model, "module_", None)
    if module is None and hasattr(model, "parameters") and hasattr(model, "forward"):
        module = model
    if module is None:
        return None
    return sum(p.numel() for p in module.parameters())


def _count_sklearn_trees(model):
    if hasattr(model, "tree_"):
        return model.tree_.node_count
    if hasattr(model, "tree_model_"):
        return model.tree_model_.tree_.node_count
    if hasattr(model, "_predictors"):
        return sum(p.nodes.shape[0] for stage in model._predictors for p in stage)
    if hasattr(model, "estimators_"):
        return count_parameters(model.estimators_)
    return None


def _count_boosters(model):
    booster = getattr(model, "booster_", model)
    if hasattr(model, "get_booster"):
        booster = model.get_booster()
    kind = type(booster).__module__.split(".")[0]
    if kind == "lightgbm" and hasattr(booster, "model_to_string"):
        # The text model names each tree's leaves; its JSON dump (dump_model)
        # took 8x as long, 93 ms for 200 trees, once per candidate of a search.
        leaves = _LGBM_LEAVES.findall(booster.model_to_string())
        return sum(2 * int(n) - 1 for n in leaves)
    if kind == "xgboost" and hasattr(booster, "get_dump"):
        return sum(tree.count("\n") for tree in booster.get_dump())
    return None


def _count_linear(model):
    if not hasattr(model, "coef_"):
        return None
    return np.size(model.coef_) + np.size(getattr(model, "intercept_", 0))


_LGBM_LEAVES = re.compile(r"^num_leaves=(\d+)$", flags=re.MULTILINE)
_COUNTERS = (_count_wrapped, _count_torch, _count_boosters, _count_sklearn_trees,
             _count_linear)


def predict_latency(predict, X, repeats=3):
    """Best wall time, in seconds, of ``predict(X)`` over ``repeats`` runs."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        predict(X)
        best = min(best, time.perf_counter() - start)
    return float(best)
