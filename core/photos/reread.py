"""Photos read again when the OCR engine changes.

Each photo records the id + version of the OCR engine that read it (``photo_ocr``, schema 5).
Photos read by another engine or version, indexed before schema 5, or read while Tesseract was
missing (the "auto" engine's id says so) get an "index" job again; the indexer's run reads them
like any queued work: durable (resumes after a restart), cancellable, with progress.
"""

from __future__ import annotations

from models.ocr import current_engine_id
from models.protocols import OcrEngine
from storage import chunks as chunk_store
from storage import jobs
from storage.db import Database


def queue_stale_ocr(db: Database, ocr: OcrEngine, job_kind: str) -> int:
    """Queue every photo whose OCR is not today's engine's; returns how many."""
    stale = chunk_store.photos_with_stale_ocr(db, current_engine_id(ocr), job_kind)
    with db.transaction():
        jobs.enqueue_many(db, job_kind, stale)
    return len(stale)
