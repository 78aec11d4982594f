"""Export the library as a Markdown folder + attachments that Obsidian opens.

Imported notes go back to their original relative paths with their exact text (front
matter, tags and links included); embedded photos go back next to them. Notes written in
Saem are named after their title; other photos go to ``attachments/``.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import BadPathError
from core.library import Library
from core.progress import CancelCheck, ProgressCallback, never_cancel, no_progress
from storage import notes as notes_repo
from storage import photos as photos_repo

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


@dataclass
class ExportReport:
    notes: int = 0
    photos: int = 0
    folder: str = ""
    problems: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False


def safe_filename(title: str, suffix: str = ".md") -> str:
    name = re.sub(r"\s+", " ", _UNSAFE.sub(" ", title)).strip().strip(".") or "Untitled"
    return name[:120] + suffix


def _common_root(paths: list[str]) -> Path | None:
    folders = [str(Path(p).parent) for p in paths]
    if not folders:
        return None
    try:
        return Path(os.path.commonpath(folders))
    except ValueError:  # different drives (Windows)
        return None


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _relative_under(path: str | None, root: Path | None) -> Path | None:
    if not path or root is None:
        return None
    try:
        rel = Path(path).relative_to(root)
    except ValueError:
        return None
    return None if ".." in rel.parts else rel


def export_markdown_folder(
    library: Library,
    folder: Path | str,
    *,
    progress: ProgressCallback = no_progress,
    should_cancel: CancelCheck = never_cancel,
) -> ExportReport:
    target = Path(folder).expanduser()
    if target.exists() and not target.is_dir():
        raise BadPathError(f"{target}: exists and is not a folder.")
    if target.is_dir() and any(target.iterdir()):
        raise BadPathError(f"{target}: the folder is not empty; choose an empty or new folder.")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadPathError(f"{target}: cannot create the folder ({exc.strerror}).") from exc
    report = ExportReport(folder=str(target))
    all_notes = notes_repo.all_notes(library.db)
    all_photos = photos_repo.all_photos(library.db)
    root = _common_root([n.source_path for _, _, n in all_notes if n.source_path])
    used: set[str] = set()
    total = len(all_notes) + len(all_photos)
    done = 0
    for _, title, note in all_notes:
        if should_cancel():
            report.cancelled = True
            return report
        rel = _relative_under(note.source_path, root)
        if rel is None:
            rel = Path(safe_filename(title))
            stem, n = rel.stem, 2
            while rel.as_posix().lower() in used:
                rel = Path(f"{stem} {n}.md")
                n += 1
        used.add(rel.as_posix().lower())
        _write_atomic(target / rel, note.body.encode("utf-8"))
        report.notes += 1
        done += 1
        progress(done, total, rel.name)
    for title, photo in all_photos:
        if should_cancel():
            report.cancelled = True
            return report
        meta = photo.meta
        rel = _relative_under(meta.source_path, root)
        if rel is None:
            name = meta.original_name or safe_filename(title, "." + meta.mime.split("/")[-1])
            rel = Path("attachments") / name
            stem, suffix, n = rel.stem, rel.suffix, 2
            while rel.as_posix().lower() in used:
                rel = Path("attachments") / f"{stem} {n}{suffix}"
                n += 1
        used.add(rel.as_posix().lower())
        try:
            library.store.blobs.copy_to(meta.sha256, target / rel)
            report.photos += 1
        except Exception as exc:  # noqa: BLE001 - reported per photo, export goes on
            report.problems.append((str(rel), getattr(exc, "user_message", str(exc))))
        done += 1
        progress(done, total, rel.name)
    return report
