"""The SQLite file under an optimization memory, safe to share and never damaged.

:class:`_MemoryFile` owns what is about the file rather than its records: the
schema and its migrations, one connection per process and per thread, retries
while another writer holds the lock, and the refusal of a file that cannot be
used. :class:`~skdistill._memory.OptimizationMemory` builds its records on it.

* many writers at once (the processes of one joblib fit, several notebooks) are
  safe: WAL journal, a busy timeout, and retries with backoff when the file is
  locked; each process and each thread opens its own connection, lazily, and a
  connection inherited through ``fork`` is never used;
* a file that cannot be used (not SQLite, truncated, a directory, another
  application's database, a schema newer than this version reads) gives one
  warning naming the path and the problem; the memory then does nothing (records
  are dropped, queries answer empty) and the file is left exactly as it was;
* a file deleted (or replaced) while a connection is open is noticed before the
  next operation: a warning names it, and the memory opens the path afresh (a new,
  empty file where it was deleted) instead of writing to the deleted one, whose
  records nobody could read.
"""

import os
import random
import sqlite3
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from .exceptions import SkdistillWarning

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


def _is_busy(error):
    message = str(error).lower()
    return "locked" in message or "busy" in message


class _UnusableError(Exception):
    """The file cannot be used as a memory; the message says why."""


class _MemoryFile:
    """One SQLite file, opened lazily per process and thread, retried while locked.

    ``path``, ``timeout`` and the attributes ``path`` and ``problem`` are those of
    :class:`~skdistill._memory.OptimizationMemory`, which adds the records.
    """

    def __init__(self, path, *, timeout=30.0):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError("path must be a str or os.PathLike, "
                            f"got {type(path).__name__}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
                or not timeout > 0:
            raise ValueError(f"timeout must be a positive number, got {timeout!r}")
        self.path = Path(os.fspath(path)).expanduser()
        self.timeout = float(timeout)
        self.problem = None
        self._local = threading.local()

    # -- pickling: the path and the settings, never a connection -------------------

    def __getstate__(self):
        return {key: value for key, value in self.__dict__.items()
                if key != "_local"}

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
            if local.pid != os.getpid():
                _INHERITED.append(connection)
                local.connection = None
            elif self._identity() == local.identity:
                return connection
            else:
                self._reopen_warning()
                self.close()
        connection = self._open()
        local.connection, local.pid = connection, os.getpid()
        local.identity = self._identity()
        return connection

    def _identity(self):
        """The file's device and inode (None: no file at the path)."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def _reopen_warning(self):
        if self.path.exists():
            what, then = "replaced by another file", "the new file is opened"
        else:
            what, then = "deleted", "a new, empty memory file is created there"
        warnings.warn(
            f"skdistill memory {str(self.path)!r} was {what} while in use; {then} "
            "and later records go to it (the records of the old file are lost "
            "with it).", SkdistillWarning, stacklevel=5)

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
            warnings.warn(self.problem, SkdistillWarning, stacklevel=4)
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
                                  "operation is skipped", SkdistillWarning,
                                  stacklevel=3)
                    return default
                self._disable(f"{type(error).__name__}: {error}")
                return default
            except OSError as error:
                self._disable(f"{type(error).__name__}: {error}")
                return default


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

