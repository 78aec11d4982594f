"""Kill -9 a process that keeps editing notes: every edit it acknowledged survives, the
library opens, passes `PRAGMA integrity_check`, and each note's row equals its CRDT log."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.library import Library
from storage import maintenance

REPO = Path(__file__).resolve().parents[2]

EDITOR = textwrap.dedent(
    """
    import sys
    from core.library import Library

    lib = Library(sys.argv[1])
    ids = [i.id for i in lib.list_items("note")]
    n = int(sys.argv[2])
    while True:
        note = ids[n % len(ids)]
        body = lib.notes.get(note).body
        lib.notes.edit(note, body + f"줄 {n} line\\n")
        print(f"ack {note} {n}", flush=True)
        n += 1
    """
)


def _crash_edits(tmp_path: Path, kills: int, seed: int) -> int:
    library = tmp_path / "lib"
    with Library(library) as lib:
        for i in range(5):
            lib.notes.create(f"# 노트 {i}\n\n")
    script = tmp_path / "editor.py"
    script.write_text(EDITOR, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    rng = random.Random(seed)
    acked: list[tuple[str, int]] = []
    n = 0
    for _ in range(kills):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(library), str(n)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + rng.uniform(0.5, 1.5)
        assert proc.stdout is not None
        for line in proc.stdout:
            _, note, number = line.split()
            acked.append((note, int(number)))
            if time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        n = (acked[-1][1] + 1) if acked else n
        # lines printed after our last read may also have landed; only acks must be present
        with Library(library) as lib:
            assert lib.db.integrity_check() == ["ok"]
            for note_id, body in maintenance.live_note_bodies(lib.db):
                assert lib.docs.note(note_id).text == body
            bodies = {i: b for i, b in maintenance.live_note_bodies(lib.db)}
            for note_id, number in acked:
                assert f"줄 {number} line\n" in bodies[note_id], (note_id, number)
    return len(acked)


def test_kill_minus_9_while_editing(tmp_path: Path) -> None:
    assert _crash_edits(tmp_path, kills=5, seed=3) > 20


@pytest.mark.slow
def test_kill_minus_9_while_editing_many_times(tmp_path: Path) -> None:
    assert _crash_edits(tmp_path, kills=30, seed=4) > 100
