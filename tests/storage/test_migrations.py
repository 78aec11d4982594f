"""The migration runner: contiguous steps, a failed step rolls back, a newer schema is refused.

Upgrades of real old libraries (frozen files per version) are in test_old_libraries.py."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from storage.db import Database
from storage.errors import MigrationError, SchemaTooNewError
from storage.migrations import LATEST_VERSION, MIGRATIONS, migrate
from storage.store import Store


def test_versions_are_contiguous() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


def test_failed_migration_step_leaves_previous_version(tmp_path: Path, monkeypatch) -> None:
    import storage.migrations as migrations

    db = Database(tmp_path / "library.db")
    migrate(db, target=1)
    broken = migrations.Migration(2, "m002_broken", "CREATE TABLE ok_table(x);\nNOT VALID SQL;")
    monkeypatch.setattr(migrations, "MIGRATIONS", [migrations.MIGRATIONS[0], broken])
    with pytest.raises(MigrationError):
        migrations.migrate(db, target=2)
    assert int(db.scalar("PRAGMA user_version")) == 1
    assert db.scalar("SELECT name FROM sqlite_master WHERE name='ok_table'") is None


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    Store(root).close()
    conn = sqlite3.connect(root / "library.db")
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="Update Saem"):
        Store(root)


def test_library_is_wal_with_foreign_keys(tmp_path: Path) -> None:
    store = Store(tmp_path / "lib")
    assert store.db.scalar("PRAGMA journal_mode") == "wal"
    assert store.db.scalar("PRAGMA foreign_keys") == 1
    assert (tmp_path / "lib" / "blobs").is_dir() and (tmp_path / "lib" / "thumbs").is_dir()
    store.close()


def test_korean_substring_found_by_trigram_table(tmp_path: Path) -> None:
    store = Store(tmp_path / "lib")
    now = time.time()
    with store.db.transaction():
        store.db.execute("INSERT INTO items VALUES ('a','note','t',?,?,0)", (now, now))
        store.db.execute(
            "INSERT INTO chunks(item_id, source, ord, text) VALUES ('a','body',0,?)",
            ("서울에서 커피를 마셨다",),
        )
    for word in ("커피를", "서울에", "마셨다"):
        rows = store.db.query("SELECT rowid FROM chunks_tri WHERE chunks_tri MATCH ?", (word,))
        assert len(rows) == 1, word
    # unicode61 sees whole eojeol only: the bare noun is not a token there
    assert not store.db.query("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH '커피'")
    store.close()


def test_every_migration_file_is_registered() -> None:
    folder = Path(__file__).resolve().parents[2] / "storage" / "migrations"
    files = sorted(p.stem for p in folder.glob("m[0-9][0-9][0-9]_*.py"))
    assert [m.name for m in MIGRATIONS] == files
