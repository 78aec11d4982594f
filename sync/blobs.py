"""Photo blobs on the wire: resumable partial downloads verified by sha256 on arrival.

A blob being received is written to ``<tmp>/sync-<sha256>.part``; a restarted transfer
asks for the bytes after what is already on disk. When the last byte arrives the file is
fsynced, hashed and moved into the blob store only if the hash matches.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from storage.blobs import BlobStore, sha256_file
from sync.errors import BlobTransferError

CHUNK_SIZE = 256 * 1024
MAX_BLOB = 4 * 1024**3


class BlobExchange:
    def __init__(self, blobs: BlobStore, tmp: Path) -> None:
        self.blobs = blobs
        self.tmp = tmp

    def _part(self, sha256: str) -> Path:
        return self.tmp / f"sync-{sha256}.part"

    # -- serving ------------------------------------------------------------------------------

    def size(self, sha256: str) -> int | None:
        path = self.blobs.path(sha256)
        return path.stat().st_size if path.is_file() else None

    def read(self, sha256: str, offset: int, length: int = CHUNK_SIZE) -> bytes:
        with self.blobs.path(sha256).open("rb") as handle:
            handle.seek(offset)
            return handle.read(length)

    # -- receiving ----------------------------------------------------------------------------

    def partial(self, sha256: str) -> int:
        """Bytes already received (the offset to resume from)."""
        part = self._part(sha256)
        return part.stat().st_size if part.is_file() else 0

    def write(self, sha256: str, offset: int, total: int, chunk: bytes) -> bool:
        """Append a chunk; True once the blob is complete, verified and stored."""
        if self.blobs.has(sha256):
            return True
        if total > MAX_BLOB:
            raise BlobTransferError(f"The photo {sha256[:12]}… is larger than allowed; refused.")
        self.tmp.mkdir(parents=True, exist_ok=True)
        part = self._part(sha256)
        have = self.partial(sha256)
        if offset > have:
            return False  # a gap: ignore, the next request resumes from `have`
        with part.open("r+b" if part.exists() else "wb") as handle:
            handle.seek(offset)
            handle.write(chunk)
            handle.truncate(offset + len(chunk))
            if offset + len(chunk) >= total:
                handle.flush()
                os.fsync(handle.fileno())
        if offset + len(chunk) < total:
            return False
        if sha256_file(part) != sha256:
            part.unlink(missing_ok=True)
            raise BlobTransferError(
                f"The photo {sha256[:12]}… arrived corrupted (sha256 mismatch); it was discarded."
            )
        self.blobs.put_file(part, sha256)
        part.unlink(missing_ok=True)
        return True


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
