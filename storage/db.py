"""The SQLite connection of a library: WAL, foreign keys, one writer transaction at a time.

Every write in Saem goes through :meth:`Database.transaction`, which opens a
``BEGIN IMMEDIATE`` transaction (or a savepoint when nested) and commits only
when the block finishes without an exception. A crash at any point therefore
leaves either the whole change or none of it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from storage.errors import (
    DiskFullError,
    LibraryBusyError,
    LibraryCorruptError,
    LibraryOpenError,
    LibraryReadOnlyError,
    StorageError,
)

BUSY_TIMEOUT_MS = 10_000


def translate_sqlite_error(exc: sqlite3.Error, path: Path | str) -> StorageError:
    """Turn a raw sqlite3 error into a typed error with a sentence a user can act on.

    The class follows SQLite's primary result code (``exc.sqlite_errorcode`` & 0xFF, e.g.
    ``SQLITE_READONLY_DIRECTORY`` is a ``SQLITE_READONLY``), never the message text, which
    changes between SQLite versions. Errors raised by the sqlite3 module itself (closed
    connection, misuse) carry no code and become a plain :class:`StorageError`.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == sqlite3.SQLITE_READONLY:
        return LibraryReadOnlyError(f"The library at {path} is read-only; nothing was changed.")
    if primary == sqlite3.SQLITE_FULL:
        return DiskFullError(f"The disk holding {path} is full; the change was rolled back.")
    if primary in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return LibraryCorruptError(f"{path} is not a readable Saem library ({exc}).")
    if primary == sqlite3.SQLITE_CANTOPEN:
        return LibraryOpenError(f"Cannot open the library database at {path} ({exc}).")
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return LibraryBusyError(f"The library at {path} is busy in another process; try again.")
    return StorageError(f"Library error at {path}: {exc}")


class Database:
    """One SQLite connection with explicit transactions."""

    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        self.path = Path(path) if str(path) != ":memory:" else path
        self._lock = threading.RLock()
        self._depth = 0
        try:
            if readonly:
                uri = f"file:{Path(path).resolve()}?mode=ro"
                self.conn = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False
                )
            else:
                self.conn = sqlite3.connect(
                    str(path), isolation_level=None, check_same_thread=False
                )
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            if not readonly and str(path) != ":memory:":
                mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise LibraryOpenError(f"Cannot switch {path} to WAL mode (got {mode}).")
            # FULL: an acknowledged commit survives power loss, not only a process crash.
            self.conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, path) from exc

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested calls become savepoints of the outer one."""
        with self._lock:
            depth = self._depth
            name = f"sp{depth}"
            try:
                if depth == 0:
                    self.conn.execute("BEGIN IMMEDIATE")
                else:
                    self.conn.execute(f"SAVEPOINT {name}")
            except sqlite3.Error as exc:
                raise translate_sqlite_error(exc, self.path) from exc
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self._depth -= 1
                self._rollback(depth, name)
                raise
            self._depth -= 1
            try:
                if depth == 0:
                    self.conn.execute("COMMIT")
                else:
                    self.conn.execute(f"RELEASE {name}")
            except sqlite3.Error as exc:
                self._rollback(depth, name)
                raise translate_sqlite_error(exc, self.path) from exc

    def _rollback(self, depth: int, name: str) -> None:
        try:
            if depth == 0:
                self.conn.execute("ROLLBACK")
            else:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
        except sqlite3.Error:
            # The transaction may already be gone (SQLite rolls back on some errors itself).
            pass

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    # -- queries ------------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        try:
            with self._lock:
                return self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        try:
            with self._lock:
                return self.conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.execute(sql, params).fetchall()

    def query_one(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.execute(sql, params).fetchone()
        return row

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def integrity_check(self) -> list[str]:
        """`PRAGMA integrity_check` lines; ``["ok"]`` when healthy."""
        return [row[0] for row in self.query("PRAGMA integrity_check")]

    def close(self) -> None:
        with self._lock:
            self.conn.close()
