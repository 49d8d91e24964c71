"""Optimization memory (HPM-KD component vi).

A persistent store of distillation experiments in one SQLite file (stdlib
``sqlite3``): meta-features of the data and the teachers, the configuration tried,
its validation scores, the student's size and speed, and how long it took. The
adaptive configuration (i) ranks candidates from it, the temperature scheduler (iv)
takes its starting point from it, and the parallel pipeline (v) estimates job costs
from the durations it records. It also caches teacher outputs, so that a re-fit with
the same teachers on the same rows skips teacher inference.

The memory must never break a fit:

* many writers at once (the processes of one joblib fit, several notebooks) are
  safe: WAL journal, a busy timeout, and retries with backoff when the file is
  locked; each process and each thread opens its own connection, lazily, and a
  connection inherited through ``fork`` is never used;
* a file that cannot be used (not SQLite, truncated, a directory, another
  application's database, a schema newer than this version reads) gives one
  warning naming the path and the problem; the memory then does nothing (records
  are dropped, queries answer empty) and the file is left exactly as it was.
"""

import io
import json
import math
import os
import random
import sqlite3
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import joblib
import numpy as np

# "SKDM" in the header's application_id: marks a file as an skdistill memory.
_APPLICATION_ID = 0x534B444D

# Schema migrations: step ``i`` takes a file from schema version ``i`` to ``i + 1``
# (version 0 is an empty file). The current version is the number of steps. A new
# version appends a step; existing steps are never edited.
_MIGRATIONS = (
    (
        """CREATE TABLE experiments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created TEXT NOT NULL,
            library_version TEXT NOT NULL,
            dataset TEXT NOT NULL,
            teachers TEXT NOT NULL,
            config TEXT NOT NULL,
            val_accuracy REAL,
            val_fidelity REAL,
            student_bytes INTEGER,
            student_params INTEGER,
            latency_ms REAL,
            fit_seconds REAL,
            extra TEXT NOT NULL
        )""",
        """CREATE TABLE durations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created TEXT NOT NULL,
            kind TEXT NOT NULL,
            cost REAL NOT NULL,
            seconds REAL NOT NULL
        )""",
        "CREATE INDEX durations_by_kind ON durations (kind, id)",
        """CREATE TABLE teacher_outputs (
            teacher TEXT NOT NULL,
            data TEXT NOT NULL,
            tag TEXT NOT NULL,
            library_version TEXT NOT NULL,
            created TEXT NOT NULL,
            array BLOB NOT NULL,
            PRIMARY KEY (teacher, data, tag)
        )""",
    ),
)

_JSON_COLUMNS = ("dataset", "teachers", "config", "extra")
_NUMBER_COLUMNS = ("val_accuracy", "val_fidelity", "student_bytes",
                   "student_params", "latency_ms", "fit_seconds")
_TEXT_COLUMNS = ("created", "library_version")
_COLUMNS = ("id", *_TEXT_COLUMNS, *_JSON_COLUMNS[:3], *_NUMBER_COLUMNS, "extra")

# Estimator attributes that change how fast a teacher runs, not what it predicts:
# the parallel pipeline caps them, so they must not change a teacher's fingerprint.
_RUNTIME_PARAMS = frozenset({"n_jobs", "nthread", "num_threads", "n_threads",
                             "thread_count", "verbose", "verbosity"})

# Connections inherited through fork: never used and never closed in the child
# (closing would touch the parent's file state), only kept from the collector.
_INHERITED = []


def _schema_version():
    return len(_MIGRATIONS)


def _library_version():
    package = sys.modules.get("skdistill")
    version = getattr(package, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        from importlib.metadata import version as distribution_version

        return distribution_version("skdistill")
    except Exception:
        return "unknown"


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


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


def _is_busy(error):
    message = str(error).lower()
    return "locked" in message or "busy" in message


class _UnusableError(Exception):
    """The file cannot be used as a memory; the message says why."""


class OptimizationMemory:
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
    teacher_proba_cached : A teacher's output from the cache, or computed and stored.

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
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError("path must be a str or os.PathLike, "
                            f"got {type(path).__name__}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
                or not timeout > 0:
            raise ValueError(f"timeout must be a positive number, got {timeout!r}")
        self.path = Path(os.fspath(path)).expanduser()
        self.timeout = float(timeout)
        self.cache = bool(cache)
        self.problem = None
        self._local = threading.local()

    # -- pickling: the path and the settings, never a connection -------------------

    def __getstate__(self):
        return {"path": self.path, "timeout": self.timeout, "cache": self.cache,
                "problem": self.problem}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def __repr__(self):
        return f"{type(self).__name__}({str(self.path)!r})"

    # -- connections ---------------------------------------------------------------

    @property
    def active(self):
        """Whether the memory works (opens the file on first use)."""
        return self._run(lambda connection: True, False)

    def close(self):
        """Close this thread's connection (a later use opens a new one)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            if self._local.pid == os.getpid():
                connection.close()
            else:
                _INHERITED.append(connection)
        self._local.connection = None

    def _connection(self):
        local = self._local
        connection = getattr(local, "connection", None)
        if connection is not None:
            if local.pid == os.getpid():
                return connection
            _INHERITED.append(connection)
            local.connection = None
        connection = self._open()
        local.connection, local.pid = connection, os.getpid()
        return connection

    def _open(self):
        if self.path.is_dir():
            raise _UnusableError("it is a directory")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _UnusableError(f"its folder cannot be created ({error})") from error
        connection = sqlite3.connect(self.path, timeout=self.timeout,
                                     isolation_level=None)
        try:
            # Read and check (in one snapshot: another process may be creating
            # the schema) before anything is written: a file this version must not
            # use is left byte for byte as it was.
            with _transaction(connection, "DEFERRED"):
                version = self._check(connection)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            if version < _schema_version():
                with _transaction(connection):
                    self._migrate(connection)
            connection.execute("SELECT max(id) FROM experiments").fetchone()
        except BaseException:
            connection.close()
            raise
        return connection

    @staticmethod
    def _version(connection):
        return connection.execute("PRAGMA user_version").fetchone()[0]

    def _check(self, connection):
        version = self._version(connection)
        application = connection.execute("PRAGMA application_id").fetchone()[0]
        if application not in (0, _APPLICATION_ID):
            raise _UnusableError("it is the SQLite database of another application "
                                 f"(application_id {application:#x})")
        if version > _schema_version():
            raise _UnusableError(
                f"its schema version {version} is newer than the version "
                f"{_schema_version()} that skdistill {_library_version()} reads; "
                "upgrade skdistill to use it, or give another path")
        # SQLite writes whole pages: a part of a page at the end that stays there
        # (not a write under way) means a truncated file, whose last rows SQLite
        # itself would read as zeros.
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        for _ in range(3):
            size = os.path.getsize(self.path)
            if not size % page_size:
                break
            time.sleep(0.02)
        else:
            raise _UnusableError(f"it is truncated ({size} bytes is not a whole "
                                 f"number of {page_size}-byte pages)")
        if version == 0:
            tables = connection.execute("SELECT count(*) FROM sqlite_master")
            if tables.fetchone()[0]:
                raise _UnusableError("it is an SQLite database that is not an "
                                     "skdistill memory (it has tables but no "
                                     "skdistill schema)")
        return version

    def _migrate(self, connection):
        # Inside a write transaction: another process may have migrated meanwhile.
        version = self._check(connection)
        if version == _schema_version():
            return
        for step in _MIGRATIONS[version:]:
            for statement in step:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {_schema_version()}")
        connection.execute(f"PRAGMA application_id = {_APPLICATION_ID}")

    def _disable(self, problem):
        if self.problem is None:
            self.problem = (f"skdistill memory {str(self.path)!r} is not used: "
                            f"{problem}. The file is left as it is.")
            warnings.warn(self.problem, UserWarning, stacklevel=4)
        self.close()

    def _run(self, operation, default):
        """``operation(connection)``, retried while the file is locked.

        Any other database or file problem makes the memory inactive (one warning)
        and answers ``default``; so does an inactive memory.
        """
        if self.problem is not None:
            return default
        deadline = time.monotonic() + self.timeout
        delay = 0.005
        while True:
            try:
                return operation(self._connection())
            except _UnusableError as error:
                self._disable(str(error))
                return default
            except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
                raise
            except sqlite3.DatabaseError as error:
                if isinstance(error, sqlite3.OperationalError) and _is_busy(error):
                    if time.monotonic() < deadline:
                        time.sleep(delay * (0.5 + random.random()))
                        delay = min(2 * delay, 0.5)
                        continue
                    warnings.warn(f"skdistill memory {str(self.path)!r} stayed "
                                  f"locked for {self.timeout:g} s ({error}); this "
                                  "operation is skipped", UserWarning, stacklevel=3)
                    return default
                self._disable(f"{type(error).__name__}: {error}")
                return default
            except OSError as error:
                self._disable(f"{type(error).__name__}: {error}")
                return default

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

    def clear_cache(self):
        """Delete every stored teacher output."""
        def delete(connection):
            with _transaction(connection):
                connection.execute("DELETE FROM teacher_outputs")

        self._run(delete, None)


@contextmanager
def _transaction(connection, mode="IMMEDIATE"):
    """``BEGIN <mode>`` ... ``COMMIT``, rolled back on error.

    IMMEDIATE (for writes) takes the write lock at the start, so a writer waits
    (busy timeout) instead of failing when it upgrades a read to a write.
    DEFERRED (for reads) makes several reads see one snapshot.
    """
    connection.execute(f"BEGIN {mode}")
    try:
        yield connection
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _lookup(mapping, keys):
    for key in keys:
        if not isinstance(mapping, Mapping) or key not in mapping:
            return _MISSING
        mapping = mapping[key]
    return mapping


_MISSING = object()


def fingerprint_estimator(estimator):
    """A hash of an estimator: its class, its parameters and its fitted state.

    Thread-count and verbosity attributes (``n_jobs``, ``nthread``, ``verbose``...)
    are left out: they change how fast a teacher predicts, not what.

    Parameters
    ----------
    estimator : object
        Usually a fitted teacher.

    Returns
    -------
    str or None
        A hex digest (:func:`joblib.hash`); None when the estimator cannot be
        hashed (then nothing is cached for it).
    """
    state = getattr(estimator, "__dict__", None)
    if isinstance(state, dict):
        state = {key: value for key, value in state.items()
                 if key not in _RUNTIME_PARAMS}
    else:
        state = estimator
    kind = type(estimator)
    try:
        return joblib.hash((kind.__module__, kind.__qualname__, state))
    except Exception:
        return None


def fingerprint_data(X):
    """A hash of the data (array, sparse matrix or DataFrame), or None.

    Parameters
    ----------
    X : array-like

    Returns
    -------
    str or None
        A hex digest (:func:`joblib.hash`); None when ``X`` cannot be hashed.
    """
    try:
        return joblib.hash(X)
    except Exception:
        return None


def teacher_proba_cached(memory, teacher, X, compute, tag=""):
    """``teacher``'s output on ``X``: from the memory's cache, else ``compute()``.

    A computed output is stored for the next time. Without a memory, or when the
    teacher or the data cannot be fingerprinted, it is just ``compute()``.

    Parameters
    ----------
    memory : OptimizationMemory or None
    teacher : estimator
        The teacher whose output ``compute`` returns; part of the cache key.
    X : array-like
        The rows ``compute`` predicts on; part of the cache key.
    compute : callable
        No arguments; returns the output (an array with one row per row of ``X``).
    tag : str, default=""
        Tells apart different outputs of one teacher on the same data.

    Returns
    -------
    ndarray
    """
    if memory is None or not memory.cache or memory.problem is not None:
        return compute()
    teacher_key = fingerprint_estimator(teacher)
    data_key = fingerprint_data(X) if teacher_key is not None else None
    if data_key is None:
        return compute()
    cached = memory.cached_proba(teacher_key, data_key, tag)
    n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
    if cached is not None and cached.ndim >= 1 and cached.shape[0] == n_rows:
        return cached
    output = compute()
    memory.store_proba(teacher_key, data_key, output, tag)
    return output


def as_memory(value):
    """What ``memory=`` accepts, as an :class:`OptimizationMemory` or None.

    Parameters
    ----------
    value : None, str, os.PathLike or OptimizationMemory
        None turns the memory off; a path opens (or creates) that file.

    Returns
    -------
    OptimizationMemory or None
    """
    if value is None or isinstance(value, OptimizationMemory):
        return value
    if isinstance(value, (str, os.PathLike)):
        return OptimizationMemory(value)
    raise TypeError("memory must be None, a path (str or os.PathLike) or an "
                    f"OptimizationMemory, got {type(value).__name__}: {value!r}")
