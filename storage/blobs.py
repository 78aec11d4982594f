"""Content-addressed blob store: ``blobs/ab/abcdef…`` by sha256.

A blob is written to a temporary file, fsynced and renamed into place, so a crash leaves
either no blob or a complete one. A blob without a database row is an orphan that
`saem doctor` reports and a re-import reuses.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from storage.errors import BlobError

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put_file(self, source: Path, sha256: str | None = None) -> str:
        """Copy a file into the store; returns its sha256. Idempotent."""
        sha256 = sha256 or sha256_file(source)
        if self.has(sha256):
            return sha256
        with source.open("rb") as handle:
            self._write(sha256, handle)
        return sha256

    def put_bytes(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.has(sha256):
            import io

            self._write(sha256, io.BytesIO(data))
        return sha256

    def _write(self, sha256: str, handle: BinaryIO) -> None:
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                while block := handle.read(CHUNK):
                    digest.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha256:
                raise BlobError(f"The file changed while it was copied (sha256 {sha256[:12]}…).")
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def verify(self, sha256: str) -> bool:
        path = self.path(sha256)
        return path.is_file() and sha256_file(path) == sha256

    def copy_to(self, sha256: str, destination: Path) -> None:
        source = self.path(sha256)
        if not source.is_file():
            raise BlobError(f"The photo blob {sha256[:12]}… is missing from the library.")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)

    def iter_hashes(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for sub in self.root.iterdir():
            if sub.is_dir():
                for blob in sub.iterdir():
                    if blob.is_file() and not blob.name.startswith(".tmp-"):
                        yield blob.name

    def temp_files(self) -> list[Path]:
        return list(self.root.glob("*/.tmp-*")) if self.root.is_dir() else []
