"""Chat LLM runtime: llama.cpp (llama-cpp-python) over a GGUF file.

* The prompt is rendered with the model's own chat template (GGUF ``tokenizer.chat_template``),
  ChatML when a file has none.
* The context budget is ``context_tokens``: the oldest turns are dropped to fit prompt + answer,
  and a prompt that cannot fit at all is a :class:`ModelError`.
* Tokens stream as text pieces (UTF-8 safe); ``should_cancel()`` is checked between tokens.
* The KV cache is reused across turns: llama.cpp keeps the evaluated prompt, and the next call
  only evaluates the part after the longest common prefix (a follow-up question in a chat).
* ``close()`` frees the native model and context at once, not whenever GC runs.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.errors import ModelError
from models.protocols import CancelCheck, ChatMessage
from models.validate import GgufInfo, check_fits_in_memory, read_gguf

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Architectures that are encoders (embeddings/rerankers), not chat models.
ENCODER_ARCHS = {"bert", "nomic-bert", "jina-bert-v2", "t5encoder", "modern-bert", "neo-bert"}
MIN_ANSWER_TOKENS = 16


def _kv_bytes(info: GgufInfo, n_ctx: int) -> int:
    """f16 KV-cache size for ``n_ctx`` tokens, from the GGUF's hyper-parameters."""
    try:
        layers = int(info.get("{arch}.block_count", 0))
        embd = int(info.get("{arch}.embedding_length", 0))
        heads = int(info.get("{arch}.attention.head_count", 1) or 1)
        kv_heads = int(info.get("{arch}.attention.head_count_kv", heads) or heads)
    except (TypeError, ValueError):
        return 0
    return 2 * 2 * layers * n_ctx * embd * kv_heads // heads


def check_chat_gguf(path: Path, n_ctx: int) -> GgufInfo:
    """Validate a GGUF as a chat language model (not a projector, not an encoder)."""
    info = read_gguf(path)
    if not info.tensors:
        raise ModelError(f"{path} has no tensors; it is not a usable model.")
    if info.is_projector:
        raise ModelError(
            f"{path} is a vision projector (mmproj), not a chat model; add it together with "
            "the language model it belongs to."
        )
    if info.architecture in ENCODER_ARCHS:
        raise ModelError(f"{path} is a {info.architecture} encoder (embeddings), not a chat model.")
    if not info.get("tokenizer.ggml.model"):
        raise ModelError(f"{path} has no tokenizer; it cannot be used as a chat model.")
    weights = info.expected_size or path.stat().st_size
    check_fits_in_memory(path, int(weights * 1.05) + _kv_bytes(info, n_ctx))
    return info


def open_llama(
    path: Path,
    *,
    n_ctx: int,
    n_threads: int | None = None,
    n_gpu_layers: int | None = None,
    chat_handler: Any = None,
) -> Any:
    """``llama_cpp.Llama`` with our threading/offload defaults; errors name the file."""
    import llama_cpp

    from models.providers import llama_gpu_layers, physical_cores

    threads = n_threads or physical_cores()
    try:
        return llama_cpp.Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_batch=min(512, n_ctx),
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=llama_gpu_layers() if n_gpu_layers is None else n_gpu_layers,
            chat_handler=chat_handler,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(f"llama.cpp could not load {path}: {exc}") from exc


@dataclass(frozen=True)
class GenerationStats:
    """Counts and timings of the last ``stream`` call (for tokens/s displays and benchmarks)."""

    prompt_tokens: int
    reused_tokens: int  # prompt tokens whose KV cache was kept from the previous call
    generated_tokens: int
    prompt_seconds: float  # until the first token was sampled
    generate_seconds: float  # from the first token to the last

    @property
    def prompt_tokens_per_second(self) -> float:
        evaluated = self.prompt_tokens - self.reused_tokens
        return evaluated / self.prompt_seconds if self.prompt_seconds else 0.0

    @property
    def generate_tokens_per_second(self) -> float:
        n = self.generated_tokens - 1
        return n / self.generate_seconds if n > 0 and self.generate_seconds else 0.0


class LlamaChatModel:
    """:class:`models.protocols.ChatModel` on llama.cpp."""

    def __init__(
        self,
        path: Path | str,
        *,
        context_tokens: int = 4096,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        model_id: str | None = None,
    ) -> None:
        self.path = Path(path)
        info = check_chat_gguf(self.path, context_tokens)
        trained = int(info.get("{arch}.context_length", 0) or 0)
        self.context_tokens = min(context_tokens, trained) if trained else context_tokens
        self.model_id = model_id or f"llama.cpp:{self.path.name}"
        self.info = info
        self._lock = threading.RLock()
        self._llm: Any = open_llama(
            self.path, n_ctx=self.context_tokens, n_threads=n_threads, n_gpu_layers=n_gpu_layers
        )
        self._formatter = self._make_formatter()
        self.last_stats: GenerationStats | None = None

    # -- prompt -------------------------------------------------------------------------------

    def _make_formatter(self) -> Any:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self._llm
        template = llm.metadata.get("tokenizer.chat_template") or CHATML

        def piece(token: int) -> str:
            if token < 0:
                return ""
            return llm._model.token_get_text(token)

        return Jinja2ChatFormatter(
            template=template,
            eos_token=piece(llm.token_eos()),
            bos_token=piece(llm.token_bos()),
        )

    @property
    def llama(self) -> Any:
        if self._llm is None:
            raise ModelError(f"The chat model {self.model_id} was closed.")
        return self._llm

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _render(self, messages: Sequence[ChatMessage]) -> list[int]:
        dicts = [{"role": m.role, "content": m.content} for m in messages]
        try:
            prompt = self._formatter(messages=dicts).prompt
        except Exception as exc:
            raise ModelError(f"The chat template of {self.path} failed: {exc}") from exc
        return self.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def prompt_tokens(self, messages: Sequence[ChatMessage], max_tokens: int) -> list[int]:
        """Tokens of the prompt, dropping the oldest turns until prompt + answer fit."""
        msgs = list(messages)
        if not msgs:
            raise ModelError("A chat needs at least one message.")
        tokens = self._render(msgs)
        answer = min(max_tokens, max(MIN_ANSWER_TOKENS, self.context_tokens // 4))
        while len(tokens) + answer > self.context_tokens:
            droppable = [i for i, m in enumerate(msgs[:-1]) if m.role != "system"]
            if not droppable:
                break
            del msgs[droppable[0]]
            tokens = self._render(msgs)
        if len(tokens) + MIN_ANSWER_TOKENS > self.context_tokens:
            raise ModelError(
                f"The prompt is {len(tokens)} tokens but {self.model_id} has a context of "
                f"{self.context_tokens}; shorten the question or the notes given to it."
            )
        return tokens

    # -- generation ---------------------------------------------------------------------------

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        temperature: float = 0.2,
        should_cancel: CancelCheck | None = None,
    ) -> Iterator[str]:
        with self._lock:
            llm = self.llama
            tokens = self.prompt_tokens(messages, max_tokens)
            budget = min(max_tokens, self.context_tokens - len(tokens))
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            import llama_cpp

            vocab = llm._model.vocab
            cached = list(llm._input_ids[: llm.n_tokens])
            reused = next(
                (i for i, (a, b) in enumerate(zip(cached, tokens, strict=False)) if a != b),
                min(len(cached), len(tokens)),
            )
            produced = 0
            start = time.perf_counter()
            first = start
            generator = llm.generate(
                tokens, temp=temperature, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.1
            )
            try:
                for token in generator:
                    if produced == 0:
                        first = time.perf_counter()
                    produced += 1
                    if should_cancel is not None and should_cancel():
                        return
                    if llama_cpp.llama_vocab_is_eog(vocab, token):
                        break
                    text = decoder.decode(llm.detokenize([token], special=False))
                    if text:
                        yield text
                    if produced >= budget:
                        break
                tail = decoder.decode(b"", final=True)
                if tail:
                    yield tail
            finally:
                generator.close()
                self.last_stats = GenerationStats(
                    len(tokens), reused, produced, first - start, time.perf_counter() - first
                )

    def complete(self, messages: Sequence[ChatMessage], **kwargs: Any) -> str:
        return "".join(self.stream(messages, **kwargs))

    def close(self) -> None:
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None

    def __enter__(self) -> LlamaChatModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_chat_model(runtime: str, files: Sequence[Path], meta: dict[str, Any]) -> LlamaChatModel:
    """Factory entry: ``runtime`` "llama.cpp", ``files`` = [model.gguf]."""
    if runtime not in ("llama.cpp", "gguf"):
        raise ModelError(f"Unknown chat runtime {runtime!r}; Saem runs chat models on llama.cpp.")
    if len(files) != 1:
        raise ModelError("A chat model is one GGUF file.")
    return LlamaChatModel(
        files[0],
        context_tokens=int(meta.get("context_tokens", 4096)),
        n_threads=meta.get("n_threads"),
        model_id=meta.get("model_id"),
    )


def default_chat_model(cache_dir: Path | None = None, **kwargs: Any) -> LlamaChatModel:
    """The packaged Qwen2.5 0.5B (assembled + sha256-verified on first use)."""
    from models.packaged import QWEN_05B, assemble

    path = assemble(QWEN_05B, cache_dir)
    kwargs.setdefault("context_tokens", QWEN_05B.context_tokens)
    kwargs.setdefault("model_id", f"packaged:{QWEN_05B.key}")
    return LlamaChatModel(path, **kwargs)
