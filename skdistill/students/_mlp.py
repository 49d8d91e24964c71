"""A small torch MLP that learns from the teachers' soft targets.

The KD loss is inside the training loop (unlike the other students, which fit a
target distribution): ``alpha * T^2 * KL(soften(p, T) || softmax(z / T)) +
(1 - alpha) * CE(y, softmax(z))``, with a temperature that may change from epoch to
epoch (a scheduler driven by the measured student-teacher gap).
"""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data
from torch import nn
from tqdm.auto import tqdm

from .._transfer import early_stopping_split
from ._base import (
    BaseStudent,
    check_temperature,
    is_temperature_schedule,
    log_proba_to_proba,
    validate_fit_targets,
)
from ._docstrings import with_shared_docstring
from ._embeddings import NUMERIC_EMBEDDINGS

# MLPStudent._train looks _run_epoch up in this module at each call:
# benchmarks/epoch_time.py times the epochs by replacing _mlp._run_epoch.
from ._mlp_training import (
    _adam,
    _Best,
    _check_finite_loss,
    _evaluate,
    _forked_torch_rng,
    _predict_logits,
    _run_epoch,
    _standardization,
    _TensorData,
    resolved_max_epochs,
    small_network_threads,
)
from ._torch_network import (
    _ACTIVATIONS,
    _MIN_ROWS_FOR_VALIDATION,
    TorchNetworkState,
    _check_hidden_layer_sizes,
    _resolve_device,
    _Standardize,
    embedded_network,
    real_rows,
)


@with_shared_docstring
class MLPStudent(TorchNetworkState, BaseStudent):
    """Multi-layer perceptron student trained with the knowledge-distillation loss.

    A fully connected torch network (inputs standardized inside the model), trained
    with Adam on minibatches against the teachers' soft targets and the hard labels,
    with early stopping on a held-out part of the rows given to ``fit``.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(64, 32)
        Width of each hidden layer; ``()`` gives a softmax regression.
    activation : {"relu", "tanh", "gelu"}, default="relu"
        Non-linearity after every hidden layer.
    learning_rate : float, default=1e-3
        Adam's step size.
    weight_decay : float, default=0.0
        Adam's L2 penalty.
    batch_size : int, default=256
        Rows per minibatch (the last one of an epoch may be smaller).
    max_epochs : int or "auto", default="auto"
        Upper bound on the passes over the training rows. ``"auto"``: 200, or
        more on a small training set, enough for 16,000 minibatch steps (at
        most 2,000 epochs): a small network on a few thousand rows takes a few
        dozen steps an epoch and can still be learning after 200 of them. Early
        stopping ends the training sooner once the validation loss stops
        improving; without it (``early_stopping=False``, or too few rows to
        hold out) ``"auto"`` is 200.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (stratified), stop when the
        validation loss has not improved for ``n_iter_no_change`` epochs and keep
        the best weights. Skipped when there are fewer than 20 rows or a class
        would be missing from the training part.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping, in (0, 1).
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Early stopping counts an epoch as no improvement unless the validation
        loss beats the best so far by more than ``tol`` (scikit-learn's
        ``MLPClassifier`` counts the same way); the weights kept are those of
        the lowest loss all the same. ``0`` counts any decrease. On a few
        hundred rows an epoch is one minibatch step and the loss falls
        smoothly by tiny amounts for a thousand epochs, which ``tol`` ends.
    patience_steps : int or None, default=None
        Patience of early stopping in optimizer steps as well: training stops
        only once the validation loss has not improved (by more than ``tol``)
        for ``n_iter_no_change`` epochs and for this many minibatch steps. On
        small data an epoch is one or two steps, and ten of them can end the
        training on the plateau of the class prior (the net predicting the
        majority class); ``1000`` waits there as long as on a large set.
        ``None``: epochs alone.
    lr_schedule : {"constant", "cosine"}, default="constant"
        Adam's step size over the training: constant, or decayed at every
        minibatch step along a half cosine from ``learning_rate`` to zero over
        ``max_epochs`` epochs (as resolved for ``"auto"``).
    dropout : float, default=0.0
        Dropout probability after every hidden layer, in [0, 1).
    numeric_embedding : {None, "periodic", "piecewise_linear"}, default=None
        How each (standardized) input column enters the network (Gorishniy et
        al., 2022): as it is (``None``); ``"periodic"``: 8 learned frequencies
        per column, their cosines and sines mapped by a per-column linear layer
        and a ReLU to 4 numbers (``8 + 16 * 4 + 4 = 76`` parameters per
        column); ``"piecewise_linear"``: 8 quantile bins of the training rows
        per column, each a ramp clipped to [0, 1] (nothing trained). Either
        widens the first hidden layer's input (4 or 8 numbers per column), and
        ``n_parameters_`` counts it all.
    distill_loss : {"kl", "logit_mse"}, default="kl"
        The soft-target term of the loss: the KL divergence at the temperature
        (see Notes), or ``"logit_mse"``, the mean squared difference between
        the student's logits and the teachers' log-probabilities (floored at
        ``log(1e-4)``), both centred per row (Ba and Caruana, 2014); it does not
        use the temperature.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train and predict; ``"auto"`` is CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the minibatches, dropout and the validation split.
    verbose : int, default=0
        ``1`` shows a progress bar over the epochs with the losses.

    Attributes
    ----------
    {fitted_attributes}
    module_ : torch.nn.Module
        The fitted network, standardization included, in eval mode on ``device_``.
    n_parameters_ : int
        Number of trainable parameters of ``module_``.
    device_ : str
        The device ``module_`` lives on (``"cpu"`` or ``"cuda"``).
    n_epochs_ : int
        Epochs run.
    best_epoch_ : int
        Index (from 0) of the epoch whose weights were kept: the best validation
        loss with early stopping, else the last epoch.
    loss_curve_ : list of float
        Mean training loss of each epoch, at that epoch's temperature.
    validation_scores_ : list of float or None
        Validation loss after each epoch (at ``T = 1``, comparable across epochs),
        ``None`` when no rows were held out.
    temperature_history_ : list of float
        The temperature used in each epoch; all ``1.0`` when no soft targets are
        used (none given, or ``alpha=0``).

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same model without distillation.

    Notes
    -----
    With teacher probabilities ``p``, logits ``z`` and temperature ``T``, each row
    contributes, weighted by its ``sample_weight``::

        alpha * T**2 * KL(soften(p, T) || softmax(z / T))
            + (1 - alpha) * CE(y, softmax(z))

    (Hinton et al., "Distilling the Knowledge in a Neural Network", 2015; the
    ``T**2`` keeps the gradient scale independent of ``T``). Without soft targets
    the loss is ``CE(y, softmax(z))``. The validation loss used for early stopping
    is the same loss at ``T = 1`` without the ``T**2`` factor.

    ``temperature`` may be a scheduler (see ``skdistill._temperature``), used as
    given: ``initial() -> float`` is called once, at the start of ``fit``, and
    should reset any state; ``step(epoch, gap) -> float`` is called after every
    epoch (``epoch`` counted from 0) and returns the temperature of the next one.
    ``gap`` is the weighted mean ``KL(p || q)`` at ``T = 1`` on the validation
    rows, or on the training rows when none are held out.

    The inputs are standardized with the mean and standard deviation of the
    training rows; that step is the first layer of ``module_`` (buffers, not
    parameters), so ``module_`` alone maps raw rows to logits.

    On CUDA the training rows are copied to the GPU once and the minibatches are
    sliced there (tabular sets are small next to GPU memory); prediction sends the
    rows in batches. Pickling moves the network to the CPU, so that a model trained
    on a GPU loads anywhere; it goes back to the GPU on loading when one is present.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skdistill import MLPStudent
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> teacher_proba = LogisticRegression().fit(X, y).predict_proba(X)
    >>> student = MLPStudent(hidden_layer_sizes=(16,), max_epochs=20, random_state=0)
    >>> student.fit(X, y, soft_targets=teacher_proba, temperature=2.0, alpha=0.7)
    MLPStudent(hidden_layer_sizes=(16,), max_epochs=20, random_state=0)
    >>> student.predict_proba(X[:2]).shape
    (2, 2)
    """

    _input_dtype = np.float32  # the network's dtype

    accepts_temperature_schedule = True

    _parameter_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left"),
                       StrOptions({"auto"})],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "patience_steps": [None, Interval(Integral, 1, None, closed="left")],
        "lr_schedule": [StrOptions({"constant", "cosine"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "numeric_embedding": [None, StrOptions(set(NUMERIC_EMBEDDINGS))],
        "distill_loss": [StrOptions({"kl", "logit_mse"})],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(64, 32),
        activation="relu",
        learning_rate=1e-3,
        weight_decay=0.0,
        batch_size=256,
        max_epochs="auto",
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        patience_steps=None,
        lr_schedule="constant",
        dropout=0.0,
        numeric_embedding=None,
        distill_loss="kl",
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.patience_steps = patience_steps
        self.lr_schedule = lr_schedule
        self.dropout = dropout
        self.numeric_embedding = numeric_embedding
        self.distill_loss = distill_loss
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, soft_targets=None, temperature=1.0,
            alpha=1.0, synthetic_rows=None):
        """Train on hard labels, or on the teachers' soft targets with the KD loss.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Hard labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, in the training loss and in the validation loss.
        soft_targets : array-like of shape (n_samples, n_classes), default=None
            Teacher probabilities, columns aligned to ``np.unique(y)``. ``None``
            trains on ``y`` alone.
        temperature : float or scheduler, default=1.0
            Softening temperature, or an object with ``initial()`` and
            ``step(epoch, gap)`` (see Notes of the class).
        alpha : float, default=1.0
            Weight of the soft-target term, in [0, 1]; ``0`` ignores the soft
            targets.
        synthetic_rows : array-like of bool of shape (n_samples,), default=None
            Rows made up by augmentation: trained on, never held out for early
            stopping, which watches real rows only.

        Returns
        -------
        self : object
            The fitted student.
        """
        device = _resolve_device(self.device)
        hidden = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        X, y = validate_data(self, X, y, dtype=self._input_dtype)
        schedule = _as_schedule(temperature)
        initial = schedule.initial()
        classes, y_encoded, soft = validate_fit_targets(
            y, soft_targets, initial, alpha, X.shape[0]
        )
        sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        _check_weighted_classes(classes, y_encoded, sample_weight)
        if soft is None or alpha == 0:
            soft, schedule, initial = None, _ConstantTemperature(1.0), 1.0

        rng = check_random_state(self.random_state)
        split_seed, torch_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        train_idx, val_idx = self._split(y_encoded, sample_weight, split_seed,
                                         synthetic_rows)
        mean, scale = _standardization(X[train_idx])
        X_standard = (X - mean) / scale
        data = _TensorData.build(X_standard, y_encoded, sample_weight, soft)
        train = data.subset(train_idx, device)
        val = None if val_idx is None else data.subset(val_idx, device)

        self.classes_ = classes
        self.device_ = device.type
        generator = torch.Generator().manual_seed(int(torch_seed))
        with _forked_torch_rng(device, int(torch_seed)):
            net = embedded_network(X_standard[train_idx], hidden, self.activation,
                                   self.dropout, len(classes),
                                   self.numeric_embedding).to(device)
            if self.dropout > 0:  # dropout draws from the global generator
                self._train(net, train, val, (schedule, initial), alpha, generator)
        if self.dropout == 0:  # free of the global generator: threads run at once
            self._train(net, train, val, (schedule, initial), alpha, generator)
        self.module_ = nn.Sequential(_Standardize(mean, scale), *net).to(device).eval()
        self.n_parameters_ = sum(p.numel() for p in self.module_.parameters())
        return self

    def predict_proba(self, X):
        """Class probabilities of the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities (float64), columns in the order of ``classes_``.
        """
        X = self._validate_predict_X(X)
        device = next(self.module_.buffers()).device
        with small_network_threads(self.module_):
            logits = _predict_logits(self.module_, X, device)
        return log_proba_to_proba(logits.astype(np.float64))

    def _split(self, y_encoded, sample_weight, seed, synthetic_rows):
        """Indices of the training rows and of the validation rows (or None)."""
        all_rows = np.arange(len(y_encoded))
        if not self.early_stopping:
            return all_rows, None
        real = real_rows(len(y_encoded), synthetic_rows)
        train, val = early_stopping_split(
            y_encoded[real], sample_weight[real], self.validation_fraction, seed,
            min_rows=_MIN_ROWS_FOR_VALIDATION,
        )
        if val is None:
            return all_rows, None
        return np.setdiff1d(all_rows, real[val]), real[val]

    def _train(self, net, train, val, schedule, alpha, generator):
        """The epoch loop (one torch thread for a small network, see
        :func:`small_network_threads`)."""
        with small_network_threads(net):
            self._epochs(net, train, val, schedule, alpha, generator)

    def _epochs(self, net, train, val, schedule, alpha, generator):
        """The epoch loop: train, evaluate, early-stop, consult the schedule.

        ``schedule`` is ``(scheduler, temperature of the first epoch)``.
        """
        schedule, temperature = schedule
        optimizer = _adam(net, self.learning_rate, self.weight_decay)
        steps_per_epoch = -(-train.X.shape[0] // self.batch_size)
        max_epochs = resolved_max_epochs(self.max_epochs, train.X.shape[0],
                                         self.batch_size, val is not None)
        lr_schedule = None
        if self.lr_schedule == "cosine":
            lr_schedule = _cosine_schedule(optimizer, max_epochs * steps_per_epoch)
        patience = self._patience_epochs(steps_per_epoch)
        track_gap = not isinstance(schedule, _ConstantTemperature)
        monitor = val if val is not None else train
        temperature = check_temperature(temperature)
        self.loss_curve_, self.temperature_history_ = [], []
        self.validation_scores_ = None if val is None else []
        best = _Best(self.tol)
        epochs = tqdm(range(max_epochs), desc="training", disable=not self.verbose,
                      unit="epoch")
        for epoch in epochs:
            targets = train.targets(temperature, self.distill_loss)
            loss = _run_epoch(
                net, optimizer, train, targets, temperature, alpha,
                self.batch_size, generator, lr_schedule, self.distill_loss,
            )
            _check_finite_loss(loss, epoch)
            self.loss_curve_.append(loss)
            self.temperature_history_.append(temperature)
            postfix = {"loss": f"{loss:.4f}", "T": f"{temperature:.3g}"}
            if val is not None or track_gap:
                val_loss, gap = _evaluate(net, monitor, alpha, self.distill_loss)
            if track_gap:
                temperature = check_temperature(schedule.step(epoch, gap))
            if val is not None:
                self.validation_scores_.append(val_loss)
                postfix["val_loss"] = f"{val_loss:.4f}"
                best.update(epoch, val_loss, net)
            epochs.set_postfix(postfix)
            if val is not None and best.stalled >= patience:
                break
        else:
            if val is not None and max_epochs > patience:
                warnings.warn(
                    f"MLPStudent stopped at {max_epochs} epochs (max_epochs="
                    f"{self.max_epochs!r}) while its validation loss was still "
                    "improving (early stopping did not stop it); increase "
                    "max_epochs.", ConvergenceWarning,
                    stacklevel=4)
        epochs.close()
        self.n_epochs_ = epoch + 1
        self.best_epoch_ = epoch if val is None else best.restore(net)
        net.eval()

    def _patience_epochs(self, steps_per_epoch):
        """Early stopping's patience in epochs: ``n_iter_no_change``, or more
        where ``patience_steps`` asks for more minibatch steps."""
        if self.patience_steps is None:
            return self.n_iter_no_change
        return max(self.n_iter_no_change,
                   -(-self.patience_steps // steps_per_epoch))


def _cosine_schedule(optimizer, total_steps):
    """A half cosine from the optimizer's step size down to zero, over
    ``total_steps`` minibatch steps."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + np.cos(np.pi * min(step, total_steps)
                                                    / total_steps)))


class _ConstantTemperature:
    """A fixed temperature with the scheduler interface."""

    def __init__(self, temperature):
        self.temperature = temperature

    def initial(self):
        return self.temperature

    def step(self, epoch, gap):
        return self.temperature


def _as_schedule(temperature):
    """A scheduler object: ``temperature`` itself or a constant wrapper."""
    if is_temperature_schedule(temperature):
        return temperature
    return _ConstantTemperature(temperature)


def _check_weighted_classes(classes, y_encoded, sample_weight):
    """At least two classes must keep a positive total weight."""
    weight_per_class = np.bincount(y_encoded, weights=sample_weight,
                                   minlength=len(classes))
    if np.count_nonzero(weight_per_class > 0) < 2:
        raise ValueError(
            "sample_weight leaves fewer than 2 classes with a positive weight; a "
            "classifier needs at least 2 classes."
        )
