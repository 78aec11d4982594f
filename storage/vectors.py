"""Vectors: float32 little-endian blobs, L2-normalized, keyed by (owner kind, owner id, model).

SQLite is the source of truth; in-memory search indexes are caches rebuilt from here. The
"serving" model (whose vectors answer queries) is a setting that only switches once every
chunk has a vector of the new model, so a re-index never leaves search without vectors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from storage.db import Database

SERVING_KEY = "search.vector_model"
TARGET_KEY = "search.target_vector_model"


@dataclass(frozen=True)
class VectorRow:
    owner_kind: str  # chunk | photo
    owner_id: str
    item_id: str
    data: bytes  # float32 little-endian


def put_vectors(db: Database, model_id: str, dim: int, rows: Sequence[VectorRow]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO vectors(owner_kind, owner_id, model_id, dim, data, item_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(r.owner_kind, r.owner_id, model_id, dim, r.data, r.item_id) for r in rows],
    )


def delete_item_vectors(db: Database, item_id: str, owner_kind: str | None = None) -> None:
    if owner_kind:
        db.execute(
            "DELETE FROM vectors WHERE item_id = ? AND owner_kind = ?", (item_id, owner_kind)
        )
    else:
        db.execute("DELETE FROM vectors WHERE item_id = ?", (item_id,))


def load_vectors(
    db: Database, model_id: str, owner_kind: str = "chunk", *, after_rowid: int = 0
) -> list[tuple[str, str, bytes]]:
    """(owner id, item id, data) for one model in rowid order (deleted items included: the
    search filters them, and an index cache stays append-only this way)."""
    rows = db.query(
        "SELECT owner_id, item_id, data FROM vectors WHERE model_id = ? AND owner_kind = ?"
        " AND rowid > ? ORDER BY rowid",
        (model_id, owner_kind, after_rowid),
    )
    return [(r[0], r[1], r[2]) for r in rows]


def vector_pages(
    db: Database,
    model_id: str,
    owner_kind: str = "chunk",
    *,
    until_rowid: int,
    page: int = 20_000,
) -> Iterator[list[tuple[str, str, bytes]]]:
    """:func:`load_vectors` up to ``until_rowid`` in pages of ``page`` rows (rowid order), so
    building an index over 400k vectors holds one page of blobs at a time, not 800 MB."""
    after = 0
    while True:
        rows = db.query(
            "SELECT rowid, owner_id, item_id, data FROM vectors WHERE model_id = ?"
            " AND owner_kind = ? AND rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
            (model_id, owner_kind, after, until_rowid, page),
        )
        if not rows:
            return
        after = int(rows[-1][0])
        yield [(r[1], r[2], r[3]) for r in rows]


def count_vectors(db: Database, model_id: str, owner_kind: str = "chunk") -> int:
    return int(
        db.scalar(
            "SELECT COUNT(*) FROM vectors WHERE model_id = ? AND owner_kind = ?",
            (model_id, owner_kind),
        )
    )


def fingerprint(db: Database, model_id: str, owner_kind: str = "chunk") -> tuple[int, int]:
    """(count, max rowid) of a model's vectors: changes whenever vectors are added/removed."""
    row = db.query_one(
        "SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM vectors WHERE model_id = ?"
        " AND owner_kind = ?",
        (model_id, owner_kind),
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


def change_token(db: Database) -> tuple[int, int]:
    """Changes whenever this or another connection committed a write (cheap to ask)."""
    return int(db.scalar("PRAGMA data_version")), int(db.conn.total_changes)


def chunks_missing(db: Database, model_id: str) -> int:
    """How many chunks of live items have no vector of ``model_id``."""
    return int(
        db.scalar(
            "SELECT COUNT(*) FROM chunks c JOIN items i ON i.id = c.item_id WHERE i.deleted = 0"
            " AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.owner_kind = 'chunk'"
            " AND v.model_id = ? AND v.owner_id = CAST(c.id AS TEXT))",
            (model_id,),
        )
    )


def items_missing_vectors(db: Database, model_id: str) -> set[str]:
    """Live items that have a chunk without a vector of ``model_id``."""
    rows = db.query(
        "SELECT DISTINCT c.item_id FROM chunks c JOIN items i ON i.id = c.item_id"
        " WHERE i.deleted = 0 AND NOT EXISTS (SELECT 1 FROM vectors v WHERE"
        " v.owner_kind = 'chunk' AND v.model_id = ? AND v.owner_id = CAST(c.id AS TEXT))",
        (model_id,),
    )
    return {r[0] for r in rows}


def owner_set(db: Database, model_id: str, owner_kind: str = "chunk") -> set[str]:
    """The owners that have a vector of ``model_id`` (which chunks are upgraded)."""
    return set(owner_ids(db, model_id, owner_kind))


def model_ids(db: Database) -> list[str]:
    return [r[0] for r in db.query("SELECT DISTINCT model_id FROM vectors")]


def delete_model(db: Database, model_id: str) -> None:
    db.execute("DELETE FROM vectors WHERE model_id = ?", (model_id,))


def _get(db: Database, key: str) -> str | None:
    value = db.scalar("SELECT value FROM settings WHERE key = ?", (key,))
    return None if value is None else str(value)


def _set(db: Database, key: str, value: str | None) -> None:
    if value is None:
        db.execute("DELETE FROM settings WHERE key = ?", (key,))
    else:
        db.execute(
            "INSERT INTO settings(key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def get_setting(db: Database, key: str) -> str | None:
    """A search setting (e.g. the embedder policy, :mod:`core.indexing.progressive`)."""
    return _get(db, key)


def set_setting(db: Database, key: str, value: str | None) -> None:
    _set(db, key, value)


def serving_model(db: Database) -> str | None:
    return _get(db, SERVING_KEY)


def set_serving_model(db: Database, model_id: str | None) -> None:
    _set(db, SERVING_KEY, model_id)


def target_model(db: Database) -> str | None:
    return _get(db, TARGET_KEY)


def set_target_model(db: Database, model_id: str | None) -> None:
    _set(db, TARGET_KEY, model_id)


def owner_ids(db: Database, model_id: str, owner_kind: str = "chunk") -> list[str]:
    return [
        r[0]
        for r in db.query(
            "SELECT owner_id FROM vectors WHERE model_id = ? AND owner_kind = ?",
            (model_id, owner_kind),
        )
    ]
