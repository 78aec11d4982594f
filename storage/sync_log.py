"""Sync security bookkeeping: the refusal log (``sync_log``), this library's id and the
library each paired device is bound to (``peers.state["library_id"]``).

Call the writing functions inside ``db.transaction()``.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from storage.db import Database

LIBRARY_ID_SETTING = "sync.library_id"
KEEP_ROWS = 10_000  # the log is capped: a flood of refused connections cannot fill the disk


@dataclass(frozen=True)
class SyncLogRow:
    id: int
    ts: float
    kind: str
    device_id: str | None
    address: str | None
    reason: str


def record(
    db: Database,
    kind: str,
    reason: str,
    *,
    device_id: str | None = None,
    address: str | None = None,
    ts: float | None = None,
) -> int:
    """Append one security record (and drop the oldest beyond :data:`KEEP_ROWS`)."""
    cur = db.execute(
        "INSERT INTO sync_log(ts, kind, device_id, address, reason) VALUES (?, ?, ?, ?, ?)",
        (time.time() if ts is None else ts, kind, device_id, address, reason[:500]),
    )
    new_id = int(cur.lastrowid or 0)
    if new_id > KEEP_ROWS:
        db.execute("DELETE FROM sync_log WHERE id <= ?", (new_id - KEEP_ROWS,))
    return new_id


def recent(db: Database, limit: int = 50, kind: str | None = None) -> list[SyncLogRow]:
    """The newest records first."""
    sql = "SELECT id, ts, kind, device_id, address, reason FROM sync_log"
    params: list[Any] = []
    if kind is not None:
        sql += " WHERE kind = ?"
        params.append(kind)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(int(limit))
    return [
        SyncLogRow(int(r[0]), float(r[1]), r[2], r[3], r[4], r[5]) for r in db.query(sql, params)
    ]


def count(db: Database, kind: str | None = None) -> int:
    if kind is None:
        return int(db.scalar("SELECT COUNT(*) FROM sync_log") or 0)
    return int(db.scalar("SELECT COUNT(*) FROM sync_log WHERE kind = ?", (kind,)) or 0)


def library_id(db: Database) -> str:
    """This library's random id, created on first use (call inside a transaction)."""
    row = db.query_one("SELECT value FROM settings WHERE key = ?", (LIBRARY_ID_SETTING,))
    if row is not None and row[0]:
        return str(row[0])
    value = secrets.token_hex(16)
    db.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
        (LIBRARY_ID_SETTING, value),
    )
    return str(db.scalar("SELECT value FROM settings WHERE key = ?", (LIBRARY_ID_SETTING,)))


def peer_library(db: Database, device_id: str) -> str | None:
    """The library a paired device is bound to (None: not bound yet, or not paired)."""
    row = db.query_one("SELECT state FROM peers WHERE device_id = ?", (device_id,))
    if row is None:
        return None
    try:
        state = json.loads(row[0] or "{}")
    except ValueError:
        return None
    value = state.get("library_id") if isinstance(state, dict) else None
    return str(value) if value else None


def bind_peer_library(db: Database, device_id: str, library: str) -> bool:
    """Bind a paired device to ``library`` unless it is bound already; True if bound now."""
    row = db.query_one("SELECT state FROM peers WHERE device_id = ?", (device_id,))
    if row is None:
        return False
    try:
        state = json.loads(row[0] or "{}")
    except ValueError:
        state = {}
    if not isinstance(state, dict):
        state = {}
    if state.get("library_id"):
        return False
    state["library_id"] = library
    db.execute("UPDATE peers SET state = ? WHERE device_id = ?", (json.dumps(state), device_id))
    return True
