"""`saem doctor`: check that a library is whole, and optionally repair derived data."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import BadInputError
from core.library import Library
from core.photos.files import make_thumbnail
from storage import jobs, maintenance


@dataclass
class DoctorReport:
    integrity: list[str] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)
    incomplete_items: list[str] = field(default_factory=list)
    missing_blobs: list[str] = field(default_factory=list)
    orphan_blobs: list[str] = field(default_factory=list)
    missing_thumbs: list[str] = field(default_factory=list)
    crdt_mismatch: list[str] = field(default_factory=list)
    jobs: dict[str, int] = field(default_factory=dict)
    schema_version: int = 0
    fixed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.integrity == ["ok"]
            and not self.foreign_keys
            and not self.incomplete_items
            and not self.missing_blobs
            and not self.crdt_mismatch
        )


def run_doctor(library: Library, *, fix: bool = False) -> DoctorReport:
    db = library.db
    report = DoctorReport(schema_version=library.store.schema_version)
    report.integrity = db.integrity_check()
    report.foreign_keys = maintenance.foreign_key_problems(db)
    report.incomplete_items = maintenance.items_without_rows(db)
    hashes = maintenance.photo_hashes(db)
    blobs = library.store.blobs
    stored = set(blobs.iter_hashes())
    report.missing_blobs = sorted(h for h in hashes if h not in stored)
    report.orphan_blobs = sorted(stored - set(hashes))
    for sha in hashes:
        if sha in stored and not library.photos.thumb_path(sha).exists():
            report.missing_thumbs.append(sha)
    for note_id, body in maintenance.live_note_bodies(db):
        if library.docs.note(note_id).text != body:
            report.crdt_mismatch.append(note_id)
    report.jobs = jobs.counts(db)
    if fix:
        for sha in report.missing_thumbs:
            try:
                make_thumbnail(blobs.path(sha), library.photos.thumb_path(sha))
                report.fixed.append(f"thumbnail {sha[:12]}")
            except (OSError, BadInputError) as exc:
                report.fixed.append(f"could not rebuild thumbnail {sha[:12]}: {exc}")
        for sha in report.orphan_blobs:
            blobs.path(sha).unlink(missing_ok=True)
            report.fixed.append(f"removed orphan blob {sha[:12]}")
        maintenance.wal_checkpoint(db)
    return report
