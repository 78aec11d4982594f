"""Calibrate the absolute relevance floor of meaning-only hits, per embedder.

For each dev set (KorQuAD, SciFact) a sample of judged queries is embedded against a sample of
documents; the cosines of the pairs that are *not* judged relevant give the distribution of
"unrelated" scores, the judged pairs the "relevant" ones. The floor is a high percentile of the
unrelated distribution (``--percentile``, default 99.9: a hit below it is no closer to the
query than one unrelated document in a thousand). Nonsense queries (random letters, out-of-
library topics) are embedded too, to see where their best scores land.

    .venv/bin/python benchmarks/calibrate_floor.py --embedder e5 [--queries 150 --docs 400]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from core.evaluation.retrieval import load_beir
from core.indexing.embedders import packaged_embedder

EVAL = Path(os.environ.get("SAEM_EVAL_DIR", Path(__file__).resolve().parents[2] / "shared/eval"))
NONSENSE = [
    "xqzv blorft wump",
    "asdkjh qwe zzkx",
    "ㅁㄴㅇㄹ ㅋㅋㅎ 뷁",
    "쀍뛟 꿿쀏",
    "purple elephant tax return lullaby",
    "quantum chromodynamics of lasagna",
    "how to repair a 1967 carburetor float",
    "최신 스마트폰 게임 공략법",
    "zebra",
    "합계",
]


def photo_floor(embedder: object, percentile: float, cache: Path | None) -> dict[str, object]:
    """The same rule for photo vectors: Flickr8k captions against the 500 photos' semantic
    vectors; a caption and another photo form an unrelated pair."""
    from bench_tags import read_captions, tag_photos

    from models.semantic_vectors import semantic_vector

    caps = read_captions(None)
    tags, _, _ = tag_photos(list(caps), cache)
    names = list(tags)
    vecs = [semantic_vector(tags[n], embedder) for n in names]  # type: ignore[arg-type]
    keep = [i for i, v in enumerate(vecs) if v is not None]
    matrix = np.stack([vecs[i] for i in keep])
    queries = [(c, k) for k, i in enumerate(keep) for c in caps[names[i]]]
    q = np.asarray(embedder.embed_queries([c for c, _ in queries]), np.float32)  # type: ignore[attr-defined]
    sims = q @ matrix.T
    own = np.zeros_like(sims, dtype=bool)
    own[np.arange(len(queries)), [k for _, k in queries]] = True
    un, rel = sims[~own], sims[own]
    floor = float(np.percentile(un, percentile))
    rank = (sims > rel[:, None]).sum(axis=1)  # photos scoring above the right one
    return {
        "photo_R@10_before_after": [
            round(float(np.mean(rank < 10)), 4),
            round(float(np.mean((rank < 10) & (rel >= floor))), 4),
        ],
        "photo_unrelated_p50_p99": [round(float(np.percentile(un, p)), 4) for p in (50, 99)],
        "photo_relevant_p5_p50": [round(float(np.percentile(rel, p)), 4) for p in (5, 50)],
        "photo_relevant_below_floor": round(float(np.mean(rel < floor)), 4),
        "photo_floor": round(floor, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", action="store_true", help="calibrate the photo floor")
    parser.add_argument("--titles", action="store_true", help="documents = their titles only")
    parser.add_argument("--tag-cache", type=Path, default=None)
    parser.add_argument("--embedder", default="e5")
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--percentile", type=float, default=99.9)
    args = parser.parse_args()
    embedder = packaged_embedder(args.embedder)
    if args.photos:
        print(json.dumps(photo_floor(embedder, args.percentile, args.tag_cache), indent=1))
        return
    rng = random.Random(11)
    unrelated: list[float] = []
    relevant: list[float] = []
    nonsense_best: list[float] = []
    for name in ("korquad", "scifact"):
        data = load_beir(EVAL / name)
        qids = rng.sample(sorted(data.qrels), min(args.queries, len(data.qrels)))
        wanted = {d for q in qids for d in data.qrels[q]}
        others = [d for d in data.corpus if d not in wanted]
        docs = sorted(wanted) + rng.sample(others, min(args.docs, len(others)))
        if args.titles:  # short chunks (photo tags, titles) spread differently: titles alone
            texts = [data.corpus[d][0] or data.corpus[d][1][:60] for d in docs]
        else:
            texts = [f"{data.corpus[d][0]}\n{data.corpus[d][1]}".strip() for d in docs]
        dvec = embedder.embed_passages(texts)
        qvec = embedder.embed_queries([data.queries[q] for q in qids])
        sims = qvec @ dvec.T
        for i, q in enumerate(qids):
            for j, d in enumerate(docs):
                (relevant if d in data.qrels[q] else unrelated).append(float(sims[i, j]))
        nonsense_best.extend((embedder.embed_queries(NONSENSE) @ dvec.T).max(axis=1).tolist())
        print(f"{name}: {len(qids)} queries x {len(docs)} documents", flush=True)
    un, rel = np.asarray(unrelated), np.asarray(relevant)
    floor = float(np.percentile(un, args.percentile))
    result = {
        "embedder": embedder.model_id,
        "unrelated_pairs": len(un),
        "relevant_pairs": len(rel),
        "unrelated_p50_p99_p99.9": [round(float(np.percentile(un, p)), 4) for p in (50, 99, 99.9)],
        "relevant_p1_p5_p50": [round(float(np.percentile(rel, p)), 4) for p in (1, 5, 50)],
        "relevant_below_floor": round(float(np.mean(rel < floor)), 4),
        "nonsense_best": [round(x, 4) for x in nonsense_best],
        "floor": round(floor, 4),
    }
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
