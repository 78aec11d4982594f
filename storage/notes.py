"""Notes: the materialized Markdown body of each note document."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.db import Database
from storage.errors import NotFoundError
from storage.ids import NoteId


@dataclass(frozen=True)
class NoteRow:
    item_id: NoteId
    body: str
    source_path: str | None
    source_mtime: float | None
    source_hash: str | None


def _row(r: sqlite3.Row) -> NoteRow:
    return NoteRow(
        NoteId(r["item_id"]),
        r["body"],
        r["source_path"],
        r["source_mtime"],
        r["source_hash"],
    )


def insert_note(
    db: Database,
    item_id: str,
    body: str,
    *,
    source_path: str | None = None,
    source_mtime: float | None = None,
    source_hash: str | None = None,
) -> None:
    db.execute(
        "INSERT INTO notes(item_id, body, source_path, source_mtime, source_hash)"
        " VALUES (?, ?, ?, ?, ?)",
        (item_id, body, source_path, source_mtime, source_hash),
    )


def get_note(db: Database, item_id: str) -> NoteRow:
    row = db.query_one("SELECT * FROM notes WHERE item_id = ?", (item_id,))
    if row is None:
        raise NotFoundError(f"No note with id {item_id}.")
    return _row(row)


def find_by_source_path(db: Database, source_path: str) -> NoteRow | None:
    row = db.query_one("SELECT * FROM notes WHERE source_path = ?", (source_path,))
    return None if row is None else _row(row)


def set_body(db: Database, item_id: str, body: str) -> None:
    db.execute("UPDATE notes SET body = ? WHERE item_id = ?", (body, item_id))


def set_source(
    db: Database, item_id: str, source_path: str | None, mtime: float | None, digest: str | None
) -> None:
    db.execute(
        "UPDATE notes SET source_path = ?, source_mtime = ?, source_hash = ? WHERE item_id = ?",
        (source_path, mtime, digest, item_id),
    )


def all_notes(db: Database) -> list[tuple[str, str, NoteRow]]:
    """(item id, title, note row) for every live note, oldest first."""
    rows = db.query(
        "SELECT i.id AS id, i.title AS title, n.* FROM items i JOIN notes n ON n.item_id = i.id"
        " WHERE i.deleted = 0 ORDER BY i.created_at, i.id"
    )
    return [(r["id"], r["title"], _row(r)) for r in rows]


def index_keys(title: str, source_path: str | None) -> list[str]:
    """The lower-cased names a wikilink may use for a note: title, file stem, vault path."""
    keys = [title.lower()]
    if source_path:
        stem = source_path.rsplit("/", 1)[-1].removesuffix(".md")
        keys += [stem.lower(), source_path.removesuffix(".md").lower()]
    return keys


def items_version(db: Database) -> tuple[int, float]:
    """Changes whenever items are added or touched (cheap cache-invalidation token).

    Called on every note write, so each part is one index lookup: items are never deleted,
    only flagged, so the largest rowid counts additions, and the newest change is looked up
    per (kind, deleted) in ``items_kind_updated``. COUNT(*) and MAX(updated_at) over the
    table scanned it each time, which made importing quadratic (229 notes/s at 100k notes)."""
    newest = ", ".join(
        f"COALESCE((SELECT MAX(updated_at) FROM items WHERE kind = '{kind}' AND deleted = {d}), 0)"
        for kind in ("note", "photo")
        for d in (0, 1)
    )
    row = db.query_one(f"SELECT (SELECT COALESCE(MAX(rowid), 0) FROM items), MAX({newest})")
    return (int(row[0]), float(row[1])) if row else (0, 0.0)


def titles_index(db: Database) -> dict[str, str]:
    """Lower-cased note title and source-path stem → item id, for wikilink resolution."""
    index: dict[str, str] = {}
    for r in db.query(
        "SELECT i.id, i.title, n.source_path FROM items i JOIN notes n ON n.item_id = i.id"
        " WHERE i.deleted = 0"
    ):
        for key in index_keys(r["title"], r["source_path"]):
            index.setdefault(key, r["id"])
    return index


@dataclass(frozen=True)
class NoteSummary:
    """One row of the note list: the title, the start of the body, and the times."""

    id: NoteId
    kind: str
    title: str
    head: str  # the first PREVIEW_CHARS characters of the body
    created_at: float
    updated_at: float


PREVIEW_CHARS = 400
NOTE_ORDERS = {
    "updated": "i.updated_at DESC, i.id",
    "created": "i.created_at DESC, i.id",
    "title": "i.title COLLATE NOCASE, i.id",
}


def list_summaries(
    db: Database, order: str = "updated", *, limit: int = 500, offset: int = 0
) -> list[NoteSummary]:
    """Live notes in ``order`` (a key of ``NOTE_ORDERS``), a page at a time."""
    if order not in NOTE_ORDERS:
        raise ValueError(f"unknown note order {order!r}")
    rows = db.query(
        "SELECT i.id, i.title, i.created_at, i.updated_at, substr(n.body, 1, ?) AS head"
        " FROM items i JOIN notes n ON n.item_id = i.id"
        f" WHERE i.deleted = 0 AND i.kind = 'note' ORDER BY {NOTE_ORDERS[order]}"
        " LIMIT ? OFFSET ?",
        (PREVIEW_CHARS, limit, offset),
    )
    return [
        NoteSummary(
            NoteId(r["id"]), "note", r["title"], r["head"] or "", r["created_at"], r["updated_at"]
        )
        for r in rows
    ]
