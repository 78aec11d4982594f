"""Photos read again when the OCR engine changes.

Each photo records the id + version of the OCR engine that read it (``photo_ocr``, schema 5).
Photos read by another engine or version, indexed before schema 5, or read while Tesseract was
missing (the "auto" engine's id says so) get an "index" job again; the indexer's run reads them
like any queued work: durable (resumes after a restart), cancellable, with progress.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.ocr import current_engine_id
from models.protocols import OcrEngine
from storage import chunks as chunk_store
from storage import jobs
from storage.db import Database

if TYPE_CHECKING:
    from core.library import Library

_UNCHECKED = object()


def queue_stale_ocr(db: Database, ocr: OcrEngine, job_kind: str) -> int:
    """Queue every photo whose OCR is not today's engine's; returns how many."""
    stale = chunk_store.photos_with_stale_ocr(db, current_engine_id(ocr), job_kind)
    with db.transaction():
        jobs.enqueue_many(db, job_kind, stale)
    return len(stale)


class StaleOcrCheck:
    """:func:`queue_stale_ocr` for a long-running process (the app's status poll): it checks
    once per library open and again when the OCR model in use changes, not at every poll (a
    check loads the OCR engine, asks Tesseract which languages it has and scans the photos)."""

    def __init__(self) -> None:
        self._checked_for: object = _UNCHECKED

    def __call__(self, library: Library) -> int:
        info = library.models.active("ocr")
        key = info.id if info is not None else None
        if key == self._checked_for:
            return 0
        queued = library.indexer.queue_stale_ocr()
        self._checked_for = key  # after the check: one that failed is tried at the next poll
        return queued
