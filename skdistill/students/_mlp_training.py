"""The training loop of :class:`~skdistill.students.MLPStudent`, in torch.

The rows as tensors (:class:`_TensorData`), one epoch of minibatches under the KD
loss (:func:`_run_epoch`, :func:`_kd_loss`), the validation loss and the
student-teacher gap after each epoch (:func:`_evaluate`), early stopping's best
weights (:class:`_Best`), the stratified validation split, and the seeding of
torch's process-wide generators.
"""

import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from ._base import LOGIT_FLOOR

_PREDICT_BATCH = 8192
_LOG_EPS = 1e-12
# distill_loss="logit_mse": the teachers' log-probabilities are floored here
# before centring, so that a probability of 0 does not ask for a logit of -28
# (the floor the distribution students' ``centred_log_proba`` uses).
_LOGIT_FLOOR = float(np.log(LOGIT_FLOOR))

# Held while torch's process-wide generators are seeded and drawn from.
_GLOBAL_RNG_LOCK = threading.RLock()
# Below this many parameters a network's matrices are too small for torch's
# intra-op threads to help, and on a loaded machine they hurt: an MLPStudent() fit
# on 569 rows took 20.3 s with torch's default 2 threads and 5.1 s with one
# (issue 15, two other CPU-bound processes on 2 cores).
SMALL_NETWORK_PARAMETERS = 1_000_000

# max_epochs="auto": AUTO_EPOCHS passes, more on a small training set so that the
# network may take AUTO_MIN_STEPS minibatch steps (early stopping still ends it
# sooner), at most AUTO_MAX_EPOCHS. At 100x compression a 2-unit network on
# digits (1,347 rows and 4x as many MUNGE rows, 26 steps an epoch) was still
# improving at epoch 200: 53-65 % test accuracy, 72-74 % after 800 epochs
# (benchmarks/README.md, session 12).
AUTO_EPOCHS = 200
AUTO_MIN_STEPS = 16_000
AUTO_MAX_EPOCHS = 2_000


def resolved_max_epochs(max_epochs, n_rows, batch_size, early_stopping=True):
    """The most epochs a network trains for on ``n_rows`` training rows.

    Parameters
    ----------
    max_epochs : int or "auto"
        The student's ``max_epochs``; an int is returned as it is.
    n_rows : int
        Rows trained on (early stopping's validation rows excluded).
    batch_size : int
        Rows per minibatch.
    early_stopping : bool, default=True
        Whether a validation loss can end the training sooner. Without it
        ``"auto"`` is :data:`AUTO_EPOCHS`: the step floor counts on early
        stopping to end a network that has stopped learning.

    Returns
    -------
    int
    """
    if max_epochs != "auto":
        return max_epochs
    if not early_stopping:
        return AUTO_EPOCHS
    steps_per_epoch = max(1, -(-n_rows // batch_size))
    return int(min(AUTO_MAX_EPOCHS,
                   max(AUTO_EPOCHS, -(-AUTO_MIN_STEPS // steps_per_epoch))))


@dataclass
class _TensorData:
    """Rows as tensors: standardized features, labels, weights, soft targets.

    ``weight`` is ``None`` when all weights are equal; ``log_soft`` holds
    ``log(p)`` of the teacher probabilities, or is ``None`` without them.
    """

    X: torch.Tensor
    y: torch.Tensor
    weight: torch.Tensor | None
    log_soft: torch.Tensor | None

    @classmethod
    def build(cls, X, y_encoded, sample_weight, soft):
        log_soft = None
        if soft is not None:
            log_soft = torch.from_numpy(np.log(np.clip(soft, _LOG_EPS, 1.0))).float()
        return cls(
            torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)),
            torch.from_numpy(y_encoded.astype(np.int64)),
            torch.from_numpy(sample_weight.astype(np.float32)),
            log_soft,
        )

    def subset(self, rows, device):
        """The given rows on ``device``; weights normalized to mean one."""
        rows = torch.from_numpy(rows)
        log_soft = None if self.log_soft is None else self.log_soft[rows].to(device)
        return _TensorData(
            self.X[rows].to(device),
            self.y[rows].to(device),
            _normalized_weight(self.weight[rows], device),
            log_soft,
        )

    def targets(self, temperature, loss):
        """What the soft term of ``loss`` compares the logits with, or None.

        ``"kl"``: :meth:`softened`. ``"logit_mse"``: ``(t, None)`` with ``t``
        the floored log-probabilities centred per row (the temperature is not
        used).
        """
        if self.log_soft is None or loss == "kl":
            return self.softened(temperature)
        return centred_logits(self.log_soft), None

    def softened(self, temperature):
        """``(p_T, sum p_T log p_T)`` per row with ``p_T = soften(p, T)``, or None."""
        if self.log_soft is None:
            return None
        log_p = torch.log_softmax(self.log_soft / temperature, dim=1)
        p = log_p.exp()
        return p, (p * log_p).sum(dim=1)


def centred_logits(log_proba):
    """Log-probabilities floored at ``_LOGIT_FLOOR``, minus their row mean."""
    floored = torch.clamp(log_proba, min=_LOGIT_FLOOR)
    return floored - floored.mean(dim=1, keepdim=True)


def _normalized_weight(weight, device):
    """Row weights on ``device`` scaled to mean one; None when all are equal."""
    if torch.all(weight == weight[0]):
        return None
    return (weight / weight.mean()).to(device)


class _Best:
    """The best validation loss seen, its epoch and a copy of its weights, and
    for how many epochs in a row the loss has not beaten it by more than ``tol``
    (scikit-learn's MLP counts ``n_iter_no_change`` the same way)."""

    def __init__(self, tol=0.0):
        self.tol = tol
        self.loss, self.epoch, self.state = np.inf, -1, None
        self.stalled = 0

    def update(self, epoch, loss, net):
        self.stalled = 0 if loss < self.loss - self.tol else self.stalled + 1
        if loss < self.loss:
            self.loss, self.epoch = loss, epoch
            self.state = {k: v.detach().clone() for k, v in net.state_dict().items()}

    def restore(self, net):
        net.load_state_dict(self.state)
        return self.epoch


def _adam(net, learning_rate, weight_decay):
    """Adam, fused into one kernel per step where torch supports it (CPU: >= 2.4)."""
    params = dict(lr=learning_rate, weight_decay=weight_decay)
    try:
        return torch.optim.Adam(net.parameters(), fused=True, **params)
    except (RuntimeError, ValueError):
        return torch.optim.Adam(net.parameters(), **params)


def _run_epoch(net, optimizer, data, targets, temperature, alpha, batch_size,
               generator, lr_schedule=None, loss_name="kl"):
    """One pass over ``data`` in random minibatches; the mean training loss.

    ``targets`` is :meth:`_TensorData.targets` of ``loss_name``.
    ``lr_schedule`` (a torch learning-rate scheduler, or None) steps after every
    optimizer step.
    """
    net.train()
    n_rows = data.X.shape[0]
    order = torch.randperm(n_rows, generator=generator).to(data.X.device)
    losses = []
    for start in range(0, n_rows, batch_size):
        rows = order[start:start + batch_size]
        loss = _kd_loss(net(data.X[rows]), data, rows, targets, temperature, alpha,
                        loss_name)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if lr_schedule is not None:
            lr_schedule.step()
        losses.append(loss.detach())
    sizes = torch.full((len(losses),), float(batch_size), device=data.X.device)
    sizes[-1] = n_rows - batch_size * (len(losses) - 1)
    total = (torch.stack(losses) * sizes).sum().item()
    if targets is not None and targets[1] is not None:
        # KL: the entropy of the targets, constant, left out above
        neg_entropy = _weighted_mean(targets[1], data.weight)
        total += alpha * temperature**2 * neg_entropy * n_rows
    return total / n_rows


def _kd_loss(logits, data, rows, targets, temperature, alpha, loss_name="kl"):
    """Weighted mean over ``rows`` of the KD loss, up to the targets' entropy.

    ``KL(p || q) = sum p log p - sum p log q``: the first term does not depend on
    the network, so the gradient needs only the cross-entropy with soft labels.
    ``loss_name="logit_mse"``: the soft term is :func:`_logit_mse` instead.
    """
    weight = None if data.weight is None else data.weight[rows]
    reduction = "mean" if weight is None else "none"
    loss = 0.0
    if targets is None or alpha < 1:
        loss = F.cross_entropy(logits, data.y[rows], reduction=reduction)
        loss = loss if targets is None else (1 - alpha) * loss
    if targets is not None and loss_name == "logit_mse":
        soft = _logit_mse(logits, targets[0][rows])
        loss = loss + alpha * (soft.mean() if weight is None else soft)
    elif targets is not None:
        soft_ce = F.cross_entropy(
            logits / temperature, targets[0][rows], reduction=reduction
        )
        loss = loss + alpha * temperature**2 * soft_ce
    return loss if weight is None else (weight * loss).mean()


def _logit_mse(logits, centred_targets):
    """Per row, the mean squared difference of the centred logits and targets
    (Ba and Caruana, "Do Deep Nets Really Need to be Deep?", 2014)."""
    centred = logits - logits.mean(dim=1, keepdim=True)
    return ((centred - centred_targets) ** 2).mean(dim=1)


@torch.inference_mode()
def _evaluate(net, data, alpha, loss_name="kl"):
    """Validation loss and gap ``KL(p || q)`` at ``T = 1``, weighted means.

    With ``loss_name="logit_mse"`` the loss's soft term is the logits' squared
    error (the gap stays the KL).
    """
    net.eval()
    logits = torch.cat([net(data.X[s:s + _PREDICT_BATCH])
                        for s in range(0, data.X.shape[0], _PREDICT_BATCH)])
    log_q = torch.log_softmax(logits, dim=1)
    ce = F.nll_loss(log_q, data.y, reduction="none")
    if data.log_soft is None:
        return _weighted_mean(ce, data.weight), float("nan")
    soft, neg_entropy = data.softened(1.0)
    kl = neg_entropy - (soft * log_q).sum(dim=1)
    soft_term = kl
    if loss_name == "logit_mse":
        soft_term = _logit_mse(logits, centred_logits(data.log_soft))
    loss = alpha * soft_term + (1 - alpha) * ce
    return _weighted_mean(loss, data.weight), _weighted_mean(kl, data.weight)


def _weighted_mean(values, weight):
    """Mean of ``values`` weighted by ``weight`` (``None``: all equal), a float."""
    if weight is None:
        return float(values.mean())
    return float((values * weight).sum() / weight.sum())


@torch.inference_mode()
def _predict_logits(module, X, device):
    """Logits of the rows of ``X`` (numpy), computed in batches on ``device``."""
    module.eval()
    out = [
        module(torch.tensor(X[s:s + _PREDICT_BATCH], dtype=torch.float32,
                            device=device)).cpu()
        for s in range(0, X.shape[0], _PREDICT_BATCH)
    ]
    return torch.cat(out).numpy()


def _check_finite_loss(loss, epoch):
    if not np.isfinite(loss):
        raise ValueError(
            f"training diverged: the loss of epoch {epoch} is not finite ({loss}); "
            "lower learning_rate."
        )


def _standardization(X):
    """Column means and standard deviations (zero deviations become one)."""
    mean = X.mean(axis=0, dtype=np.float64)
    scale = X.std(axis=0, dtype=np.float64)
    scale[scale == 0] = 1.0
    return mean.astype(np.float32), scale.astype(np.float32)


@contextmanager
def small_network_threads(module):
    """One torch intra-op thread inside the block for a small network on the CPU.

    torch's thread count is per process: the previous count is put back after.
    """
    n_parameters = sum(p.numel() for p in module.parameters())
    on_cpu = all(p.device.type == "cpu" for p in module.parameters())
    previous = torch.get_num_threads()
    if not on_cpu or n_parameters > SMALL_NETWORK_PARAMETERS or previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def _forked_torch_rng(device, seed):
    """Seed torch's global generators (dropout, initial weights) inside a fork
    that restores their previous state on exit.

    The generators belong to the process: fits running in threads (joblib's
    threading backend) take turns here, or they would draw from each other's
    seeds and stop being reproducible.
    """
    devices = []
    if device.type == "cuda":
        index = device.index
        devices = [torch.cuda.current_device() if index is None else index]
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
