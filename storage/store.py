"""`Store`: one opened library folder (database + blobs + thumbnails)."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from storage.blobs import BlobStore
from storage.db import Database
from storage.errors import LibraryOpenError, LibraryReadOnlyError
from storage.migrations import LATEST_VERSION, migrate
from storage.paths import LibraryPaths

# A blob being written is touched at least once per 1 MiB block; a temp file older than this
# belongs to a process that died (or to a disk so slow that nothing would work anyway).
STALE_TEMP_SECONDS = 15 * 60


class Store:
    """Opens (creating and upgrading as needed) the library at ``root``."""

    def __init__(self, root: Path | str, *, create: bool = True) -> None:
        self.paths = LibraryPaths(Path(root).expanduser())
        if self.paths.root.exists() and not self.paths.root.is_dir():
            raise LibraryOpenError(f"{self.paths.root} is a file, not a library folder.")
        if not self.paths.db.exists() and not create:
            raise LibraryOpenError(f"There is no Saem library at {self.paths.root}.")
        if self.paths.root.exists() and not os.access(self.paths.root, os.W_OK):
            raise LibraryReadOnlyError(
                f"The library folder {self.paths.root} is read-only; Saem needs to write to it."
            )
        try:
            self.paths.ensure()
        except OSError as exc:
            raise LibraryOpenError(
                f"Cannot create the library at {self.paths.root}: {exc}"
            ) from exc
        self.db = Database(self.paths.db)
        migrate(self.db)
        self.blobs = BlobStore(self.paths.blobs)
        self._clean_temp()

    @property
    def schema_version(self) -> int:
        return int(self.db.scalar("PRAGMA user_version"))

    @property
    def latest_schema_version(self) -> int:
        return LATEST_VERSION

    def _clean_temp(self) -> None:
        """Remove temp files a crashed process left behind (they were never referenced).

        Only files untouched for ``STALE_TEMP_SECONDS`` go: another process (a second
        ``saem import`` next to the open app) may be writing a blob right now, and its
        temp file's mtime moves with every block it writes.
        """
        cutoff = time.time() - STALE_TEMP_SECONDS
        for leftover in self.blobs.temp_files():
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()

    def close(self) -> None:
        self.db.close()
