"""Items: the common row of every note and photo."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Literal

from storage.db import Database
from storage.errors import NotFoundError, WrongItemKindError
from storage.ids import ItemId

ItemKind = Literal["note", "photo"]


@dataclass(frozen=True)
class ItemRow:
    id: ItemId
    kind: ItemKind
    title: str
    created_at: float
    updated_at: float
    deleted: bool


def _row(r: sqlite3.Row) -> ItemRow:
    return ItemRow(
        id=ItemId(r["id"]),
        kind=r["kind"],
        title=r["title"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        deleted=bool(r["deleted"]),
    )


def insert_item(
    db: Database, item_id: str, kind: ItemKind, title: str, created_at: float | None = None
) -> ItemRow:
    now = time.time()
    created = now if created_at is None else created_at
    db.execute(
        "INSERT INTO items(id, kind, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        (item_id, kind, title, created, now),
    )
    return ItemRow(ItemId(item_id), kind, title, created, now, False)


def get_item(
    db: Database, item_id: str, kind: ItemKind | None = None, *, include_deleted: bool = False
) -> ItemRow:
    """The item; with ``kind``, a :class:`WrongItemKindError` when it is of another kind."""
    row = db.query_one("SELECT * FROM items WHERE id = ?", (item_id,))
    if row is None or (row["deleted"] and not include_deleted):
        raise NotFoundError(f"No item with id {item_id}.")
    if kind is not None and row["kind"] != kind:
        raise WrongItemKindError(f"Item {item_id} is a {row['kind']}, not a {kind}.")
    return _row(row)


def find_item(db: Database, item_id: str) -> ItemRow | None:
    row = db.query_one("SELECT * FROM items WHERE id = ?", (item_id,))
    return None if row is None else _row(row)


def resolve_prefix(db: Database, prefix: str, kind: ItemKind | None = None) -> ItemRow:
    """An item by full id or unique id prefix (as `git` does for commits)."""
    sql = "SELECT * FROM items WHERE id LIKE ? AND deleted = 0"
    params: list[object] = [prefix.replace("%", "").replace("_", "") + "%"]
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    rows = db.query(sql + " LIMIT 2", params)
    if not rows:
        raise NotFoundError(f"No {kind or 'item'} with id {prefix}.")
    if len(rows) > 1:
        raise NotFoundError(f"The id prefix {prefix} matches several items; give more of it.")
    return _row(rows[0])


def list_items(
    db: Database, kind: ItemKind | None = None, *, limit: int = 1000, offset: int = 0
) -> list[ItemRow]:
    sql = "SELECT * FROM items WHERE deleted = 0"
    params: list[object] = []
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    sql += " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
    params += [limit, offset]
    return [_row(r) for r in db.query(sql, params)]


def count_items(db: Database, kind: ItemKind | None = None) -> int:
    if kind:
        return int(db.scalar("SELECT COUNT(*) FROM items WHERE deleted = 0 AND kind = ?", (kind,)))
    return int(db.scalar("SELECT COUNT(*) FROM items WHERE deleted = 0"))


def update_item(
    db: Database, item_id: str, *, title: str | None = None, deleted: bool | None = None
) -> None:
    sets = ["updated_at = ?"]
    params: list[object] = [time.time()]
    if title is not None:
        sets.append("title = ?")
        params.append(title)
    if deleted is not None:
        sets.append("deleted = ?")
        params.append(int(deleted))
    params.append(item_id)
    db.execute(f"UPDATE items SET {', '.join(sets)} WHERE id = ?", params)
