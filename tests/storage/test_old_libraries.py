"""Libraries written by every earlier Saem (frozen files, not rebuilt with today's code)
open with today's storage: upgraded in place, data intact, integrity ok."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import Database
from storage.migrations import LATEST_VERSION
from storage.store import Store
from tests.storage.old_libraries import facts, unpack, versions


def _schema(db: Database) -> set[tuple[str, str]]:
    rows = db.query("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    return {(r[0], r[1]) for r in rows}


def test_there_is_a_frozen_library_for_every_schema_version() -> None:
    # a new migration needs its own vN fixture, written by the code that introduces it
    assert versions() == list(range(1, LATEST_VERSION + 1))


@pytest.mark.parametrize("version", versions())
def test_old_library_upgrades_with_its_data(tmp_path: Path, version: int) -> None:
    expected = facts(version)
    root = unpack(version, tmp_path / "lib")
    raw = sqlite3.connect(root / "library.db")
    assert raw.execute("PRAGMA user_version").fetchone()[0] == version
    raw.close()

    store = Store(root)  # opening upgrades
    db = store.db
    assert store.schema_version == LATEST_VERSION
    assert db.integrity_check() == ["ok"]
    assert db.query("PRAGMA foreign_key_check") == []
    fresh = Store(tmp_path / "fresh")
    assert _schema(db) == _schema(fresh.db)
    fresh.close()
    applied = [r[0] for r in db.query("SELECT version FROM schema_migrations ORDER BY 1")]
    assert applied == list(range(1, LATEST_VERSION + 1))

    for table, count in expected["counts"].items():
        if table not in ("schema_migrations", "settings"):
            assert db.scalar(f"SELECT COUNT(*) FROM {table}") == count, table
    for note in expected["notes"]:
        row = db.query_one(
            "SELECT i.title, n.body FROM items i JOIN notes n ON n.item_id = i.id WHERE i.id = ?",
            (note["id"],),
        )
        assert row is not None and (row[0], row[1]) == (note["title"], note["body"])
        tags = [r[0] for r in db.query("SELECT tag FROM tags WHERE item_id = ?", (note["id"],))]
        assert sorted(tags) == note["tags"]
    for photo in expected["photos"]:
        assert (
            db.scalar("SELECT sha256 FROM photos WHERE item_id = ?", (photo["id"],))
            == (photo["sha256"])
        )
    if version >= 2:  # the index written then still answers keyword queries
        hits = db.query("SELECT rowid FROM chunks_tri WHERE chunks_tri MATCH '아메리카노'")
        assert len(hits) == (1 if expected["counts"].get("chunks") else 0)
    store.close()
