"""Search quality while a library is upgraded from USE-m3 to e5 (progressive embedding).

Imports a BEIR set (default KorQuAD from ../shared/eval) into a temporary library, indexes it
the default way with the fast model only (``upgrade=False``), then runs the background upgrade
in steps and evaluates at each: nDCG@10 of hybrid and dense search at 0 % (USE-m3 alone, the
same-run baseline), the intermediate fractions (mixed: each chunk searched with its best
vector, :mod:`core.search.meaning`) and 100 % (e5 alone after the switch). A sensible merge
keeps every mixed row between the two ends (or above).

    .venv/bin/python benchmarks/bench_progressive.py --docs 200 --queries 100   # quick
    nice -n 10 .venv/bin/python benchmarks/bench_progressive.py --docs 0 --queries 500
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.evaluation.retrieval import BeirSet, build_library, load_beir, run_queries, score_run
from core.indexing.indexer import Indexer
from core.search.searcher import Searcher
from storage import chunks as chunk_store

DEFAULT_SET = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "korquad"


def subset(data: BeirSet, docs: int, queries: int, seed: int = 11) -> tuple[BeirSet, list[str]]:
    """``queries`` queries (an even sample) and a corpus of their relevant documents plus
    random others up to ``docs`` (0: the whole corpus)."""
    ids = sorted(data.qrels)
    step = max(1, len(ids) // max(1, queries))
    chosen = ids[::step][:queries]
    if not docs:
        return data, chosen
    keep = {d for q in chosen for d in data.qrels[q] if d in data.corpus}
    others = sorted(set(data.corpus) - keep)
    random.Random(seed).shuffle(others)
    keep |= set(others[: max(0, docs - len(keep))])
    corpus = {d: data.corpus[d] for d in sorted(keep)}
    qrels = {q: data.qrels[q] for q in chosen}
    return BeirSet(corpus, {q: data.queries[q] for q in chosen}, qrels), chosen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", nargs="?", default=str(DEFAULT_SET))
    parser.add_argument("--docs", type=int, default=200, help="corpus size (0: all)")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--steps", default="0,0.25,0.5,0.75,1")
    args = parser.parse_args()
    data, query_ids = subset(load_beir(args.dataset), args.docs, args.queries)
    qrels = {q: data.qrels[q] for q in query_ids}
    steps = [float(s) for s in args.steps.split(",")]
    with tempfile.TemporaryDirectory(prefix="saem-progressive-") as tmp:
        started = time.monotonic()
        library, item_to_doc, _, indexed = build_library(data, Path(tmp), None)
        items = len(chunk_store.items_with_chunks(library.db))
        print(
            f"{args.dataset}: {len(data.corpus)} documents, {len(query_ids)} queries; "
            f"USE-m3 index {indexed:.0f} s ({time.monotonic() - started:.0f} s with import)"
        )
        indexer = Indexer(library, auto_models=False, batch_size=16)
        searcher = Searcher(library)
        print("| upgraded (chunks) | embedders | hybrid nDCG@10 | dense nDCG@10 | hybrid ms/q |")
        print("|---|---|---|---|---|")
        upgraded_items = 0
        upgrade_s = 0.0
        for fraction in steps:
            want = round(fraction * items) - upgraded_items
            if want > 0:
                t0 = time.monotonic()
                report = indexer.run(limit=want) if fraction < 1 else indexer.run()
                upgrade_s += time.monotonic() - t0
                upgraded_items += report.upgraded
            status = indexer.status()
            if status.upgrade_progress:
                done, total = status.upgrade_progress
            else:  # before the upgrade began, or after the switch
                done, total = (status.chunks if upgraded_items else 0), status.chunks
            cells = []
            ms = 0.0
            for method in ("hybrid", "dense"):
                run, per_query = run_queries(searcher, data, item_to_doc, method, query_ids)
                cells.append(score_run(run, qrels).ndcg10)
                ms = per_query if method == "hybrid" else ms
            used = searcher.search(data.queries[query_ids[0]], limit=1).embedders
            names = " + ".join(m.split("-")[0] for m in used)
            print(
                f"| {done:,} / {total:,} ({100 * done / max(1, total):.0f}%) | {names} | "
                f"{cells[0]:.4f} | {cells[1]:.4f} | {ms:.0f} |"
            )
        print(f"upgrade time {upgrade_s:.0f} s (machine load affects it)")
        library.close()


if __name__ == "__main__":
    main()
