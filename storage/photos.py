"""Photos: blob reference (sha256) and the metadata read from the file."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, fields

from storage.db import Database
from storage.errors import NotFoundError
from storage.ids import PhotoId


@dataclass(frozen=True)
class PhotoMeta:
    """What the importer reads from a photo file (EXIF and pixels)."""

    sha256: str
    size: int
    mime: str
    width: int | None = None
    height: int | None = None
    orientation: int | None = None
    taken_at: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    caption: str = ""
    original_name: str | None = None
    source_path: str | None = None


@dataclass(frozen=True)
class PhotoRow:
    item_id: PhotoId
    meta: PhotoMeta


_META_FIELDS = [f.name for f in fields(PhotoMeta)]


def _row(r: sqlite3.Row) -> PhotoRow:
    meta = PhotoMeta(**{name: r[name] for name in _META_FIELDS})
    return PhotoRow(PhotoId(r["item_id"]), meta)


def insert_photo(db: Database, item_id: str, meta: PhotoMeta) -> None:
    values = asdict(meta)
    cols = ", ".join(["item_id", *values])
    marks = ", ".join("?" for _ in range(len(values) + 1))
    db.execute(f"INSERT INTO photos({cols}) VALUES ({marks})", (item_id, *values.values()))


def get_photo(db: Database, item_id: str) -> PhotoRow:
    row = db.query_one("SELECT * FROM photos WHERE item_id = ?", (item_id,))
    if row is None:
        raise NotFoundError(f"No photo with id {item_id}.")
    return _row(row)


def find_by_sha256(db: Database, sha256: str) -> PhotoRow | None:
    row = db.query_one("SELECT * FROM photos WHERE sha256 = ?", (sha256,))
    return None if row is None else _row(row)


def find_by_source_path(db: Database, source_path: str) -> PhotoRow | None:
    row = db.query_one("SELECT * FROM photos WHERE source_path = ?", (source_path,))
    return None if row is None else _row(row)


def set_caption(db: Database, item_id: str, caption: str) -> None:
    db.execute("UPDATE photos SET caption = ? WHERE item_id = ?", (caption, item_id))


def all_photos(db: Database) -> list[tuple[str, PhotoRow]]:
    rows = db.query(
        "SELECT i.title AS title, p.* FROM items i JOIN photos p ON p.item_id = i.id"
        " WHERE i.deleted = 0 ORDER BY COALESCE(p.taken_at, ''), i.created_at"
    )
    return [(r["title"], _row(r)) for r in rows]


def all_sha256(db: Database) -> set[str]:
    return {r[0] for r in db.query("SELECT sha256 FROM photos")}
