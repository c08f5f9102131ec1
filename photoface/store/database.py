"""The library file: one SQLite database (WAL), opened, migrated and guarded here."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path

from ..errors import LibraryError
from .migrations import SCHEMA_VERSION, migrate

# The tables every PhotoFace library has had since schema 1.
LIBRARY_TABLES = frozenset({"photos", "faces", "people", "assignments", "rejections", "journal", "settings"})
# The library holds face embeddings and names: readable by its owner only.
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class Database:
    """A connection to a library file, with transactions that are all-or-nothing.

    Every change goes through ``transaction()``: a crash (or kill -9) in the middle leaves the
    library as it was before that transaction. WAL lets a reader (the GUI) see a consistent
    library while a scan writes.

    The file is only ever opened through SQLite: closing any other descriptor of it would drop
    the POSIX locks this process's connections hold, and another process could then delete the
    WAL under them (SQLite's "How To Corrupt", 2.2). ``path=None`` is a library in memory.
    """

    def __init__(self, path: str | Path | None, create: bool = True):
        self.path = Path(path) if path is not None else None
        target = ":memory:" if path is None else str(self.path)
        if path is not None:
            _prepare(self.path, create)
        try:
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE in transaction()).
            self.conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=30)
        except sqlite3.Error as exc:
            raise LibraryError(f"{self.path}: cannot open the library ({exc})") from None
        try:
            self.conn.row_factory = sqlite3.Row
            # Before anything that writes (WAL, migrations): refuse what is not ours, untouched.
            found = _check_schema(self.conn, self.path)
            if found > SCHEMA_VERSION:
                raise LibraryError(
                    f"{self.path}: this library was written by a newer PhotoFace "
                    f"(schema {found}; this version reads up to {SCHEMA_VERSION}); update PhotoFace"
                )
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable up to the last checkpointed commits, never corrupt
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.create_function("face_frontality", 1, _frontality, deterministic=True)
            migrate(self.conn)
        except LibraryError:
            self.conn.close()
            raise
        except sqlite3.OperationalError as exc:  # a full disk, a lock held too long, I/O
            self.conn.close()
            raise LibraryError(f"{self.path}: cannot open the library ({exc})") from None
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise LibraryError(f"{self.path}: not a readable library ({exc})") from None
        if self.path is not None:
            _tighten(self.path)
        self._lock = threading.RLock()
        self._depth = 0

    @contextlib.contextmanager
    def transaction(self):
        """A write transaction; nested uses join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self._depth = 0
                self.conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self.conn.execute("COMMIT")

    def execute(self, sql: str, params=()) -> sqlite3.Cursor:
        with self._lock:
            return self.conn.execute(sql, params)

    def query(self, sql: str, params=()) -> list[sqlite3.Row]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params=()):
        row = self.query(sql, params)
        return row[0][0] if row else None

    def data_version(self) -> int:
        """Changes whenever another connection commits (``PRAGMA data_version``)."""
        return self.scalar("PRAGMA data_version")

    # -- settings ---------------------------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM settings WHERE key = ?", (key,))
        return default if value is None else value

    def set_setting(self, key: str, value) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, str(value)),
            )

    def close(self) -> None:
        with self._lock:
            self.conn.close()


def _prepare(path: Path, create: bool) -> None:
    """Check what can be checked without opening the file; create an empty one (owner only)."""
    if path.is_dir():
        raise LibraryError(f"{path}: is a folder, not a library file")
    folder = path.parent
    if path.exists():
        if not os.access(path, os.R_OK):
            raise LibraryError(f"{path}: cannot read the library (permission denied)")
        # SQLite would fail on the first write, and leave -wal/-shm files as read-only as the
        # library behind it: refuse before connecting.
        if not os.access(path, os.W_OK):
            raise LibraryError(f"{path}: the library is read-only; make it writable (chmod u+w) to use it")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise LibraryError(f"{folder}: the library's folder is read-only; PhotoFace writes its "
                               "journal (-wal, -shm) beside the library")
        return
    if not create:
        raise LibraryError(f"{path}: no library here (scan a folder to create one, or give --library)")
    try:
        _make_folders(folder)
        # An empty file is an empty SQLite database; created here so that its mode is the owner's
        # alone (SQLite gives -wal and -shm the mode of the library). O_EXCL: nothing else of this
        # process can have it open yet.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass  # created meanwhile by another connection
    except OSError as exc:
        raise LibraryError(f"{path}: cannot create the library ({exc.strerror})") from None


def _make_folders(folder: Path) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for f in reversed(missing):
        try:
            f.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            pass


def _check_schema(conn: sqlite3.Connection, path) -> int:
    """The schema version of a PhotoFace library (0: an empty file); refuses anything else."""
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError:
        raise LibraryError(f"{path}: not a PhotoFace library") from None
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        return version  # a newer PhotoFace's: refused by the caller, saying so
    tables = {t for t in tables if not t.startswith("sqlite_")}
    if (version == 0 and tables) or (version > 0 and not LIBRARY_TABLES <= tables):
        shown = ", ".join(sorted(tables)[:5]) or "none"
        raise LibraryError(f"{path}: not a PhotoFace library (a SQLite file of another application, "
                           f"tables: {shown}); left untouched")
    return version


def _tighten(path: Path) -> None:
    """A library created by an older PhotoFace under the usual umask: owner only from now on."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            st = p.stat()
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                os.chmod(p, st.st_mode & 0o700)
        except (OSError, AttributeError):  # gone meanwhile, not ours, or no getuid (Windows)
            pass


def _frontality(blob) -> float | None:
    from ..align import frontality
    from .records import decode_array

    return None if blob is None else frontality(decode_array(blob, (5, 2)))
