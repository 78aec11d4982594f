"""Walking user folders safely: symlink loops, unreadable folders and hidden folders."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

SKIP_DIRS = {".obsidian", ".git", ".trash", ".Trash", "node_modules", "__pycache__", ".saem"}


def walk_files(root: Path, on_problem: Callable[[Path, str], None]) -> Iterator[Path]:
    """Every regular file under ``root`` (following directory symlinks once), sorted.

    Symlink loops and unreadable folders are reported through ``on_problem`` and skipped.
    """
    seen: set[tuple[int, int]] = set()

    def visit(folder: Path) -> Iterator[Path]:
        try:
            stat = folder.stat()
        except OSError as exc:
            on_problem(folder, f"cannot open the folder ({exc.strerror or exc})")
            return
        key = (stat.st_dev, stat.st_ino)
        if key in seen:
            on_problem(folder, "symlink loop (this folder was already visited); skipped")
            return
        seen.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            on_problem(folder, f"cannot list the folder ({exc.strerror or exc})")
            return
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=True):
                    if entry.name in SKIP_DIRS or entry.name.startswith("."):
                        continue
                    yield from visit(path)
                elif entry.is_file(follow_symlinks=True):
                    yield path
                elif entry.is_symlink():
                    on_problem(path, "broken or looping symlink; skipped")
            except OSError as exc:
                on_problem(path, f"cannot read ({exc.strerror or exc})")

    yield from visit(root)
