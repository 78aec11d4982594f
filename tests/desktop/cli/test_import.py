"""`saem import` on single files of any supported kind, then `saem search` finds the note by
its words at once (issue 18, defects 2 and 7), as a new user would type it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.vault import _photo

REPO = Path(__file__).resolve().parents[3]


def _saem(library: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, SAEM_LIBRARY=str(library), PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_a_markdown_file_and_a_photo_then_search(tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("# 서울 산책\n\n경복궁 근처 카페에서 커피를 마셨다.\n", "utf-8")
    _photo(tmp_path / "b.jpg", (30, 60, 90))
    lib = tmp_path / "lib"
    result = _saem(lib, "import", str(note), str(tmp_path / "b.jpg"))
    assert result.returncode == 0, result.stderr
    assert "skipped" not in result.stderr
    assert "1 notes added" in result.stdout and "1 photos added" in result.stdout
    found = _saem(lib, "search", "경복궁")
    assert found.returncode == 0, found.stderr
    assert "No matches" not in found.stdout
    assert "[note " in found.stdout and "keyword" in found.stdout
