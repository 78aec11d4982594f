"""The `models` table: models the user added (task, files, size, sha256, licence, source, dim).

Packaged defaults are not stored here; the model manager lists them itself. Which model is
in use per task is the ``active`` flag of a row, or (for a packaged default) the setting
``models.active.<task>``. The device preference is the setting ``models.device``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from storage.db import Database
from storage.errors import AmbiguousIdError, DuplicateIdError, NotFoundError

SETTING_PREFIX = "models."


@dataclass(frozen=True)
class ModelRow:
    id: str
    task: str
    name: str
    runtime: str
    files: list[str] = field(default_factory=list)
    size: int = 0
    sha256: str = ""
    licence: str = ""
    source: str = ""
    dim: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    active: bool = False
    added_at: float = 0.0


def _row(r: sqlite3.Row) -> ModelRow:
    return ModelRow(
        id=r["id"], task=r["task"], name=r["name"], runtime=r["runtime"],
        files=json.loads(r["files"]), size=int(r["size"]), sha256=r["sha256"],
        licence=r["licence"], source=r["source"], dim=r["dim"], meta=json.loads(r["meta"]),
        active=bool(r["active"]), added_at=float(r["added_at"]),
    )  # fmt: skip


def insert_model(db: Database, row: ModelRow) -> ModelRow:
    added = row.added_at or time.time()
    with db.transaction():
        if db.query_one("SELECT 1 FROM models WHERE id = ?", (row.id,)):
            raise DuplicateIdError(f"A model with id {row.id} is already registered.")
        if row.active:
            db.execute("UPDATE models SET active = 0 WHERE task = ?", (row.task,))
        db.execute(
            "INSERT INTO models(id, task, name, runtime, files, size, sha256, licence, source,"
            " dim, meta, active, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.id, row.task, row.name, row.runtime, json.dumps(row.files), row.size,
             row.sha256, row.licence, row.source, row.dim,
             json.dumps(row.meta, ensure_ascii=False), int(row.active), added),
        )  # fmt: skip
    return get_model(db, row.id)


def get_model(db: Database, model_id: str) -> ModelRow:
    r = db.query_one("SELECT * FROM models WHERE id = ?", (model_id,))
    if r is None:
        raise NotFoundError(f"No model with id {model_id} is registered.")
    return _row(r)


def find_model(db: Database, model_id: str) -> ModelRow | None:
    r = db.query_one("SELECT * FROM models WHERE id = ?", (model_id,))
    return None if r is None else _row(r)


def find_by_sha256(db: Database, task: str, sha256: str) -> ModelRow | None:
    r = db.query_one("SELECT * FROM models WHERE task = ? AND sha256 = ?", (task, sha256))
    return None if r is None else _row(r)


def resolve_prefix(db: Database, prefix: str) -> ModelRow | None:
    """A row whose id starts with ``prefix`` (None if none; error if ambiguous)."""
    rows = db.query(
        "SELECT * FROM models WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
        (prefix, prefix + "\uffff"),
    )
    if len(rows) > 1:
        raise AmbiguousIdError(f"The model id prefix {prefix!r} is ambiguous; type more of it.")
    return _row(rows[0]) if rows else None


def list_models(db: Database, task: str | None = None) -> list[ModelRow]:
    if task is None:
        rows = db.query("SELECT * FROM models ORDER BY task, added_at")
    else:
        rows = db.query("SELECT * FROM models WHERE task = ? ORDER BY added_at", (task,))
    return [_row(r) for r in rows]


def active_model(db: Database, task: str) -> ModelRow | None:
    r = db.query_one(
        "SELECT * FROM models WHERE task = ? AND active = 1 ORDER BY added_at DESC LIMIT 1",
        (task,),
    )
    return None if r is None else _row(r)


def set_active(db: Database, task: str, model_id: str | None, builtin: str | None = None) -> None:
    """Make ``model_id`` (a row) or ``builtin`` (a packaged default's key) the one in use."""
    with db.transaction():
        db.execute("UPDATE models SET active = 0 WHERE task = ?", (task,))
        if model_id is not None:
            cur = db.execute(
                "UPDATE models SET active = 1 WHERE id = ? AND task = ?", (model_id, task)
            )
            if cur.rowcount != 1:
                raise NotFoundError(f"No {task} model with id {model_id} is registered.")
        set_setting(db, f"active.{task}", builtin)


def delete_model(db: Database, model_id: str) -> ModelRow:
    with db.transaction():
        row = get_model(db, model_id)
        db.execute("DELETE FROM models WHERE id = ?", (model_id,))
    return row


def update_meta(db: Database, model_id: str, meta: dict[str, Any]) -> None:
    with db.transaction():
        db.execute(
            "UPDATE models SET meta = ? WHERE id = ?",
            (json.dumps(meta, ensure_ascii=False), model_id),
        )


def get_setting(db: Database, key: str) -> str | None:
    """A ``models.*`` setting."""
    value: str | None = db.scalar(
        "SELECT value FROM settings WHERE key = ?", (SETTING_PREFIX + key,)
    )
    return value


def set_setting(db: Database, key: str, value: str | None) -> None:
    with db.transaction():
        if value is None:
            db.execute("DELETE FROM settings WHERE key = ?", (SETTING_PREFIX + key,))
        else:
            db.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (SETTING_PREFIX + key, value),
            )
