"""Embeddings of numerical features for the MLP student.

Gorishniy, Rubachev and Babenko, "On Embeddings for Numerical Features in
Tabular Deep Learning" (NeurIPS 2022): a small MLP on raw (standardized)
numbers struggles with functions that change quickly along one feature; mapping
each number to a few periodic or piecewise-linear features first lets the
first linear layer see them.

- :class:`PeriodicEmbedding` ("PLR"): per feature ``f``,
  ``ReLU(W_f [cos(2 pi c_f x_f), sin(2 pi c_f x_f)] + b_f)`` with ``k``
  learned frequencies ``c_f`` drawn from ``N(0, sigma)`` and a per-feature
  linear map to ``d`` dimensions.
- :class:`PiecewiseLinearEncoding` ("PLE"): per feature, ``n_bins`` bins
  between quantiles of the training rows; bin ``t`` encodes
  ``clip((x - left_t) / width_t, 0, 1)``. Nothing is learned by gradient.

Both output ``(n_rows, n_features * width)``, the features one after the
other (feature-major). The sizes are fixed here so that a candidate's size is
known before fitting (:func:`embedding_parameters`, :func:`embedded_width`).
"""

import math

import numpy as np
import torch
from torch import nn

NUMERIC_EMBEDDINGS = ("periodic", "piecewise_linear")
# PLR: frequencies per feature, their initial scale (on standardized inputs),
# and the dimensions per feature after the per-feature linear layer. The paper
# tunes these on large networks (48 frequencies, 24 dimensions); a student of a
# few thousand parameters cannot pay that per feature.
N_FREQUENCIES = 8
FREQUENCY_SIGMA = 1.0
PERIODIC_DIM = 4
# PLE: bins per feature (quantiles of the training rows).
N_BINS = 8
_MIN_WIDTH = 1e-6


class PeriodicEmbedding(nn.Module):
    """Periodic features with learned frequencies, then a per-feature linear + ReLU.

    Parameters
    ----------
    n_features : int
        Columns of the (standardized) input.
    """

    def __init__(self, n_features):
        super().__init__()
        self.frequencies = nn.Parameter(
            torch.randn(n_features, N_FREQUENCIES) * FREQUENCY_SIGMA)
        bound = 1.0 / math.sqrt(2 * N_FREQUENCIES)
        self.weight = nn.Parameter(torch.empty(
            n_features, 2 * N_FREQUENCIES, PERIODIC_DIM).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(
            n_features, PERIODIC_DIM).uniform_(-bound, bound))

    def forward(self, x):
        angles = x[..., None] * (2 * math.pi * self.frequencies)
        periodic = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
        out = torch.einsum("bfk,fkd->bfd", periodic, self.weight) + self.bias
        return torch.relu(out).flatten(1)


class PiecewiseLinearEncoding(nn.Module):
    """Quantile bins of each feature, each encoded as a clipped ramp.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        The (standardized) training rows whose quantiles set the bins.
    """

    def __init__(self, X):
        super().__init__()
        left, width = quantile_bins(np.asarray(X, dtype=np.float64))
        self.register_buffer("left", torch.as_tensor(left, dtype=torch.float32))
        self.register_buffer("width", torch.as_tensor(width, dtype=torch.float32))

    def forward(self, x):
        ramps = (x[..., None] - self.left) / self.width
        return torch.clamp(ramps, 0.0, 1.0).flatten(1)


def quantile_bins(X):
    """Left edges and widths, ``(n_features, N_BINS)``, of quantile bins.

    Bins of repeated quantiles (a column with few values) get a tiny width:
    their ramp becomes a step at the value.
    """
    edges = np.quantile(X, np.linspace(0.0, 1.0, N_BINS + 1), axis=0).T
    width = np.maximum(np.diff(edges, axis=1), _MIN_WIDTH)
    return edges[:, :-1], width


def numeric_embedding(kind, X):
    """The embedding module of ``kind`` for the standardized rows ``X``, or None.

    Parameters
    ----------
    kind : {None, "periodic", "piecewise_linear"}
        The student's ``numeric_embedding``.
    X : ndarray of shape (n_rows, n_features)
        Standardized training rows (the piecewise-linear bins' quantiles).

    Returns
    -------
    torch.nn.Module or None
    """
    if kind is None:
        return None
    if kind == "periodic":
        return PeriodicEmbedding(X.shape[1])
    return PiecewiseLinearEncoding(X)


def embedded_width(kind, n_features):
    """Columns the first hidden layer reads after the embedding ``kind``."""
    if kind is None:
        return n_features
    return n_features * (PERIODIC_DIM if kind == "periodic" else N_BINS)


def embedding_parameters(kind, n_features):
    """Trainable parameters of the embedding ``kind`` (the bins are not trained)."""
    if kind != "periodic":
        return 0
    per_feature = N_FREQUENCIES + 2 * N_FREQUENCIES * PERIODIC_DIM + PERIODIC_DIM
    return n_features * per_feature
