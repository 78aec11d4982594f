"""How soon is a freshly imported library searchable? (issue #4's "10,000 notes searchable by
keyword within 1 minute and by meaning within 10 minutes").

Writes a vault of N notes (Korean + English, five headed sections each ≈ 5 chunks), imports
it, then runs the real indexer (USE-m3) in a background thread while a second connection
polls the search: the time until a keyword query finds the last note, and until every chunk
has its vector. `--max-seconds` caps the meaning phase; the rate so far is then extrapolated
(printed as such).

    .venv/bin/python benchmarks/bench_time_to_search.py [--notes 10000] [--max-seconds 600]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.indexing.indexer import Indexer
from core.library import Library
from core.search.searcher import Searcher
from core.transfer.importer import import_markdown_folder
from storage import chunks as chunk_store
from storage import vectors as vector_store

KO = [
    "서울",
    "부산",
    "커피",
    "여행",
    "회의",
    "사진",
    "노트",
    "검색",
    "기차",
    "바다",
    "산",
    "음식",
    "책",
    "영화",
    "음악",
    "친구",
    "가족",
    "공원",
]
EN = [
    "coffee",
    "travel",
    "meeting",
    "photo",
    "search",
    "train",
    "ocean",
    "mountain",
    "food",
    "book",
    "movie",
    "music",
]


def write_vault(root: Path, count: int, rng: random.Random) -> None:
    for i in range(count):
        sections = []
        for s in range(5):
            words = [rng.choice(KO if (i + s) % 2 else EN) for _ in range(60)]
            sections.append(f"## Section {s}\n\n" + " ".join(words) + ".")
        body = f"# Note {i}\n\nmarker{i:05d}\n\n" + "\n\n".join(sections) + "\n"
        folder = root / f"d{i // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note-{i:05d}.md").write_text(body, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_vault(root / "vault", args.notes, random.Random(5))
        lib = Library(root / "lib")
        started = time.monotonic()
        import_markdown_folder(lib, root / "vault")
        imported = time.monotonic() - started
        print(f"notes                      {args.notes}")
        print(f"import                     {imported:7.1f} s")

        indexer = Indexer(lib)
        stop = threading.Event()
        thread = threading.Thread(
            target=lambda: indexer.run(should_cancel=stop.is_set), daemon=True
        )
        t0 = time.monotonic()
        thread.start()
        reader = Library(root / "lib")
        searcher = Searcher(reader)
        last = f"marker{args.notes - 1:05d}"
        keyword_at = None
        while keyword_at is None and thread.is_alive():
            if searcher.search(last, method="bm25").hits:
                keyword_at = time.monotonic() - t0
            else:
                time.sleep(0.5)
        if keyword_at is None and searcher.search(last, method="bm25").hits:
            keyword_at = time.monotonic() - t0
        print(
            f"keyword-searchable after   {keyword_at:7.1f} s from the end of the import "
            f"({imported + keyword_at:.1f} s after it started)"
        )
        thread.join(timeout=max(0.0, args.max_seconds - (time.monotonic() - t0)))
        elapsed = time.monotonic() - t0
        total = chunk_store.count_chunks(reader.db)
        model = vector_store.serving_model(reader.db) or "?"
        missing = vector_store.chunks_missing(reader.db, model)
        if not thread.is_alive():
            print(f"meaning-searchable after   {elapsed:7.1f} s ({total} chunks, {model})")
        else:
            stop.set()
            done = total - missing
            rate = done / elapsed if elapsed else 0.0
            print(
                f"meaning: {done}/{total} chunks embedded in {elapsed:.0f} s "
                f"({rate:.1f} chunks/s); at that rate all in ≈ {total / rate:.0f} s "
                "(extrapolated, capped run)"
            )
            thread.join()
        reader.close()
        lib.close()


if __name__ == "__main__":
    main()
