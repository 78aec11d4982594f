"""Importing a Markdown folder / Obsidian vault and folders of photos.

Each note and each photo is imported in its own transaction, so a crash or Ctrl+C leaves
every item either fully imported or absent, and a re-run continues where it stopped
(notes are keyed by their source path and content hash, photos by sha256).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.content.markdown import FrontMatterError, parse_note
from core.content.notes import MAX_NOTE_BYTES
from core.errors import BadInputError, CancelledError
from core.library import Library
from core.photos.files import PHOTO_SUFFIXES
from core.progress import CancelCheck, ProgressCallback, never_cancel, no_progress
from core.transfer.file_walk import walk_files
from storage import items
from storage import notes as notes_repo

NOTE_SUFFIXES = {".md", ".markdown"}
# Notes are committed in batches: each note is still all-or-nothing (savepoint), but one
# durable commit (fsync) per batch instead of per note makes large vaults ~10× faster.
BATCH_NOTES = 100
BATCH_SECONDS = 1.0


@dataclass
class ImportReport:
    notes_created: int = 0
    notes_updated: int = 0
    notes_unchanged: int = 0
    photos_created: int = 0
    photos_existing: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False

    def skip(self, path: Path | str, reason: str) -> None:
        self.skipped.append((str(path), reason))

    @property
    def summary(self) -> str:
        parts = [
            f"{self.notes_created} notes added",
            f"{self.notes_updated} updated",
            f"{self.notes_unchanged} unchanged",
            f"{self.photos_created} photos added",
            f"{self.photos_existing} already present",
            f"{len(self.skipped)} skipped",
        ]
        return ", ".join(parts) + (" (cancelled; run again to continue)" if self.cancelled else "")


def read_note_text(path: Path) -> str:
    """Read a Markdown file as UTF-8, refusing empty, binary, huge or non-UTF-8 files."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise BadInputError(f"{path}: the file is empty (0 bytes).")
        if size > MAX_NOTE_BYTES:
            raise BadInputError(
                f"{path}: the file is too large for a note ({size:,} bytes; the limit is "
                f"{MAX_NOTE_BYTES:,} bytes, about 5 MB)."
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read the file ({exc.strerror or exc}).") from exc
    if b"\x00" in raw:
        raise BadInputError(f"{path}: binary data, not a Markdown text file.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputError(
            f"{path}: not UTF-8 text (invalid byte at position {exc.start})."
        ) from exc
    return text.removeprefix("\ufeff")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _VaultImages:
    """Finds an embedded image the way Obsidian does: relative path, vault path, or name."""

    def __init__(self, root: Path, files: list[Path]) -> None:
        self.root = root
        self.by_name: dict[str, Path] = {}
        for path in files:
            if path.suffix.lower() in PHOTO_SUFFIXES:
                self.by_name.setdefault(path.name.lower(), path)

    def resolve(self, note_path: Path, target: str) -> Path | None:
        for candidate in (note_path.parent / target, self.root / target):
            try:
                if candidate.is_file() and candidate.resolve().is_relative_to(self.root.resolve()):
                    return candidate
            except OSError:
                continue
        return self.by_name.get(Path(target).name.lower())


def import_markdown_folder(
    library: Library,
    folder: Path | str,
    *,
    progress: ProgressCallback = no_progress,
    should_cancel: CancelCheck = never_cancel,
) -> ImportReport:
    """Import every Markdown note (and the images they embed) under ``folder``."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise BadInputError(f"{root}: not a folder.")
    report = ImportReport()
    files = list(walk_files(root, report.skip))
    note_files = [p for p in files if p.suffix.lower() in NOTE_SUFFIXES]
    images = _VaultImages(root, files)
    total = len(note_files)
    progress(0, total, "")
    done = 0
    while done < total and not report.cancelled:
        started = time.monotonic()
        with library.docs.committing(), library.db.transaction():
            for path in note_files[done : done + BATCH_NOTES]:
                if should_cancel():
                    report.cancelled = True
                    break
                try:
                    with library.db.transaction():  # savepoint: one note is all-or-nothing
                        _import_note(library, root, path, images, report)
                except BadInputError as exc:
                    library.docs.forget()
                    report.skip(path, exc.user_message.removeprefix(f"{path}: "))
                done += 1
                progress(done, total, path.name)
                if time.monotonic() - started > BATCH_SECONDS:
                    break
    library.notes.resolve_pending_links()
    return report


def _import_note(
    library: Library, root: Path, path: Path, images: _VaultImages, report: ImportReport
) -> None:
    source = str(path.resolve())
    text = read_note_text(path)
    try:
        parse_note(text, strict=True)
    except FrontMatterError as exc:
        raise BadInputError(f"{path}: {exc}") from exc
    digest = _digest(text)
    existing = notes_repo.find_by_source_path(library.db, source)
    if existing is not None and existing.source_hash == digest:
        report.notes_unchanged += 1
        return
    # Photos first, so the note's embeds resolve to them in the note's own transaction.
    for link in parse_note(text).links:
        if link.kind == "embed" and link.is_image:
            image = images.resolve(path, link.target)
            if image is None:
                report.skip(f"{path} → {link.target}", "embedded image not found")
                continue
            _import_photo(library, image, report)
    mtime = path.stat().st_mtime
    if existing is None:
        library.notes.create(
            text,
            source_path=source,
            source_mtime=mtime,
            source_hash=digest,
            created_at=mtime,
            fallback_title=path.stem,
        )
        report.notes_created += 1
        return
    item = items.find_item(library.db, existing.item_id)
    if item is None or item.deleted:
        report.skip(path, "this note was deleted in Saem; not re-imported")
        return
    with library.docs.committing(), library.db.transaction():
        library.notes.edit(existing.item_id, text, fallback_title=path.stem)
        notes_repo.set_source(library.db, existing.item_id, source, mtime, digest)
    report.notes_updated += 1


def _import_photo(library: Library, path: Path, report: ImportReport) -> None:
    try:
        _, created = library.photos.add(path, source_path=str(path.resolve()))
    except BadInputError as exc:
        report.skip(path, exc.user_message.removeprefix(f"{path}: "))
        return
    if created:
        report.photos_created += 1
    else:
        report.photos_existing += 1


def import_photos(
    library: Library,
    paths: list[Path | str],
    *,
    progress: ProgressCallback = no_progress,
    should_cancel: CancelCheck = never_cancel,
) -> ImportReport:
    """Import photo files and folders of photos (JPEG, PNG, WebP, HEIC)."""
    report = ImportReport()
    files: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            files += [
                p for p in walk_files(path, report.skip) if p.suffix.lower() in PHOTO_SUFFIXES
            ]
        elif path.is_file() or path.is_symlink():
            files.append(path)
        else:
            report.skip(path, "no such file or folder")
    progress(0, len(files), "")
    for done, path in enumerate(files, start=1):
        if should_cancel():
            report.cancelled = True
            break
        if not os.access(path, os.R_OK):
            report.skip(path, "cannot read the file (permission denied)")
        else:
            _import_photo(library, path, report)
        progress(done, len(files), path.name)
    return report


def raise_if_cancelled(report: ImportReport) -> None:
    if report.cancelled:
        raise CancelledError("Import cancelled; what was imported is kept. Run it again to resume.")
