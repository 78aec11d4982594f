"""Relay configuration and per-room state, kept as JSON in the ``settings`` table.

``relay.urls``           the relay servers this library syncs through (a JSON list)
``relay.state.<room>``   what this device remembers about a room (``sync.relay.engine``)
``relay.last``           which path synced last: {"path": "relay"|"peer", "at", "what"}
``relay.invites``        one-time invite codes this device issued and not yet used
"""

from __future__ import annotations

import json
from typing import Any

from storage.db import Database

URLS_KEY = "relay.urls"
STATE_PREFIX = "relay.state."
LAST_KEY = "relay.last"
INVITES_KEY = "relay.invites"


def get_json(db: Database, key: str, default: Any) -> Any:
    value = db.scalar("SELECT value FROM settings WHERE key = ?", (key,))
    if value is None:
        return default
    try:
        return json.loads(value)
    except ValueError:
        return default


def set_json(db: Database, key: str, value: Any) -> None:
    """Write one setting (call inside a transaction)."""
    db.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value, sort_keys=True)),
    )


def relay_urls(db: Database) -> list[str]:
    urls = get_json(db, URLS_KEY, [])
    return [str(u) for u in urls] if isinstance(urls, list) else []


def room_state(db: Database, room: str) -> dict[str, Any]:
    state = get_json(db, STATE_PREFIX + room, {})
    return state if isinstance(state, dict) else {}


def set_room_state(db: Database, room: str, state: dict[str, Any]) -> None:
    set_json(db, STATE_PREFIX + room, state)
