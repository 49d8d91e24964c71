"""What every fusion of teachers shares, whatever its task's outputs are.

A fusion maps the teachers' outputs, shape (n_teachers, n_samples, n_outputs),
to one target per row through weights over the teachers: ``fit(features,
outputs, y, sample_weight)``, ``weights(features, outputs)`` and ``fuse``. The
classification fusions (:mod:`._fusion`, outputs are probabilities) and the
regression ones (:mod:`._fusion_regression`, one prediction per row) subclass
:class:`BaseFusion` with their checks of the outputs and of ``y``, and take
their weights from :class:`UniformWeights`, :class:`GlobalWeights` or the gate
(:mod:`._gate`).
"""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

_WEIGHT_TOL = 1e-3


def mix(weights, outputs):
    """Mix checked outputs with global or per-row weights.

    Parameters
    ----------
    weights : array-like of shape (n_teachers,) or (n_samples, n_teachers)
        Non-negative weights summing to one (per row when 2-D).
    outputs : ndarray of shape (n_teachers, n_samples, n_outputs)
        The teachers' outputs.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
        ``sum_t weights[i, t] * outputs[t, i]`` for each row ``i``.
    """
    n_teachers, n_samples, _ = outputs.shape
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim == 1:
        weights = np.broadcast_to(weights, (n_samples, len(weights)))
    if weights.shape != (n_samples, n_teachers):
        raise ValueError(
            f"weights must have shape ({n_teachers},) or ({n_samples}, "
            f"{n_teachers}) for outputs of shape {outputs.shape}; "
            f"got {np.shape(weights)}."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("weights must be finite and non-negative.")
    if np.any(np.abs(weights.sum(axis=1) - 1.0) > _WEIGHT_TOL):
        raise ValueError("weights must sum to one over the teachers.")
    return np.einsum("nt,tnk->nk", weights, outputs)


def make_named_fusion(name, random_state, **fusions):
    """The unfitted fusion ``fusions[name]``; the gate gets ``random_state``."""
    if name not in fusions:
        raise ValueError(
            f"fusion must be one of {', '.join(map(repr, sorted(fusions)))}; "
            f"got {name!r}.")
    if name == "attention":
        return fusions[name](random_state=random_state)
    return fusions[name]()


class BaseFusion(BaseEstimator):
    """Shared validation and ``fuse`` of the fusions.

    A task's fusions implement ``_check_outputs(outputs)`` (checked outputs
    of shape (n_teachers, n_samples, n_outputs)), ``_check_target(y,
    outputs)``, ``_remember_outputs(outputs)`` (the fitted attributes of their
    shape) and ``_n_outputs()``; ``_outputs_name`` names the last axis in
    messages.
    """

    _outputs_name = "outputs"

    def fuse(self, features, outputs):
        """Fused target of each row.

        Parameters
        ----------
        features : array-like of shape (n_samples, n_features) or None
            The rows' numeric features, as given to ``fit``.
        outputs : array-like of shape (n_teachers, n_samples, n_outputs)
            The teachers' outputs on those rows.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        return mix(self.weights(features, outputs), self._check_outputs(outputs))

    def _check_fit_input(self, features, outputs, y, sample_weight):
        features, outputs = self._check_pair(features, outputs)
        y = self._check_target(y, outputs)
        sample_weight = check_sample_weight(sample_weight, len(y))
        self.n_teachers_ = outputs.shape[0]
        self._remember_outputs(outputs)
        self.n_features_in_ = features.shape[1]
        return features, outputs, y, sample_weight

    def _check_input(self, features, outputs):
        check_is_fitted(self)
        features, outputs = self._check_pair(features, outputs)
        got = (outputs.shape[0], outputs.shape[2], features.shape[1])
        expected = (self.n_teachers_, self._n_outputs(), self.n_features_in_)
        if got != expected:
            raise ValueError(
                f"{type(self).__name__} was fitted on {expected[0]} teachers, "
                f"{expected[1]} {self._outputs_name} and {expected[2]} features; "
                f"got {got[0]}, {got[1]} and {got[2]}."
            )
        return features, outputs

    def _check_pair(self, features, outputs):
        outputs = self._check_outputs(outputs)
        return check_features(features, outputs.shape[1]), outputs


class UniformWeights:
    """Every teacher weighs ``1 / n_teachers``; ``fit`` only checks its input."""

    def fit(self, features, outputs, y, sample_weight=None):
        """Check the input and remember its shape; the weights need no data.

        Parameters
        ----------
        features : array-like of shape (n_samples, n_features) or None
            The rows' numeric features (unused beyond shape checks).
        outputs : array-like of shape (n_teachers, n_samples, n_outputs)
            The teachers' outputs.
        y : array-like of shape (n_samples,)
            The targets (unused beyond checks).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights (unused).

        Returns
        -------
        self : object
        """
        self._check_fit_input(features, outputs, y, sample_weight)
        return self

    def weights(self, features, outputs):
        """Uniform weights, shape (n_samples, n_teachers)."""
        _, outputs = self._check_input(features, outputs)
        n_teachers, n_samples, _ = outputs.shape
        return np.full((n_samples, n_teachers), 1.0 / n_teachers)


class GlobalWeights:
    """One weight vector, ``teacher_weights_``, set by the subclass's ``fit``."""

    def weights(self, features, outputs):
        """The global weights repeated on every row, shape (n_samples, n_teachers)."""
        _, outputs = self._check_input(features, outputs)
        return np.tile(self.teacher_weights_, (outputs.shape[1], 1))


def check_features(features, n_samples):
    """The features as a finite float array of ``n_samples`` rows (None: no
    column); float32 features stay float32 (no copy of a large transfer set's
    inputs, :data:`~._targets.FLOAT32_ROWS`)."""
    if features is None:
        return np.empty((n_samples, 0))
    features = np.asarray(features)
    if features.dtype not in (np.float32, np.float64):
        features = features.astype(np.float64)
    if features.ndim != 2 or features.shape[0] != n_samples:
        raise ValueError(
            f"features must have shape ({n_samples}, n_features) to match the "
            f"teachers' {n_samples} samples; got shape {features.shape}."
        )
    if not np.all(np.isfinite(features)):
        raise ValueError("features contain NaN or infinity; impute them first.")
    return features


def check_sample_weight(sample_weight, n_samples):
    """Finite, non-negative row weights, not all zero (None: ones)."""
    if sample_weight is None:
        return np.ones(n_samples)
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},); "
            f"got {sample_weight.shape}."
        )
    if (not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0)
            or sample_weight.sum() <= 0):
        raise ValueError(
            "sample_weight must be finite, non-negative and not all zero.")
    return sample_weight
