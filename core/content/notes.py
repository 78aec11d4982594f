"""Notes service: create, edit, delete notes as CRDT documents with materialized rows."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from core.content.documents import DocumentCache, log_update
from core.content.markdown import ParsedLink, parse_note
from core.errors import InputTooLargeError, MalformedInputError, UnknownNameError
from storage import items, jobs, notes, tags
from storage.db import Database
from storage.ids import LIBRARY_DOC_ID, NoteId, new_id, note_doc_id
from storage.photos import PhotoRow
from storage.tags import LinkRow

# One note holds at most 5 MB of UTF-8 Markdown, on every write path (import, CLI, GUI).
# A book-length note (War and Peace is 3.2 MB) fits; above this a note is thousands of
# chunks re-embedded on each save, and the CRDT document plus the editor hold it whole.
MAX_NOTE_BYTES = 5_000_000
INDEX_JOB = "index"


@dataclass(frozen=True)
class Note:
    id: NoteId
    title: str
    body: str
    tags: list[str]
    links: list[LinkRow]
    backlinks: list[str]
    created_at: float
    updated_at: float
    source_path: str | None


def note_size_error(size: int) -> str:
    """The sentence shown for a note of ``size`` UTF-8 bytes over :data:`MAX_NOTE_BYTES`."""
    return (
        f"The note is too large ({size:,} bytes of text; the limit is {MAX_NOTE_BYTES:,} "
        "bytes, about 5 MB). Split it into smaller notes."
    )


def _check_body(body: str) -> None:
    # UTF-8 bytes, not characters: a Hangul syllable is 3 bytes. Every character is 1–4
    # bytes, so a short body is not encoded at all, and ASCII is counted without encoding.
    if len(body) * 4 > MAX_NOTE_BYTES:
        size = len(body) if body.isascii() else len(body.encode("utf-8", "surrogatepass"))
        if size > MAX_NOTE_BYTES:
            raise InputTooLargeError(note_size_error(size))
    if "\x00" in body:
        raise MalformedInputError("The note contains NUL bytes; it looks like a binary file.")


class NotesService:
    def __init__(self, db: Database, docs: DocumentCache) -> None:
        self.db = db
        self.docs = docs
        # Wikilink target index, kept up to date by our own writes; rebuilt when another
        # writer (sync, another process) changed items since we last looked.
        self._titles: dict[str, str] | None = None
        self._titles_version: tuple[int, float] | None = None

    def _title_index(self) -> dict[str, str]:
        version = notes.items_version(self.db)
        if self._titles is None or version != self._titles_version:
            self._titles = notes.titles_index(self.db)
            self._titles_version = version
        return self._titles

    def _remember_title(self, note_id: str, title: str, source_path: str | None) -> None:
        if self._titles is not None:
            for key in notes.index_keys(title, source_path):
                self._titles.setdefault(key, note_id)
            self._titles_version = notes.items_version(self.db)

    # -- reading ------------------------------------------------------------------------------

    def summaries(
        self, order: str = "updated", *, limit: int = 500, offset: int = 0
    ) -> list[notes.NoteSummary]:
        """The note list: title, the start of the body (``head``) and times, a page at a time;
        ``order`` is ``updated`` (newest first), ``created`` or ``title``."""
        if order not in notes.NOTE_ORDERS:
            raise UnknownNameError(
                f"Unknown note order {order!r}; use one of {', '.join(notes.NOTE_ORDERS)}."
            )
        return notes.list_summaries(self.db, order, limit=limit, offset=offset)

    def get(self, note_id: NoteId) -> Note:
        item = items.get_item(self.db, note_id, "note")
        row = notes.get_note(self.db, note_id)
        return Note(
            NoteId(item.id),
            item.title,
            row.body,
            tags.tags_of(self.db, note_id),
            tags.links_of(self.db, note_id),
            tags.backlinks_of(self.db, note_id),
            item.created_at,
            item.updated_at,
            row.source_path,
        )

    # -- writing ------------------------------------------------------------------------------

    def create(
        self,
        body: str,
        *,
        title: str | None = None,
        source_path: str | None = None,
        source_mtime: float | None = None,
        source_hash: str | None = None,
        created_at: float | None = None,
        fallback_title: str = "",
    ) -> NoteId:
        _check_body(body)
        note_id = NoteId(new_id())
        parsed = parse_note(body, fallback_title=fallback_title)
        final_title = title or parsed.title
        doc_id = note_doc_id(note_id)
        created_at = created_at or time.time()  # the same value in the CRDT doc and the row
        with self.docs.committing(doc_id, LIBRARY_DOC_ID), self.db.transaction():
            note_doc = self.docs.note(note_id)
            body_update = note_doc.set_text(body)
            lib_update = self.docs.library().put_item(
                note_id,
                {
                    "kind": "note",
                    "title": final_title,
                    "tags": parsed.tags,
                    "deleted": False,
                    "created_at": created_at or time.time(),
                },
            )
            items.insert_item(self.db, note_id, "note", final_title, created_at)
            notes.insert_note(
                self.db,
                note_id,
                body,
                source_path=source_path,
                source_mtime=source_mtime,
                source_hash=source_hash,
            )
            self._materialize_meta(note_id, parsed.tags, parsed.links)
            log_update(self.db, doc_id, body_update)
            log_update(self.db, LIBRARY_DOC_ID, lib_update)
            jobs.enqueue(self.db, INDEX_JOB, note_id)
        self._remember_title(note_id, final_title, source_path)
        return note_id

    def edit(
        self, note_id: str, new_body: str, *, title: str | None = None, fallback_title: str = ""
    ) -> bool:
        """Replace the body with minimal CRDT edits. Returns False when nothing changed."""
        _check_body(new_body)
        item = items.get_item(self.db, note_id, "note")
        doc_id = note_doc_id(note_id)
        parsed = parse_note(new_body, fallback_title=fallback_title or item.title)
        final_title = title or parsed.title
        self._title_index()
        with self.docs.committing(doc_id, LIBRARY_DOC_ID), self.db.transaction():
            body_update = self.docs.note(note_id).set_text(new_body)
            lib_update = self.docs.library().put_item(
                note_id, {"title": final_title, "tags": parsed.tags}
            )
            if not body_update and not lib_update:
                return False
            items.update_item(self.db, note_id, title=final_title)
            notes.set_body(self.db, note_id, new_body)
            self._materialize_meta(note_id, parsed.tags, parsed.links)
            log_update(self.db, doc_id, body_update)
            log_update(self.db, LIBRARY_DOC_ID, lib_update)
            jobs.enqueue(self.db, INDEX_JOB, note_id)
        self._titles = None  # a title may have changed: rebuild on next use
        return True

    def delete(self, note_id: NoteId) -> None:
        items.get_item(self.db, note_id, "note")  # exists and is a note
        with self.docs.committing(LIBRARY_DOC_ID), self.db.transaction():
            update = self.docs.library().put_item(note_id, {"deleted": True})
            items.update_item(self.db, note_id, deleted=True)
            self.db.execute("DELETE FROM chunks WHERE item_id = ?", (note_id,))
            log_update(self.db, LIBRARY_DOC_ID, update)

    def _materialize_meta(
        self, note_id: str, tag_list: list[str], links: Sequence[ParsedLink]
    ) -> None:
        tags.set_tags(self.db, note_id, tag_list, source="user")
        resolved = self._resolve_links(links)
        tags.set_links(self.db, note_id, resolved)

    def _resolve_links(self, links: Sequence[ParsedLink]) -> list[LinkRow]:
        from storage import photos

        if not links:
            return []
        index = self._titles if self._titles is not None else self._title_index()
        rows: list[LinkRow] = []
        for link in links:
            dst: str | None = None
            if link.is_image:
                name = link.target.rsplit("/", 1)[-1]
                found = photos.find_by_source_path(self.db, link.target) or next(
                    (p for _, p in self._photos_named(name)), None
                )
                dst = found.item_id if found else None
            elif link.target:
                key = link.target.lower().removesuffix(".md")
                dst = index.get(key) or index.get(key.rsplit("/", 1)[-1])
            rows.append(LinkRow(link.kind, link.target, link.heading, link.alias, dst))
        return rows

    def _photos_named(self, name: str) -> list[tuple[str, PhotoRow]]:
        from storage import photos

        rows = self.db.query(
            "SELECT item_id FROM photos WHERE original_name = ? ORDER BY item_id LIMIT 1", (name,)
        )
        return [(r[0], photos.get_photo(self.db, r[0])) for r in rows]

    def resolve_pending_links(self) -> int:
        """Link wikilinks whose target note arrived later (e.g. later in the same import)."""
        index = self._title_index()
        fixed = 0
        with self.db.transaction():
            for src, ord_, target in tags.unresolved_links(self.db):
                key = target.lower().removesuffix(".md")
                dst = index.get(key) or index.get(key.rsplit("/", 1)[-1])
                if dst:
                    tags.resolve_link(self.db, src, ord_, dst)
                    fixed += 1
        return fixed
