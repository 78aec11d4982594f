"""`Library`: the facade over one library folder that the CLI and the GUI use.

It owns the storage `Store`, the CRDT document cache and one service object per concern
(`notes`, `photos`, …). Nothing above `core` touches SQL or the CRDT log directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.documents import DocumentCache
from core.model_manager import ModelManager
from core.notes import NotesService
from core.photos import PhotosService
from storage import items, jobs, tags
from storage.items import ItemRow
from storage.paths import default_library_path
from storage.store import Store


@dataclass(frozen=True)
class LibraryStats:
    notes: int
    photos: int
    tags: int
    jobs: dict[str, int]


class Library:
    """One opened library. Use as a context manager or call :meth:`close`."""

    def __init__(self, root: Path | str | None = None, *, create: bool = True) -> None:
        self.root = Path(root).expanduser() if root else default_library_path()
        self.store = Store(self.root, create=create)
        self.db = self.store.db
        self.docs = DocumentCache(self.db)
        self.notes = NotesService(self.db, self.docs)
        self.photos = PhotosService(self.db, self.docs, self.store.blobs, self.store.paths)
        self.models = ModelManager(self.db, self.store.paths)

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        self.models.close()
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- browsing -----------------------------------------------------------------------------

    def list_items(
        self, kind: Literal["note", "photo"] | None = None, *, limit: int = 1000, offset: int = 0
    ) -> list[ItemRow]:
        return items.list_items(self.db, kind, limit=limit, offset=offset)

    def resolve(self, id_or_prefix: str, kind: Literal["note", "photo"] | None = None) -> ItemRow:
        return items.resolve_prefix(self.db, id_or_prefix, kind)

    def tag_counts(self) -> list[tuple[str, int]]:
        return tags.tag_counts(self.db)

    def items_with_tag(self, tag: str) -> list[ItemRow]:
        return [items.get_item(self.db, i) for i in tags.items_with_tag(self.db, tag.lower())]

    def stats(self) -> LibraryStats:
        return LibraryStats(
            notes=items.count_items(self.db, "note"),
            photos=items.count_items(self.db, "photo"),
            tags=len(tags.tag_counts(self.db)),
            jobs=jobs.counts(self.db),
        )

    def is_empty(self) -> bool:
        return items.count_items(self.db) == 0 and not self.db.scalar("SELECT 1 FROM items LIMIT 1")
