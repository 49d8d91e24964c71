"""Optimization memory (HPM-KD component vi).

A persistent store of distillation experiments in one SQLite file (stdlib
``sqlite3``): meta-features of the data and the teachers, the configuration tried,
its validation scores, the student's size and speed, and how long it took. The
adaptive configuration (i) ranks candidates from it, the temperature scheduler (iv)
takes its starting point from it, and the parallel pipeline (v) estimates job costs
from the durations it records. It also caches teacher outputs, so that a re-fit with
the same teachers on the same rows skips teacher inference.

The memory must never break a fit: the file underneath
(:mod:`skdistill._memory_file`) is safe for many writers at once, and a file that
cannot be used gives one warning, after which the memory does nothing and the file
is left exactly as it was.
"""

import io
import json
import math
import os
import sqlite3
import statistics
from collections.abc import Mapping
from pathlib import Path

import joblib
import numpy as np

# The keys of the teacher-output cache; importers of the memory find them here.
from ._memory_file import _library_version, _MemoryFile, _now, _transaction

# The file an ``HPMDistiller(memory=joblib.Memory(location))`` keeps there.
JOBLIB_FILE = "skdistill.db"
_JSON_COLUMNS = ("dataset", "teachers", "config", "extra")
_NUMBER_COLUMNS = ("val_accuracy", "val_fidelity", "student_bytes",
                   "student_params", "latency_ms", "fit_seconds")
_TEXT_COLUMNS = ("created", "library_version")
_COLUMNS = ("id", *_TEXT_COLUMNS, *_JSON_COLUMNS[:3], *_NUMBER_COLUMNS, "extra")


def _to_json(value):
    def plain(obj):
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, (set, frozenset, tuple)):
            return list(obj)
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON serializable")

    return json.dumps({} if value is None else value, default=plain, sort_keys=True)


def _to_number(name, value):
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"experiment[{name!r}] must be a number or None, "
                        f"got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class OptimizationMemory(_MemoryFile):
    """Persistent memory of distillation experiments, in one SQLite file.

    Every fit of :class:`HPMDistiller` given a memory records what it tried (the
    data's and teachers' meta-features, each configuration, its validation accuracy
    and fidelity, the student's size and predict latency, the fit's duration) and
    reads past experiments back to configure the next fit. It also keeps the
    durations of parallel jobs, so that their costs can be estimated, and a cache of
    teacher outputs keyed by fingerprints of the teacher and of the data.

    The file is created on first use. Several processes and threads may read and
    write it at once. A file that cannot be used gives one warning and the memory
    then does nothing; it never overwrites or deletes the file.

    Parameters
    ----------
    path : str or os.PathLike
        The SQLite file. ``~`` is expanded; missing parent folders are created.
    timeout : float, default=30.0
        Seconds to wait for a file locked by another writer before giving up on one
        operation (with a warning; the fit goes on).
    cache : bool, default=True
        Whether teacher outputs are cached (:meth:`store_proba` stores nothing and
        :meth:`cached_proba` finds nothing when False).

    Attributes
    ----------
    path : pathlib.Path
        The file, with ``~`` expanded.
    problem : str or None
        Why the memory is inactive (the text of the warning), None while it works.

    See Also
    --------
    as_memory : What ``HPMDistiller(memory=...)`` accepts.

    Notes
    -----
    Component (vi) of HPM-KD (arXiv 2512.09886). The schema is versioned with
    ``PRAGMA user_version``: an older file is migrated in place, step by step, in
    one transaction; a file written by a newer skdistill is refused (warning) and
    left alone. The file is marked with ``PRAGMA application_id``, so that another
    application's SQLite database is never altered. Writers use WAL mode, a busy
    timeout, and retries with jittered exponential backoff. Pickling keeps only the
    path and the settings: a pickled memory (e.g. sent to a joblib worker) opens its
    own connection where it is used.

    Tables: ``experiments`` (``id``, ``created`` (UTC, ISO 8601),
    ``library_version``, ``dataset``, ``teachers``, ``config`` and ``extra`` as
    JSON, ``val_accuracy``, ``val_fidelity``, ``student_bytes``,
    ``student_params``, ``latency_ms`` (predict, per 1,000 rows), ``fit_seconds``);
    ``durations`` (``kind``, ``cost``, ``seconds``); ``teacher_outputs`` (arrays
    stored with :func:`numpy.save`, keyed by teacher, data and tag).

    Examples
    --------
    >>> import os, tempfile
    >>> from skdistill import OptimizationMemory
    >>> memory = OptimizationMemory(os.path.join(tempfile.mkdtemp(), "memory.db"))
    >>> memory.record({"dataset": {"n_rows": 1000, "n_classes": 2},
    ...                "config": {"family": "mlp", "temperature": 4.0},
    ...                "val_accuracy": 0.91, "fit_seconds": 2.5})
    1
    >>> len(memory)
    1
    >>> [e["val_accuracy"] for e in memory.experiments(config__family="mlp")]
    [0.91]
    >>> memory.record_duration("fit_student", cost=2.0e6, seconds=1.0)
    >>> memory.duration_model("fit_student")
    5e-07
    """

    def __init__(self, path, *, timeout=30.0, cache=True):
        super().__init__(path, timeout=timeout)
        self.cache = bool(cache)

    # -- experiments ---------------------------------------------------------------

    def record(self, experiment):
        """Store one experiment.

        Parameters
        ----------
        experiment : mapping
            Keys (all optional): ``dataset``, ``teachers``, ``config``, ``extra``
            (JSON-serializable mappings; numpy scalars and arrays are converted),
            ``val_accuracy``, ``val_fidelity``, ``student_bytes``,
            ``student_params``, ``latency_ms`` (predict time per 1,000 rows),
            ``fit_seconds`` (numbers or None), ``created`` and ``library_version``
            (strings; default now, in UTC, and this skdistill's version).

        Returns
        -------
        int or None
            The experiment's id; None when the memory is inactive.
        """
        if not isinstance(experiment, Mapping):
            raise TypeError("experiment must be a mapping, "
                            f"got {type(experiment).__name__}")
        unknown = sorted(set(experiment) - set(_COLUMNS[1:]))
        if unknown:
            raise ValueError(f"unknown experiment keys {unknown}; known keys are "
                             f"{sorted(_COLUMNS[1:])}")
        row = {"created": experiment.get("created") or _now(),
               "library_version": experiment.get("library_version")
               or _library_version()}
        for name in _JSON_COLUMNS:
            value = experiment.get(name)
            if value is not None and not isinstance(value, Mapping):
                raise TypeError(f"experiment[{name!r}] must be a mapping or None, "
                                f"got {type(value).__name__}")
            row[name] = _to_json(None if value is None else dict(value))
        for name in _NUMBER_COLUMNS:
            row[name] = _to_number(name, experiment.get(name))
        names = ", ".join(row)
        marks = ", ".join("?" * len(row))

        def insert(connection):
            with _transaction(connection):
                cursor = connection.execute(
                    f"INSERT INTO experiments ({names}) VALUES ({marks})",
                    tuple(row.values()))
            return cursor.lastrowid

        return self._run(insert, None)

    def experiments(self, where=None, **filters):
        """Stored experiments, oldest first, as a list of dicts.

        Parameters
        ----------
        where : callable, default=None
            Keeps the experiments for which ``where(experiment)`` is true.
        **filters
            Equality on a column (``library_version="0.1.0"``) or, with ``__``, on
            a key inside a JSON column (``config__family="mlp"``,
            ``dataset__n_classes=3``).

        Returns
        -------
        list of dict
            One dict per experiment with the keys of the ``experiments`` table, its
            JSON columns decoded. Empty when the memory is inactive.
        """
        columns, nested = {}, {}
        for key, value in filters.items():
            column, _, inner = key.partition("__")
            if column not in _COLUMNS or (inner and column not in _JSON_COLUMNS):
                raise ValueError(f"unknown filter {key!r}: filter on a column "
                                 f"{list(_COLUMNS)} or on a key of a JSON column "
                                 f"{list(_JSON_COLUMNS)} as column__key")
            if inner:
                nested[key] = (column, inner.split("__"), value)
            else:
                columns[column] = value
        condition = " AND ".join(f"{name} IS ?" for name in columns)
        query = (f"SELECT {', '.join(_COLUMNS)} FROM experiments"
                 + (f" WHERE {condition}" if condition else "") + " ORDER BY id")

        def select(connection):
            return connection.execute(query, tuple(columns.values())).fetchall()

        found = []
        for values in self._run(select, []):
            experiment = dict(zip(_COLUMNS, values, strict=True))
            for name in _JSON_COLUMNS:
                experiment[name] = json.loads(experiment[name])
            if all(_lookup(experiment[column], keys) == value
                   for column, keys, value in nested.values()) \
                    and (where is None or where(experiment)):
                found.append(experiment)
        return found

    def __len__(self):
        def count(connection):
            return connection.execute("SELECT count(*) FROM experiments").fetchone()[0]

        return self._run(count, 0)

    # -- durations of jobs ---------------------------------------------------------

    def record_duration(self, kind, cost, seconds):
        """Store how long a job of ``kind`` and expected ``cost`` took.

        Parameters
        ----------
        kind : str
            The kind of job (``"fit_teacher"``, ``"fit_student"``, ...).
        cost : float
            Its expected cost, in the units of the caller's estimate (e.g. rows *
            features * iterations); positive.
        seconds : float
            How long it took; zero or positive.
        """
        if not isinstance(kind, str):
            raise TypeError(f"kind must be a str, got {type(kind).__name__}")
        cost = _to_number("cost", cost)
        seconds = _to_number("seconds", seconds)
        if cost is None or cost <= 0 or seconds is None or seconds < 0:
            raise ValueError("cost must be positive and seconds non-negative, "
                             f"got cost={cost!r}, seconds={seconds!r}")

        def insert(connection):
            with _transaction(connection):
                connection.execute(
                    "INSERT INTO durations (created, kind, cost, seconds) "
                    "VALUES (?, ?, ?, ?)", (_now(), kind, cost, seconds))

        self._run(insert, None)

    def duration_model(self, kind, last=1000):
        """Median seconds per unit of cost of the jobs of ``kind``.

        Parameters
        ----------
        kind : str
            The kind of job.
        last : int, default=1000
            Only the most recent ``last`` jobs of that kind count (machines and
            versions change).

        Returns
        -------
        float or None
            Seconds per unit of cost (multiply by a job's cost to estimate its
            duration); None when no job of that kind is recorded.
        """
        def select(connection):
            return connection.execute(
                "SELECT seconds / cost FROM durations WHERE kind = ? "
                "ORDER BY id DESC LIMIT ?", (kind, int(last))).fetchall()

        rates = [rate for (rate,) in self._run(select, [])]
        return float(statistics.median(rates)) if rates else None

    # -- teacher outputs -----------------------------------------------------------

    def cached_proba(self, teacher_fingerprint, data_fingerprint, tag=""):
        """A stored teacher output, or None.

        Parameters
        ----------
        teacher_fingerprint : str
            From :func:`fingerprint_estimator`.
        data_fingerprint : str
            From :func:`fingerprint_data`.
        tag : str, default=""
            Tells apart different outputs of one teacher on the same data (e.g.
            out-of-fold and plain probabilities).

        Returns
        -------
        ndarray or None
            None when nothing was stored under these keys by this version of
            skdistill, or when the cache is off or the memory inactive.
        """
        if not self.cache:
            return None

        def select(connection):
            return connection.execute(
                "SELECT array FROM teacher_outputs WHERE teacher = ? AND data = ? "
                "AND tag = ? AND library_version = ?",
                (teacher_fingerprint, data_fingerprint, tag,
                 _library_version())).fetchone()

        found = self._run(select, None)
        if found is None:
            return None
        try:
            return np.load(io.BytesIO(found[0]), allow_pickle=False)
        except (ValueError, OSError, EOFError):
            return None

    def store_proba(self, teacher_fingerprint, data_fingerprint, proba, tag=""):
        """Store a teacher output (replacing one stored under the same keys).

        Parameters
        ----------
        teacher_fingerprint, data_fingerprint, tag : str
            As in :meth:`cached_proba`.
        proba : array-like
            A numeric array; anything else is not stored.
        """
        if not self.cache:
            return
        array = np.asarray(proba)
        if array.dtype.hasobject:
            return
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        blob = sqlite3.Binary(buffer.getvalue())

        def insert(connection):
            with _transaction(connection):
                connection.execute(
                    "INSERT OR REPLACE INTO teacher_outputs (teacher, data, tag, "
                    "library_version, created, array) VALUES (?, ?, ?, ?, ?, ?)",
                    (teacher_fingerprint, data_fingerprint, tag,
                     _library_version(), _now(), blob))

        self._run(insert, None)

    def reduce_size(self, bytes_limit):
        """Delete the oldest teacher outputs until the rest take ``bytes_limit``.

        As ``joblib.Memory.reduce_size`` bounds its cache; experiments and
        durations are kept. SQLite reuses the freed pages for later records
        (the file itself does not shrink).

        Parameters
        ----------
        bytes_limit : int
            The most bytes of stored arrays to keep (0 empties the cache).

        Returns
        -------
        int
            How many outputs were deleted (0 when the memory is inactive).
        """
        if isinstance(bytes_limit, bool) or not isinstance(bytes_limit, int) \
                or bytes_limit < 0:
            raise ValueError("bytes_limit must be a non-negative int, got "
                             f"{bytes_limit!r}")

        def reduce(connection):
            with _transaction(connection):
                rows = connection.execute(
                    "SELECT rowid, length(array) FROM teacher_outputs "
                    "ORDER BY created DESC, rowid DESC").fetchall()
                kept, doomed = 0, []
                for rowid, size in rows:
                    kept += size
                    if kept > bytes_limit:
                        doomed.append((rowid,))
                connection.executemany(
                    "DELETE FROM teacher_outputs WHERE rowid = ?", doomed)
            return len(doomed)

        return self._run(reduce, 0)

    def clear_cache(self):
        """Delete every stored teacher output."""
        def delete(connection):
            with _transaction(connection):
                connection.execute("DELETE FROM teacher_outputs")

        self._run(delete, None)


def _lookup(mapping, keys):
    for key in keys:
        if not isinstance(mapping, Mapping) or key not in mapping:
            return _MISSING
        mapping = mapping[key]
    return mapping


_MISSING = object()


def as_memory(value):
    """What ``memory=`` accepts, as an :class:`OptimizationMemory` or None.

    Parameters
    ----------
    value : None, str, os.PathLike, OptimizationMemory or joblib.Memory
        None turns the memory off; a path opens (or creates) that file; a
        ``joblib.Memory`` (what ``memory=`` means elsewhere in scikit-learn)
        keeps the file ``skdistill.db`` in its location (None: off).

    Returns
    -------
    OptimizationMemory or None
    """
    if value is None or isinstance(value, OptimizationMemory):
        return value
    if isinstance(value, (str, os.PathLike)):
        return OptimizationMemory(value)
    if isinstance(value, joblib.Memory):
        if value.location is None:
            return None
        return OptimizationMemory(Path(os.fspath(value.location)) / JOBLIB_FILE)
    raise TypeError("memory must be None, a path (str or os.PathLike), an "
                    "OptimizationMemory or a joblib.Memory, got "
                    f"{type(value).__name__}: {value!r}")
