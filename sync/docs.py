"""The CRDT documents that hold user data.

* a **note doc** per note: ``Y.Text`` named ``body`` (the whole Markdown file);
* the **library doc**: ``Y.Map`` named ``items``; each value is a ``Y.Map`` with the item's
  kind, title, tags, deleted flag and, for photos, sha256 + metadata.

A document is only ever rebuilt from its snapshot + logged updates, never from plain text:
rebuilding from text would give the content new CRDT identities and duplicate it the next
time an old peer syncs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pycrdt import Doc, Map, Text

from sync.text_diff import apply_text_edits, text_edits

BODY = "body"
ITEMS = "items"


def _load(doc: Doc, snapshot: bytes | None, updates: Iterable[bytes]) -> None:
    with doc.transaction():
        if snapshot:
            doc.apply_update(snapshot)
        for update in updates:
            doc.apply_update(update)


class CrdtDoc:
    """Common part: capture the update bytes of each local transaction."""

    def __init__(self, snapshot: bytes | None = None, updates: Iterable[bytes] = ()) -> None:
        self.doc: Doc = Doc()
        self._bind()
        _load(self.doc, snapshot, updates)

    def _bind(self) -> None:  # overridden: declare the root types before loading
        pass

    def state_vector(self) -> bytes:
        return self.doc.get_state()

    def encode_state(self, remote_state: bytes | None = None) -> bytes:
        """The update a peer with ``remote_state`` lacks (everything when None)."""
        return self.doc.get_update(remote_state) if remote_state else self.doc.get_update()

    def apply_update(self, update: bytes) -> None:
        self.doc.apply_update(update)


class NoteDoc(CrdtDoc):
    def _bind(self) -> None:
        self.body: Text = self.doc.get(BODY, type=Text)

    @property
    def text(self) -> str:
        return str(self.body)

    def set_text(self, new_text: str) -> bytes:
        """Change the body to ``new_text`` with minimal edits; returns the update bytes."""
        before = self.doc.get_state()
        old = self.text
        edits = text_edits(old, new_text)
        if not edits:
            return b""
        with self.doc.transaction():
            apply_text_edits(self.body, old, edits)
        return self.doc.get_update(before)


class LibraryDoc(CrdtDoc):
    def _bind(self) -> None:
        self.items: Map = self.doc.get(ITEMS, type=Map)

    def put_item(self, item_id: str, fields: Mapping[str, Any]) -> bytes:
        """Create or update an item's fields in one transaction; returns the update bytes."""
        before = self.doc.get_state()
        with self.doc.transaction():
            entry = self.items.get(item_id)
            if entry is None:
                self.items[item_id] = Map(dict(fields))
            else:
                for key, value in fields.items():
                    if entry.get(key) != value:
                        entry[key] = value
        update = self.doc.get_update(before)
        return update if self.doc.get_state() != before else b""

    def get_item(self, item_id: str) -> dict[str, Any] | None:
        entry = self.items.get(item_id)
        return None if entry is None else entry.to_py()

    def item_ids(self) -> list[str]:
        return list(self.items.keys())
