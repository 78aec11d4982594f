"""Loading CRDT documents from the update log and committing local changes to them.

Every local change follows one path: change the in-memory document in a pycrdt
transaction → append its update bytes to ``crdt_updates`` **in the same SQLite transaction**
as the materialized rows. If the SQLite transaction fails, the cached document is dropped
so that it is reloaded from the log (the log is the truth).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from storage import crdt_log
from storage.db import Database
from storage.ids import LIBRARY_DOC_ID, note_doc_id
from sync.docs import CrdtDoc, LibraryDoc, NoteDoc

D = TypeVar("D", bound=CrdtDoc)

_CACHE_SIZE = 256


class DocumentCache:
    """Loaded documents by id (LRU); the library doc is always kept."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._docs: OrderedDict[str, CrdtDoc] = OrderedDict()
        self._upto: dict[str, int] = {}  # last log id each cached document reflects

    def _load(self, doc_id: str, cls: type[D]) -> D:
        cached = self._docs.get(doc_id)
        if cached is not None and self._catch_up(doc_id, cached):
            self._docs.move_to_end(doc_id)
            return cached  # type: ignore[return-value]
        snapshot, upto = crdt_log.snapshot_of(self.db, doc_id)
        logged = crdt_log.updates_after(self.db, doc_id, upto)
        doc = cls(snapshot, [u.data for u in logged])
        self._docs[doc_id] = doc
        self._upto[doc_id] = logged[-1].id if logged else upto
        while len(self._docs) > _CACHE_SIZE:
            oldest = next(iter(self._docs))
            if oldest == LIBRARY_DOC_ID:
                self._docs.move_to_end(oldest)
                continue
            self._docs.pop(oldest)
            self._upto.pop(oldest, None)
        return doc

    def _catch_up(self, doc_id: str, doc: CrdtDoc) -> bool:
        """Apply what other processes (e.g. `saem sync serve`) logged since we loaded the doc,
        so a local edit is never diffed against stale text. False: reload from the log."""
        upto = self._upto.get(doc_id, 0)
        if crdt_log.snapshot_of_upto(self.db, doc_id) > upto:
            return False  # compacted past what we saw: the rows we missed are gone
        newer = crdt_log.updates_after(self.db, doc_id, upto)
        for update in newer:
            doc.apply_update(update.data)  # our own updates come back too: a no-op
        if newer:
            self._upto[doc_id] = newer[-1].id
        return True

    def library(self) -> LibraryDoc:
        return self._load(LIBRARY_DOC_ID, LibraryDoc)

    def note(self, note_id: str) -> NoteDoc:
        return self._load(note_doc_id(note_id), NoteDoc)

    def get(self, doc_id: str) -> CrdtDoc:
        if doc_id == LIBRARY_DOC_ID:
            return self.library()
        if doc_id.startswith("note:"):
            return self._load(doc_id, NoteDoc)
        return self._load(doc_id, CrdtDoc)

    def peek(self, doc_id: str) -> CrdtDoc | None:
        """The cached document, or None when it is not loaded (does not load it)."""
        return self._docs.get(doc_id)

    def forget(self, doc_id: str | None = None) -> None:
        if doc_id is None:
            self._docs.clear()
            self._upto.clear()
        else:
            self._docs.pop(doc_id, None)
            self._upto.pop(doc_id, None)

    @contextmanager
    def committing(self, *doc_ids: str) -> Iterator[None]:
        """Wrap a SQLite transaction; on failure drop the touched documents from the cache."""
        try:
            yield
        except BaseException:
            for doc_id in doc_ids or list(self._docs):
                self.forget(doc_id)
            raise


def log_update(db: Database, doc_id: str, update: bytes, origin: str = "local") -> None:
    if update:
        crdt_log.append_update(db, doc_id, update, origin)
