"""Chat benchmark on this machine with the packaged Qwen2.5 0.5B (llama.cpp, CPU).

1. Latency: time to first token and decode tokens/s for a 5-source question (first turn),
   and for a follow-up in the same chat with the KV cache re-used vs. cleared (baseline
   measured in the same run).
2. Accuracy: KorQuAD questions (reference answers from the queries' metadata) and an English
   cloze set built from SciFact claims; retrieval hit rate (an answer string is in the
   sources given to the model) is reported apart from answer accuracy (an answer string is
   in the response). Unanswerable questions (their paragraph is not in the library) measure
   how often the assistant says the notes do not contain the answer.

    .venv/bin/python benchmarks/bench_chat.py [--korquad 20] [--scifact 10] [--skip-latency]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from chat_eval import QA, contains, korquad, library_docs, scifact_cloze  # noqa: E402

from core.assistant.service import Assistant  # noqa: E402
from core.indexing.indexer import Indexer  # noqa: E402
from core.library import Library  # noqa: E402


def build(folder: Path, docs: list) -> Library:
    lib = Library(folder)
    for doc in docs:
        lib.notes.create(doc.markdown())
    started = time.perf_counter()
    Indexer(lib, auto_models=False).run()
    print(f"indexed {len(docs)} notes in {time.perf_counter() - started:.1f}s", flush=True)
    return lib


def latency(lib: Library, model: object, qa: QA, max_tokens: int) -> dict:
    import core.assistant.retrieval

    # a 5-source prompt whatever the relevance filter would keep: this part measures speed
    keep = (
        core.assistant.retrieval.KEEP_COVERAGE,
        core.assistant.retrieval.KEEP_DENSE,
        core.assistant.retrieval.RELATIVE_COVERAGE,
    )
    core.assistant.retrieval.KEEP_COVERAGE, core.assistant.retrieval.KEEP_DENSE = 0.0, -1.0
    core.assistant.retrieval.RELATIVE_COVERAGE = 0.0
    helper = Assistant(lib, chat_model=model, max_answer_tokens=max_tokens, max_sources=5,
                       max_source_tokens=1400, rewrite=False)  # fmt: skip
    follow = "그 밖에 또 어떤 내용이 있나요?" if qa.question[:1] >= "가" else "What else?"
    out: dict = {}
    first = helper.ask(qa.question)
    out["sources"] = len(first.sources)
    out["first_ttft_s"] = first.timing.first_token_ms / 1000
    out["first_tok_s"] = first.timing.tokens_per_s
    warm = helper.ask(follow, first.chat_id)  # the prompt starts with turn 1: KV re-used
    out["follow_ttft_s"] = warm.timing.first_token_ms / 1000
    out["follow_tok_s"] = warm.timing.tokens_per_s
    other = helper.ask(qa.question)
    model.llama.reset()  # forget the evaluated prefix: the follow-up is evaluated from scratch
    cold = helper.ask(follow, other.chat_id)
    out["follow_cold_ttft_s"] = cold.timing.first_token_ms / 1000
    out["follow_prompt_tokens"] = len(model.prompt_tokens(
        [*_messages(helper, cold.chat_id)], max_tokens))  # fmt: skip
    rewrite = Assistant(lib, chat_model=model, max_answer_tokens=max_tokens, max_sources=5,
                        max_source_tokens=1400)  # fmt: skip
    with_rewrite = rewrite.ask(follow, first.chat_id)
    out["rewrite_s"] = with_rewrite.timing.rewrite_ms / 1000
    out["follow_with_rewrite_ttft_s"] = with_rewrite.timing.first_token_ms / 1000
    (
        core.assistant.retrieval.KEEP_COVERAGE,
        core.assistant.retrieval.KEEP_DENSE,
        core.assistant.retrieval.RELATIVE_COVERAGE,
    ) = keep
    return out


def _messages(helper: Assistant, chat_id: str) -> list:
    from core.assistant.history import history as _history

    history, _ = _history(helper.chats.get(chat_id))
    return history


def accuracy(
    lib: Library, model: object, qas: list[QA], unanswerable: list[QA], max_tokens: int
) -> dict:
    helper = Assistant(lib, chat_model=model, max_answer_tokens=max_tokens,
                       max_source_tokens=700)  # fmt: skip
    rows = []
    for qa in qas:
        ans = helper.ask(qa.question)
        row = {
            "hit": any(contains(s.text, qa.answers) for s in ans.sources),
            "correct": contains(ans.text, qa.answers),
            "grounded": ans.grounded,
            "cited": any(c.valid for c in ans.citations),
            "ttft": (ans.timing.first_token_ms or 0) / 1000,
            "tok_s": ans.timing.tokens_per_s,
        }
        rows.append(row)
        print(f"  {qa.question[:60]!r} → {ans.text[:70]!r} {row}", flush=True)
    refused = 0
    for qa in unanswerable:
        ans = helper.ask(qa.question)
        refused += not ans.grounded
    n = max(1, len(rows))
    timed = [r for r in rows if r["ttft"]]
    return {
        "questions": len(rows),
        "retrieval_hit": sum(r["hit"] for r in rows) / n,
        "answer_accuracy": sum(r["correct"] for r in rows) / n,
        "accuracy_when_hit": sum(r["correct"] for r in rows if r["hit"])
        / max(1, sum(r["hit"] for r in rows)),
        "grounded": sum(r["grounded"] for r in rows) / n,
        "cites_a_source": sum(r["cited"] for r in rows) / n,
        "unanswerable": len(unanswerable),
        "says_not_in_notes": refused / max(1, len(unanswerable)),
        "median_ttft_s": statistics.median([r["ttft"] for r in timed]) if timed else 0.0,
        "median_tok_s": statistics.median([r["tok_s"] for r in timed]) if timed else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--korquad", type=int, default=20)
    parser.add_argument("--scifact", type=int, default=10)
    parser.add_argument("--unanswerable", type=int, default=5)
    parser.add_argument("--distractors", type=int, default=30)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        kq, kq_docs = korquad(args.korquad + args.unanswerable + 1)
        kq_in, kq_out = kq[: args.korquad + 1], kq[args.korquad + 1 :]
        sf, sf_docs = scifact_cloze(args.scifact + args.unanswerable)
        sf_in, sf_out = sf[: args.scifact], sf[args.scifact :]
        docs = library_docs(kq_in, kq_docs, args.distractors, avoid=kq_out)
        docs += library_docs(sf_in, sf_docs, args.distractors // 2, avoid=sf_out)
        lib = build(Path(tmp) / "lib", docs)
        from models.llm import default_chat_model

        started = time.perf_counter()
        model = default_chat_model()
        print(f"loaded {model.model_id} in {time.perf_counter() - started:.1f}s", flush=True)
        try:
            if not args.skip_latency:
                print("latency (5-source question, then a follow-up)…", flush=True)
                results["latency"] = latency(lib, model, kq_in[0], args.max_tokens)
                print(json.dumps(results["latency"], indent=1), flush=True)
            if args.skip_accuracy:
                return
            print("KorQuAD…", flush=True)
            results["korquad"] = accuracy(lib, model, kq_in[1:], kq_out, args.max_tokens)
            print(json.dumps(results["korquad"], indent=1), flush=True)
            print("SciFact cloze…", flush=True)
            results["scifact"] = accuracy(lib, model, sf_in, sf_out, args.max_tokens)
            print(json.dumps(results["scifact"], indent=1), flush=True)
        finally:
            model.close()
            lib.close()
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
