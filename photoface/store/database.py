"""The library file: one SQLite database (WAL), opened, migrated and guarded here."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from ..errors import LibraryError
from .migrations import SCHEMA_VERSION, migrate

SQLITE_MAGIC = b"SQLite format 3\x00"


class Database:
    """A connection to a library file, with transactions that are all-or-nothing.

    Every change goes through ``transaction()``: a crash (or kill -9) in the middle leaves the
    library as it was before that transaction. WAL lets a reader (the GUI) see a consistent
    library while a scan writes.
    """

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        if self.path.exists():
            _check_is_library(self.path)
        elif not create:
            raise LibraryError(f"{self.path}: no library here")
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LibraryError(f"{self.path}: cannot create the library folder ({exc.strerror})") from None
        try:
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE in transaction()).
            self.conn = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=30
            )
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable up to the last checkpointed commits, never corrupt
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.create_function("face_frontality", 1, _frontality, deterministic=True)
            found = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if found > SCHEMA_VERSION:
                self.conn.close()
                raise LibraryError(
                    f"{self.path}: this library was written by a newer PhotoFace "
                    f"(schema {found}; this version reads up to {SCHEMA_VERSION}); update PhotoFace"
                )
            migrate(self.conn)
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"{self.path}: not a readable library ({exc})") from None
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


def _check_is_library(path: Path) -> None:
    if path.is_dir():
        raise LibraryError(f"{path}: is a folder, not a library file")
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise LibraryError(f"{path}: cannot read the library ({exc.strerror})") from None
    if head and head != SQLITE_MAGIC:
        raise LibraryError(f"{path}: not a PhotoFace library")


def _frontality(blob) -> float | None:
    from ..align import frontality
    from .records import decode_array

    return None if blob is None else frontality(decode_array(blob, (5, 2)))
