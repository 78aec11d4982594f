"""The PyInstaller build (`make dist`) runs on its own: import, index, search, GUI start.

Building takes several minutes, so the test uses an existing `dist/saem` and is skipped
when there is none (set SAEM_REQUIRE_DIST=1 to make a missing build a failure).
"""

from __future__ import annotations

import os
import subprocess
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
