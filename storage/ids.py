"""Typed ids so that ids of different kinds cannot be mixed up by accident."""

from __future__ import annotations

import uuid
from typing import NewType

ItemId = NewType("ItemId", str)
NoteId = NewType("NoteId", str)
PhotoId = NewType("PhotoId", str)
ChatId = NewType("ChatId", str)
DocId = NewType("DocId", str)

LIBRARY_DOC_ID = DocId("library")


def new_id() -> str:
    """A new random id (uuid4 hex, 32 characters)."""
    return uuid.uuid4().hex


def note_doc_id(note_id: NoteId | str) -> DocId:
    """The CRDT document id that holds a note's body."""
    return DocId(f"note:{note_id}")


def chat_doc_id(chat_id: ChatId | str) -> DocId:
    """The CRDT document id that holds a chat's messages."""
    return DocId(f"chat:{chat_id}")
