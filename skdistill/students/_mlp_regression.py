"""A small torch network that learns a regression teacher: the two-term loss.

The regression twin of :class:`~skdistill.MLPStudent`, built from the same
pieces (the network's layers and input standardization, the device handling,
Adam, early stopping's best weights, the seeding of torch's generators):
only the loss and the target differ.
"""

from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data
from torch import nn
from tqdm.auto import tqdm

from ._mlp import MLPStudent
from ._mlp_training import (
    _adam,
    _Best,
    _check_finite_loss,
    _forked_torch_rng,
    _normalized_weight,
    _predict_logits,
    _standardization,
    resolved_max_epochs,
    small_network_threads,
)
from ._regression import BaseRegressionStudent, regression_targets
from ._torch_network import (
    _MIN_ROWS_FOR_VALIDATION,
    TorchNetworkState,
    _check_hidden_layer_sizes,
    _resolve_device,
    _Standardize,
    embedded_network,
    real_rows,
)


class MLPRegressionStudent(TorchNetworkState, BaseRegressionStudent):
    """A small fully connected network trained on the teachers' predictions.

    The loss of a row is ``alpha * L(f(x), t) + (1 - alpha) * L(f(x), y)``,
    with ``t`` the teachers' prediction and ``L`` the squared error (or the
    Huber loss), both targets standardized with the training target's weighted
    mean and deviation; ``predict`` returns the units of ``y``. Minibatches,
    Adam, early stopping on a random tenth of the real rows.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(64, 32)
        Widths of the hidden layers.
    activation : {"relu", "tanh", "gelu"}, default="relu"
        Activation after each hidden layer.
    loss : {"squared_error", "huber"}, default="squared_error"
        ``L`` above; the Huber loss is quadratic within ``huber_delta`` and
        linear beyond, so outlying targets pull less.
    huber_delta : float, default=1.0
        Where the Huber loss turns linear, in standard deviations of the target.
    learning_rate : float, default=1e-3
        Adam's step size.
    weight_decay : float, default=0.0
        Adam's L2 penalty.
    batch_size : int, default=256
        Rows per minibatch.
    max_epochs : int or "auto", default="auto"
        Most passes over the rows; ``"auto"`` as in :class:`MLPStudent`: 200,
        or more on a small training set, enough for 16,000 minibatch steps (at
        most 2,000 epochs), when early stopping can end the training sooner.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the real rows and keep the weights
        of the epoch with the lowest loss there.
    validation_fraction : float, default=0.1
        Share of the real rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without a better validation loss before stopping.
    tol : float, default=1e-4
        An epoch counts as no improvement unless the validation loss beats the
        best so far by more than ``tol``, as in :class:`MLPStudent`.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    numeric_embedding : {None, "periodic", "piecewise_linear"}, default=None
        How each standardized input column enters the network, as in
        :class:`MLPStudent`: as it is, periodic features with learned
        frequencies, or piecewise-linear quantile bins; counted in
        ``n_parameters_``.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where the network trains; ``"auto"`` uses CUDA when present.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the initial weights and the minibatches.
    verbose : int, default=0
        Shows a bar over the epochs when non-zero.

    Attributes
    ----------
    module_ : torch.nn.Sequential
        The trained network, input standardization first; outputs the
        standardized target.
    target_mean_, target_scale_ : float
        The target's standardization (of ``y`` mixed with the teachers').
    n_parameters_ : int
        Weights and biases of the network.
    loss_curve_ : list of float
        Training loss of each epoch.
    validation_scores_ : list of float or None
        Validation loss of each epoch (None without a validation split).
    n_epochs_ : int
        Epochs run.
    best_epoch_ : int
        The epoch whose weights were kept.
    device_ : str
        The device the network trained on.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    MLPStudent : The classification student, with the KD loss.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skdistill.students import MLPRegressionStudent
    >>> X, y = load_diabetes(return_X_y=True)
    >>> student = MLPRegressionStudent((16,), max_epochs=20, random_state=0)
    >>> student.fit(X, y).predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        **MLPStudent._parameter_constraints,
        "loss": [StrOptions({"squared_error", "huber"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(64, 32),
        activation="relu",
        loss="squared_error",
        huber_delta=1.0,
        learning_rate=1e-3,
        weight_decay=0.0,
        batch_size=256,
        max_epochs="auto",
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        dropout=0.0,
        numeric_embedding=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.huber_delta = huber_delta
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.dropout = dropout
        self.numeric_embedding = numeric_embedding
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, soft_targets=None, alpha=1.0,
            synthetic_rows=None):
        """Train on ``y``, or on the teachers' predictions and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            The true target.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, in the training and the validation loss.
        soft_targets : array-like of shape (n_samples,) or (n_samples, 1), \
                default=None
            The teachers' predictions; ``None`` trains on ``y`` alone.
        alpha : float, default=1.0
            Weight of the teachers' term of the loss, in [0, 1].
        synthetic_rows : array-like of bool of shape (n_samples,), default=None
            Rows made up by augmentation: trained on, never held out for early
            stopping.

        Returns
        -------
        self : object
            The fitted student.
        """
        device = _resolve_device(self.device)
        hidden = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=True)
        y = y.astype(np.float64)
        soft = regression_targets(y, soft_targets, alpha, X.shape[0])
        sample_weight = _check_sample_weight(sample_weight, X,
                                             ensure_non_negative=True)
        if alpha == 0:
            soft = None
        self._set_standardization(y, soft, alpha, sample_weight)
        targets = np.column_stack([self._standardized(t) for t in
                                   ((y,) if soft is None else (y, soft))])
        rng = check_random_state(self.random_state)
        split_seed, torch_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        train, val = self._split(len(y), split_seed, synthetic_rows)
        mean, scale = _standardization(X[train])
        X_standard = (X - mean) / scale
        rows = _Rows.build(X_standard, targets, sample_weight)
        self.device_ = device.type
        generator = torch.Generator().manual_seed(int(torch_seed))
        weights = (1.0,) if soft is None else (1 - alpha, alpha)
        with _forked_torch_rng(device, int(torch_seed)):
            net = embedded_network(X_standard[train], hidden, self.activation,
                                   self.dropout, 1, self.numeric_embedding).to(device)
            self._train(net, rows.subset(train, device),
                        None if val is None else rows.subset(val, device),
                        weights, generator)
        self.module_ = nn.Sequential(_Standardize(mean, scale), *net).to(device).eval()
        self.n_parameters_ = sum(p.numel() for p in self.module_.parameters())
        return self

    _input_dtype = np.float32

    def _predict_standardized(self, X):
        device = next(self.module_.buffers()).device
        with small_network_threads(self.module_):
            return _predict_logits(self.module_, X, device)[:, 0]

    def _split(self, n_rows, seed, synthetic_rows):
        """Training rows and early-stopping rows (real ones only), or None."""
        rows, real = np.arange(n_rows), real_rows(n_rows, synthetic_rows)
        if not self.early_stopping or len(real) < _MIN_ROWS_FOR_VALIDATION:
            return rows, None
        n_val = max(1, int(round(self.validation_fraction * len(real))))
        val = np.sort(check_random_state(seed).permutation(real)[:n_val])
        return np.setdiff1d(rows, val), val

    def _row_loss(self, pred, target):
        if self.loss == "huber":
            return F.huber_loss(pred, target, reduction="none", delta=self.huber_delta)
        return F.mse_loss(pred, target, reduction="none")

    def _loss(self, net, X, targets, weight, term_weights):
        """Weighted mean over rows of the weighted sum of the terms."""
        pred = net(X)
        per_row = sum(w * self._row_loss(pred[:, 0], targets[:, k])
                      for k, w in enumerate(term_weights) if w > 0)
        return per_row.mean() if weight is None else (weight * per_row).mean()

    def _train(self, net, train, val, term_weights, generator):
        """The epoch loop, on one torch thread for a small network (see
        :func:`small_network_threads`)."""
        with small_network_threads(net):
            self._epochs(net, train, val, term_weights, generator)

    def _epochs(self, net, train, val, term_weights, generator):
        optimizer = _adam(net, self.learning_rate, self.weight_decay)
        self.loss_curve_ = []
        self.validation_scores_ = None if val is None else []
        best = _Best(self.tol)
        n_rows = train.X.shape[0]
        max_epochs = resolved_max_epochs(self.max_epochs, n_rows, self.batch_size,
                                         val is not None)
        epochs = tqdm(range(max_epochs), desc="training",
                      disable=not self.verbose, unit="epoch")
        for epoch in epochs:
            net.train()
            order = torch.randperm(n_rows, generator=generator).to(train.X.device)
            total = 0.0
            for start in range(0, n_rows, self.batch_size):
                rows = order[start:start + self.batch_size]
                loss = self._loss(net, train.X[rows], train.targets[rows],
                                  None if train.weight is None else train.weight[rows],
                                  term_weights)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(rows)
            _check_finite_loss(total, epoch)
            self.loss_curve_.append(total / n_rows)
            if val is not None:
                net.eval()
                with torch.inference_mode():
                    val_loss = self._loss(net, val.X, val.targets, val.weight,
                                          term_weights).item()
                self.validation_scores_.append(val_loss)
                best.update(epoch, val_loss, net)
                if best.stalled >= self.n_iter_no_change:
                    break
        epochs.close()
        self.n_epochs_ = epoch + 1
        self.best_epoch_ = epoch if val is None else best.restore(net)
        net.eval()


class _Rows:
    """Standardized rows, their targets (y, then the teachers') and weights."""

    def __init__(self, X, targets, weight):
        self.X, self.targets, self.weight = X, targets, weight

    @classmethod
    def build(cls, X, targets, sample_weight):
        return cls(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)),
                   torch.from_numpy(targets.astype(np.float32)),
                   torch.from_numpy(sample_weight.astype(np.float32)))

    def subset(self, rows, device):
        """The given rows on ``device``; weights normalized to mean one."""
        rows = torch.from_numpy(rows)
        return _Rows(self.X[rows].to(device), self.targets[rows].to(device),
                     _normalized_weight(self.weight[rows], device))

