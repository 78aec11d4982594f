"""Import throughput: a 5,000-note vault (notes/s) and 200 photos (photos/s).

Baselines measured in the same run: reading + hashing the same files with no library
(the I/O floor) and inserting the same note texts into a bare SQLite table in one
transaction (the storage floor). Run: `.venv/bin/python benchmarks/bench_import.py`.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.library import Library
from core.transfer.importer import import_markdown_folder, import_photos
from tests.fixtures.vault import _photo, build_vault


def _seconds(func) -> tuple[float, object]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", type=int, default=5000)
    parser.add_argument("--photos", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        vault = build_vault(root / "vault", extra_notes=args.notes - 5)
        files = sorted(vault.rglob("*.md"))

        def read_all() -> int:
            return sum(len(hashlib.sha256(p.read_bytes()).digest()) for p in files)

        io_s, _ = _seconds(read_all)

        def bare_sqlite() -> None:
            conn = sqlite3.connect(root / "bare.db")
            conn.execute("CREATE TABLE notes(path TEXT PRIMARY KEY, body TEXT)")
            with conn:
                conn.executemany(
                    "INSERT INTO notes VALUES (?, ?)",
                    [(str(p), p.read_text("utf-8")) for p in files],
                )
            conn.close()

        sql_s, _ = _seconds(bare_sqlite)
        lib = Library(root / "lib")
        note_s, report = _seconds(lambda: import_markdown_folder(lib, vault))
        rerun_s, _ = _seconds(lambda: import_markdown_folder(lib, vault))
        n = report.notes_created
        print(f"notes imported           {n}")
        print(f"vault import             {note_s:7.2f} s  {n / note_s:8.0f} notes/s")
        print(f"re-import (unchanged)    {rerun_s:7.2f} s  {n / rerun_s:8.0f} notes/s")
        print(
            f"baseline: read+hash only {io_s:7.2f} s  {n / io_s:8.0f} files/s  "
            f"(import is {note_s / io_s:.1f}× slower)"
        )
        print(
            f"baseline: bare sqlite    {sql_s:7.2f} s  {n / sql_s:8.0f} rows/s   "
            f"(import is {note_s / sql_s:.1f}× slower: CRDT docs, tags, links, FTS queue, "
            "batched durable commits)"
        )

        pics = root / "pics"
        for i in range(args.photos):
            _photo(pics / f"p{i:04d}.jpg", (i % 255, (i * 3) % 255, 120), (1600, 1200))
        photo_s, preport = _seconds(lambda: import_photos(lib, [pics]))
        hash_s, _ = _seconds(lambda: [hashlib.sha256(p.read_bytes()) for p in pics.iterdir()])
        k = preport.photos_created
        print(f"photos imported          {k} (1600×1200 JPEG)")
        print(
            f"photo import             {photo_s:7.2f} s  {k / photo_s:8.1f} photos/s "
            "(decode check, EXIF, blob copy + fsync, 512 px thumbnail)"
        )
        print(f"baseline: read+hash only {hash_s:7.2f} s  {k / hash_s:8.1f} photos/s")
        lib.close()


if __name__ == "__main__":
    main()
