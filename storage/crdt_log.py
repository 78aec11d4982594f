"""The CRDT update log: every update a document ever received, plus compacted snapshots.

Updates are appended in the same transaction that changes the materialized rows, so the
materialized view and the log can never disagree after a crash.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class LoggedUpdate:
    id: int
    doc_id: str
    data: bytes
    origin: str


def append_update(db: Database, doc_id: str, data: bytes, origin: str = "local") -> int:
    cur = db.execute(
        "INSERT INTO crdt_updates(doc_id, data, origin, created_at) VALUES (?, ?, ?, ?)",
        (doc_id, data, origin, time.time()),
    )
    return int(cur.lastrowid or 0)


def snapshot_of(db: Database, doc_id: str) -> tuple[bytes | None, int]:
    """The compacted state of a document and the last update id it covers."""
    row = db.query_one("SELECT state, upto_id FROM crdt_snapshots WHERE doc_id = ?", (doc_id,))
    if row is None:
        return None, 0
    return bytes(row["state"]), int(row["upto_id"])


def updates_after(db: Database, doc_id: str, after_id: int = 0) -> list[LoggedUpdate]:
    rows = db.query(
        "SELECT id, doc_id, data, origin FROM crdt_updates WHERE doc_id = ? AND id > ? ORDER BY id",
        (doc_id, after_id),
    )
    return [LoggedUpdate(r[0], r[1], bytes(r[2]), r[3]) for r in rows]


def updates_since(db: Database, after_id: int, limit: int = 1000) -> list[LoggedUpdate]:
    """Updates of every document after a global log position (for forwarding to peers)."""
    rows = db.query(
        "SELECT id, doc_id, data, origin FROM crdt_updates WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    )
    return [LoggedUpdate(r[0], r[1], bytes(r[2]), r[3]) for r in rows]


def last_update_id(db: Database) -> int:
    return int(db.scalar("SELECT COALESCE(MAX(id), 0) FROM crdt_updates"))


def doc_ids(db: Database) -> list[str]:
    rows = db.query(
        "SELECT doc_id FROM crdt_updates UNION SELECT doc_id FROM crdt_snapshots ORDER BY 1"
    )
    return [r[0] for r in rows]


def write_snapshot(db: Database, doc_id: str, state: bytes, upto_id: int) -> None:
    """Replace the updates up to ``upto_id`` with one snapshot (call inside a transaction).

    A snapshot is the merged state update of all of them; Yjs/pycrdt merge updates without
    losing history, so any peer that syncs later still receives every change it lacks.
    """
    db.execute(
        "INSERT INTO crdt_snapshots(doc_id, state, upto_id, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(doc_id) DO UPDATE SET state = excluded.state, upto_id = excluded.upto_id,"
        " created_at = excluded.created_at",
        (doc_id, state, upto_id, time.time()),
    )
    db.execute("DELETE FROM crdt_updates WHERE doc_id = ? AND id <= ?", (doc_id, upto_id))


def update_count(db: Database, doc_id: str | None = None) -> int:
    if doc_id is None:
        return int(db.scalar("SELECT COUNT(*) FROM crdt_updates"))
    return int(db.scalar("SELECT COUNT(*) FROM crdt_updates WHERE doc_id = ?", (doc_id,)))


def snapshot_of_upto(db: Database, doc_id: str) -> int:
    """The last update id a document's snapshot covers (0 without a snapshot); cheap."""
    return int(
        db.scalar(
            "SELECT COALESCE(MAX(upto_id), 0) FROM crdt_snapshots WHERE doc_id = ?", (doc_id,)
        )
    )
