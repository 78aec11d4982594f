"""The frozen libraries in ``tests/storage/fixtures/`` (one per schema version, written by the
Saem of that version, see ``fixtures/write_fixture.py``) and what each must still hold."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).with_name("fixtures")


def versions() -> list[int]:
    return sorted(int(p.name[1:].split(".")[0]) for p in FIXTURES.glob("v*.db.gz"))


def facts(version: int) -> dict[str, Any]:
    return json.loads((FIXTURES / f"v{version}.json").read_text("utf-8"))


def unpack(version: int, root: Path) -> Path:
    """A copy of the frozen ``vN`` library in ``root`` (the fixture itself is never opened)."""
    root.mkdir(parents=True, exist_ok=True)
    with (
        gzip.open(FIXTURES / f"v{version}.db.gz", "rb") as src,
        (root / "library.db").open("wb") as dst,
    ):
        shutil.copyfileobj(src, dst)
    return root
