"""Kill -9 the import process at random points: the library always opens, passes
`PRAGMA integrity_check`, shows no half-imported item, and the next import completes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.library import Library
from storage import maintenance
from tests.fixtures.vault import _photo, build_vault

REPO = Path(__file__).resolve().parents[2]


def _vault(root: Path, notes: int, photos: int) -> Path:
    build_vault(root, extra_notes=notes)
    for i in range(photos):
        _photo(root / "pics" / f"p{i:03d}.jpg", (i * 7 % 255, 90, 200 - i % 200), (640, 480))
        (root / "Photos" / f"photo-note-{i:03d}.md").parent.mkdir(parents=True, exist_ok=True)
        (root / "Photos" / f"photo-note-{i:03d}.md").write_text(
            f"# Photo {i}\n\n![[p{i:03d}.jpg]] 사진 설명 {i}\n", encoding="utf-8"
        )
    return root


def _run_import(library: Path, vault: Path) -> subprocess.Popen:
    env = dict(os.environ, SAEM_LIBRARY=str(library), PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "desktop", "import", str(vault)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _check_consistent(library_path: Path, vault: Path) -> int:
    lib = Library(library_path)
    try:
        assert lib.db.integrity_check() == ["ok"]
        assert maintenance.foreign_key_problems(lib.db) == []
        assert maintenance.items_without_rows(lib.db) == []
        for note_id, body in maintenance.live_note_bodies(lib.db):
            note = lib.notes.get(note_id)
            assert note.source_path and Path(note.source_path).read_text("utf-8") == body
            assert lib.docs.note(note_id).text == body  # the CRDT log agrees with the row
        for item in lib.list_items("photo", limit=100_000):
            assert lib.store.blobs.verify(lib.photos.get(item.id).meta.sha256)
        return lib.stats().notes
    finally:
        lib.close()


def _crash_loop(tmp_path: Path, kills: int, notes: int, photos: int, seed: int) -> None:
    vault = _vault(tmp_path / "vault", notes, photos)
    expected_notes = 5 + notes + photos
    library = tmp_path / "lib"
    rng = random.Random(seed)
    seen_partial = 0
    for _ in range(kills):
        proc = _run_import(library, vault)
        time.sleep(rng.uniform(0.5, 2.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        count = _check_consistent(library, vault)
        if count < expected_notes:
            seen_partial += 1
        else:
            break
    final = _run_import(library, vault)
    assert final.wait(timeout=600) == 0
    assert _check_consistent(library, vault) == expected_notes
    lib = Library(library)
    assert lib.stats().photos == photos + 2
    lib.close()
    assert seen_partial >= 1, "the kills never interrupted the import; make the vault larger"


def test_kill_minus_9_during_import(tmp_path: Path) -> None:
    _crash_loop(tmp_path, kills=6, notes=1500, photos=30, seed=7)


@pytest.mark.slow
def test_kill_minus_9_during_import_many_times(tmp_path: Path) -> None:
    _crash_loop(tmp_path, kills=40, notes=6000, photos=80, seed=11)
