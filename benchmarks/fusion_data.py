"""Per-query source scores on the dev sets, for fitting the fusion (benchmarks/fit_fusion.py).

Builds the real library for a BEIR folder (import + index with the chosen embedder, as
``saem eval`` does), then stores for every judged query each source's raw item scores
(keyword BM25, trigram BM25, dense cosine) with the relevance judgements, as JSON:

    .venv/bin/python benchmarks/fusion_data.py ../shared/eval/scifact --embedder e5 \
        --split test --split train --out /tmp/scifact-e5.json

Query ids are kept, so the fit can split them into a fitting half and a held-out half.
``--keep DIR`` keeps the indexed library in DIR and reuses it on the next run (indexing SciFact
with e5 takes most of an hour on this machine), so a change to the search path can be re-dumped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.evaluation.retrieval import build_library, load_beir
from core.indexing.embedders import packaged_embedder
from core.search.fusion import FusionConfig
from core.search.searcher import Searcher
from storage import notes as notes_repo


def open_or_build(data, workdir: Path, embedder):  # type: ignore[no-untyped-def]
    """(library, item → doc id, index seconds): the library kept in ``workdir`` when its
    indexing finished, else a new one built there."""
    from core.library import Library
    from storage import jobs

    done = workdir / "indexed.ok"
    if done.is_file():
        library = Library(workdir / "library")
        if jobs.runnable_count(library.db) == 0:
            # the stems write_corpus gave the documents
            names = {f"d{n:07d}": doc_id for n, doc_id in enumerate(data.corpus)}
            item_to_doc = {}
            for item_id, _title, row in notes_repo.all_notes(library.db):
                stem = Path(row.source_path or "").stem
                if stem in names:
                    item_to_doc[item_id] = names[stem]
            return library, item_to_doc, float(done.read_text() or 0)
        library.close()
    library, item_to_doc, _imported, indexed = build_library(data, workdir, embedder)
    done.write_text(f"{indexed:.0f}")
    return library, item_to_doc, indexed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--embedder", default="e5")
    parser.add_argument("--split", action="append", default=None)
    parser.add_argument("--max-queries", type=int, default=None, help="an even sample per split")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--keep", type=Path, default=None, help="keep/reuse the library here")
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="dump meaning hits below the relevance floors too (fit_fusion.py --floor applies it)",
    )
    args = parser.parse_args()
    splits = args.split or ["test"]
    sets = {s: load_beir(args.dataset, s) for s in splits}
    data = sets[splits[0]]
    embedder = packaged_embedder(args.embedder)
    out: dict[str, object] = {
        "dataset": str(args.dataset),
        "embedder": embedder.model_id,
        "floors": not args.no_floor,
    }
    with tempfile.TemporaryDirectory(prefix="saem-fusion-") as tmp:
        started = time.monotonic()
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        library, item_to_doc, indexed = open_or_build(data, workdir, embedder)
        print(f"index {indexed:.0f} s, {len(item_to_doc)} documents", flush=True)
        config = FusionConfig()
        if args.no_floor:
            config = replace(config, meaning_floor={}, short_floor={}, photo_floor={})
        searcher = Searcher(library, embedder, config=config)
        queries = []
        for split, beir in sets.items():
            ids = sorted(beir.qrels)
            if args.max_queries and len(ids) > args.max_queries:
                step = len(ids) / args.max_queries
                ids = [ids[int(i * step)] for i in range(args.max_queries)]
            for qid in ids:
                sources = searcher.query_sources(beir.queries[qid])
                queries.append(
                    {
                        "id": qid,
                        "split": split,
                        "text": beir.queries[qid],
                        "qrels": beir.qrels[qid],
                        "sources": {
                            name: {item_to_doc[i]: s for i, s in scores.items() if i in item_to_doc}
                            for name, scores in sources.items()
                        },
                    }
                )
        library.close()
        out["queries"] = queries
        out["index_seconds"] = indexed
        out["seconds"] = time.monotonic() - started
    args.out.write_text(json.dumps(out, ensure_ascii=False), "utf-8")
    print(f"{len(queries)} queries → {args.out} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
