"""Where a library lives on disk."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "SAEM_LIBRARY"


def default_library_path() -> Path:
    """`--library` > `$SAEM_LIBRARY` > the platform's user data dir."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("saem", appauthor=False)) / "library"


@dataclass(frozen=True)
class LibraryPaths:
    """The files and folders of one library."""

    root: Path

    @property
    def db(self) -> Path:
        return self.root / "library.db"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def thumbs(self) -> Path:
        return self.root / "thumbs"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def ensure(self) -> None:
        for folder in (self.root, self.blobs, self.thumbs, self.models, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)
