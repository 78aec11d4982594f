"""Fit the fusion weights on dev data with a held-out split (never per query).

Reads the dumps of benchmarks/fusion_data.py, splits every set's queries into a fitting half and
a held-out half by a hash of the query id (stable, independent of the text; a set dumped with its
train split, like SciFact, is fitted on train and reported on its test queries), grid-searches the
weights of :class:`core.search.fusion.FusionConfig` on the fitting half (mean nDCG@10 over the
sets, each set weighted equally) and reports every set on the held-out half: BM25, dense,
naive RRF, the current defaults and the fitted weights.

    .venv/bin/python benchmarks/fit_fusion.py /tmp/scifact-e5.json /tmp/korquad-e5.json
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.search.fusion import FusionConfig, fuse, method_for, weights_for
from core.search.fusion import rrf as fuse_rrf
from core.search.query import parse_query


def ndcg10(ranked: list[str], rel: dict[str, int]) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(rel.values(), reverse=True)[:10]
    return dcg / sum(g / math.log2(i + 2) for i, g in enumerate(ideal))


def held_out(qid: str) -> bool:
    return int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 2 == 1


def is_held_out(data: dict, q: dict) -> bool:  # type: ignore[type-arg]
    """A set dumped with its own train split (SciFact: --split test --split train) is fitted
    on the train queries and reported on all its test queries; other sets are halved by a hash
    of the query id."""
    if any(x.get("split") == "train" for x in data["queries"]):
        return q.get("split") == "test"
    return held_out(q["id"])


def rank(sources: dict[str, dict[str, float]], name: str) -> list[str]:
    scores = sources.get(name, {})
    return sorted(scores, key=lambda d: -scores[d])


def floored(sources: dict[str, dict[str, float]], floor: float) -> dict[str, dict[str, float]]:
    """The searcher's floor: meaning-only hits below ``floor`` dropped (Searcher._apply_floor)."""
    matched = set(sources.get("keyword", {})) | set(sources.get("trigram", {}))
    out = dict(sources)
    for name in ("dense", "photo"):
        if name in out:
            out[name] = {d: v for d, v in out[name].items() if v >= floor or d in matched}
    return out


def recall10(ranked: list[str], rel: dict[str, int]) -> float:
    return len(set(ranked[:10]) & set(rel)) / len(rel)


def run_config(q: dict, config: FusionConfig, model: str) -> list[str]:  # type: ignore[type-arg]
    parsed = parse_query(q["text"])
    raw = {k: v for k, v in q["sources"].items() if v}
    config = config.for_model(model)
    weights = weights_for(config, parsed.words, parsed.text, "dense" in raw, model)
    fused = fuse(raw, weights, method_for(config, model))
    return sorted((d for d in fused if fused[d] > 0), key=lambda d: (-fused[d], d))


def evaluate(sets: list[dict], config: FusionConfig, half: bool) -> list[dict[str, float]]:  # type: ignore[type-arg]
    out = []
    for data in sets:
        qs = [q for q in data["queries"] if is_held_out(data, q) == half]
        row = {"bm25": 0.0, "dense": 0.0, "rrf": 0.0, "hybrid": 0.0}
        for q in qs:
            src = q["sources"]
            row["bm25"] += ndcg10(rank(src, "keyword") or rank(src, "trigram"), q["qrels"])
            row["dense"] += ndcg10(rank(src, "dense"), q["qrels"])
            rrf = fuse_rrf({k: src[k] for k in ("keyword", "dense") if src.get(k)})
            row["rrf"] += ndcg10(sorted(rrf, key=lambda d: -rrf[d]), q["qrels"])
            row["hybrid"] += ndcg10(run_config(q, config, data["embedder"]), q["qrels"])
        out.append({k: v / max(1, len(qs)) for k, v in row.items()} | {"queries": len(qs)})
    return out


SHARED = {"short_query_factor": [0.5, 1.0], "question_boost": [1.0, 1.5]}
PER_SCRIPT = {"dense": [0.2, 0.3, 0.5, 0.8, 1.2, 2.0, 3.0], "trigram": [0.0, 0.1, 0.3, 0.7]}


def script_of(data: dict) -> str:  # type: ignore[type-arg]
    hangul = sum(1 for q in data["queries"] if any("\uac00" <= c <= "\ud7a3" for c in q["text"]))
    return "hangul" if hangul * 2 > len(data["queries"]) else "latin"


def fit(sets: list[dict], start: FusionConfig) -> FusionConfig:  # type: ignore[type-arg]
    """Per-script weights only touch that script's queries, so each is fitted on its own sets;
    the shared factors are chosen for the best mean over all sets."""
    best: tuple[float, FusionConfig] = (-1.0, start)
    for shared in itertools.product(*SHARED.values()):
        config = replace(start, **dict(zip(SHARED, shared, strict=True)))
        total = 0.0
        for script in ("latin", "hangul"):
            mine = [d for d in sets if script_of(d) == script]
            if not mine:
                continue
            scored = []
            for dense, tri in itertools.product(*PER_SCRIPT.values()):
                trial = replace(config, **{f"dense_{script}": dense, f"trigram_{script}": tri})
                rows = evaluate(mine, trial, half=False)
                scored.append((sum(r["hybrid"] for r in rows), dense, tri))
            score, dense, tri = max(scored)
            config = replace(config, **{f"dense_{script}": dense, f"trigram_{script}": tri})
            total += score
        if total > best[0]:
            best = (total, config)
    return best[1]


def floor_effect(sets: list[dict], config: FusionConfig, floor: float) -> None:  # type: ignore[type-arg]
    """Recall@10 of dense and hybrid on all queries, without and with the floor."""
    for data in sets:
        rows = {}
        for label, cut in (("before", float("-inf")), ("after", floor)):
            dense = hybrid = 0.0
            for q in data["queries"]:
                cut_q = dict(q, sources=floored(q["sources"], cut))
                dense += recall10(rank(cut_q["sources"], "dense"), q["qrels"])
                hybrid += recall10(run_config(cut_q, config, data["embedder"]), q["qrels"])
            n = len(data["queries"])
            rows[label] = f"dense {dense / n:.4f} hybrid {hybrid / n:.4f}"
        print(f"  {Path(data['dataset']).name}: floor {floor}: R@10 before {rows['before']}; "
              f"after {rows['after']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dumps", nargs="+", type=Path)
    parser.add_argument("--floor", type=float, default=None, help="report its Recall@10 effect")
    parser.add_argument("--no-fit", action="store_true", help="only evaluate the defaults")
    args = parser.parse_args()
    sets = [json.loads(p.read_text("utf-8")) for p in args.dumps]
    if args.floor is not None:
        floor_effect(sets, FusionConfig(), args.floor)
    if args.no_fit:
        for data, row in zip(sets, evaluate(sets, FusionConfig(), half=True), strict=True):
            print(f"  {Path(data['dataset']).name} held-out, defaults: {row}")
        return
    model = sets[0]["embedder"]
    base = FusionConfig()
    family = next((k for k in base.dense_model_factor if model.startswith(k)), "")
    # fit with the family factor at 1 so that the grid values are the dense weights themselves
    start = replace(base, dense_model_factor={family: 1.0} if family else {}, by_model={})
    fitted = fit(sets, start)
    keys = ["dense_latin", "dense_hangul", "trigram_latin", "trigram_hangul", *SHARED]
    print("fitted on the fitting half:", {k: getattr(fitted, k) for k in keys})
    for label, config in (("current defaults", base), ("fitted", fitted)):
        print(f"held-out half, {label}:")
        for data, row in zip(sets, evaluate(sets, config, half=True), strict=True):
            cells = " ".join(f"{k} {v:.4f}" for k, v in row.items() if k != "queries")
            print(f"  {Path(data['dataset']).name:10} ({row['queries']} queries) {cells}")


if __name__ == "__main__":
    main()
