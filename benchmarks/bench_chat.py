"""Chat benchmark on this machine: the instant answer, grounded LLM answers with both packaged
models, and the rendered receipt set — each next to a same-run baseline (the pipeline before
issue 16: ``Assistant(grounding=False)`` + the earlier prompts, ``chat_baseline.py``).

1. KorQuAD: a seeded sample of questions over a library of their paragraphs + distractors
   (≥ 300 paragraphs). Instant answer: accuracy = a reference answer is inside the shown
   sentence (span accuracy apart), p50/p95 time (search included, warm). LLM: answer accuracy,
   retrieval hit (an answer string in the sources), how often the answer states a number/name
   found in no source, median time to first token and tokens/s, RSS of the loaded model.
2. Time to first token of a 5-source question (new vs baseline: sources cut to the sentences
   that matter make the prompt shorter), and a follow-up re-using the KV cache.
3. Receipts (``receipt_set.py``, rendered and photographed at run time, OCR'd by the library):
   deterministic fields, the instant answer inside each photo, photo chat (one question per
   image, rotating total/date/store or date/place/fee) new vs baseline, and ``ask`` over the
   whole receipt library for each receipt's total.

    .venv/bin/python benchmarks/bench_chat.py [--korquad 60] [--models qwen2.5-0.5b,qwen2.5-1.5b]
        [--llm-korquad 60] [--receipts 44] [--out results.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from chat_baseline import baseline_prompts  # noqa: E402
from chat_eval import QA, contains, korquad, library_docs  # noqa: E402
from receipt_set import build as build_receipts  # noqa: E402

from core.assistant.service import Assistant  # noqa: E402
from core.indexing.indexer import Indexer  # noqa: E402
from core.library import Library  # noqa: E402

RESULTS: dict[str, Any] = {}


def save(out: Path | None) -> None:
    if out is not None:
        out.write_text(json.dumps(RESULTS, ensure_ascii=False, indent=1), "utf-8")


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# -- KorQuAD --------------------------------------------------------------------------------


def build_korquad(folder: Path, n: int, paragraphs: int) -> tuple[Library, list[QA]]:
    qas, docs = korquad(n)
    if folder.is_dir():  # --workdir: the library of an earlier run with the same seed
        return Library(folder), qas
    lib = Library(folder)
    chosen = library_docs(qas, docs, max(0, paragraphs - len(qas)))
    for doc in chosen:
        lib.notes.create(doc.markdown())
    started = time.perf_counter()
    Indexer(lib, auto_models=False).run()
    print(f"KorQuAD library: {len(chosen)} paragraphs indexed in "
          f"{time.perf_counter() - started:.1f}s; {len(qas)} questions", flush=True)  # fmt: skip
    return lib, qas


def instant_korquad(lib: Library, qas: list[QA]) -> dict:
    helper = Assistant(lib)
    helper.instant("워밍업 질문입니다")  # first search loads the searcher: not a question's time
    rows = []
    for qa in qas:
        found = helper.instant(qa.question)
        rows.append({
            "sentence": bool(found) and contains(found.text, qa.answers),
            "span": bool(found) and contains(found.answer, qa.answers),
            "has_span": bool(found) and bool(found.answer),
            "shown": found is not None,
            "ms": found.ms if found else 0.0,
        })  # fmt: skip
    n = len(rows)
    times = [r["ms"] for r in rows if r["shown"]]
    return {
        "questions": n,
        "accuracy_answer_in_sentence": sum(r["sentence"] for r in rows) / n,
        "span_accuracy": sum(r["span"] for r in rows) / n,
        "span_precision": sum(r["span"] for r in rows) / max(1, sum(r["has_span"] for r in rows)),
        "shown": sum(r["shown"] for r in rows) / n,
        "p50_ms": statistics.median(times) if times else 0.0,
        "p95_ms": pct(times, 0.95),
    }


def llm_korquad(lib: Library, model: Any, qas: list[QA], *, grounding: bool, tokens: int) -> dict:
    helper = Assistant(lib, chat_model=model, max_answer_tokens=tokens, max_source_tokens=700,
                       grounding=grounding)  # fmt: skip
    rows = []
    for qa in qas:
        ans = helper.ask(qa.question)
        rows.append({
            "hit": any(contains(s.text, qa.answers) for s in ans.sources),
            "correct": contains(ans.text, qa.answers),
            "model_correct": contains(ans.model_text or ans.text, qa.answers),
            "replaced": ans.replaced,
            "unsupported": bool(ans.unsupported),
            "refused": not ans.grounded,
            "ttft": (ans.timing.first_token_ms or 0) / 1000,
            "tok_s": ans.timing.tokens_per_s,
            "prompt_sources": len(ans.sources),
            "prompt_tokens": model.last_stats.prompt_tokens if model.last_stats else 0,
        })  # fmt: skip
        r = rows[-1]
        print(
            f"  {qa.question[:50]!r} → {ans.text[:60]!r} ok={r['correct']} "
            f"model_ok={r['model_correct']} replaced={r['replaced']}",
            flush=True,
        )
    n = max(1, len(rows))
    timed = [r for r in rows if r["ttft"]]
    answered = [r for r in rows if not r["refused"]]
    return {
        "questions": len(rows),
        # what is shown: the model's words + (after a failed check) the instant sentence
        "answer_accuracy": sum(r["correct"] for r in rows) / n,
        "model_words_accuracy": sum(r["model_correct"] for r in rows) / n,
        "check_failed_instant_shown": sum(r["replaced"] for r in rows) / n,
        "retrieval_hit": sum(r["hit"] for r in rows) / n,
        "accuracy_when_hit": sum(r["correct"] for r in rows if r["hit"])
        / max(1, sum(r["hit"] for r in rows)),
        "key_value_in_no_source": sum(r["unsupported"] for r in answered) / max(1, len(answered)),
        "said_not_in_notes": sum(r["refused"] for r in rows) / n,
        "median_ttft_s": statistics.median([r["ttft"] for r in timed]) if timed else 0.0,
        "median_tok_s": statistics.median([r["tok_s"] for r in timed]) if timed else 0.0,
        "median_prompt_tokens": statistics.median([r["prompt_tokens"] for r in rows]),
        # per question (in order): shown answer right, the model's own words right
        "per_question": [[int(r["correct"]), int(r["model_correct"])] for r in rows],
    }


def latency(lib: Library, model: Any, qas: list[QA], *, grounding: bool, tokens: int) -> dict:
    """Time to first token of 5-source questions (the relevance filter opened so that five
    sources are given), and a follow-up that re-uses the first turn's KV cache."""
    from core.assistant import retrieval

    keep = retrieval.KEEP_COVERAGE, retrieval.KEEP_DENSE, retrieval.RELATIVE_COVERAGE
    retrieval.KEEP_COVERAGE, retrieval.KEEP_DENSE, retrieval.RELATIVE_COVERAGE = 0.0, -1.0, 0.0
    try:
        helper = Assistant(lib, chat_model=model, max_answer_tokens=tokens, max_sources=5,
                           max_source_tokens=1400, rewrite=False, grounding=grounding)  # fmt: skip
        ttfts, prompt_tokens, sources = [], [], []
        for qa in qas:
            model.llama.reset()  # every question from an empty KV cache
            ans = helper.ask(qa.question)
            ttfts.append((ans.timing.first_token_ms or 0) / 1000)
            prompt_tokens.append(model.last_stats.prompt_tokens if model.last_stats else 0)
            sources.append(len(ans.sources))
    finally:
        retrieval.KEEP_COVERAGE, retrieval.KEEP_DENSE, retrieval.RELATIVE_COVERAGE = keep
    return {
        "questions": len(qas),
        "sources_median": statistics.median(sources),
        "prompt_tokens_median": statistics.median(prompt_tokens),
        "ttft_p50_s": statistics.median(ttfts),
        "ttft_max_s": max(ttfts),
    }


# -- receipts -------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[\s$₩원]", "", text).lower()


def right(answer: str, expected: tuple[str, ...]) -> bool:
    """Whitespace/currency-insensitive containment; a date or amount also by its digits."""
    got = _norm(answer)
    digits = re.sub(r"\D", "", answer)
    for e in expected:
        if _norm(e) and _norm(e) in got:
            return True
        d = re.sub(r"\D", "", e)
        if len(d) >= 4 and d in digits:
            return True
    return False


def build_receipt_library(folder: Path, images: Path, n: int) -> tuple[Library, list, dict]:
    if folder.is_dir() and (images / "qa.jsonl").is_file():  # --workdir: already OCR'd
        from receipt_set import load

        from storage import photos

        lib = Library(folder)
        by_title = {title: row.item_id for title, row in photos.all_photos(lib.db)}
        ids = {f.name: by_title[f.stem] for f in images.glob("*.jpg") if f.stem in by_title}
        return lib, load(images), ids
    qas = build_receipts(images, n)
    lib = Library(folder)
    ids = {}
    for image in sorted(images.glob("*.jpg")):
        ids[image.name], _ = lib.photos.add(image)
    started = time.perf_counter()
    Indexer(lib).run()  # OCR (RapidOCR + Tesseract kor), tags, embeddings
    print(f"receipts: {len(ids)} photos indexed (OCR) in {time.perf_counter() - started:.1f}s",
          flush=True)  # fmt: skip
    return lib, qas, ids


def receipt_fields_and_instant(lib: Library, qas: list, ids: dict) -> dict:
    from core.assistant.photo_chat import photo_facts

    helper = Assistant(lib)
    by_field: dict[str, list[bool]] = {}
    inst: dict[str, list[bool]] = {}
    times = []
    for qa in qas:
        pid = ids[qa.image]
        facts = photo_facts(lib, pid)
        value = {"total": facts.fields.total, "date": facts.fields.date,
                 "store": facts.fields.store, "fee": None, "place": None}.get(qa.field)  # fmt: skip
        if qa.kind == "receipt":
            by_field.setdefault(qa.field, []).append(bool(value) and right(value, qa.answers))
        found = helper.instant(qa.question, photo_id=pid)
        times.append(found.ms if found else 0.0)
        shown = found.answer or found.text if found else ""
        inst.setdefault(f"{qa.kind}:{qa.field}", []).append(right(shown, qa.answers))
    return {
        "fields_receipts": {k: sum(v) / len(v) for k, v in by_field.items()},
        "instant_in_photo": {k: sum(v) / len(v) for k, v in inst.items()},
        "instant_in_photo_all": sum(sum(v) for v in inst.values())
        / max(1, sum(len(v) for v in inst.values())),
        "instant_p95_ms": pct(times, 0.95),
    }


def receipt_photo_chat(lib: Library, model: Any, qas: list, ids: dict, *, grounding: bool,
                       tokens: int, limit: int) -> dict:  # fmt: skip
    helper = Assistant(lib, chat_model=model, max_answer_tokens=tokens, grounding=grounding)
    per_image: dict[str, list] = {}
    for qa in qas:
        per_image.setdefault(qa.image, []).append(qa)
    rows: dict[str, list[bool]] = {}
    unsupported: list[bool] = []
    model_rows: list[bool] = []
    replaced: list[bool] = []
    ttfts = []
    # in the order they were made (receipt_000, receipt_001, notice_002, …): 2/3 receipts
    ordered = sorted(per_image.items(), key=lambda kv: kv[0].split("_")[1])
    for i, (image, questions) in enumerate(ordered[:limit]):
        qa = questions[i % len(questions)]  # one question per image, rotating the field
        ans = helper.photo_chat(ids[image], qa.question)
        rows.setdefault(f"{qa.kind}:{qa.field}", []).append(right(ans.text, qa.answers))
        model_rows.append(right(ans.model_text or ans.text, qa.answers) and qa.kind == "receipt")
        replaced.append(ans.replaced)
        unsupported.append(bool(ans.unsupported))
        ttfts.append((ans.timing.first_token_ms or 0) / 1000)
        ok = rows[f"{qa.kind}:{qa.field}"][-1]
        print(f"  {image} {qa.question!r} → {ans.text[:60]!r} ok={ok}", flush=True)
    core = [v for k, vs in rows.items() if k.startswith("receipt:") for v in vs]
    return {
        "by_field": {k: f"{sum(v)}/{len(v)}" for k, v in rows.items()},
        "receipt_totals_dates_stores": sum(core) / max(1, len(core)),
        "receipt_model_words_only": sum(model_rows) / max(1, len(core)),
        "check_failed_instant_shown": sum(replaced) / max(1, len(replaced)),
        "all": sum(sum(v) for v in rows.values()) / max(1, sum(len(v) for v in rows.values())),
        "key_value_in_no_source": sum(unsupported) / max(1, len(unsupported)),
        "median_ttft_s": statistics.median(ttfts) if ttfts else 0.0,
    }


def receipt_ask(
    lib: Library, model: Any, qas: list, *, grounding: bool, tokens: int, limit: int
) -> dict:
    """``ask`` over the whole receipt library: "what was the total at <store>?"."""
    helper = Assistant(lib, chat_model=model, max_answer_tokens=tokens, grounding=grounding)
    stores = {}
    for qa in qas:
        if qa.kind == "receipt" and qa.field == "store":
            stores[qa.image] = qa.answers[0]
    totals = {qa.image: qa.answers for qa in qas if qa.kind == "receipt" and qa.field == "total"}
    unique = {s for s in stores.values() if list(stores.values()).count(s) == 1}
    llm, inst = [], []
    for image, store in sorted(stores.items()):
        if store not in unique or len(llm) >= limit:
            continue  # two receipts of one store: the question has no single answer
        ko = image.endswith("_ko.jpg")
        question = f"{store} 영수증의 합계는 얼마였어?" if ko else f"What was the total at {store}?"
        found = helper.instant(question)
        inst.append(bool(found) and right(found.answer or found.text, totals[image]))
        ans = helper.ask(question)
        llm.append(right(ans.text, totals[image]))
        print(f"  {question!r} → {ans.text[:60]!r} ok={llm[-1]}", flush=True)
    return {"questions": len(llm), "llm_accuracy": sum(llm) / max(1, len(llm)),
            "instant_accuracy": sum(inst) / max(1, len(inst))}  # fmt: skip


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--korquad", type=int, default=60)
    parser.add_argument("--paragraphs", type=int, default=320)
    parser.add_argument("--llm-korquad", type=int, default=60)
    parser.add_argument("--latency-questions", type=int, default=5)
    parser.add_argument("--models", default="qwen2.5-0.5b,qwen2.5-1.5b")
    parser.add_argument("--baseline-models", default="qwen2.5-0.5b")
    parser.add_argument("--receipts", type=int, default=44)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--photo-chat", type=int, default=44, help="images asked (LLM)")
    parser.add_argument("--receipt-ask", type=int, default=20, help="totals asked (LLM)")
    parser.add_argument(
        "--large-scale",
        type=float,
        default=0.5,
        help="share of the LLM questions asked of models not in --baseline-models",
    )
    parser.add_argument(
        "--baseline-share",
        type=float,
        default=1.0,
        help="share of the KorQuAD LLM questions also asked of the baseline "
        "(the first ones; the new pipeline's row has per-question results)",
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the built libraries here")
    parser.add_argument("--skip", default="", help="comma list: korquad,latency,receipts")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    RESULTS["load_at_start"] = f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    print(f"load average at start: {RESULTS['load_at_start']}", flush=True)
    from models.llm import default_chat_model

    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.workdir or Path(scratch)
        lib, qas = build_korquad(Path(tmp) / "kq", args.korquad, args.paragraphs)
        RESULTS["instant_korquad"] = instant_korquad(lib, qas)
        print(json.dumps(RESULTS["instant_korquad"]), flush=True)
        save(args.out)
        rlib = rqas = rids = None
        if "receipts" not in skip:
            rlib, rqas, rids = build_receipt_library(Path(tmp) / "rc", Path(tmp) / "img",
                                                     args.receipts)  # fmt: skip
            RESULTS["receipts_no_llm"] = receipt_fields_and_instant(rlib, rqas, rids)
            print(json.dumps(RESULTS["receipts_no_llm"]), flush=True)
            save(args.out)
        for key in filter(None, args.models.split(",")):
            before = rss_mb()
            started = time.perf_counter()
            model = default_chat_model(key=key)
            res: dict[str, Any] = {"load_s": time.perf_counter() - started}
            res["rss_mb"] = rss_mb() - before
            RESULTS[key] = res
            print(f"loaded {model.model_id} in {res['load_s']:.1f}s (+{res['rss_mb']:.0f} MB)",
                  flush=True)  # fmt: skip
            full = key in args.baseline_models.split(",")
            modes = [True, False] if full else [True]
            share = 1.0 if full else args.large_scale
            n_kq, n_lat = max(1, int(args.llm_korquad * share)), args.latency_questions
            n_pc = max(1, int(args.photo_chat * share))
            n_ra = max(1, int(args.receipt_ask * share))

            tok = args.max_tokens
            stages: list[tuple[str, Any, tuple, dict]] = []
            if "latency" not in skip:
                stages.append(("latency", latency, (lib, model, qas[:n_lat]), {}))
            if "korquad" not in skip:
                stages.append(("korquad", llm_korquad, (lib, model, qas[:n_kq]), {}))
            if rlib is not None:
                stages.append(("photo_chat", receipt_photo_chat, (rlib, model, rqas, rids),
                               {"limit": n_pc}))  # fmt: skip
                stages.append(("receipt_ask", receipt_ask, (rlib, model, rqas), {"limit": n_ra}))
            try:
                for stage, call, pos, kw in stages:
                    for grounding in modes:  # new and baseline back to back: always a pair
                        tag = "new" if grounding else "baseline"
                        prompts = contextlib.nullcontext() if grounding else baseline_prompts()
                        args_now = pos
                        if stage == "korquad" and not grounding and args.baseline_share < 1:
                            # the baseline on the first questions of the same sample
                            cut = max(1, int(len(pos[2]) * args.baseline_share))
                            args_now = (pos[0], pos[1], pos[2][:cut])
                        with prompts:
                            out = call(*args_now, grounding=grounding, tokens=tok, **kw)
                        res[f"{stage}_{tag}"] = out
                        print(key, stage, tag, json.dumps(out), flush=True)
                        save(args.out)
            finally:
                model.close()
        lib.close()
        if rlib is not None:
            rlib.close()
    RESULTS["load_at_end"] = f"{os.getloadavg()[0]:.1f}"
    save(args.out)
    print(json.dumps(RESULTS, ensure_ascii=False))


if __name__ == "__main__":
    main()
