"""Saem's storage layer: the SQLite library, its migrations, repositories and blob store.

Only the standard library (and sqlite) is used here; nothing above this layer writes SQL.
"""

from storage.errors import StorageError
from storage.store import Store

__all__ = ["StorageError", "Store"]
