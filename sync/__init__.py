"""CRDT documents, the update log protocol, peer transport, pairing and discovery.

Submodules are imported on use (``from sync.docs import NoteDoc``) so that importing a
small part (e.g. ``sync.errors``) does not load pycrdt at start-up.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LibraryDoc", "NoteDoc"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sync import docs

        return getattr(docs, name)
    raise AttributeError(name)
