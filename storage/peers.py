"""Paired devices (the ``peers`` table) and the little SQL that peer sync needs.

``peers.state`` is a JSON object; sync keeps ``acked_upto`` there: the highest local
``crdt_updates.id`` the peer confirmed it has persisted (used for "pending updates").
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from storage.db import Database
from storage.errors import NotFoundError


@dataclass(frozen=True)
class PeerRow:
    device_id: str
    name: str
    address: str | None
    paired_at: float
    last_seen: float | None
    bytes_in: int
    bytes_out: int
    state: dict[str, Any] = field(default_factory=dict)


def _row(r: sqlite3.Row) -> PeerRow:
    try:
        state = json.loads(r["state"] or "{}")
    except ValueError:
        state = {}
    return PeerRow(
        r["device_id"],
        r["name"],
        r["address"],
        r["paired_at"],
        r["last_seen"],
        int(r["bytes_in"]),
        int(r["bytes_out"]),
        state if isinstance(state, dict) else {},
    )


def pair(db: Database, device_id: str, name: str = "", address: str | None = None) -> PeerRow:
    """Add (or rename/re-address) a paired device."""
    now = time.time()
    db.execute(
        "INSERT INTO peers(device_id, name, address, paired_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(device_id) DO UPDATE SET"
        " name = CASE WHEN excluded.name != '' THEN excluded.name ELSE peers.name END,"
        " address = COALESCE(excluded.address, peers.address)",
        (device_id, name, address, now),
    )
    return get_peer(db, device_id)


def unpair(db: Database, device_id: str) -> bool:
    return db.execute("DELETE FROM peers WHERE device_id = ?", (device_id,)).rowcount > 0


def get_peer(db: Database, device_id: str) -> PeerRow:
    row = db.query_one("SELECT * FROM peers WHERE device_id = ?", (device_id,))
    if row is None:
        raise NotFoundError(f"No paired device {device_id}.")
    return _row(row)


def find_peer(db: Database, device_id: str) -> PeerRow | None:
    row = db.query_one("SELECT * FROM peers WHERE device_id = ?", (device_id,))
    return None if row is None else _row(row)


def list_peers(db: Database) -> list[PeerRow]:
    return [_row(r) for r in db.query("SELECT * FROM peers ORDER BY paired_at, device_id")]


def is_paired(db: Database, device_id: str) -> bool:
    return db.scalar("SELECT 1 FROM peers WHERE device_id = ?", (device_id,)) is not None


def record_traffic(
    db: Database, device_id: str, bytes_in: int, bytes_out: int, address: str | None = None
) -> None:
    """Update last seen and add transferred bytes (a no-op for an unpaired device)."""
    db.execute(
        "UPDATE peers SET last_seen = ?, bytes_in = bytes_in + ?, bytes_out = bytes_out + ?,"
        " address = COALESCE(?, address) WHERE device_id = ?",
        (time.time(), bytes_in, bytes_out, address, device_id),
    )


def set_acked(db: Database, device_id: str, upto_id: int) -> None:
    peer = find_peer(db, device_id)
    if peer is None:
        return
    state = dict(peer.state)
    if int(state.get("acked_upto", 0)) >= upto_id:
        return
    state["acked_upto"] = upto_id
    db.execute("UPDATE peers SET state = ? WHERE device_id = ?", (json.dumps(state), device_id))


def pending_updates(db: Database, device_id: str, acked_upto: int) -> int:
    """Logged updates after ``acked_upto`` that did not come from that peer."""
    return int(
        db.scalar(
            "SELECT COUNT(*) FROM crdt_updates WHERE id > ? AND origin != ?",
            (acked_upto, f"peer:{device_id}"),
        )
    )


def clear_derived(db: Database, item_id: str) -> None:
    """Drop the search chunks of a deleted item (vectors go with them by cascade/indexer)."""
    db.execute("DELETE FROM chunks WHERE item_id = ?", (item_id,))


def set_item_created(db: Database, item_id: str, created_at: float) -> None:
    db.execute("UPDATE items SET created_at = ? WHERE id = ?", (created_at, item_id))


def min_acked_of_seen(db: Database) -> int | None:
    """Lowest ``acked_upto`` over paired peers that ever connected; None when there are none."""
    values = [int(p.state.get("acked_upto", 0)) for p in list_peers(db) if p.last_seen]
    return min(values) if values else None
