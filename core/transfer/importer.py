"""Importing a Markdown folder / Obsidian vault and folders of photos.

Each note and each photo is imported in its own transaction, so a crash or Ctrl+C leaves
every item either fully imported or absent, and a re-run continues where it stopped
(notes are keyed by their source path and content hash, photos by sha256).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.content.markdown import parse_note
from core.content.notes import MAX_NOTE_BYTES
from core.errors import (
    BadInputError,
    BadPathError,
    CancelledError,
    EmptyInputError,
    FrontMatterError,
    InputTooLargeError,
    MalformedInputError,
    UnreadableFileError,
)
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
    chunked: int = 0  # keyword chunks written right after the import (import_paths)

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
            raise EmptyInputError(f"{path}: the file is empty (0 bytes).")
        if size > MAX_NOTE_BYTES:
            raise InputTooLargeError(
                f"{path}: the file is too large for a note ({size:,} bytes; the limit is "
                f"{MAX_NOTE_BYTES:,} bytes, about 5 MB)."
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot read the file ({exc.strerror or exc}).") from exc
    if b"\x00" in raw:
        raise UnreadableFileError(f"{path}: binary data, not a Markdown text file.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
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
        raise BadPathError(f"{root}: not a folder.")
    report = ImportReport()
    files = list(walk_files(root, report.skip))
    note_files = [p for p in files if p.suffix.lower() in NOTE_SUFFIXES]
    progress(0, len(note_files), "")
    _import_notes(library, root, note_files, _VaultImages(root, files), report,
                  progress, should_cancel)  # fmt: skip
    library.notes.resolve_pending_links()
    return report


def _import_notes(
    library: Library,
    root: Path,
    note_files: list[Path],
    images: _VaultImages,
    report: ImportReport,
    progress: ProgressCallback,
    should_cancel: CancelCheck,
    *,
    offset: int = 0,
    grand_total: int | None = None,
) -> None:
    """Import ``note_files`` (under ``root``) in batched transactions, one savepoint each."""
    total = len(note_files)
    shown_total = total if grand_total is None else grand_total
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
                progress(offset + done, shown_total, path.name)
                if time.monotonic() - started > BATCH_SECONDS:
                    break


def _import_note(
    library: Library, root: Path, path: Path, images: _VaultImages, report: ImportReport
) -> None:
    source = str(path.resolve())
    text = read_note_text(path)
    try:
        parse_note(text, strict=True)
    except FrontMatterError as exc:
        raise MalformedInputError(f"{path}: {exc}") from exc
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
    paths: Sequence[Path | str],
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
            files += _photos_under(path, report)
        elif path.is_file() or path.is_symlink():
            files.append(path)
        else:
            report.skip(path, "no such file or folder")
    progress(0, len(files), "")
    _import_photo_files(library, files, report, progress, should_cancel)
    return report


def _photos_under(folder: Path, report: ImportReport) -> list[Path]:
    return [p for p in walk_files(folder, report.skip) if p.suffix.lower() in PHOTO_SUFFIXES]


def _import_photo_files(
    library: Library,
    files: list[Path],
    report: ImportReport,
    progress: ProgressCallback,
    should_cancel: CancelCheck,
    *,
    offset: int = 0,
    grand_total: int | None = None,
) -> None:
    shown_total = len(files) if grand_total is None else grand_total
    for done, path in enumerate(files, start=1):
        if should_cancel():
            report.cancelled = True
            break
        if not os.access(path, os.R_OK):
            report.skip(path, "cannot read the file (permission denied)")
        else:
            _import_photo(library, path, report)
        progress(offset + done, shown_total, path.name)


def looks_like_notes(folder: Path, *, scan_limit: int = 5000) -> bool:
    """Whether a folder is a Markdown folder / Obsidian vault (else: a folder of photos)."""
    if (folder / ".obsidian").is_dir():
        return True
    for count, path in enumerate(folder.rglob("*")):
        if path.suffix.lower() in NOTE_SUFFIXES:
            return True
        if count > scan_limit:
            break
    return False


@dataclass
class ImportPlan:
    """What :func:`import_paths` will do with the paths it was given."""

    vaults: list[Path] = field(default_factory=list)  # Markdown folders / Obsidian vaults
    notes: list[Path] = field(default_factory=list)  # single Markdown files
    photos: list[Path] = field(default_factory=list)  # photo files (given or found in folders)


def plan_import(
    paths: list[Path | str], report: ImportReport, *, photos_only: bool = False
) -> ImportPlan:
    """Sort what the user named: a Markdown file is a note, a folder with Markdown a vault,
    anything else a photo (or a folder of photos). Missing paths are reported as skipped."""
    plan = ImportPlan()
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            if not photos_only and looks_like_notes(path):
                plan.vaults.append(path)
            else:
                plan.photos += _photos_under(path, report)
        elif path.is_file() or path.is_symlink():
            if not photos_only and path.suffix.lower() in NOTE_SUFFIXES:
                plan.notes.append(path)
            else:
                plan.photos.append(path)
        else:
            report.skip(path, "no such file or folder")
    return plan


def import_paths(
    library: Library,
    paths: list[Path | str],
    *,
    photos_only: bool = False,
    keywords: bool = True,
    progress: ProgressCallback = no_progress,
    should_cancel: CancelCheck = never_cancel,
) -> ImportReport:
    """Import any mix of Markdown files, vaults, photos and photo folders (``saem import``).

    Each note and photo is still its own transaction (a crash keeps every finished one and a
    re-run resumes). With ``keywords`` the imported notes are then chunked at once (no model
    is loaded), so a search finds them by their words straight away; their vectors and the
    photos' OCR and tags follow with ``saem index`` or the app's background indexer.
    """
    report = ImportReport()
    plan = plan_import(paths, report, photos_only=photos_only)
    vault_files: list[tuple[Path, list[Path], _VaultImages]] = []
    for root in plan.vaults:
        files = list(walk_files(root, report.skip))
        notes = [p for p in files if p.suffix.lower() in NOTE_SUFFIXES]
        vault_files.append((root, notes, _VaultImages(root, files)))
    total = sum(len(n) for _, n, _ in vault_files) + len(plan.notes) + len(plan.photos)
    progress(0, total, "")
    done = 0
    for root, notes, images in vault_files:
        if report.cancelled:
            break
        _import_notes(library, root, notes, images, report, progress, should_cancel,
                      offset=done, grand_total=total)  # fmt: skip
        done += len(notes)
    for path in plan.notes:
        if report.cancelled:
            break
        folder = path.parent  # its embedded images are looked up next to it
        _import_notes(library, folder, [path], _VaultImages(folder, []), report, progress,
                      should_cancel, offset=done, grand_total=total)  # fmt: skip
        done += 1
    if not report.cancelled:
        _import_photo_files(library, plan.photos, report, progress, should_cancel,
                            offset=done, grand_total=total)  # fmt: skip
    library.notes.resolve_pending_links()
    if keywords and not report.cancelled:
        found = library.indexer.index_keywords(should_cancel=should_cancel)
        report.cancelled = found.cancelled
        report.chunked = found.chunks
    return report


def raise_if_cancelled(report: ImportReport) -> None:
    if report.cancelled:
        raise CancelledError("Import cancelled; what was imported is kept. Run it again to resume.")
