"""Chat LLM runtime: llama.cpp (llama-cpp-python) over a GGUF file.

* The prompt is rendered with the model's own chat template (GGUF ``tokenizer.chat_template``),
  ChatML when a file has none.
* The context budget is ``context_tokens``: the oldest turns are dropped to fit prompt + answer,
  and a prompt that cannot fit at all is a :class:`ContextOverflowError`.
* Tokens stream as text pieces (UTF-8 safe); ``should_cancel()`` is checked between tokens.
* The KV cache is reused across turns: llama.cpp keeps the evaluated prompt, and the next call
  only evaluates the part after the longest common prefix (a follow-up question in a chat).
* Loading, placement, token counting, the timed token loop and ``close()`` are shared with the
  vision model in :mod:`models.llama_base`.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from models.errors import (
    ContextOverflowError,
    InferenceError,
    ModelConfigError,
    ModelInputError,
    WrongModelKindError,
)
from models.llama_base import (
    CHATML,
    MIN_ANSWER_TOKENS,
    GenerationStats,
    LlamaBase,
    check_chat_gguf,
    open_llama,
)
from models.protocols import CancelCheck, ChatMessage

__all__ = ["CHATML", "GenerationStats", "LlamaChatModel", "default_chat_model", "load_chat_model"]


class LlamaChatModel(LlamaBase):
    """:class:`models.protocols.ChatModel` on llama.cpp."""

    def __init__(
        self,
        path: Path | str,
        *,
        context_tokens: int = 4096,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        device: str | None = None,
        model_id: str | None = None,
    ) -> None:
        from models.providers import llama_offload

        path = Path(path)
        layers = llama_offload(device, n_gpu_layers).n_gpu_layers
        info = check_chat_gguf(path, context_tokens, gpu_layers=layers)
        super().__init__(path, context_tokens, info, model_id or f"llama.cpp:{path.name}")
        self._llm, self.offload_report = open_llama(
            self.path, n_ctx=self.context_tokens, n_threads=n_threads, device=device,
            n_gpu_layers=n_gpu_layers,
        )  # fmt: skip
        self._formatter = self._make_formatter()

    # -- prompt -------------------------------------------------------------------------------

    def _make_formatter(self) -> Any:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self._llm
        template = llm.metadata.get("tokenizer.chat_template") or CHATML

        def piece(token: int) -> str:
            if token < 0:
                return ""
            text: str = llm._model.token_get_text(token)
            return text

        return Jinja2ChatFormatter(
            template=template,
            eos_token=piece(llm.token_eos()),
            bos_token=piece(llm.token_bos()),
        )

    def _render(self, messages: Sequence[ChatMessage]) -> list[int]:
        dicts = [{"role": m.role, "content": m.content} for m in messages]
        try:
            prompt = self._formatter(messages=dicts).prompt
        except Exception as exc:
            raise InferenceError(f"The chat template of {self.path} failed: {exc}") from exc
        tokens: list[int] = self.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        return tokens

    def prompt_tokens(self, messages: Sequence[ChatMessage], max_tokens: int) -> list[int]:
        """Tokens of the prompt, dropping the oldest turns until prompt + answer fit."""
        msgs = list(messages)
        if not msgs:
            raise ModelInputError("A chat needs at least one message.")
        tokens = self._render(msgs)
        answer = min(max_tokens, max(MIN_ANSWER_TOKENS, self.context_tokens // 4))
        while len(tokens) + answer > self.context_tokens:
            droppable = [i for i, m in enumerate(msgs[:-1]) if m.role != "system"]
            if not droppable:
                break
            del msgs[droppable[0]]
            tokens = self._render(msgs)
        if len(tokens) + MIN_ANSWER_TOKENS > self.context_tokens:
            raise ContextOverflowError(
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
            cached = list(llm._input_ids[: llm.n_tokens])
            reused = next(
                (i for i, (a, b) in enumerate(zip(cached, tokens, strict=False)) if a != b),
                min(len(cached), len(tokens)),
            )
            pieces = self._pieces(tokens, temperature, decoder)
            yield from self._timed(pieces, budget=budget, should_cancel=should_cancel,
                                   prompt_tokens=len(tokens), reused=reused)  # fmt: skip
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail

    def _pieces(self, tokens: list[int], temperature: float, decoder: Any) -> Iterator[str]:
        """The text of each sampled token until an end-of-generation token."""
        import llama_cpp

        llm = self.llama
        vocab = llm._model.vocab
        generator = llm.generate(
            tokens, temp=temperature, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.1
        )
        try:
            for token in generator:
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    return
                yield decoder.decode(llm.detokenize([token], special=False))
        finally:
            generator.close()

    def complete(self, messages: Sequence[ChatMessage], **kwargs: Any) -> str:
        return "".join(self.stream(messages, **kwargs))


def load_chat_model(runtime: str, files: Sequence[Path], meta: dict[str, Any]) -> LlamaChatModel:
    """Factory entry: ``runtime`` "llama.cpp", ``files`` = [model.gguf]."""
    if runtime not in ("llama.cpp", "gguf"):
        raise ModelConfigError(
            f"Unknown chat runtime {runtime!r}; Saem runs chat models on llama.cpp."
        )
    if len(files) != 1:
        raise WrongModelKindError("A chat model is one GGUF file.")
    return LlamaChatModel(
        files[0],
        context_tokens=int(meta.get("context_tokens", 4096)),
        n_threads=meta.get("n_threads"),
        n_gpu_layers=meta.get("n_gpu_layers"),
        device=meta.get("device"),
        model_id=meta.get("model_id"),
    )


def default_chat_model(
    cache_dir: Path | None = None, *, key: str | None = None, **kwargs: Any
) -> LlamaChatModel:
    """A packaged chat model (assembled + sha256-verified on first use): ``key``, or the one
    :func:`models.packaged.pick_chat_model` picks for this machine's RAM and cores."""
    from models.packaged import PACKAGED, assemble, pick_chat_model
    from models.providers import physical_cores
    from models.validate import available_memory

    key = key or pick_chat_model(available_memory(), physical_cores())
    if key not in PACKAGED or PACKAGED[key].task != "chat":
        raise ModelConfigError(f"No packaged chat model is called {key!r}.")
    packaged = PACKAGED[key]
    path = assemble(packaged, cache_dir)
    kwargs.setdefault("context_tokens", packaged.context_tokens)
    kwargs.setdefault("model_id", f"packaged:{packaged.key}")
    return LlamaChatModel(path, **kwargs)
