"""The app's status poll queues photos read by another OCR engine to be read again, once per
library open (not at every poll); the packaged OCR engine and the real poll function."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.indexing.indexer import Indexer
from core.library import Library
from desktop.gui.status_bar import read_state
from storage import chunks as chunk_store
from storage import jobs
from tests.core.photos.test_reread import VersionedOcr, _photo
from tests.search_support import HashEmbedder

pytestmark = pytest.mark.gui


def test_the_status_poll_queues_stale_ocr_once_per_open(library_path: Path, tmp_path: Path) -> None:
    with Library(library_path) as lib:
        photo, _ = lib.photos.add(_photo(tmp_path / "a.png"))
        old = VersionedOcr("old-ocr/v1", "TOTAL 500")
        Indexer(lib, HashEmbedder(), ocr=old, auto_models=False).run()
        assert jobs.runnable_count(lib.db) == 0
        first = read_state(lib)  # the packaged "auto" engine is not "old-ocr/v1"
        assert first.pending == 1 and jobs.runnable_count(lib.db) == 1
        Indexer(lib, HashEmbedder(), ocr=old, auto_models=False).run()  # read by v1 again
        assert chunk_store.ocr_engine_of(lib.db, photo) == "old-ocr/v1"
        assert read_state(lib).pending == 0  # the same open, the same OCR model: no new check
    with Library(library_path) as lib:  # opened again: checked again
        assert read_state(lib).pending == 1
        assert lib.queue_stale_ocr() == 0
