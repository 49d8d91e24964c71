"""MUNGE: synthetic transfer rows that look like the training rows.

A teacher can label as many rows as a student needs; MUNGE makes those rows from the
training rows themselves, by mixing every row with its nearest neighbour, so that they
stay on the data's manifold instead of filling the whole attribute space.
"""

import functools
import sys
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from scipy import sparse
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.validation import _num_samples

from ._chain import fit_branches
from ._task import teachers_trusted
from ._transfer import draw_seed, selection_split
from .students._mlp_training import resolved_max_epochs

# Pairs drawn from one seed. Fixing it (not ``chunk_size``) makes every output row a
# function of ``random_state`` and its position alone, whatever the chunking.
_BLOCK = 1024
# Real rows per neighbour query: bounds its memory, large enough to stay fast.
_QUERY_ROWS = 10_000
# Above this many bytes the neighbour space of one-hot categories is kept sparse.
_DENSE_BYTES = 2**27
_SEED_SPACE = 2**31 - 1


def munge(X, n_samples, *, p=0.5, s=1.0, random_state=None, chunk_size=10_000):
    """Return synthetic rows like ``X``, made by MUNGE.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_rows, n_features)
        The real rows, at least 2. DataFrame columns of numeric dtype (float or
        integer, missing values allowed) are noised; columns of any other dtype
        (category, object, string, bool, ...) are swapped between rows, so their
        values are never invented. An array must be numeric (or all boolean).
    n_samples : int
        Number of synthetic rows, at least 1.
    p : float, default=0.5
        Probability, per row pair and attribute, that the pair exchanges the
        attribute, in [0, 1].
    s : float, default=1.0
        Local variance parameter, > 0: an exchanged continuous value is drawn
        around the neighbour's value with standard deviation ``|e_a - e'_a| / s``.
        Larger ``s`` keeps the synthetic rows closer to real values.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws; an int gives the same rows for any ``chunk_size``.
    chunk_size : int, default=10_000
        Rows built at a time; bounds the memory in use beyond ``X`` itself.

    Returns
    -------
    X_new : DataFrame or ndarray of shape (n_samples, n_features)
        Of the type of ``X``: a DataFrame with the same columns and dtypes
        (categorical dtypes and their categories kept, a fresh ``RangeIndex``), or
        an ndarray of the dtype of ``X``.

    See Also
    --------
    iter_munge : The same rows, yielded in chunks.

    Notes
    -----
    MUNGE is the pseudo-data generator of Bucila, Caruana and Niculescu-Mizil,
    "Model Compression", KDD 2006. Each pass over the real rows takes every row
    ``e`` with its nearest real neighbour ``e'`` and, for each attribute ``a``
    with probability ``p``, exchanges the two values: a categorical value is
    swapped; a continuous one becomes ``e_a <- N(e'_a, sd)`` and
    ``e'_a <- N(e_a, sd)`` with ``sd = |e_a - e'_a| / s``. Passes repeat until
    ``n_samples`` rows exist. Here:

    - both rows of a pair are output, ``e`` then ``e'``, so a pass over ``n``
      real rows gives ``2 n`` synthetic ones; the real rows are visited in a
      fresh random order each pass, so that a short request is not biased
      towards the first rows of ``X``;
    - neighbours are found once, among the real rows, not among rows already
      modified in the pass as in the paper's sequential loop; this makes the
      pairs independent and the work vectorised and chunked;
    - the distance is Euclidean on standardized numeric attributes (a missing
      value counts as the column mean) plus 1 per categorical attribute whose
      values differ (a missing category is a category of its own);
    - a missing numeric value never receives noise and is never filled: when
      either value of an exchanged attribute is missing, the two values are
      swapped as they are, so missing values move between rows at their rate;
    - an integer column is rounded back to its integer dtype after the noise
      (and clipped to that dtype's range, not to the observed one).

    The neighbour search is quadratic in the real rows when the neighbour space
    has many columns (brute force; a tree for few dense columns): about 1.5 s
    for 20,000 rows of 20 mixed columns on 2 cores. Subsample ``X`` first when
    it is much larger. Generating the rows themselves is linear.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill._augment import munge
    >>> X = np.random.RandomState(0).normal(size=(50, 3))
    >>> munge(X, 120, random_state=0).shape
    (120, 3)
    """
    chunks = list(iter_munge(X, n_samples, p=p, s=s, random_state=random_state,
                             chunk_size=chunk_size))
    if _is_frame(X):
        import pandas as pd

        return pd.concat(chunks).set_axis(pd.RangeIndex(n_samples))
    return np.concatenate(chunks)


def iter_munge(X, n_samples, *, p=0.5, s=1.0, random_state=None, chunk_size=10_000):
    """Yield synthetic rows like ``X``, made by MUNGE, in chunks.

    The caller can label each chunk with the teachers and let it go, so that
    memory stays bounded by ``chunk_size`` however many rows are asked for.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_rows, n_features)
        The real rows, as in :func:`munge`.
    n_samples : int
        Total number of synthetic rows, at least 1.
    p : float, default=0.5
        Probability of exchanging each attribute of a pair, in [0, 1].
    s : float, default=1.0
        Local variance parameter, > 0.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws.
    chunk_size : int, default=10_000
        Most rows per yielded chunk, at least 1.

    Yields
    ------
    X_chunk : DataFrame or ndarray of shape (n_chunk_rows, n_features)
        Consecutive chunks of the rows :func:`munge` returns for the same
        arguments; a DataFrame chunk's index continues the previous one's.

    See Also
    --------
    munge : All the rows at once; its Notes describe the algorithm.
    """
    _check_arguments(n_samples, p, s, chunk_size)
    table = _Table(X)
    neighbours = _nearest_neighbours(_neighbour_space(table))
    entropy = check_random_state(random_state).randint(_SEED_SPACE)
    return _generate(table, neighbours, entropy, n_samples, p, s, chunk_size)


def _generate(table, neighbours, entropy, n_samples, p, s, chunk_size):
    """The chunks of :func:`iter_munge`, once its arguments are checked."""
    order = functools.lru_cache(maxsize=2)(
        functools.partial(_pass_order, entropy, table.n_rows))
    for start in range(0, n_samples, chunk_size):
        stop = min(start + chunk_size, n_samples)
        segments = [
            _segment_rows(table, neighbours, order(k), entropy, k, a, b, p, s)
            for k, a, b in _pass_segments(start, stop, 2 * table.n_rows)
        ]
        numeric, rows = (np.concatenate(parts) for parts in zip(*segments, strict=True))
        yield table.assemble(numeric, rows, start)


def _check_arguments(n_samples, p, s, chunk_size):
    """Raise a ValueError naming the first bad argument."""
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) \
            or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}.")
    if not isinstance(p, Real) or not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}.")
    if not isinstance(s, Real) or not s > 0:
        raise ValueError(f"s must be a number > 0, got {s!r}.")
    if not isinstance(chunk_size, Integral) or isinstance(chunk_size, bool) \
            or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1, got {chunk_size!r}.")


class _Table:
    """The real rows split into a float matrix of numeric columns and the rest.

    Numeric columns are noised; every other column is only ever indexed by row,
    so its values and dtype survive exactly.
    """

    def __init__(self, X):
        self.frame = X if _is_frame(X) else None
        self.array = None if self.frame is not None else _as_array(X)
        dtypes = (list(self.frame.dtypes) if self.frame is not None
                  else [self.array.dtype] * self.array.shape[1])
        is_numeric = [_is_numeric(dtype) for dtype in dtypes]
        self.dtypes = dtypes
        self.numeric_columns = np.flatnonzero(is_numeric)
        self.other_columns = np.flatnonzero(~np.asarray(is_numeric, dtype=bool))
        self.n_rows = len(self.frame if self.frame is not None else self.array)
        if self.n_rows < 2 or len(dtypes) == 0:
            raise ValueError(
                "MUNGE needs at least 2 rows and 1 column to pair rows with their "
                f"nearest neighbours; X has shape ({self.n_rows}, {len(dtypes)}).")
        self.numeric = np.column_stack(
            [self._column_as_float(j) for j in self.numeric_columns]
            or [np.empty((self.n_rows, 0))])

    def _column_as_float(self, j):
        if self.frame is None:
            return self.array[:, j].astype(float)
        return self.frame.iloc[:, j].to_numpy(dtype=float, na_value=np.nan)

    def other_codes(self):
        """Integer codes of each non-numeric column, missing values a code too."""
        if self.frame is None:
            return [np.unique(self.array[:, j], return_inverse=True)[1]
                    for j in self.other_columns]
        import pandas as pd

        return [pd.factorize(self.frame.iloc[:, j], use_na_sentinel=False)[0]
                for j in self.other_columns]

    def assemble(self, numeric, rows, start):
        """Build the output from noised numeric values and rows to copy from."""
        if self.frame is None:
            out = np.empty((len(rows), len(self.dtypes)), dtype=self.array.dtype)
            out[:, self.numeric_columns] = _cast(numeric, self.array.dtype)
            out[:, self.other_columns] = self.array[rows, self.other_columns]
            return out
        import pandas as pd

        index = pd.RangeIndex(start, start + len(rows))
        columns = {}
        for i, j in enumerate(self.numeric_columns):
            columns[j] = pd.Series(_cast(numeric[:, i], self.dtypes[j]),
                                   index=index).astype(self.dtypes[j])
        for i, j in enumerate(self.other_columns):
            values = self.frame.iloc[:, j].array.take(rows[:, i])
            columns[j] = pd.Series(values, index=index)
        ordered = [columns[j] for j in range(len(self.dtypes))]
        return pd.concat(ordered, axis=1).set_axis(self.frame.columns, axis=1)


def _as_array(X):
    """A 2-D numeric or boolean ndarray, or a TypeError/ValueError saying why not."""
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"X must be 2-D, got an array of shape {array.shape}.")
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"An array X must be numeric or boolean, got dtype {array.dtype}; pass "
            "a DataFrame to keep categorical columns.")
    return array


def _is_frame(X):
    """Whether ``X`` is a DataFrame; pandas is not imported unless it already is."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(X, pandas.DataFrame)


def _is_numeric(dtype):
    """Whether a column is noised (numbers) rather than swapped (everything else)."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "iuf"
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(dtype) and not is_bool_dtype(dtype)


def _cast(values, dtype):
    """Noised floats back to a column's dtype: integers rounded, kept in range.

    Extension integer dtypes (``Int64``, ...) stay float here, missing values NaN,
    for ``astype`` to convert.
    """
    if isinstance(dtype, np.dtype):
        if dtype.kind not in "iu":
            return values
        return _round_into(values, np.iinfo(dtype)).astype(dtype)
    from pandas.api.types import is_integer_dtype

    if not is_integer_dtype(dtype):
        return values
    return _round_into(values, np.iinfo(dtype.numpy_dtype))


def _round_into(values, limits):
    return np.clip(np.rint(values), limits.min, limits.max)


def _neighbour_space(table):
    """Rows as vectors whose Euclidean distance is the MUNGE distance.

    Standardized numeric columns (missing: the mean, 0) and one-hot categories
    scaled by 1/sqrt(2), so that two different categories add 1 to the squared
    distance, as a difference of one standard deviation does.
    """
    scaled = _standardize(table.numeric)
    codes = table.other_codes()
    if not codes:
        return scaled
    one_hot = sparse.hstack([_one_hot(code) for code in codes], format="csr")
    if scaled.nbytes + one_hot.shape[0] * one_hot.shape[1] * 8 <= _DENSE_BYTES:
        return np.hstack([scaled, one_hot.toarray()])
    return sparse.hstack([sparse.csr_matrix(scaled), one_hot], format="csr")


def _standardize(numeric):
    """Columns centred and scaled, ignoring missing values, which become 0.

    An all-missing or constant column becomes all zeros, without warnings.
    """
    present = ~np.isnan(numeric)
    count = np.maximum(present.sum(axis=0), 1)
    filled = np.where(present, numeric, 0.0)
    mean = filled.sum(axis=0) / count
    centred = np.where(present, numeric - mean, 0.0)
    std = np.sqrt((centred**2).sum(axis=0) / count)
    return centred / np.where(std > 0, std, 1.0)


def _one_hot(code):
    """A sparse one-hot matrix of integer codes, scaled by 1/sqrt(2)."""
    n = len(code)
    return sparse.csr_matrix(
        (np.full(n, np.sqrt(0.5)), (np.arange(n), code)),
        shape=(n, int(code.max()) + 1))


def _nearest_neighbours(space, chunk_size=_QUERY_ROWS):
    """Index of each row's nearest other row, querying ``chunk_size`` rows at once."""
    finder = NearestNeighbors(n_neighbors=2).fit(space)
    n = space.shape[0]
    neighbours = np.empty(n, dtype=np.intp)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        found = finder.kneighbors(space[start:stop], return_distance=False)
        itself = found[:, 0] == np.arange(start, stop)
        neighbours[start:stop] = np.where(itself, found[:, 1], found[:, 0])
    return neighbours


def _pass_order(entropy, n_rows, k):
    """The order in which pass ``k`` visits the real rows."""
    seed = np.random.SeedSequence(entropy, spawn_key=(0, k))
    return np.random.default_rng(seed).permutation(n_rows)


def _pass_segments(start, stop, pass_rows):
    """Split output rows [start, stop) into (pass, first, last) within passes."""
    while start < stop:
        k, first = divmod(start, pass_rows)
        last = min(pass_rows, first + stop - start)
        yield k, first, last
        start += last - first


def _draws(entropy, k, first_pair, last_pair, n_attributes, n_numeric, p):
    """Swap masks and standard normals of pairs [first_pair, last_pair) of pass k.

    Drawn by blocks of ``_BLOCK`` pairs, each from its own seed, so a pair's draws
    never depend on which other pairs are asked for.
    """
    masks, normals = [], []
    for block in range(first_pair // _BLOCK, (last_pair - 1) // _BLOCK + 1):
        rng = np.random.default_rng(
            np.random.SeedSequence(entropy, spawn_key=(1, k, block)))
        mask = rng.random((_BLOCK, n_attributes)) < p
        normal = rng.standard_normal((_BLOCK, 2, n_numeric))
        lo = max(first_pair - block * _BLOCK, 0)
        hi = min(last_pair - block * _BLOCK, _BLOCK)
        masks.append(mask[lo:hi])
        normals.append(normal[lo:hi])
    return np.concatenate(masks), np.concatenate(normals)


def _segment_rows(table, neighbours, order, entropy, k, first, last, p, s):
    """Output rows [first, last) of pass ``k``: noised numbers and rows to copy.

    Row ``2 j`` of a pass is the modified ``e`` of pair ``j``, row ``2 j + 1`` the
    modified ``e'``. Returns the numeric values and, for every other column, the
    real row whose value it takes.
    """
    first_pair, last_pair = first // 2, (last + 1) // 2
    mask, normal = _draws(entropy, k, first_pair, last_pair, len(table.dtypes),
                          len(table.numeric_columns), p)
    e = order[first_pair:last_pair]
    e_prime = neighbours[e]
    numeric = _exchange_numeric(table.numeric[e], table.numeric[e_prime],
                                mask[:, table.numeric_columns], normal, s)
    swap = mask[:, table.other_columns]
    rows = np.stack([np.where(swap, e_prime[:, None], e[:, None]),
                     np.where(swap, e[:, None], e_prime[:, None])], axis=1)
    keep = slice(first - 2 * first_pair, last - 2 * first_pair)
    n_rows = 2 * len(e)
    return (numeric.reshape(n_rows, numeric.shape[2])[keep],
            rows.reshape(n_rows, rows.shape[2])[keep])


def _exchange_numeric(own, other, mask, normal, s):
    """MUNGE's continuous exchange for pairs; shape (n_pairs, 2, n_numeric).

    ``e_a <- N(e'_a, sd)`` and ``e'_a <- N(e_a, sd)``, ``sd = |e_a - e'_a| / s``,
    where ``mask``; a pair with a missing value swaps the two values unchanged.
    """
    sd = np.abs(own - other) / s
    missing = np.isnan(sd)
    new_e = np.where(missing, other, other + sd * normal[:, 0])
    new_e_prime = np.where(missing, own, own + sd * normal[:, 1])
    return np.stack([np.where(mask, new_e, own),
                     np.where(mask, new_e_prime, other)], axis=1)


# MUNGE's neighbour search is quadratic in its source rows: sample this many.
MAX_SOURCE_ROWS = 20_000
# augment="auto" tries MUNGE rows up to this many real training rows: the check
# trains the student on augment_ratio times as many synthetic rows, and synthetic
# rows matter where real ones are scarce.
AUTO_MAX_ROWS = 20_000


def synthetic_rows(X, ratio, fused, rng):
    """MUNGE rows labelled by the fused teachers, made and labelled in chunks.

    Parameters
    ----------
    X : array-like or DataFrame
        The real rows (every column) the synthetic rows are made from.
    ratio : float
        Synthetic rows per real row.
    fused : FusedTeachers
        Labels the rows and encodes them for the student.
    rng : RandomState
        Draws the source sample (above :data:`MAX_SOURCE_ROWS` rows) and
        MUNGE's seed.

    Returns
    -------
    Z : ndarray
        The student's inputs of the synthetic rows.
    y : ndarray
        The fused teachers' predictions (``fused.task.predictions``).
    targets : ndarray
        The fused teachers' outputs.
    """
    n_rows = _num_samples(X)
    source = X
    if n_rows > MAX_SOURCE_ROWS:  # the neighbour search is quadratic
        keep = np.sort(rng.choice(n_rows, MAX_SOURCE_ROWS, replace=False))
        source = _safe_indexing(X, keep)
    Z_parts, target_parts = [], []
    for chunk in iter_munge(source, max(1, int(round(ratio * n_rows))),
                            random_state=draw_seed(rng)):
        Z, targets = fused.label(chunk)
        Z_parts.append(Z)
        target_parts.append(targets)
    targets = np.vstack(target_parts)
    return np.vstack(Z_parts), fused.task.predictions(targets), targets


def augmentation_check(transfer, student, temperature, alpha, make_rows, seed,
                       n_jobs, known_without=None, known_fit=None):
    """``augment="auto"``: whether MUNGE rows make the student more accurate.

    The student trains twice on the transfer set less the selection rows: on
    those rows alone, and with MUNGE rows made from them only (rows made near a
    selection row would carry its label: the teachers were fitted on it). The
    synthetic rows are kept only when the student scores strictly higher with
    them on the selection rows: on the selection score where the fused
    teachers are at least as accurate there as both fits
    (:func:`~._task.teachers_trusted`), on the task's score (accuracy for
    classification) otherwise, since the selection score leans towards the
    teachers whose labels the synthetic rows carry. When the student without
    them is already more accurate than the teachers there, they are not kept
    and, where that fit comes first (known from the search, or one worker),
    the fit with them is not made (:func:`_beyond_the_teachers`).

    Parameters
    ----------
    transfer : TransferSet
        The real training rows and their targets.
    student : estimator
        The configured student (cloned here).
    temperature, alpha
        The configured temperature and alpha.
    make_rows : callable
        ``make_rows(rows)``: synthetic rows made from those training rows, as
        :func:`synthetic_rows` returns them.
    seed : int
        Seeds the selection split.
    n_jobs : int or None
        Workers: with more than one, the two fits run in parallel.
    known_without : tuple of float, default=None
        The student's score and selection score on the selection rows without
        MUNGE rows, when the configuration search (or the distil-or-not
        check) already measured them: the same fit (same
        student, seed, rows and selection rows, see
        :func:`~._configure.searched_scores`). Only the fit with MUNGE rows is
        made then.
    known_fit : CheckFit, default=None
        That fit itself, when it was kept: the ``chosen_fit`` when the choice
        is no MUNGE rows.

    Returns
    -------
    augment : bool
    check : dict
        Both fits' scores (``accuracy_*``, the task's score, which decides)
        and selection scores (``selection_score_*``, which the runner-up's
        comparison uses), and the choice, for ``report_.details``.
    chosen_fit : CheckFit or None
        The fit of the choice (with MUNGE rows or without), when it was made
        here: trained on neither the selection rows nor the report's
        validation rows, it can stand for the report's student.
    """
    if len(transfer.y) > AUTO_MAX_ROWS:
        return False, {"chosen": None, "reason": (
            f"over {AUTO_MAX_ROWS:,} real training rows")}, None
    training, select = selection_split(transfer, seed)
    if len(select) == 0:
        return False, {"chosen": None, "reason": "too few rows to choose on"}, None
    n_inputs, n_classes = transfer.Z.shape[1], transfer.targets.shape[1]
    # CheckFit by branch name, as they are made (or known)
    fits = {} if known_fit is None else {"without": known_fit}

    def fitted_scores(named_branches):
        chains = fit_branches(clone(student), None,
                              [(0, rows) for _, rows in named_branches],
                              temperature, alpha, n_inputs, n_classes, n_jobs)
        for (name, rows), chain in zip(named_branches, chains, strict=True):
            fits[name] = CheckFit(chain, len(rows.y))
        return [transfer.scores(chain[-1].model, select) for chain in chains]

    without = known_without
    if without is None and effective_n_jobs(n_jobs) == 1:
        # One worker: the fit without synthetic rows first, whose score may
        # spare the fit with them (with more workers both run at once).
        (without,) = fitted_scores([("without", training)])
    reused = known_without is not None
    beyond = _beyond_the_teachers(transfer, select, without, reused)
    if beyond is not None:
        return False, beyond, fits.get("without")
    rows = np.setdiff1d(np.arange(len(transfer.y)), select)
    augmented = training.extended(*make_rows(rows))
    branches = [("munge", augmented)] + ([("without", training)]
                                         if without is None else [])
    scores = fitted_scores(branches)
    if without is None:  # fitted beside the one with MUNGE rows: checked now
        without = scores[-1]
        beyond = _beyond_the_teachers(transfer, select, without, reused)
        if beyond is not None:
            return False, beyond, fits.get("without")
    munge = scores[0]
    trusted = teachers_trusted(transfer.task, transfer.y[select],
                               transfer.targets[select], [without[0], munge[0]])
    decisive = int(trusted)
    chosen = munge[decisive] > without[decisive]
    return chosen, {
        "accuracy_without": without[0], "accuracy_munge": munge[0],
        "selection_score_without": without[1], "selection_score_munge": munge[1],
        "decided_on": "selection_score" if trusted else "accuracy",
        "n_synthetic_rows": augmented.n_synthetic,
        "reused_search_fit": reused,
        "chosen": "munge" if chosen else None}, fits.get(
            "munge" if chosen else "without")


@dataclass(frozen=True)
class CheckFit:
    """A student the augmentation check fitted: its chain (see
    :func:`~skdistill._chain.fit_chain`) and the rows it trained on."""

    chain: list
    n_rows: int

    @property
    def seconds_per_row(self):
        """Its fit's seconds per training row."""
        return sum(step.seconds for step in self.chain) / max(1, self.n_rows)


def _beyond_the_teachers(transfer, select, without, reused):
    """``augmentation_check``'s answer when the student without synthetic rows
    is already more accurate than the fused teachers on the selection rows
    (``without``: its score and selection score there), else None.

    The synthetic rows carry the teachers' labels; a student that is right
    more often than they are has nothing more to learn from them, and the fit
    with them (on ``augment_ratio`` times the rows) is not made. On the medium
    suite's six seeds this left every choice but 9 of 60 as it was, and the
    test accuracy by −0.03 ± 0.03 points (prefit teachers: +0.02 ± 0.05), for
    0.5-0.95x of the fits' own work (benchmarks/README.md, session 10).
    """
    if without is None:
        return None
    task = transfer.task
    teachers = task.score(transfer.y[select],
                          task.predictions(transfer.targets[select]))
    if not without[0] > teachers:
        return None
    return {"accuracy_without": without[0], "selection_score_without": without[1],
            "teachers_accuracy": teachers, "decided_on": "accuracy",
            "reused_search_fit": reused, "chosen": None, "reason": (
                "the student without synthetic rows is more accurate than the "
                "teachers on the selection rows: their rows would teach it "
                "nothing more")}


# augment_ratio="auto" tries these ratios, those whose synthetic rows stay under
# MAX_SYNTHETIC_ROWS (Bucila et al., 2006, used transfer sets of hundreds of
# thousands of rows; the cap keeps the student's fit and its inputs bounded).
AUTO_RATIOS = (4.0, 16.0, 64.0)
# What a tree, booster or linear student takes under augment_ratio="auto": more
# synthetic rows of the same teachers did not make them more accurate
# (HPMRegressor's LightGBM lost on 4 of 5 datasets with the ladder,
# benchmarks/README "Session 13"); the ladder is for networks.
FIXED_RATIO = 4.0
MAX_SYNTHETIC_ROWS = 200_000
# A network trained on many synthetic rows keeps the optimizer steps it would
# take at ratio STEP_BUDGET_RATIO, but at least MIN_EPOCHS passes.
STEP_BUDGET_RATIO = 4.0
MIN_EPOCHS = 20


def ratio_ladder(n_rows):
    """The ratios ``augment_ratio="auto"`` tries for ``n_rows`` source rows.

    Those of :data:`AUTO_RATIOS` whose synthetic rows stay under
    :data:`MAX_SYNTHETIC_ROWS`; at least the smallest one.
    """
    ladder = [r for r in AUTO_RATIOS if r * n_rows <= MAX_SYNTHETIC_ROWS]
    return ladder or [AUTO_RATIOS[0]]


def step_capped(student, n_real, n_rows):
    """``student`` (unfitted) with fewer epochs where ``n_rows`` transfer rows
    would make it take more optimizer steps than on ``n_real`` real rows and
    :data:`STEP_BUDGET_RATIO` times as many synthetic ones.

    Students trained in epochs (a ``max_epochs`` and a ``batch_size``) have
    their ``max_epochs`` scaled down, never under :data:`MIN_EPOCHS`
    (``"auto"`` first resolved for the budget's rows); others are returned as
    they are.
    """
    params = student.get_params(deep=False)
    if "max_epochs" not in params or "batch_size" not in params:
        return student
    budget_rows = n_real * (1 + STEP_BUDGET_RATIO)
    if n_rows <= budget_rows:
        return student
    stops_early = params.get("early_stopping", True)
    budget_epochs = resolved_max_epochs(params["max_epochs"], budget_rows,
                                        params["batch_size"], stops_early)
    epochs = max(MIN_EPOCHS, int(budget_epochs * budget_rows / n_rows))
    if epochs >= resolved_max_epochs(params["max_epochs"], n_rows,
                                     params["batch_size"], stops_early):
        return student
    return clone(student).set_params(max_epochs=epochs)


def ratio_check(transfer, student, temperature, alpha, make_rows, seed, n_jobs,
                include_none):
    """``augment_ratio="auto"``: the MUNGE ratio that makes the student most
    accurate on the selection rows.

    As :func:`augmentation_check`, on the transfer set less the selection
    rows: the synthetic rows of the largest ratio of :func:`ratio_ladder` are
    made once from the remaining rows, and each smaller ratio takes their
    first rows (MUNGE's rows depend on their seed and position alone, so they
    are the rows that ratio would make). The student (its epochs capped by
    :func:`step_capped`) trains once per ratio; a tie keeps the smaller ratio.

    Parameters
    ----------
    transfer, student, temperature, alpha, seed, n_jobs
        As :func:`augmentation_check`.
    make_rows : callable
        ``make_rows(rows, ratio)``: synthetic rows made from those training
        rows at that ratio, as :func:`synthetic_rows` returns them.
    include_none : bool
        Whether no synthetic rows at all is a candidate (``augment="auto"``).

    Returns
    -------
    ratio : float or None
        The chosen ratio (None: no synthetic rows).
    check : dict
        The selection score of every ratio tried (``"curve"``, keyed by the
        ratio as text: ``"none"``, ``"4"``, ``"16"``, ``"64"``) and the choice.
    """
    n_real = len(transfer.y)
    ladder = ratio_ladder(n_real)
    if include_none and n_real > AUTO_MAX_ROWS:
        return None, {"chosen": None, "curve": {}, "reason": (
            f"over {AUTO_MAX_ROWS:,} real training rows")}
    training, select = selection_split(transfer, seed)
    if len(select) == 0:
        fallback = None if include_none else ladder[0]
        return fallback, {"chosen": fallback, "curve": {},
                          "reason": "too few rows to choose on"}
    rows = np.setdiff1d(np.arange(n_real), select)
    Z, y, targets = make_rows(rows, ladder[-1])
    branches = [(0, training)] if include_none else []
    for ratio in ladder:
        n_new = max(1, int(round(ratio * len(rows))))
        branches.append((0, training.extended(Z[:n_new], y[:n_new],
                                              targets[:n_new])))
    n_inputs, n_classes = transfer.Z.shape[1], transfer.targets.shape[1]
    chains = [
        fit_branches(step_capped(clone(student), len(rows), len(branch.y)),
                     None, [(0, branch)], temperature, alpha, n_inputs,
                     n_classes, n_jobs)[0]
        for _, branch in branches]
    scores = [transfer.task.score(transfer.y[select],
                                  chain[-1].model.predict(transfer.Z[select]))
              for chain in chains]
    candidates = ([None] if include_none else []) + list(ladder)
    best = int(np.argmax(scores))  # the first best: the smaller ratio
    curve = {("none" if r is None else f"{r:g}"): float(s)
             for r, s in zip(candidates, scores, strict=True)}
    return candidates[best], {"chosen": candidates[best], "curve": curve,
                              "score_name": transfer.task.score_name}
