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

from pycrdt import Doc, Map, Text, TransactionEvent

from sync.text_diff import apply_text_edits, diff

BODY = "body"
ITEMS = "items"


def _load(doc: Doc[Any], snapshot: bytes | None, updates: Iterable[bytes]) -> None:
    with doc.transaction():
        if snapshot:
            doc.apply_update(snapshot)
        for update in updates:
            doc.apply_update(update)


class _Capture:
    """Collects the update bytes of the local transaction(s) run inside the block.

    One transaction (the normal case) gives its own update. Several are combined as the
    document's diff since the block began (``get_update(state before)``), never with
    pycrdt's ``merge_updates``, which lost map entries under our convergence fuzz."""

    def __init__(self, owner: CrdtDoc) -> None:
        self.owner = owner
        self.update = b""
        self._before = b""

    def __enter__(self) -> _Capture:
        self._before = self.owner.doc.get_state()
        self.owner._captured.clear()
        self.owner._capturing = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.owner._capturing = False
        captured = self.owner._captured
        if len(captured) == 1:
            self.update = captured[0]
        elif captured:
            self.update = self.owner.doc.get_update(self._before)
        captured.clear()


class CrdtDoc:
    """Common part: capture the update bytes of each local transaction."""

    def __init__(self, snapshot: bytes | None = None, updates: Iterable[bytes] = ()) -> None:
        self.doc: Doc[Any] = Doc()
        self._bind()
        _load(self.doc, snapshot, updates)
        # The update of a local transaction is taken from the transaction itself (like Yjs'
        # 'update' event): `get_update(before)` would re-send the whole delete set each time.
        self._capturing = False
        self._captured: list[bytes] = []
        self._subscription = self.doc.observe(self._on_transaction)

    def _on_transaction(self, event: TransactionEvent) -> None:
        if self._capturing:  # only copies bytes; never reads the document in its observer
            self._captured.append(event.update)
        else:
            self._changed_elsewhere()

    def _changed_elsewhere(self) -> None:
        """A transaction we did not make (remote update): drop caches of the content."""

    def _local_change(self) -> _Capture:
        return _Capture(self)

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
        self._text: str | None = None

    def _changed_elsewhere(self) -> None:
        self._text = None

    @property
    def text(self) -> str:
        # Cached: converting a long Y.Text to str on every keystroke batch costs more than
        # the edit itself. Any transaction we did not make invalidates it (observer above).
        if self._text is None:
            self._text = str(self.body)
        return self._text

    def set_text(self, new_text: str) -> bytes:
        """Change the body to ``new_text`` with minimal edits; returns the update bytes."""
        old = self.text
        edits = diff(old, new_text)
        if not edits:
            return b""
        try:
            with self._local_change() as capture, self.doc.transaction():
                apply_text_edits(self.body, old, edits)
        except BaseException:
            self._text = None
            raise
        self._text = new_text
        return capture.update


class LibraryDoc(CrdtDoc):
    def _bind(self) -> None:
        self.items: Map[Any] = self.doc.get(ITEMS, type=Map)

    def put_item(self, item_id: str, fields: Mapping[str, Any]) -> bytes:
        """Create or update an item's fields in one transaction; returns the update bytes."""
        before = self.doc.get_state()
        with self._local_change() as capture, self.doc.transaction():
            entry = self.items.get(item_id)
            if entry is None:
                self.items[item_id] = Map(dict(fields))
            else:
                for key, value in fields.items():
                    if entry.get(key) != value:
                        entry[key] = value
        return capture.update if self.doc.get_state() != before else b""

    def get_item(self, item_id: str) -> dict[str, Any] | None:
        entry = self.items.get(item_id)
        return None if entry is None else entry.to_py()

    def item_ids(self) -> list[str]:
        return list(self.items.keys())
