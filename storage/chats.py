"""Chats and their messages: the materialized rows of the chat CRDT documents.

The truth is the chat document (``chat:<id>`` in ``crdt_updates``); these rows are rebuilt
from it by ``core.assistant.chats`` in the same transaction as every change, so they can be listed,
shown and searched without loading documents. Callers run writes inside ``db.transaction()``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.db import Database
from storage.errors import NotFoundError

WATERMARK_KEY = "chats.materialized_upto"


@dataclass(frozen=True)
class ChatRow:
    id: str
    title: str
    photo_item_id: str | None
    created_at: float
    updated_at: float
    deleted: bool
    messages: int = 0


@dataclass(frozen=True)
class MessageRow:
    chat_id: str
    ord: int
    role: str
    content: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = 0.0


def _chat(r: sqlite3.Row) -> ChatRow:
    keys = r.keys()
    return ChatRow(
        r["id"],
        r["title"],
        r["photo_item_id"],
        float(r["created_at"]),
        float(r["updated_at"]),
        bool(r["deleted"]),
        int(r["n"]) if "n" in keys else 0,
    )


def _message(r: sqlite3.Row) -> MessageRow:
    try:
        sources = json.loads(r["sources"] or "[]")
    except ValueError:
        sources = []
    return MessageRow(
        r["chat_id"], int(r["ord"]), r["role"], r["content"], sources, float(r["created_at"])
    )


def upsert_chat(
    db: Database,
    chat_id: str,
    *,
    title: str,
    photo_item_id: str | None,
    created_at: float,
    updated_at: float,
    deleted: bool = False,
) -> None:
    if (
        photo_item_id is not None
        and db.query_one("SELECT 1 FROM items WHERE id = ?", (photo_item_id,)) is None
    ):
        photo_item_id = None  # the photo has not arrived (sync) or was purged
    db.execute(
        "INSERT INTO chats(id, title, photo_item_id, created_at, updated_at, deleted)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET title = excluded.title,"
        " photo_item_id = excluded.photo_item_id, updated_at = excluded.updated_at,"
        " deleted = excluded.deleted",
        (chat_id, title, photo_item_id, created_at, updated_at, int(deleted)),
    )


def get_chat(db: Database, chat_id: str) -> ChatRow:
    row = db.query_one(
        "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id) AS n"
        " FROM chats c WHERE c.id = ?",
        (chat_id,),
    )
    if row is None:
        raise NotFoundError(f"No chat with id {chat_id}.")
    return _chat(row)


def find_chat(db: Database, chat_id: str) -> ChatRow | None:
    try:
        return get_chat(db, chat_id)
    except NotFoundError:
        return None


def resolve_prefix(db: Database, prefix: str) -> ChatRow:
    """A live chat by id or unique id prefix."""
    escaped = prefix.lower().replace("%", "").replace("_", "")
    rows = db.query(
        "SELECT id FROM chats WHERE id LIKE ? AND deleted = 0 LIMIT 2", (escaped + "%",)
    )
    if not escaped or not rows:
        raise NotFoundError(f"No chat with id {prefix!r}; see `saem chats list`.")
    if len(rows) > 1:
        raise NotFoundError(f"{prefix!r} matches several chats; give more of the id.")
    return get_chat(db, rows[0][0])


def list_chats(db: Database, *, limit: int = 200, include_deleted: bool = False) -> list[ChatRow]:
    where = "" if include_deleted else "WHERE c.deleted = 0"
    rows = db.query(
        "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id) AS n"
        f" FROM chats c {where} ORDER BY c.updated_at DESC, c.id LIMIT ?",
        (limit,),
    )
    return [_chat(r) for r in rows]


def messages_of(db: Database, chat_id: str) -> list[MessageRow]:
    rows = db.query("SELECT * FROM messages WHERE chat_id = ? ORDER BY ord", (chat_id,))
    return [_message(r) for r in rows]


def replace_messages(db: Database, chat_id: str, messages: Sequence[MessageRow]) -> None:
    """Make the chat's rows equal ``messages`` (ord = position in the chat document)."""
    db.execute("DELETE FROM messages WHERE chat_id = ?", (chat_id,))
    db.executemany(
        "INSERT INTO messages(chat_id, ord, role, content, sources, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (chat_id, i, m.role, m.content, json.dumps(m.sources, ensure_ascii=False), m.created_at)
            for i, m in enumerate(messages)
        ],
    )


def search_messages(
    db: Database, needles: Sequence[str], *, limit: int = 50
) -> list[tuple[str, int, str, int]]:
    """(chat id, message ord, content, matched needles) of live chats, most matches first.

    A scan with LIKE: chats are small next to notes, and substring matching finds Korean
    stems inside inflected words.
    """
    needles = [n for n in dict.fromkeys(n.lower() for n in needles) if n]
    if not needles:
        return []
    score = " + ".join("(instr(lower(m.content), ?) > 0)" for _ in needles)
    rows = db.query(
        f"SELECT m.chat_id, m.ord, m.content, ({score}) AS hits FROM messages m"
        " JOIN chats c ON c.id = m.chat_id WHERE c.deleted = 0 AND hits > 0"
        " ORDER BY hits DESC, c.updated_at DESC, m.ord LIMIT ?",
        (*needles, limit),
    )
    return [(r[0], int(r[1]), r[2], int(r[3])) for r in rows]


def chat_docs_changed_after(db: Database, after_id: int) -> tuple[list[str], int]:
    """Chat document ids with log entries after ``after_id``, and the newest entry id."""
    rows = db.query(
        "SELECT doc_id, MAX(id) FROM crdt_updates WHERE id > ? AND doc_id LIKE 'chat:%'"
        " GROUP BY doc_id",
        (after_id,),
    )
    newest = max((int(r[1]) for r in rows), default=after_id)
    return [r[0] for r in rows], newest


def get_watermark(db: Database) -> int:
    row = db.query_one("SELECT value FROM settings WHERE key = ?", (WATERMARK_KEY,))
    return int(row[0]) if row is not None else 0


def set_watermark(db: Database, upto: int) -> None:
    db.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (WATERMARK_KEY, str(int(upto))),
    )


def last_update_id(db: Database) -> int:
    return int(db.scalar("SELECT COALESCE(MAX(id), 0) FROM crdt_updates"))


def notes_created_between(db: Database, start: float, end: float, limit: int = 5) -> list[str]:
    """Live notes created in [start, end) — the notes "written that day" for photo chat."""
    rows = db.query(
        "SELECT id FROM items WHERE kind = 'note' AND deleted = 0 AND created_at >= ?"
        " AND created_at < ? ORDER BY created_at LIMIT ?",
        (start, end, limit),
    )
    return [r[0] for r in rows]
