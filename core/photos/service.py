"""Photos service: add photos to the blob store and the library doc, read them back."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from core.content.documents import DocumentCache, log_update
from core.errors import BadPathError, EmptyInputError
from core.photos.files import read_photo
from storage import items, jobs, photos, tags
from storage.blobs import BlobStore, sha256_file
from storage.chunks import OcrLineRow
from storage.db import Database
from storage.ids import LIBRARY_DOC_ID, PhotoId, new_id
from storage.paths import LibraryPaths
from storage.photos import PhotoMeta

INDEX_JOB = "index"


@dataclass(frozen=True)
class Photo:
    id: PhotoId
    title: str
    meta: PhotoMeta
    tags: list[str]
    blob_path: Path
    thumb_path: Path
    created_at: float


@dataclass(frozen=True)
class GridTile:
    """One photo in the grid: id, title, EXIF time, thumbnail, width / height as shown."""

    photo_id: PhotoId
    title: str
    taken_at: str | None
    thumb_path: Path
    aspect: float


class PhotosService:
    def __init__(
        self, db: Database, docs: DocumentCache, blobs: BlobStore, paths: LibraryPaths
    ) -> None:
        self.db = db
        self.docs = docs
        self.blobs = blobs
        self.paths = paths

    def thumb_path(self, sha256: str) -> Path:
        return self.paths.thumbs / sha256[:2] / f"{sha256}.jpg"

    def get(self, photo_id: PhotoId) -> Photo:
        item = items.get_item(self.db, photo_id, "photo")
        row = photos.get_photo(self.db, photo_id)
        return Photo(
            PhotoId(item.id),
            item.title,
            row.meta,
            tags.tags_of(self.db, photo_id),
            self.blobs.path(row.meta.sha256),
            self.thumb_path(row.meta.sha256),
            item.created_at,
        )

    def ocr_lines(self, photo_id: PhotoId) -> list[OcrLineRow]:
        """The OCR lines of a photo (boxes in the upright image's pixels), reading order."""
        from storage.chunks import ocr_lines_of

        return ocr_lines_of(self.db, photo_id)

    def waiting_for_analysis(self, photo_id: PhotoId) -> bool:
        """Whether the photo's analysis (OCR, tags) is still queued or interrupted."""
        return photo_id in jobs.runnable_item_ids(self.db, [INDEX_JOB])

    def grid_rows(self) -> list[tuple[PhotoId, str, str | None, Path]]:
        """(id, title, taken_at, thumbnail path) of every photo, oldest first: the photo grid."""
        return [
            (row.item_id, title, row.meta.taken_at, self.thumb_path(row.meta.sha256))
            for title, row in photos.all_photos(self.db)
        ]

    def grid_tiles(self) -> list[GridTile]:
        """Every photo with what a justified grid needs (its displayed aspect ratio), oldest
        first."""
        out = []
        for title, row in photos.all_photos(self.db):
            meta = row.meta
            width, height = meta.width or 1, meta.height or 1
            if meta.orientation in (5, 6, 7, 8):  # EXIF: rotated a quarter turn
                width, height = height, width
            out.append(
                GridTile(
                    row.item_id, title, meta.taken_at, self.thumb_path(meta.sha256), width / height
                )
            )
        return out

    def add(self, path: Path, *, source_path: str | None = None) -> tuple[PhotoId, bool]:
        """Import one photo file. Returns (id, created); an identical photo is reused."""
        if not path.is_file():
            raise BadPathError(f"{path}: not a file.")
        if path.stat().st_size == 0:
            raise EmptyInputError(f"{path}: the file is empty (0 bytes).")
        sha256 = sha256_file(path)
        existing = photos.find_by_sha256(self.db, sha256)
        if existing is not None:
            item = items.find_item(self.db, existing.item_id)
            if item is not None and not item.deleted:
                return existing.item_id, False
        thumb = self.thumb_path(sha256)
        info = read_photo(path, thumbnail_to=thumb)  # validates before the blob is stored
        self.blobs.put_file(path, sha256)
        meta = PhotoMeta(
            sha256=sha256,
            size=path.stat().st_size,
            mime=info.mime,
            width=info.width,
            height=info.height,
            orientation=info.orientation,
            taken_at=info.taken_at,
            gps_lat=info.gps_lat,
            gps_lon=info.gps_lon,
            camera_make=info.camera_make,
            camera_model=info.camera_model,
            original_name=path.name,
            source_path=source_path,
        )
        if existing is not None:  # the same photo was deleted before: bring it back
            with self.docs.committing(LIBRARY_DOC_ID), self.db.transaction():
                update = self.docs.library().put_item(existing.item_id, {"deleted": False})
                items.update_item(self.db, existing.item_id, deleted=False)
                log_update(self.db, LIBRARY_DOC_ID, update)
                jobs.enqueue(self.db, INDEX_JOB, existing.item_id)
            return existing.item_id, True
        photo_id = PhotoId(new_id())
        title = path.stem
        record = {
            "kind": "photo",
            "title": title,
            "tags": [],
            "deleted": False,
            "created_at": (now := time.time()),
            "sha256": sha256,
            "size": meta.size,
            "mime": meta.mime,
            "width": meta.width,
            "height": meta.height,
            "orientation": meta.orientation,
            "taken_at": meta.taken_at,
            "gps_lat": meta.gps_lat,
            "gps_lon": meta.gps_lon,
            "camera_make": meta.camera_make,
            "camera_model": meta.camera_model,
            "original_name": meta.original_name,
            "caption": "",
        }
        with self.docs.committing(LIBRARY_DOC_ID), self.db.transaction():
            update = self.docs.library().put_item(photo_id, record)
            items.insert_item(self.db, photo_id, "photo", title, now)
            photos.insert_photo(self.db, photo_id, meta)
            log_update(self.db, LIBRARY_DOC_ID, update)
            jobs.enqueue(self.db, INDEX_JOB, photo_id)
        return photo_id, True

    def set_tags(self, photo_id: PhotoId, tag_list: list[str]) -> None:
        self.get(photo_id)
        clean = list(dict.fromkeys(t.strip().lstrip("#").lower() for t in tag_list if t.strip()))
        with self.docs.committing(LIBRARY_DOC_ID), self.db.transaction():
            update = self.docs.library().put_item(photo_id, {"tags": clean})
            tags.set_tags(self.db, photo_id, clean, source="user")
            items.update_item(self.db, photo_id)
            log_update(self.db, LIBRARY_DOC_ID, update)
            jobs.enqueue(self.db, INDEX_JOB, photo_id)

    def set_caption(self, photo_id: PhotoId, caption: str) -> None:
        self.get(photo_id)
        with self.docs.committing(LIBRARY_DOC_ID), self.db.transaction():
            update = self.docs.library().put_item(photo_id, {"caption": caption})
            photos.set_caption(self.db, photo_id, caption)
            items.update_item(self.db, photo_id)
            log_update(self.db, LIBRARY_DOC_ID, update)
            jobs.enqueue(self.db, INDEX_JOB, photo_id)

    def delete(self, photo_id: PhotoId) -> None:
        self.get(photo_id)
        with self.docs.committing(LIBRARY_DOC_ID), self.db.transaction():
            update = self.docs.library().put_item(photo_id, {"deleted": True})
            items.update_item(self.db, photo_id, deleted=True)
            self.db.execute("DELETE FROM chunks WHERE item_id = ?", (photo_id,))
            log_update(self.db, LIBRARY_DOC_ID, update)
