"""The durability benchmark runs end to end at a tiny size (so the script cannot rot)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_durability_prints_both_settings() -> None:
    script = REPO / "benchmarks" / "bench_durability.py"
    result = subprocess.run(
        [sys.executable, str(script), "--edits", "5", "--notes", "10"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["what", "FULL"]
    assert any(line.startswith("single-note edits/s") for line in lines)
    assert any(line.startswith("import notes/s") for line in lines)
