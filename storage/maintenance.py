"""Read-only health checks over a library (used by `saem doctor`)."""

from __future__ import annotations

from storage.db import Database


def foreign_key_problems(db: Database) -> list[str]:
    return [f"{r[0]} row {r[1]} → {r[2]}" for r in db.query("PRAGMA foreign_key_check")]


def photo_hashes(db: Database) -> dict[str, str]:
    """sha256 → photo item id for every photo row (deleted ones included)."""
    return {r[0]: r[1] for r in db.query("SELECT sha256, item_id FROM photos")}


def items_without_rows(db: Database) -> list[str]:
    """Items whose note/photo row is missing (must never happen: same transaction)."""
    rows = db.query(
        "SELECT i.id FROM items i LEFT JOIN notes n ON n.item_id = i.id"
        " LEFT JOIN photos p ON p.item_id = i.id"
        " WHERE (i.kind = 'note' AND n.item_id IS NULL) OR (i.kind = 'photo' AND p.item_id IS NULL)"
    )
    return [r[0] for r in rows]


def live_note_bodies(db: Database) -> list[tuple[str, str]]:
    rows = db.query(
        "SELECT n.item_id, n.body FROM notes n JOIN items i ON i.id = n.item_id WHERE i.deleted = 0"
    )
    return [(r[0], r[1]) for r in rows]


def wal_checkpoint(db: Database) -> None:
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
