"""Typed storage errors. Each carries a sentence a user can read."""

from __future__ import annotations


class StorageError(Exception):
    """Base class for every error raised by the storage layer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


class LibraryOpenError(StorageError):
    """The library folder or its database cannot be opened."""


class LibraryCorruptError(LibraryOpenError):
    """The database file is not an SQLite database or is damaged (SQLITE_NOTADB/CORRUPT)."""


class LibraryBusyError(StorageError):
    """Another process holds the library's write lock past the busy timeout."""


class LibraryReadOnlyError(StorageError):
    """The library cannot be written (read-only folder or file)."""


class DiskFullError(StorageError):
    """The disk (or the database's size limit) is full."""


class SchemaTooNewError(StorageError):
    """The library was written by a newer Saem than this one."""


class MigrationError(StorageError):
    """A schema upgrade step failed; the library stays at the version before it."""


class NotFoundError(StorageError):
    """An item, note, photo or chat with that id does not exist."""


class WrongItemKindError(NotFoundError):
    """The item exists but is of another kind (a photo id where a note was asked for)."""


class BlobError(StorageError):
    """A blob is missing or does not match its sha256."""


class DuplicateIdError(StorageError):
    """A row with that id already exists (e.g. a model registered twice)."""


class AmbiguousIdError(StorageError):
    """An id prefix typed by the user matches more than one row."""


class SearchExpressionError(StorageError):
    """SQLite's full-text engine refused a search expression."""
