"""Every earlier schema version upgrades to the latest with its data intact."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from storage.db import Database
from storage.errors import SchemaTooNewError
from storage.migrations import LATEST_VERSION, MIGRATIONS, migrate
from storage.store import Store

# Rows that are valid from the version in the key onwards, written with raw SQL as an old
# Saem would have written them.
SEED_ROWS: dict[int, list[tuple[str, tuple]]] = {
    1: [
        (
            "INSERT INTO items(id, kind, title, created_at, updated_at) VALUES (?,?,?,?,?)",
            ("n1", "note", "커피 노트", 1.0, 2.0),
        ),
        (
            "INSERT INTO notes(item_id, body, source_path) VALUES (?,?,?)",
            ("n1", "# 커피 노트\n커피를 마셨다 #coffee", "/vault/coffee.md"),
        ),
        ("INSERT INTO tags(item_id, tag) VALUES (?,?)", ("n1", "coffee")),
        (
            "INSERT INTO crdt_updates(doc_id, data, created_at) VALUES (?,?,?)",
            ("note:n1", b"\x01\x00", 1.0),
        ),
    ],
    2: [
        (
            "INSERT INTO chunks(item_id, source, ord, text) VALUES (?,?,?,?)",
            ("n1", "body", 0, "커피를 마셨다"),
        ),
        (
            "INSERT INTO jobs(kind, item_id, created_at, updated_at) VALUES (?,?,?,?)",
            ("index", "n1", 1.0, 1.0),
        ),
    ],
    3: [
        (
            "INSERT INTO events(ts, session_id, kind, item_id) VALUES (?,?,?,?)",
            (1.0, "s1", "open", "n1"),
        ),
    ],
}


def _schema(db: Database) -> set[tuple[str, str]]:
    return {
        (r[0], r[1])
        for r in db.query("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    }


def test_versions_are_contiguous() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


@pytest.mark.parametrize("start", range(LATEST_VERSION))
def test_upgrade_from_every_earlier_version(tmp_path: Path, start: int) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    old = Database(root / "library.db")
    migrate(old, target=start)
    assert int(old.scalar("PRAGMA user_version")) == start
    with old.transaction():
        for version in range(1, start + 1):
            for sql, params in SEED_ROWS.get(version, []):
                old.execute(sql, params)
    old.close()

    store = Store(root)  # opening upgrades
    assert store.schema_version == LATEST_VERSION
    assert store.db.integrity_check() == ["ok"]
    fresh = Store(tmp_path / "fresh")
    assert _schema(store.db) == _schema(fresh.db)
    if start >= 1:
        assert store.db.scalar("SELECT body FROM notes WHERE item_id='n1'").startswith("# 커피")
        assert store.db.scalar("SELECT tag FROM tags WHERE item_id='n1'") == "coffee"
    if start >= 2:
        hits = store.db.query("SELECT rowid FROM chunks_tri WHERE chunks_tri MATCH '커피를'")
        assert len(hits) == 1
    applied = [r[0] for r in store.db.query("SELECT version FROM schema_migrations ORDER BY 1")]
    assert applied == list(range(1, LATEST_VERSION + 1))
    store.close()
    fresh.close()


def test_failed_migration_step_leaves_previous_version(tmp_path: Path, monkeypatch) -> None:
    import storage.migrations as migrations

    db = Database(tmp_path / "library.db")
    migrate(db, target=1)
    broken = migrations.Migration(2, "m002_broken", "CREATE TABLE ok_table(x);\nNOT VALID SQL;")
    monkeypatch.setattr(migrations, "MIGRATIONS", [migrations.MIGRATIONS[0], broken])
    with pytest.raises(Exception):  # noqa: B017 - any storage error; the point is the rollback
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
