"""Chats as user data: one CRDT document per chat, materialized into ``chats``/``messages``.

The chat document ``chat:<id>`` holds a ``Y.Map`` named ``meta`` (title, photo, created_at,
deleted) and a ``Y.Array`` named ``messages`` of ``Y.Map``s (role, content, sources as JSON,
photos, created_at). Every local change follows the notes path: a pycrdt transaction → its
update bytes appended to ``crdt_updates`` in the SAME SQLite transaction as the rows. Chats
therefore sync like notes (``SyncService`` already accepts ``chat:`` documents); rows of chats
changed by a peer are rebuilt by :meth:`ChatsService.refresh`, which every read calls.

A turn (question + answer) is appended in ONE transaction, only once the answer is complete:
a cancelled or failed answer leaves the chat exactly as it was (see ``core.assistant.service``).

Search: ``chunks.item_id`` references ``items`` and items are only notes and photos, so chat
messages are not chunks; :meth:`ChatsService.search` matches messages directly and returns
``SearchHit``s of kind ``"chat"`` (what the palette shows).
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Array, Map

from core.content.documents import DocumentCache, log_update
from core.errors import InputTooLargeError, MalformedInputError, UnknownNameError
from storage import chats as chat_store
from storage.chats import ChatRow, MessageRow
from storage.db import Database
from storage.errors import NotFoundError
from storage.ids import ChatId, chat_doc_id, new_id
from sync.docs import CrdtDoc

META = "meta"
MESSAGES = "messages"
ROLES = ("system", "user", "assistant")
MAX_MESSAGE_CHARS = 200_000
TITLE_CHARS = 60


@dataclass(frozen=True)
class NewMessage:
    role: str
    content: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    status: str = "complete"  # complete | cancelled (cancelled answers are never stored)


@dataclass(frozen=True)
class ChatMessageView:
    ord: int
    role: str
    content: str
    sources: list[dict[str, Any]]
    photos: list[str]
    created_at: float


@dataclass(frozen=True)
class Chat:
    id: ChatId
    title: str
    photo_item_id: str | None
    created_at: float
    updated_at: float
    messages: list[ChatMessageView]

    def photos(self) -> list[str]:
        """Every photo discussed in the chat, in order of first mention."""
        seen: dict[str, None] = {}
        if self.photo_item_id:
            seen[self.photo_item_id] = None
        for m in self.messages:
            for p in m.photos:
                seen.setdefault(p, None)
        return list(seen)


@dataclass(frozen=True)
class ChatHit:
    chat_id: str
    ord: int
    title: str
    snippet: str
    matched: int


def _arrays(doc: CrdtDoc) -> tuple[Map[Any], Array[Any]]:
    # Works on whatever instance the cache holds (sync loads chats as a plain CrdtDoc).
    return doc.doc.get(META, type=Map), doc.doc.get(MESSAGES, type=Array)


def _message_from_map(entry: Any, ord_: int) -> ChatMessageView:
    data = entry.to_py() if hasattr(entry, "to_py") else dict(entry)
    try:
        sources = json.loads(data.get("sources") or "[]")
    except (TypeError, ValueError):
        sources = []
    try:
        photos = json.loads(data.get("photos") or "[]")
    except (TypeError, ValueError):
        photos = []
    return ChatMessageView(
        ord_,
        str(data.get("role") or "user"),
        str(data.get("content") or ""),
        sources if isinstance(sources, list) else [],
        [str(p) for p in photos] if isinstance(photos, list) else [],
        float(data.get("created_at") or 0.0),
    )


def _check(message: NewMessage) -> None:
    if message.role not in ROLES:
        raise UnknownNameError(f"Unknown chat role {message.role!r}.")
    if len(message.content) > MAX_MESSAGE_CHARS:
        raise InputTooLargeError(
            f"The message is too long ({len(message.content):,} characters; the limit is "
            f"{MAX_MESSAGE_CHARS:,})."
        )
    if "\x00" in message.content:
        raise MalformedInputError("The message contains NUL bytes.")


class ChatsService:
    """Create, append to, read, delete and search chats."""

    def __init__(self, db: Database, docs: DocumentCache) -> None:
        self.db = db
        self.docs = docs

    # -- writing ------------------------------------------------------------------------------

    def create(self, title: str = "", *, photo_item_id: str | None = None) -> ChatId:
        """An empty chat (``append_turn`` with ``chat_id=None`` creates one with its turn)."""
        chat_id = ChatId(new_id())
        self._write(chat_id, [], title=title, photo_item_id=photo_item_id, create=True)
        return chat_id

    def append_turn(
        self,
        chat_id: str | None,
        messages: Sequence[NewMessage],
        *,
        title: str = "",
        photo_item_id: str | None = None,
    ) -> tuple[ChatId, int]:
        """Append messages (a whole turn) atomically; creates the chat when ``chat_id`` is None.

        Returns the chat id and the ord of the first appended message.
        """
        for m in messages:
            _check(m)
        if chat_id is None:
            new = ChatId(new_id())
            first = self._write(new, messages, title=title, photo_item_id=photo_item_id,
                                create=True)  # fmt: skip
            return new, first
        row = self.get_row(ChatId(chat_id))
        return ChatId(row.id), self._write(ChatId(row.id), messages, photo_item_id=photo_item_id)

    def _write(
        self,
        chat_id: ChatId,
        messages: Sequence[NewMessage],
        *,
        title: str = "",
        photo_item_id: str | None = None,
        create: bool = False,
    ) -> int:
        doc_id = chat_doc_id(chat_id)
        now = time.time()
        with self.docs.committing(doc_id), self.db.transaction():
            in_step = not chat_store.chat_docs_changed_after(
                self.db, chat_store.get_watermark(self.db)
            )[0]
            doc = self.docs.get(doc_id)
            meta, array = _arrays(doc)
            before = doc.doc.get_state()
            first = len(array)
            with doc.doc.transaction():
                if create:
                    meta["title"] = (title or "").strip()[:TITLE_CHARS] or "Chat"
                    meta["created_at"] = now
                    meta["deleted"] = False
                    if photo_item_id:
                        meta["photo"] = photo_item_id
                elif photo_item_id and not meta.get("photo"):
                    meta["photo"] = photo_item_id
                meta["updated_at"] = now
                for m in messages:
                    array.append(Map({
                        "role": m.role, "content": m.content,
                        "sources": json.dumps(m.sources, ensure_ascii=False),
                        "photos": json.dumps(list(m.photos)), "status": m.status,
                        "created_at": now,
                    }))  # fmt: skip
            update = doc.doc.get_update(before)
            self._materialize(chat_id, doc)
            log_update(self.db, doc_id, update)
            if in_step:  # rows already match every chat document: skip the rebuild on read
                chat_store.set_watermark(self.db, chat_store.last_update_id(self.db))
        return first

    def rename(self, chat_id: ChatId, title: str) -> None:
        self._set_meta(chat_id, title=(title.strip()[:TITLE_CHARS] or "Chat"))

    def delete(self, chat_id: ChatId) -> None:
        self._set_meta(chat_id, deleted=True)

    def _set_meta(self, chat_id: ChatId, **fields: Any) -> None:
        row = self.get_row(chat_id)
        doc_id = chat_doc_id(row.id)
        with self.docs.committing(doc_id), self.db.transaction():
            doc = self.docs.get(doc_id)
            meta, _ = _arrays(doc)
            before = doc.doc.get_state()
            with doc.doc.transaction():
                for key, value in fields.items():
                    meta[key] = value
                meta["updated_at"] = time.time()
            update = doc.doc.get_update(before)
            self._materialize(ChatId(row.id), doc)
            log_update(self.db, doc_id, update)

    def _materialize(self, chat_id: ChatId, doc: CrdtDoc) -> None:
        meta, array = _arrays(doc)
        m = meta.to_py() or {}
        views = [_message_from_map(entry, i) for i, entry in enumerate(array)]
        created = float(m.get("created_at") or (views[0].created_at if views else time.time()))
        chat_store.upsert_chat(
            self.db,
            chat_id,
            title=str(m.get("title") or "Chat"),
            photo_item_id=m.get("photo") or None,
            created_at=created,
            updated_at=float(m.get("updated_at") or created),
            deleted=bool(m.get("deleted")),
        )
        chat_store.replace_messages(
            self.db,
            chat_id,
            [
                MessageRow(chat_id, v.ord, v.role if v.role in ROLES else "user", v.content,
                           v.sources, v.created_at)
                for v in views
            ],
        )  # fmt: skip

    def refresh(self) -> int:
        """Rebuild the rows of chats whose documents changed in the log (e.g. by sync)."""
        mark = chat_store.get_watermark(self.db)
        changed, newest = chat_store.chat_docs_changed_after(self.db, mark)
        if not changed:
            return 0
        with self.db.transaction():
            for doc_id in changed:
                self.docs.forget(doc_id)  # reload from the log, the truth
                self._materialize(ChatId(doc_id.removeprefix("chat:")), self.docs.get(doc_id))
            chat_store.set_watermark(self.db, newest)
        return len(changed)

    # -- reading ------------------------------------------------------------------------------

    def get_row(self, chat_id: ChatId) -> ChatRow:
        self.refresh()
        row = chat_store.find_chat(self.db, chat_id)
        if row is None:
            row = chat_store.resolve_prefix(self.db, chat_id)
        if row.deleted:
            raise NotFoundError(f"The chat {chat_id} was deleted.")
        return row

    def get(self, chat_id: ChatId) -> Chat:
        row = self.get_row(chat_id)
        doc = self.docs.get(chat_doc_id(row.id))
        _, array = _arrays(doc)
        views = [_message_from_map(entry, i) for i, entry in enumerate(array)]
        return Chat(ChatId(row.id), row.title, row.photo_item_id, row.created_at,
                    row.updated_at, views)  # fmt: skip

    def list(self, limit: int = 200) -> list[ChatRow]:
        self.refresh()
        return chat_store.list_chats(self.db, limit=limit)

    def search(self, query: str, limit: int = 20) -> builtins.list[ChatHit]:
        """Messages that contain the query's words (Korean words by their stem)."""
        from core.search.query import fts_terms, parse_query

        self.refresh()
        words = parse_query(query.replace(":", " ")).words
        if not words:
            return []
        needles = fts_terms(words).surface
        titles = {c.id: c.title for c in chat_store.list_chats(self.db, limit=10_000)}
        hits = []
        seen: set[str] = set()
        for chat_id, ord_, content, matched in chat_store.search_messages(
            self.db, needles, limit=limit * 4
        ):
            if chat_id in seen:
                continue
            seen.add(chat_id)
            hits.append(ChatHit(chat_id, ord_, titles.get(chat_id, "Chat"),
                                _snippet(content, needles), matched))  # fmt: skip
            if len(hits) >= limit:
                break
        return hits


def _snippet(text: str, needles: Sequence[str], width: int = 160) -> str:
    low = text.lower()
    found = [low.find(n) for n in needles if n and low.find(n) >= 0]
    start = max(0, min(found, default=0) - width // 3)
    flat = " ".join(text[start : start + width].split())
    return ("…" if start else "") + flat + ("…" if start + width < len(text) else "")
