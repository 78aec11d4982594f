"""The PyInstaller build (`make dist`) runs on its own: import, index, search, and the GUI
starts, indexes and exits cleanly.

`make test` builds `dist/saem` first and sets SAEM_REQUIRE_DIST=1, so in CI a missing
build is a failure; a bare `pytest` without a build skips this module.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.fixtures.vault import build_vault

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dist" / "saem" / "saem"

pytestmark = pytest.mark.slow

if not APP.exists():
    if os.environ.get("SAEM_REQUIRE_DIST"):
        raise RuntimeError("dist/saem/saem is missing: run `make dist` first")
    pytest.skip("no PyInstaller build (run `make dist`)", allow_module_level=True)


def _run(library: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(library.parent))
    return subprocess.run(
        [str(APP), "--library", str(library), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_built_app_imports_indexes_and_searches(tmp_path: Path) -> None:
    vault = build_vault(tmp_path / "vault")
    library = tmp_path / "lib"
    result = _run(library, "import", str(vault))
    assert result.returncode == 0, result.stderr
    assert "5 notes added" in result.stdout
    assert _run(library, "index").returncode == 0
    found = _run(library, "search", "경복궁역", "--json")
    assert found.returncode == 0, found.stderr
    assert "서울 하루" in found.stdout
    doctor = _run(library, "doctor")
    assert doctor.returncode == 0, doctor.stdout
    # the packaged Qwen through the bundled llama.cpp library, grounded in the notes
    answer = _run(library, "ask", "경복궁역에서 무엇을 했나요?")
    assert answer.returncode == 0, answer.stderr
    assert "Sources:" in answer.stdout and "서울 하루" in answer.stdout


def _pending_jobs(library: Path) -> int:
    uri = f"file:{library / 'library.db'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
        row = conn.execute("SELECT COUNT(*) FROM jobs WHERE state IN ('pending', 'running')")
        return int(row.fetchone()[0])


def test_built_gui_opens_indexes_in_the_background_and_exits_cleanly(tmp_path: Path) -> None:
    """`saem open` from the build: the window starts offscreen on a freshly imported
    library, its background indexer (packaged embedder) empties the job queue, and a
    SIGTERM (what the desktop sends at log-out) closes it with exit code 0."""
    vault = build_vault(tmp_path / "vault")
    library = tmp_path / "lib"
    assert _run(library, "import", str(vault)).returncode == 0
    assert _pending_jobs(library) > 0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    gui = subprocess.Popen(
        [str(APP), "--library", str(library), "open", "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while _pending_jobs(library) and gui.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert gui.poll() is None, f"the window exited early: {gui.communicate()[1]}"
        assert _pending_jobs(library) == 0
        gui.send_signal(signal.SIGTERM)
        _out, err = gui.communicate(timeout=60)
    finally:
        if gui.poll() is None:
            gui.kill()
    assert gui.returncode == 0, err
    assert "Traceback" not in err
    found = _run(library, "search", "경복궁역", "--json")
    assert "서울 하루" in found.stdout
