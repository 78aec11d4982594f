"""Numbered, forward-only schema migrations.

Each step is a module ``mNNN_name.py`` with ``VERSION = NNN`` and ``SQL``. The runner applies
every step above the library's ``PRAGMA user_version`` in its own transaction together with
its bookkeeping row, so a crash mid-upgrade leaves the library at the previous version.
To add a step: copy the newest module, bump the number, import it in ``_STEPS`` below (static
imports, so frozen builds include it; a test checks the folder and the list agree), never
edit an old step.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from types import ModuleType

from storage.db import Database, translate_sqlite_error
from storage.errors import MigrationError, SchemaTooNewError, StorageError


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def _step_modules() -> list[ModuleType]:
    from storage.migrations import (
        m001_user_data,
        m002_index,
        m003_activity,
        m004_sync_log,
        m005_photo_ocr,
    )

    return [m001_user_data, m002_index, m003_activity, m004_sync_log, m005_photo_ocr]


def _load() -> list[Migration]:
    steps: list[Migration] = []
    for module in _step_modules():
        name = module.__name__.rsplit(".", 1)[-1]
        steps.append(Migration(int(module.VERSION), name, str(module.SQL)))
    steps.sort(key=lambda m: m.version)
    versions = [m.version for m in steps]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"Migration versions must be 1..N without gaps, got {versions}")
    return steps


MIGRATIONS: list[Migration] = _load()
LATEST_VERSION: int = MIGRATIONS[-1].version


def current_version(db: Database) -> int:
    return int(db.scalar("PRAGMA user_version"))


def _split_statements(sql: str) -> list[str]:
    """Split a script into statements (sqlite3.complete_statement aware, triggers included)."""
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _apply(db: Database, step: Migration) -> None:
    """One step and its bookkeeping row in one transaction (all or nothing)."""
    # executescript() would commit; run statement by statement inside our transaction.
    with db.transaction() as conn:
        for statement in _split_statements(step.sql):
            conn.execute(statement)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        conn.execute(
            "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
            (step.version, step.name, time.time()),
        )
        conn.execute(f"PRAGMA user_version = {step.version}")


def migrate(db: Database, target: int | None = None) -> int:
    """Upgrade the library to ``target`` (default: latest). Returns the new version."""
    target = LATEST_VERSION if target is None else target
    version = current_version(db)
    if version > LATEST_VERSION:
        raise SchemaTooNewError(
            f"This library uses schema version {version}, but this Saem only knows up to "
            f"{LATEST_VERSION}. Update Saem to open it."
        )
    for step in MIGRATIONS:
        if step.version <= version or step.version > target:
            continue
        try:
            _apply(db, step)
        except sqlite3.Error as exc:  # the raw connection is used: type the error here
            error = translate_sqlite_error(exc, db.path)
            if type(error) is StorageError:  # not disk full, read-only, busy or corrupt
                error = MigrationError(
                    f"Upgrading the library at {db.path} to schema version {step.version} "
                    f"({step.name}) failed ({exc}); it was left at version {version}."
                )
            raise error from exc
        version = step.version
    return version
