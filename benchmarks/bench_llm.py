"""LLM throughput: our chat runtime vs llama-cpp-python called directly, in the same run.

Model: the packaged Qwen2.5-Coder-0.5B Q4_K_M (assembled + sha256-verified first). Both sides
use the same GGUF, context, threads, sampler settings and the same prompt tokens (a ~300-token
passage + question rendered with the model's chat template), from an empty KV cache. Prints
prompt tokens/s, generation tokens/s (median of --runs), the ratios ours/direct, load times,
and the prompt time of a follow-up turn with and without KV-cache reuse.
Run: `.venv/bin/python benchmarks/bench_llm.py`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.llama_base import open_llama
from models.llm import LlamaChatModel
from models.packaged import QWEN_05B, assemble
from models.protocols import ChatMessage
from models.providers import physical_cores

PASSAGE = (
    "Saem keeps notes, photos and the text inside photos in one local library. "
    "It runs every model on the device: a sentence encoder for search, OCR for the text in "
    "photos, image tags, and a small chat model that answers questions from the notes. "
) * 6
QUESTION = "In two sentences, what does Saem keep and where do its models run?"
CTX = 2048


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def bench_ours(model: LlamaChatModel, messages: list[ChatMessage], gen: int, runs: int):
    prompt, generate = [], []
    for _ in range(runs):
        model.llama.reset()  # empty KV cache, like the direct baseline
        for _piece in model.stream(messages, max_tokens=gen, temperature=0.0):
            pass
        stats = model.last_stats
        prompt.append(stats.prompt_tokens_per_second)
        generate.append(stats.generate_tokens_per_second)
    return _median(prompt), _median(generate), stats.generated_tokens


def bench_direct(llm, tokens: list[int], gen: int, runs: int):
    import llama_cpp

    vocab = llm._model.vocab
    prompt, generate = [], []
    for _ in range(runs):
        llm.reset()
        n = 0
        start = time.perf_counter()
        first = start
        for token in llm.generate(tokens, temp=0.0, top_k=40, top_p=0.95, min_p=0.05,
                                  repeat_penalty=1.1):  # fmt: skip
            if n == 0:
                first = time.perf_counter()
            n += 1
            if llama_cpp.llama_vocab_is_eog(vocab, token) or n >= gen:
                break
            llm.detokenize([token])
        end = time.perf_counter()
        prompt.append(len(tokens) / (first - start))
        generate.append((n - 1) / (end - first) if n > 1 else 0.0)
    return _median(prompt), _median(generate), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gen", type=int, default=64, help="tokens to generate per run")
    args = parser.parse_args()
    threads = physical_cores()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path = assemble(QWEN_05B, Path(tmp))
        assemble_s = time.perf_counter() - t
        size_mib = path.stat().st_size / 2**20
        t = time.perf_counter()
        assemble(QWEN_05B, Path(tmp))
        cached_s = time.perf_counter() - t

        loads_ours, loads_direct = [], []
        for _ in range(3):  # alternate so the page cache and machine load hit both alike
            t = time.perf_counter()
            LlamaChatModel(path, context_tokens=CTX, n_threads=threads).close()
            loads_ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            open_llama(path, n_ctx=CTX, n_threads=threads, n_gpu_layers=0)[0].close()
            loads_direct.append(time.perf_counter() - t)
        ours_load, direct_load = _median(loads_ours), _median(loads_direct)
        ours = LlamaChatModel(path, context_tokens=CTX, n_threads=threads)
        messages = [
            ChatMessage("system", "Answer from the passage only."),
            ChatMessage("user", f"Passage:\n{PASSAGE}\n\nQuestion: {QUESTION}"),
        ]
        tokens = ours.prompt_tokens(messages, args.gen)
        direct, _ = open_llama(path, n_ctx=CTX, n_threads=threads, n_gpu_layers=0)
        # alternate the two so that other load on the machine hits both alike
        o_p, o_g, d_p, d_g = [], [], [], []
        for _ in range(args.runs):
            p, g, o_n = bench_ours(ours, messages, args.gen, 1)
            o_p.append(p)
            o_g.append(g)
            p, g, d_n = bench_direct(direct, tokens, args.gen, 1)
            d_p.append(p)
            d_g.append(g)
        o_prompt, o_gen, d_prompt, d_gen = map(_median, (o_p, o_g, d_p, d_g))
        direct.close()

        # follow-up turn: KV cache kept vs cleared
        answer = ours.complete(messages, max_tokens=args.gen, temperature=0.0)
        turn2 = [*messages, ChatMessage("assistant", answer), ChatMessage("user", "Why?")]
        for _ in ours.stream(turn2, max_tokens=1):
            pass
        reuse = ours.last_stats
        ours.llama.reset()
        for _ in ours.stream(turn2, max_tokens=1):
            pass
        fresh = ours.last_stats
        ours.close()

    print(f"model: {QWEN_05B.name}, {size_mib:.0f} MiB, ctx {CTX}, "
          f"{threads} threads, prompt {len(tokens)} tokens, generate {args.gen} "
          f"(ours {o_n}, direct {d_n}), median of {args.runs}")  # fmt: skip
    print(f"{'':28}{'ours':>10}{'direct':>10}{'ratio':>8}")
    print(f"{'prompt tokens/s':28}{o_prompt:>10.1f}{d_prompt:>10.1f}{o_prompt / d_prompt:>8.2f}")
    print(f"{'generation tokens/s':28}{o_gen:>10.1f}{d_gen:>10.1f}{o_gen / d_gen:>8.2f}")
    print(f"{'load seconds':28}{ours_load:>10.2f}{direct_load:>10.2f}"
          f"{ours_load / direct_load:>8.2f}")  # fmt: skip
    print(f"assemble from wheels + sha256: {assemble_s:.2f} s; verified copy reused: "
          f"{cached_s * 1000:.1f} ms")  # fmt: skip
    print(f"follow-up turn prompt ({reuse.prompt_tokens} tokens): KV reuse "
          f"{reuse.reused_tokens} tokens -> {reuse.prompt_seconds:.2f} s; "
          f"without reuse {fresh.prompt_seconds:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
