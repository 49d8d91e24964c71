"""The rows a student learns from, and how the training rows are split.

Three splits, all from the rows given to ``fit`` and never from test data:

* the validation split that measures ``report_`` (:func:`stratified_split`);
* the selection split inside the training rows on which the configuration
  search, the augmentation check and the chain search choose
  (:func:`selection_split`);
* the MLP student's own early-stopping split
  (:func:`early_stopping_split`).
"""

from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

# The selection split holds out this fraction of the real transfer rows, and is
# empty below MIN_SELECTION_ROWS real rows.
SELECTION_FRACTION = 0.2
MIN_SELECTION_ROWS = 100
_SEED_SPACE = 2**31 - 1


@dataclass(frozen=True)
class TransferSet:
    """The rows a student learns from: preprocessed inputs and their targets.

    Attributes
    ----------
    Z : ndarray of shape (n_samples, n_inputs)
        The student's inputs.
    y : ndarray of shape (n_samples,)
        The targets of the real rows; the fused teachers' predictions for the
        synthetic ones.
    targets : ndarray of shape (n_samples, n_outputs)
        The fused teachers' outputs.
    weight : ndarray of shape (n_samples,) or None
        Row weights.
    synthetic : ndarray of bool or None
        Which rows are synthetic (None: none is).
    task : ClassificationTask
        Reads, scores and stratifies the targets (see ``_task``).
    """

    Z: np.ndarray
    y: np.ndarray
    targets: np.ndarray
    weight: np.ndarray | None
    synthetic: np.ndarray | None = None
    task: object = field(kw_only=True)

    @property
    def n_synthetic(self):
        """Number of synthetic rows in the set."""
        return 0 if self.synthetic is None else int(self.synthetic.sum())

    def extended(self, Z, y, targets):
        """Append synthetic rows (weighted like an average real row)."""
        n_real, n_new = len(self.y), len(y)
        weight = None
        if self.weight is not None:
            weight = np.concatenate([self.weight,
                                     np.full(n_new, self.weight.mean())])
        synthetic = np.concatenate([np.zeros(n_real, bool), np.ones(n_new, bool)])
        return TransferSet(np.vstack([self.Z, Z]), np.concatenate([self.y, y]),
                           np.vstack([self.targets, targets]), weight, synthetic,
                           task=self.task)

    def subset(self, rows):
        """The set restricted to ``rows``."""
        weight = None if self.weight is None else self.weight[rows]
        synthetic = None if self.synthetic is None else self.synthetic[rows]
        return TransferSet(self.Z[rows], self.y[rows], self.targets[rows], weight,
                           synthetic, task=self.task)


def rows_with_validation(transfer, fused, X_valid, y_valid, w_valid):
    """The real rows of ``transfer`` and the validation rows, for the student.

    The validation rows' targets are the fused teachers' outputs
    (``fused.label``); teachers fitted on the training rows alone never saw
    them, so these targets are out-of-sample, as the training rows'
    out-of-fold ones are.

    Parameters
    ----------
    transfer : TransferSet
        The training rows (synthetic ones are dropped).
    fused : FusedTeachers
        Labels and encodes the validation rows.
    X_valid : array-like or DataFrame
        The validation rows, every column.
    y_valid : ndarray
        Their targets.
    w_valid : ndarray or None
        Their weights (None when the fit has none).

    Returns
    -------
    TransferSet
    """
    real = (np.arange(len(transfer.y)) if transfer.synthetic is None
            else np.flatnonzero(~transfer.synthetic))
    train = transfer.subset(real)
    Z, targets = fused.label(X_valid)
    weight = (None if train.weight is None
              else np.concatenate([train.weight, w_valid]))
    return TransferSet(np.vstack([train.Z, Z]), np.concatenate([train.y, y_valid]),
                       np.vstack([train.targets, targets]), weight, task=train.task)


def draw_seed(rng):
    """A seed for a step of the fit, drawn from the fit's random state."""
    return int(rng.randint(_SEED_SPACE))


def stratified_split(y, fraction, rng):
    """Split row indices per stratum; every stratum keeps a training row.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        The strata: the labels for classification (``task.strata``).
    fraction : float
        Share of each stratum's rows to hold out.
    rng : RandomState
        Draws the permutation of each stratum's rows.

    Returns
    -------
    train, held_out : ndarray of int
        Sorted row indices.
    """
    train, held_out = [], []
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        n_held_out = min(int(round(fraction * len(rows))), len(rows) - 1)
        held_out.append(rows[:n_held_out])
        train.append(rows[n_held_out:])
    train, held_out = np.sort(np.concatenate(train)), np.sort(np.concatenate(held_out))
    if len(held_out) == 0:
        raise ValueError(
            f"validation_fraction={fraction} leaves no validation row among "
            f"{len(y)} samples; give more samples or a larger fraction."
        )
    return train, held_out


def selection_split(transfer, seed):
    """Rows to train on and real rows to choose on, both from the transfer set.

    Parameters
    ----------
    transfer : TransferSet
        The training rows (and any synthetic rows).
    seed : int
        Seeds the split: the same seed gives the same split to every search.

    Returns
    -------
    training : TransferSet
        The transfer set less the selection rows.
    select : ndarray of int
        A stratified fifth of the real rows; empty below
        :data:`MIN_SELECTION_ROWS` real rows (and ``training`` is all rows).
    """
    real = np.arange(len(transfer.y))
    if transfer.synthetic is not None:
        real = np.flatnonzero(~transfer.synthetic)
    if len(real) < MIN_SELECTION_ROWS:
        return transfer, np.array([], dtype=int)
    _, select = stratified_split(transfer.task.strata(transfer.y[real]),
                                 SELECTION_FRACTION, check_random_state(seed))
    select = real[select]
    training = transfer.subset(np.setdiff1d(np.arange(len(transfer.y)), select))
    return training, select


def early_stopping_split(y_encoded, sample_weight, fraction, seed, min_rows):
    """Stratified train/validation indices for early stopping, when possible.

    Parameters
    ----------
    y_encoded : ndarray of shape (n_samples,)
        Labels coded ``0 .. n_classes - 1``.
    sample_weight : ndarray of shape (n_samples,)
        Row weights; both parts must keep a positive total.
    fraction : float
        Share of the rows held out.
    seed : int
        Seeds the split.
    min_rows : int
        Below this many rows, no validation rows.

    Returns
    -------
    train : ndarray of int
    validation : ndarray of int or None
        ``None`` (and ``train`` is every row) when a split is impossible.
    """
    rows = np.arange(len(y_encoded))
    if len(rows) < min_rows:
        return rows, None
    try:
        train, val = train_test_split(
            rows, test_size=fraction, stratify=y_encoded, random_state=seed
        )
    except ValueError:  # a class too small to stratify
        train, val = train_test_split(rows, test_size=fraction, random_state=seed)
    n_classes = y_encoded.max() + 1
    if (
        len(np.unique(y_encoded[train])) < n_classes
        or sample_weight[train].sum() <= 0
        or sample_weight[val].sum() <= 0
    ):
        return rows, None
    return np.sort(train), np.sort(val)
