"""The one llama.cpp base under the chat model (:mod:`models.llm`) and the vision model
(:mod:`models.vision`).

* :func:`check_chat_gguf` validates a GGUF as a chat language model and checks that the part of
  it that stays in system RAM fits (layers offloaded to a GPU do not count against RAM).
* :func:`open_llama` loads it with our thread and placement defaults
  (:func:`models.providers.llama_offload`) and reads back from llama.cpp's own log what really
  happened: ``offloaded N/M layers to GPU`` and the size of each weight buffer
  (:class:`OffloadReport`). llama.cpp's log goes to Python logging, never to the terminal.
* :class:`LlamaBase` holds what both models share: the lock, token counting, the timed and
  cancellable token loop with its :class:`GenerationStats`, and a deterministic ``close()``.
"""

from __future__ import annotations

import ctypes
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from models.errors import ModelClosedError, ModelFileCorruptError, WrongModelKindError
from models.protocols import CancelCheck
from models.validate import GgufInfo, check_fits_in_memory, read_gguf

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Architectures that are encoders (embeddings/rerankers), not chat models.
ENCODER_ARCHS = {"bert", "nomic-bert", "jina-bert-v2", "t5encoder", "modern-bert", "neo-bert"}
MIN_ANSWER_TOKENS = 16

log = logging.getLogger("llama.cpp")
_OFFLOADED = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")
_BUFFER = re.compile(r"^\S*:\s+(\S+) model buffer size =\s+([\d.]+) MiB", re.MULTILINE)
_LEVELS = {1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}  # ggml.h


# -- what llama.cpp did with the model --------------------------------------------------------


@dataclass(frozen=True)
class OffloadReport:
    """Where a loaded model's weights went, as llama.cpp logged it while loading."""

    requested_layers: int  # n_gpu_layers asked for (-1 all, 0 none)
    offloaded: int | None  # "offloaded N/M layers": N; None when the build cannot offload
    total: int | None  # … M (the repeating layers + the output layer)
    buffers: dict[str, float] = field(default_factory=dict)  # MiB per buffer ("CPU", "CUDA0")
    flash_attn: bool = False
    op_offload: bool = False

    @property
    def on_gpu(self) -> bool:
        return bool(self.offloaded)

    @property
    def gpu_mib(self) -> float:
        return sum(v for k, v in self.buffers.items() if not k.upper().startswith("CPU"))

    def describe(self) -> str:
        if self.offloaded is None:
            return "CPU (this llama.cpp build has no GPU backend)"
        if not self.offloaded:
            return f"CPU (0/{self.total} layers offloaded, op offload {_on(self.op_offload)})"
        where = ", ".join(f"{k} {v:.0f} MiB" for k, v in self.buffers.items())
        kind = "GPU" if self.offloaded == self.total else "GPU+CPU (partial)"
        return (
            f"{kind}: {self.offloaded}/{self.total} layers offloaded"
            + (f" ({where})" if where else "")
            + f", flash attention {_on(self.flash_attn)}"
        )


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def parse_load_log(text: str) -> tuple[int | None, int | None, dict[str, float]]:
    """``(offloaded, total, buffers)`` from llama.cpp's model-load log lines."""
    found = _OFFLOADED.findall(text)
    offloaded, total = (int(found[-1][0]), int(found[-1][1])) if found else (None, None)
    buffers: dict[str, float] = {}
    for name, mib in _BUFFER.findall(text):
        buffers[name] = buffers.get(name, 0.0) + float(mib)
    return offloaded, total, buffers


class _LlamaLog:
    """llama.cpp's log callback: lines go to Python logging, and while a model loads they are
    also collected so that :func:`open_llama` can read the offload lines."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._capture: list[str] | None = None
        self._level = logging.INFO
        self._callback: Any = None

    def install(self) -> None:
        if self._callback is not None:
            return
        import llama_cpp

        @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
        def callback(level: int, text: bytes, user_data: Any) -> None:
            line = text.decode("utf-8", errors="replace")
            if level != 5:  # 5 = continuation of the previous message
                self._level = _LEVELS.get(level, logging.DEBUG)
            capture = self._capture
            if capture is not None:
                capture.append(line)
            if self._level >= logging.WARNING and line.strip():
                log.log(self._level, "%s", line.rstrip())

        self._callback = callback  # keep the ctypes thunk alive as long as llama.cpp holds it
        llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))

    def capture(self) -> _Capture:
        return _Capture(self)


class _Capture:
    def __init__(self, owner: _LlamaLog) -> None:
        self.owner = owner
        self.lines: list[str] = []

    def __enter__(self) -> _Capture:
        self.owner._lock.acquire()
        self.owner.install()
        self.owner._capture = self.lines
        return self

    def __exit__(self, *exc: object) -> None:
        self.owner._capture = None
        self.owner._lock.release()

    @property
    def text(self) -> str:
        return "".join(self.lines)


_LOG = _LlamaLog()


# -- checks and loading -----------------------------------------------------------------------


def kv_bytes(info: GgufInfo, n_ctx: int) -> int:
    """f16 KV-cache size for ``n_ctx`` tokens, from the GGUF's hyper-parameters."""
    try:
        layers = int(info.get("{arch}.block_count", 0))
        embd = int(info.get("{arch}.embedding_length", 0))
        heads = int(info.get("{arch}.attention.head_count", 1) or 1)
        kv_heads = int(info.get("{arch}.attention.head_count_kv", heads) or heads)
    except (TypeError, ValueError):
        return 0
    return 2 * 2 * layers * n_ctx * embd * kv_heads // heads


def ram_share(info: GgufInfo, gpu_layers: int) -> float:
    """Share of the weights/KV cache that stays in system RAM when ``gpu_layers`` are offloaded
    (-1 = all). llama.cpp counts the output layer as one more offloadable layer."""
    if gpu_layers == 0:
        return 1.0
    try:
        total = int(info.get("{arch}.block_count", 0)) + 1
    except (TypeError, ValueError):
        return 1.0
    if total <= 1:
        return 1.0
    on_gpu = total if gpu_layers < 0 else min(gpu_layers, total)
    return (total - on_gpu) / total


def check_chat_gguf(
    path: Path, n_ctx: int, *, gpu_layers: int = 0, available: int | None = None
) -> GgufInfo:
    """Validate a GGUF as a chat language model (not a projector, not an encoder) whose
    RAM-resident part fits in the memory available now."""
    info = read_gguf(path)
    if not info.tensors:
        raise ModelFileCorruptError(f"{path} has no tensors; it is not a usable model.")
    if info.is_projector:
        raise WrongModelKindError(
            f"{path} is a vision projector (mmproj), not a chat model; add it together with "
            "the language model it belongs to."
        )
    if info.architecture in ENCODER_ARCHS:
        raise WrongModelKindError(
            f"{path} is a {info.architecture} encoder (embeddings), not a chat model."
        )
    if not info.get("tokenizer.ggml.model"):
        raise WrongModelKindError(f"{path} has no tokenizer; it cannot be used as a chat model.")
    weights = info.expected_size or path.stat().st_size
    share = ram_share(info, gpu_layers)
    # the token embeddings stay on the CPU whatever is offloaded: never count less than 10 %
    needed = int((weights * 1.05 + kv_bytes(info, n_ctx)) * max(share, 0.1))
    check_fits_in_memory(path, needed, available=available)
    return info


def open_llama(
    path: Path,
    *,
    n_ctx: int,
    n_threads: int | None = None,
    device: str | None = None,
    n_gpu_layers: int | None = None,
    chat_handler: Any = None,
) -> tuple[Any, OffloadReport]:
    """``llama_cpp.Llama`` with our threading/placement defaults, and what llama.cpp reported
    about the placement; errors name the file."""
    import llama_cpp

    from models.providers import llama_offload, physical_cores

    threads = n_threads or physical_cores()
    offload = llama_offload(device, n_gpu_layers)
    with _LOG.capture() as captured:
        try:
            llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_batch=min(512, n_ctx),
                n_threads=threads,
                n_threads_batch=threads,
                chat_handler=chat_handler,
                verbose=False,
                **offload.kwargs(),
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileCorruptError(f"llama.cpp could not load {path}: {exc}") from exc
    done, total, buffers = parse_load_log(captured.text)
    report = OffloadReport(offload.n_gpu_layers, done, total, buffers, offload.flash_attn,
                           offload.op_offload)  # fmt: skip
    return llm, report


# -- the shared runtime -----------------------------------------------------------------------


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


class LlamaBase:
    """What the chat and the vision model share. Subclasses set ``_llm`` in ``__init__``."""

    kind = "chat"

    def __init__(self, path: Path, context_tokens: int, info: GgufInfo, model_id: str) -> None:
        self.path = path
        trained = int(info.get("{arch}.context_length", 0) or 0)
        self.context_tokens = min(context_tokens, trained) if trained else context_tokens
        self.model_id = model_id
        self.info = info
        self._lock = threading.RLock()
        self._llm: Any = None
        self.offload_report: OffloadReport | None = None
        self.last_stats: GenerationStats | None = None

    @property
    def llama(self) -> Any:
        if self._llm is None:
            raise ModelClosedError(f"The {self.kind} model {self.model_id} was closed.")
        return self._llm

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _timed(
        self,
        pieces: Iterator[str],
        *,
        budget: int,
        should_cancel: CancelCheck | None,
        prompt_tokens: int | None = None,
        reused: int = 0,
    ) -> Iterator[str]:
        """Yield the text of each generated token ("" for a token that completes no
        character yet) until ``budget`` tokens or a cancel; records :attr:`last_stats`.
        ``prompt_tokens`` None: read from the context after generation (mtmd prompts)."""
        produced = 0
        start = time.perf_counter()
        first = start
        try:
            for text in pieces:
                if produced == 0:
                    first = time.perf_counter()
                produced += 1
                if should_cancel is not None and should_cancel():
                    return
                if text:
                    yield text
                if produced >= budget:
                    break
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
            end = time.perf_counter()
            prompt = prompt_tokens
            if prompt is None:
                prompt = max(0, int(getattr(self._llm, "n_tokens", 0) or 0) - produced)
            self.last_stats = GenerationStats(prompt, reused, produced, first - start,
                                              end - first if produced else 0.0)  # fmt: skip

    def close(self) -> None:
        """Free the native model and context now, not whenever GC runs (idempotent)."""
        with self._lock:
            if self._llm is not None:
                self._llm.close()  # also frees an mtmd context registered on its exit stack
                self._llm = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
