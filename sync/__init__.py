"""CRDT documents, the update log protocol, peer transport, pairing and discovery."""

from sync.docs import LibraryDoc, NoteDoc

__all__ = ["LibraryDoc", "NoteDoc"]
