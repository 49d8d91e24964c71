"""What the torch students share: the network, its device and its pickling.

:class:`~skdistill.MLPStudent` and
:class:`~skdistill.students.MLPRegressionStudent` build the same network
(:func:`network`, after the input standardization :class:`_Standardize`
and their numeric embedding, :func:`embedded_network`),
resolve their ``device`` the same way, hold out real rows only for early
stopping (:func:`real_rows`) and pickle their ``module_`` on the CPU
(:class:`TorchNetworkState`).
"""

import copy
import warnings
from numbers import Integral

import numpy as np
import torch
from torch import nn

from ..exceptions import SkdistillWarning
from ._embeddings import embedded_width, numeric_embedding

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}
# Below this many real rows, early stopping has no validation rows.
_MIN_ROWS_FOR_VALIDATION = 20


class TorchNetworkState:
    """What the torch students share around their fitted ``module_``.

    Pickling moves the network to the CPU, so that a model trained on a GPU
    loads anywhere; loading moves it back to its GPU when one is present
    (else a warning, and the CPU). ``_check_params_before_fit`` runs the
    checks of ``fit`` that need no data.
    """

    def _check_params_before_fit(self):
        """The checks of ``fit`` that need no data (for a distiller's early check)."""
        _check_hidden_layer_sizes(self.hidden_layer_sizes)
        _resolve_device(self.device)

    def __getstate__(self):
        """Pickle with the network on the CPU, so that it loads without a GPU."""
        state = super().__getstate__()
        if "module_" in state and self.device_ != "cpu":
            state["module_"] = copy.deepcopy(self.module_).to("cpu")
        return state

    def __setstate__(self, state):
        """Restore, moving the network back to its GPU when one is present."""
        super().__setstate__(state)
        if getattr(self, "device_", "cpu") == "cpu" or not hasattr(self, "module_"):
            return
        if torch.cuda.is_available():
            self.module_.to(self.device_)
        else:
            warnings.warn(
                f"{type(self).__name__} was fitted on {self.device_!r}, which is "
                "not available here; it runs on the CPU.",
                SkdistillWarning,
                stacklevel=2,
            )
            self.device_ = "cpu"


class _Standardize(nn.Module):
    """``(x - mean) / scale`` with the training statistics as buffers."""

    def __init__(self, mean, scale):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x):
        return (x - self.mean) / self.scale


def network(n_features, hidden, activation, dropout, n_outputs):
    """Linear layers of widths ``hidden``, each followed by the activation (and
    dropout), then a linear layer of ``n_outputs``."""
    layers, width = [], n_features
    for size in hidden:
        layers += [nn.Linear(width, size), _ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


def embedded_network(X_train, hidden, activation, dropout, n_outputs, embedding):
    """The trained layers of a torch student: its numeric ``embedding`` (None,
    ``"periodic"`` or ``"piecewise_linear"``, built on the standardized
    training rows ``X_train``), then :func:`network`."""
    layer = numeric_embedding(embedding, X_train)
    width = embedded_width(embedding, X_train.shape[1])
    net = network(width, hidden, activation, dropout, n_outputs)
    return net if layer is None else nn.Sequential(layer, *net)


def real_rows(n_rows, synthetic_rows):
    """The indices of the rows that augmentation did not make up."""
    if synthetic_rows is None:
        return np.arange(n_rows)
    return np.flatnonzero(~np.asarray(synthetic_rows, dtype=bool))


def _resolve_device(device):
    """``torch.device`` for the ``device`` parameter; CUDA must be present."""
    cuda = torch.cuda.is_available()
    if device == "auto":
        return torch.device("cuda" if cuda else "cpu")
    if device == "cuda" and not cuda:
        raise ValueError(
            "device='cuda' was requested but torch finds no CUDA device; use "
            "device='cpu' or device='auto'."
        )
    return torch.device(device)


def _check_hidden_layer_sizes(hidden_layer_sizes):
    """Tuple of positive ints, or a ValueError naming the parameter."""
    sizes = hidden_layer_sizes
    if isinstance(sizes, Integral):
        sizes = (sizes,)
    sizes = tuple(sizes)
    if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
        raise ValueError(
            "hidden_layer_sizes must be a sequence of positive integers; got "
            f"{hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)
