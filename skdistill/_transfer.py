"""The rows a student learns from, and how the training rows are split.

Three splits, all from the rows given to ``fit`` and never from test data:

* the validation split that measures ``report_`` (:func:`stratified_split`);
* the selection split inside the training rows on which the configuration
  search, the augmentation check and the chain search choose
  (:func:`selection_split`: the rows of :func:`choice_rows`, which the
  teachers' cross-fitted copies are not fitted on), or, when ``fit`` is given
  ``X_val``, a part of those rows appended to the transfer set as selection rows
  (:meth:`TransferSet.with_selection`, :func:`validation_selection_split`);
* the MLP student's own early-stopping split
  (:func:`early_stopping_split`).
"""

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

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
    selection : ndarray of bool or None
        Which rows only choose (rows of ``X_val``): the searches score on them
        and nothing trains on them (None: none does).
    task : ClassificationTask
        Reads, scores and stratifies the targets (see ``_task``).
    held_out : ndarray of int or None
        The real rows that no copy of a teacher was fitted on
        (:func:`choice_rows`): the selection split's rows to choose on.
        Dropped by :meth:`subset`, whose positions differ.
    """

    Z: np.ndarray
    y: np.ndarray
    targets: np.ndarray
    weight: np.ndarray | None
    synthetic: np.ndarray | None = None
    selection: np.ndarray | None = None
    task: object = field(kw_only=True)
    held_out: np.ndarray | None = field(default=None, kw_only=True)

    @property
    def n_synthetic(self):
        """Number of synthetic rows in the set."""
        return 0 if self.synthetic is None else int(self.synthetic.sum())

    def scores(self, model, rows):
        """``model``'s score on ``rows`` of the set (``task.score``) and its
        selection score there (``task.selection_score``: against the targets
        and the fused teachers' outputs)."""
        predicted = model.predict(self.Z[rows])
        return (self.task.score(self.y[rows], predicted),
                self.task.selection_score(self.y[rows], predicted,
                                          self.targets[rows]))

    def extended(self, Z, y, targets):
        """Append synthetic rows (weighted like an average real row)."""
        return self._appended(Z, y, targets, synthetic=True)

    def with_selection(self, Z, y, targets):
        """Append rows that only choose (see ``selection``)."""
        return self._appended(Z, y, targets, synthetic=False)

    def _appended(self, Z, y, targets, synthetic):
        n_old, n_new = len(self.y), len(y)
        weight = None
        if self.weight is not None:
            weight = np.concatenate([self.weight,
                                     np.full(n_new, self.weight.mean())])
        flags = {"synthetic": self.synthetic, "selection": self.selection}
        kind = "synthetic" if synthetic else "selection"
        for name, old in flags.items():
            if old is None and name != kind:
                continue
            old = np.zeros(n_old, bool) if old is None else old
            flags[name] = np.concatenate([old, np.full(n_new, name == kind)])
        return TransferSet(np.concatenate([self.Z, Z], dtype=self.Z.dtype),
                           np.concatenate([self.y, y]),
                           np.vstack([self.targets, targets]), weight,
                           task=self.task, held_out=self.held_out, **flags)

    def subset(self, rows):
        """The set restricted to ``rows``."""
        def part(values):
            return None if values is None else values[rows]

        return TransferSet(self.Z[rows], self.y[rows], self.targets[rows],
                           part(self.weight), part(self.synthetic),
                           part(self.selection), task=self.task)

    def astype(self, dtype):
        """The set with its inputs ``Z`` as ``dtype`` (itself when they are)."""
        if self.Z.dtype == dtype:
            return self
        return dataclasses.replace(self, Z=self.Z.astype(dtype))

    def trainable(self):
        """The set less its selection rows: what a student trains on."""
        if self.selection is None:
            return self
        return self.subset(np.flatnonzero(~self.selection))


@dataclass(frozen=True)
class TransferRows:
    """Some rows of a transfer set, copied only when a subset is taken.

    The configuration search trains on subsets of at most ``MAX_SEARCH_ROWS``
    of its training rows: copying all of them first (at 1M rows, 300 MB of
    inputs) would raise the fit's peak memory for nothing.

    Attributes
    ----------
    transfer : TransferSet
        The whole set.
    rows : ndarray of int
        The rows of it that this object stands for.
    """

    transfer: TransferSet
    rows: np.ndarray

    @property
    def task(self):
        """The transfer set's task."""
        return self.transfer.task

    @cached_property
    def y(self):
        """The targets of the rows."""
        return self.transfer.y[self.rows]

    def subset(self, rows):
        """A :class:`TransferSet` of ``rows`` (positions among these rows)."""
        return self.transfer.subset(self.rows[rows])


def rows_with_validation(transfer, fused, X_valid, y_valid, w_valid):
    """The real rows of ``transfer`` and the validation rows, for the student.

    The validation rows' targets are ``fused.label``'s: teachers fitted on the
    training rows alone never saw them, and a prefit teacher that memorised
    its rows labels them through copies that never saw them where they were
    kept (:func:`~._held_out.validation_labeller`), so that these targets are
    out of sample, as the training rows' out-of-fold ones are.

    Parameters
    ----------
    transfer : TransferSet
        The training rows (synthetic ones are dropped).
    fused : FusedTeachers or HeldOutTeachers
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
        Its inputs in the dtype of ``transfer``'s (the student's, see
        :func:`student_input_dtype`), so that the student's fit does not copy
        them.
    """
    # Without synthetic rows every row is real: no copy of Z before the stack
    # (at 1M rows x 59 inputs, 360 MB more at the fit's peak).
    train = (transfer if transfer.synthetic is None
             else transfer.subset(np.flatnonzero(~transfer.synthetic)))
    Z, targets = fused.label(X_valid)
    weight = (None if train.weight is None
              else np.concatenate([train.weight, w_valid]))
    return TransferSet(np.concatenate([train.Z, Z], dtype=train.Z.dtype),
                       np.concatenate([train.y, y_valid]),
                       np.vstack([train.targets, targets]), weight, task=train.task)


def student_input_dtype(student):
    """The dtype ``student`` computes in (its ``_input_dtype``; float64 for a
    student that does not say)."""
    return np.dtype(getattr(student, "_input_dtype", np.float64))


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
        n_held_out = _n_held_out(len(rows), fraction)
        held_out.append(rows[:n_held_out])
        train.append(rows[n_held_out:])
    train, held_out = np.sort(np.concatenate(train)), np.sort(np.concatenate(held_out))
    if len(held_out) == 0:
        raise ValueError(
            f"validation_fraction={fraction} leaves no validation row among "
            f"{len(y)} samples; give more samples or a larger fraction."
        )
    return train, held_out


def _n_held_out(n_rows, fraction):
    """Rows :func:`stratified_split` holds out of a stratum of ``n_rows``."""
    return min(int(round(fraction * n_rows)), n_rows - 1)


def selection_split(transfer, seed):
    """Rows to train on and real rows to choose on, both from the transfer set.

    :func:`selection_rows`, with the rows to train on copied out.

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
        The selection rows of ``X_val`` when the set has them
        (:meth:`TransferSet.with_selection`); otherwise its ``held_out``
        rows when it has them, or :func:`choice_rows` of the real rows (empty
        below :data:`MIN_SELECTION_ROWS` real rows, and ``training`` is then
        all rows).
    """
    training, select = selection_rows(transfer, seed)
    if len(training) == len(transfer.y):
        return transfer, select
    return transfer.subset(training), select


def selection_rows(transfer, seed):
    """The row indices of :func:`selection_split`: to train on, to choose on.

    The rows to choose on are at most :data:`MAX_SCORED_ROWS` (a stratified
    sample of the selection rows beyond it); the others are in neither.

    Returns
    -------
    training, select : ndarray of int
    """
    all_rows = np.arange(len(transfer.y))
    if transfer.selection is not None and transfer.selection.any():
        select = np.flatnonzero(transfer.selection)
    elif transfer.held_out is not None:
        select = transfer.held_out
    else:
        real = all_rows
        if transfer.synthetic is not None:
            real = np.flatnonzero(~transfer.synthetic)
        select = real[choice_rows(transfer.task.strata(transfer.y[real]), seed)]
    return np.setdiff1d(all_rows, select), scored_rows(select, transfer, seed)


def choice_rows(strata, seed):
    """The rows a fit chooses on when ``X_val`` does not give them: a
    stratified fifth of the rows (:data:`SELECTION_FRACTION`), none below
    :data:`MIN_SELECTION_ROWS` rows.

    Parameters
    ----------
    strata : ndarray of shape (n_samples,)
        ``task.strata`` of the rows' targets.
    seed : int
        Seeds the draw.

    Returns
    -------
    ndarray of int
        Sorted row indices.
    """
    if len(strata) < MIN_SELECTION_ROWS:
        return np.array([], dtype=int)
    return stratified_split(strata, SELECTION_FRACTION, check_random_state(seed))[1]


# A fit's choices (the search's race, the checks) score on at most this many
# of the selection rows (a stratified sample of them beyond it). A score's
# noise is negligible there, while at a million training rows the 160,000
# selection rows were a copy of their inputs and a prediction per candidate.
MAX_SCORED_ROWS = 20_000


def scored_rows(select, transfer, seed):
    """The selection rows a fit scores on: ``select``, or a sample of
    :data:`MAX_SCORED_ROWS` of them, stratified by ``transfer.task.strata``.

    Parameters
    ----------
    select : ndarray of int
        The selection rows of ``transfer`` (:func:`selection_rows`).
    transfer : TransferSet
    seed : int
        Seeds the sample.

    Returns
    -------
    ndarray of int
        Sorted, a subset of ``select``.
    """
    if len(select) <= MAX_SCORED_ROWS:
        return select
    strata = transfer.task.strata(transfer.y[select])
    _, kept = stratified_split(strata, MAX_SCORED_ROWS / len(select),
                               check_random_state(seed))
    return select[kept]


# fit(X, y, X_val=, y_val=): this fraction of X_val (stratified) chooses, the
# rest measures the report; each part needs MIN_VALIDATION_PART rows, else
# X_val measures the report alone and the choice is made inside X.
VALIDATION_SELECTION_FRACTION = 0.5
MIN_VALIDATION_PART = 50


def validation_selection_split(strata, rng):
    """The rows of ``X_val`` that choose and those that measure the report.

    Parameters
    ----------
    strata : ndarray of shape (n_val,)
        ``task.strata(y_val)``.
    rng : RandomState
        Draws the split.

    Returns
    -------
    select, report : ndarray of int or None
        Disjoint sorted rows, :data:`VALIDATION_SELECTION_FRACTION` of each
        stratum choosing (every stratum keeps a report row); ``None, None``
        when either part would have fewer than :data:`MIN_VALIDATION_PART`
        rows.
    """
    if not validation_splits(strata):
        return None, None
    report, select = stratified_split(strata, VALIDATION_SELECTION_FRACTION, rng)
    return select, report


def validation_splits(strata):
    """Whether :func:`validation_selection_split` splits ``X_val`` (whose
    ``task.strata`` are ``strata``): both parts would have at least
    :data:`MIN_VALIDATION_PART` rows. Known before any random number is drawn:
    the parts' sizes depend on the strata alone."""
    if len(strata) < 2 * MIN_VALIDATION_PART:
        return False
    counts = np.unique(strata, return_counts=True)[1]
    n_select = sum(_n_held_out(count, VALIDATION_SELECTION_FRACTION)
                   for count in counts)
    return min(n_select, len(strata) - n_select) >= MIN_VALIDATION_PART


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
