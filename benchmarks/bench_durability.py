"""What `synchronous=FULL` costs: acknowledged note edits per second, FULL vs NORMAL.

Saem opens every library in WAL mode with ``PRAGMA synchronous = FULL`` (storage/db.py):
each commit fsyncs the WAL, so an edit the app reported as saved survives a power cut,
not only a process crash. With NORMAL the WAL is fsynced only at checkpoints: still
corruption-free, but the last commits before a power cut can vanish. This script measures
the price on a real library file (same disk, same run): N single-note edits, each its own
transaction with its CRDT update, as the editor's autosave and `saem notes edit` do; and a
bulk import of small notes (batched commits).

    .venv/bin/python benchmarks/bench_durability.py [--edits 300] [--notes 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.library import Library  # noqa: E402
from core.transfer.importer import import_markdown_folder  # noqa: E402


def _edits_per_second(root: Path, synchronous: str, edits: int) -> float:
    with Library(root / f"edits-{synchronous}") as lib:
        lib.db.conn.execute(f"PRAGMA synchronous = {synchronous}")
        note = lib.notes.create("# 일지\n\n")
        body = lib.notes.get(note).body
        start = time.perf_counter()
        for i in range(edits):
            body += f"줄 {i}: line {i}\n"
            lib.notes.edit(note, body)
        return edits / (time.perf_counter() - start)


def _import_per_second(root: Path, synchronous: str, notes: int) -> float:
    vault = root / "vault"
    if not vault.exists():
        vault.mkdir()
        for i in range(notes):
            text = f"# 노트 {i}\n\n오늘 {i}번째 기록 #일기 with [[노트 {i // 2}]]\n"
            (vault / f"note-{i:05d}.md").write_text(text, encoding="utf-8")
    with Library(root / f"import-{synchronous}") as lib:
        lib.db.conn.execute(f"PRAGMA synchronous = {synchronous}")
        start = time.perf_counter()
        import_markdown_folder(lib, vault)
        return notes / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=300)
    parser.add_argument("--notes", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="saem-durability-") as tmp:
        root = Path(tmp)
        rows = []
        for label, measure, count in (
            ("single-note edits/s", _edits_per_second, args.edits),
            ("import notes/s", _import_per_second, args.notes),
        ):
            normal = measure(root, "NORMAL", count)
            full = measure(root, "FULL", count)
            rows.append((label, full, normal))
    print(f"{'what':<22}{'FULL (Saem)':>14}{'NORMAL':>12}{'FULL/NORMAL':>14}")
    for label, full, normal in rows:
        print(f"{label:<22}{full:>14.1f}{normal:>12.1f}{full / normal:>13.2f}x")


if __name__ == "__main__":
    main()
