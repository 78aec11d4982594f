"""Activity events (opens, searches, clicks, dwell, questions, impressions) and the bulk reads
the recommender builds its item graph from (links, tags, photo day/place).

Events are derived, private data: they live only in this library and are never part of the
CRDT documents. The ``settings`` keys below let the user opt in to syncing them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Database

SYNC_SETTING = "events.sync"
RECORD_SETTING = "events.record"


@dataclass(frozen=True)
class EventRow:
    id: int
    ts: float
    session_id: str
    kind: str
    item_id: str | None
    query: str | None
    data: dict[str, Any]


def _row(r: sqlite3.Row) -> EventRow:
    try:
        data = json.loads(r["data"] or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    return EventRow(
        int(r["id"]), float(r["ts"]), r["session_id"], r["kind"], r["item_id"], r["query"], data
    )


# -- writing --------------------------------------------------------------------------------------


def append(
    db: Database,
    *,
    ts: float,
    session_id: str,
    kind: str,
    item_id: str | None = None,
    query: str | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Append one event; returns its id. Call inside ``db.transaction()``."""
    cur = db.execute(
        "INSERT INTO events(ts, session_id, kind, item_id, query, data) VALUES (?, ?, ?, ?, ?, ?)",
        (ts, session_id, kind, item_id, query, json.dumps(data or {}, ensure_ascii=False)),
    )
    return int(cur.lastrowid or 0)


def append_many(db: Database, rows: Iterable[Sequence[Any]]) -> None:
    """Bulk insert ``(ts, session_id, kind, item_id, query, data_dict)`` rows (imports, evals)."""
    db.executemany(
        "INSERT INTO events(ts, session_id, kind, item_id, query, data) VALUES (?, ?, ?, ?, ?, ?)",
        [(r[0], r[1], r[2], r[3], r[4], json.dumps(r[5] or {}, ensure_ascii=False)) for r in rows],
    )


def prune(db: Database, before_ts: float) -> int:
    """Delete events older than ``before_ts``; returns how many went."""
    cur = db.execute("DELETE FROM events WHERE ts < ?", (before_ts,))
    return int(cur.rowcount)


# -- reading --------------------------------------------------------------------------------------


def last_event(db: Database) -> EventRow | None:
    row = db.query_one("SELECT * FROM events ORDER BY ts DESC, id DESC LIMIT 1")
    return None if row is None else _row(row)


def state(db: Database) -> tuple[int, int]:
    """(count, max id): changes whenever events are added or pruned (cache key)."""
    row = db.query_one("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM events")
    return (int(row[0]), int(row[1])) if row else (0, 0)


def by_session(db: Database, session_id: str) -> list[EventRow]:
    rows = db.query("SELECT * FROM events WHERE session_id = ? ORDER BY ts, id", (session_id,))
    return [_row(r) for r in rows]


def by_item(db: Database, item_id: str, *, since: float | None = None) -> list[EventRow]:
    rows = db.query(
        "SELECT * FROM events WHERE item_id = ? AND ts >= ? ORDER BY ts, id",
        (item_id, since if since is not None else float("-inf")),
    )
    return [_row(r) for r in rows]


def between(
    db: Database,
    *,
    since: float | None = None,
    until: float | None = None,
    kinds: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[EventRow]:
    """Events with ``since <= ts < until`` (either bound optional), oldest first."""
    sql = "SELECT * FROM events WHERE ts >= ? AND ts < ?"
    params: list[Any] = [
        since if since is not None else float("-inf"),
        until if until is not None else float("inf"),
    ]
    if kinds:
        sql += f" AND kind IN ({','.join('?' * len(kinds))})"
        params.extend(kinds)
    sql += " ORDER BY ts, id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [_row(r) for r in db.query(sql, params)]


def item_events_compact(
    db: Database, kinds: Sequence[str], *, since: float | None = None
) -> list[tuple[float, str, str, str | None]]:
    """``(ts, session_id, item_id, query)`` of item events of these kinds on live items.

    The lean read the recommender builds its co-open graph from (no JSON decoding).
    Events whose item was deleted are skipped.
    """
    rows = db.query(
        "SELECT e.ts, e.session_id, e.item_id, e.query FROM events e"
        " JOIN items i ON i.id = e.item_id"
        f" WHERE i.deleted = 0 AND e.kind IN ({','.join('?' * len(kinds))}) AND e.ts >= ?"
        " ORDER BY e.ts, e.id",
        [*kinds, since if since is not None else float("-inf")],
    )
    return [(float(r[0]), r[1], r[2], r[3]) for r in rows]


def counts_by_kind(db: Database, *, since: float | None = None) -> dict[str, int]:
    rows = db.query(
        "SELECT kind, COUNT(*) FROM events WHERE ts >= ? GROUP BY kind",
        (since if since is not None else float("-inf"),),
    )
    return {r[0]: int(r[1]) for r in rows}


def sessions_count(db: Database) -> int:
    return int(db.scalar("SELECT COUNT(DISTINCT session_id) FROM events") or 0)


# -- settings (the user's switches for events) ------------------------------------------------


def get_setting(db: Database, key: str, default: str | None = None) -> str | None:
    row = db.query_one("SELECT value FROM settings WHERE key = ?", (key,))
    return default if row is None else str(row[0])


def set_setting(db: Database, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


# -- graph inputs for recommendations -------------------------------------------------------------


@dataclass(frozen=True)
class ItemBrief:
    id: str
    kind: str
    title: str
    created_at: float
    updated_at: float


def live_items(db: Database) -> list[ItemBrief]:
    rows = db.query("SELECT id, kind, title, created_at, updated_at FROM items WHERE deleted = 0")
    return [ItemBrief(r[0], r[1], r[2], float(r[3]), float(r[4])) for r in rows]


def items_state(db: Database) -> tuple[int, float]:
    """(live item count, latest update time): a cheap cache key for item-derived data."""
    row = db.query_one("SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM items WHERE deleted = 0")
    return (int(row[0]), float(row[1])) if row else (0, 0.0)


def find_brief(db: Database, item_id: str) -> tuple[ItemBrief, bool] | None:
    """The item and whether it is deleted, or None when the id is unknown."""
    r = db.query_one(
        "SELECT id, kind, title, created_at, updated_at, deleted FROM items WHERE id = ?",
        (item_id,),
    )
    if r is None:
        return None
    return ItemBrief(r[0], r[1], r[2], float(r[3]), float(r[4])), bool(r[5])


def live_links(db: Database) -> list[tuple[str, str]]:
    """Resolved links (src, dst) between live items."""
    rows = db.query(
        "SELECT l.src_item_id, l.dst_item_id FROM links l"
        " JOIN items s ON s.id = l.src_item_id JOIN items d ON d.id = l.dst_item_id"
        " WHERE s.deleted = 0 AND d.deleted = 0 AND l.src_item_id != l.dst_item_id"
    )
    return [(r[0], r[1]) for r in rows]


def live_tags(db: Database) -> list[tuple[str, str]]:
    rows = db.query(
        "SELECT t.item_id, t.tag FROM tags t JOIN items i ON i.id = t.item_id WHERE i.deleted = 0"
    )
    return [(r[0], r[1]) for r in rows]


def photo_day_place(db: Database) -> list[tuple[str, str | None, float | None, float | None]]:
    """(item_id, taken_at, lat, lon) of live photos."""
    rows = db.query(
        "SELECT p.item_id, p.taken_at, p.gps_lat, p.gps_lon FROM photos p"
        " JOIN items i ON i.id = p.item_id WHERE i.deleted = 0"
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def note_body(db: Database, item_id: str) -> str | None:
    row = db.query_one("SELECT body FROM notes WHERE item_id = ?", (item_id,))
    return None if row is None else str(row[0])


def item_texts(db: Database, item_id: str) -> list[tuple[str, str]]:
    """(source, text) of an item's indexed chunks (body, OCR, caption, …), in order."""
    rows = db.query(
        "SELECT source, text FROM chunks WHERE item_id = ? ORDER BY source, ord", (item_id,)
    )
    return [(r[0], r[1]) for r in rows]


def photo_caption(db: Database, item_id: str) -> str | None:
    row = db.query_one("SELECT caption FROM photos WHERE item_id = ?", (item_id,))
    return None if row is None else str(row[0])


def briefs(db: Database, item_ids: Sequence[str]) -> dict[str, ItemBrief]:
    """The live items among ``item_ids`` (deleted and unknown ids are left out)."""
    out: dict[str, ItemBrief] = {}
    ids = list(dict.fromkeys(item_ids))
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        rows = db.query(
            "SELECT id, kind, title, created_at, updated_at FROM items"
            f" WHERE deleted = 0 AND id IN ({','.join('?' * len(part))})",
            part,
        )
        for r in rows:
            out[r[0]] = ItemBrief(r[0], r[1], r[2], float(r[3]), float(r[4]))
    return out
