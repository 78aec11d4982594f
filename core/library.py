"""`Library`: the one facade over one library folder that the CLI and the GUI use.

As Anki's ``Collection``, it owns the storage `Store`, the CRDT document cache and one service
object per concern: ``notes``, ``photos`` and ``models`` are made when the library opens (they
are cheap); ``search``, ``related``, ``assistant``, ``chats``, ``indexer``, ``sync``,
``events`` and ``quick_find`` are made on first use, cached, and closed with the library. Their
modules are imported only then (and under ``TYPE_CHECKING`` for the annotations), so opening a
library loads no model runtime. Nothing above `core` touches SQL or the CRDT log directly, and
nothing above `core` constructs a service itself.
"""

from __future__ import annotations

import gc
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from core.content.documents import DocumentCache
from core.content.notes import NotesService
from core.modelstore.manager import ModelManager, trim_heap
from core.photos.service import PhotosService
from storage import items, jobs, tags

# The typed ids, for the GUI and the CLI (which do not import storage).
from storage.ids import ChatId as ChatId
from storage.ids import ItemId as ItemId
from storage.ids import NoteId as NoteId
from storage.ids import PhotoId as PhotoId
from storage.items import ItemRow
from storage.paths import default_library_path
from storage.store import Store

log = logging.getLogger(__name__)
WARM_UP_QUERY = "warm up"  # any words: the search runs every source once

if TYPE_CHECKING:
    from core.assistant.chats import ChatsService
    from core.assistant.service import Assistant
    from core.events import EventLog
    from core.indexing.indexer import Indexer
    from core.peers.service import SyncService
    from core.photos.reread import StaleOcrCheck
    from core.related.recommender import Recommender
    from core.search.quick_find import QuickFinder
    from core.search.searcher import Searcher


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
        self._lock = threading.RLock()
        self._search: Searcher | None = None
        self._related: Recommender | None = None
        self._assistant: Assistant | None = None
        self._chats: ChatsService | None = None
        self._indexer: Indexer | None = None
        self._sync: SyncService | None = None
        self._events: EventLog | None = None
        self._quick_find: QuickFinder | None = None
        self._stale_ocr: StaleOcrCheck | None = None

    # -- services, made on first use ----------------------------------------------------------

    @property
    def search(self) -> Searcher:
        """Hybrid search (keywords + meaning + photos) with the library's default embedder."""
        with self._lock:
            if self._search is None:
                from core.search.searcher import Searcher

                self._search = Searcher(self)
            return self._search

    @property
    def quick_find(self) -> QuickFinder:
        """Title lookup for the palette's first keystrokes and for wikilinks."""
        with self._lock:
            if self._quick_find is None:
                from core.search.quick_find import QuickFinder

                self._quick_find = QuickFinder(self)
            return self._quick_find

    @property
    def related(self) -> Recommender:
        """Related-item recommendations for the item the user opened."""
        with self._lock:
            if self._related is None:
                from core.related.recommender import Recommender

                self._related = Recommender(self)
            return self._related

    @property
    def assistant(self) -> Assistant:
        """Questions over notes and photos, and photo chat, with the local LLM."""
        with self._lock:
            if self._assistant is None:
                from core.assistant.service import Assistant

                self._assistant = Assistant(self)
            return self._assistant

    @property
    def chats(self) -> ChatsService:
        """Stored conversations (CRDT documents)."""
        with self._lock:
            if self._chats is None:
                from core.assistant.chats import ChatsService

                self._chats = ChatsService(self.db, self.docs)
            return self._chats

    @property
    def indexer(self) -> Indexer:
        """The indexing job queue (chunks, OCR, tags, vectors) with the default models."""
        with self._lock:
            if self._indexer is None:
                from core.indexing.indexer import Indexer

                self._indexer = Indexer(self)
            return self._indexer

    def queue_stale_ocr(self) -> int:
        """Queue photos read by another OCR engine or version (or without Tesseract) to be read
        again by the indexer; checks once per open and again when the OCR model in use changes,
        so the app's status poll can call it every time. Returns how many were queued."""
        with self._lock:
            if self._stale_ocr is None:
                from core.photos.reread import StaleOcrCheck

                self._stale_ocr = StaleOcrCheck()
            check = self._stale_ocr
        return check(self)

    def indexer_with(self, embedder: str | None = None) -> Indexer:
        """The indexer; ``embedder`` (a packaged embedder name, ``saem index --embedder``)
        makes the library stay on that one embedder from now on, re-embedding once if it was
        on another; ``"e5"`` means progressive embedding (the fast model first, then the
        upgrade to e5: :mod:`core.indexing.progressive`); ``"auto"`` returns to the default,
        the fast model."""
        if embedder is not None:
            from core.indexing.embedders import packaged_embedder
            from core.indexing.progressive import AUTO, set_chosen_embedder

            if embedder != AUTO:
                packaged_embedder(embedder)  # an unknown or missing one fails here, not later
            set_chosen_embedder(self.db, embedder)
        return self.indexer

    @property
    def sync(self) -> SyncService:
        """Peer sync: pairing, serving, syncing with paired devices."""
        with self._lock:
            if self._sync is None:
                from core.peers.service import SyncService

                self._sync = SyncService(self)
            return self._sync

    @property
    def events(self) -> EventLog:
        """Opens, searches and clicks, for recommendations (switchable off)."""
        with self._lock:
            if self._events is None:
                from core.events import EventLog

                self._events = EventLog(self)
            return self._events

    # -- lifecycle ----------------------------------------------------------------------------

    def release_idle(self, max_idle_s: float) -> list[str]:
        """Give back the memory of what nothing used for ``max_idle_s`` seconds: loaded models
        (``models.release_idle``) and the place table of photo GPS lookups. Each loads again on
        its next use. The app calls this from its status poll; returns what was released."""
        from core.photos import places

        released = self.models.release_idle(max_idle_s)
        if places.release_idle(max_idle_s):
            released.append("places")
            gc.collect()
            trim_heap()
        return released

    def warm_up_search(self) -> threading.Thread:
        """Load what the first search needs on a background thread (started here): the
        embedders meaning search uses (e5: ONNX session + a 250k-piece tokenizer, 1–2 s on a
        loaded machine), their vector indexes, the keyword tables' pages — by running one
        real search. The app calls it once the library is open, so the first Ctrl+K search
        does not pay the load; a search meanwhile waits for the same load instead of doing
        it twice (the model manager and the embedders load under locks)."""

        def run() -> None:
            import sqlite3

            from core.errors import SaemError
            from models.errors import ModelError
            from storage.errors import StorageError

            try:
                self.search.search(WARM_UP_QUERY, limit=1)
            except (SaemError, ModelError, StorageError, sqlite3.Error, OSError) as exc:
                log.info("search warm-up failed (search reports it itself): %s", exc)

        thread = threading.Thread(target=run, name="saem-search-warm-up", daemon=True)
        thread.start()
        return thread

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

    def resolve_note(self, id_or_prefix: str) -> NoteId:
        """A note's id from its id or a unique prefix (typed errors for none, many, a photo)."""
        return NoteId(self.resolve(id_or_prefix, "note").id)

    def resolve_photo(self, id_or_prefix: str) -> PhotoId:
        """A photo's id from its id or a unique prefix (typed errors for none, many, a note)."""
        return PhotoId(self.resolve(id_or_prefix, "photo").id)

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
