"""Vision chat: a GGUF language model + its mmproj projector through llama.cpp's mtmd.

The pair is checked before use: the projector must be a ``clip``-architecture GGUF with a
vision encoder, its output width must equal the language model's embedding width, and mtmd
must accept the pair (its context is created at load time, not at the first question).
Images are read from disk, turned upright by EXIF, downscaled and passed to mtmd as in-memory
data URIs — nothing is fetched from a network. Loading, placement, token counting, the timed
token loop and ``close()`` come from :mod:`models.llama_base`, shared with the chat model.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from models.errors import InferenceError, ModelConfigError, ModelInputError, WrongModelKindError
from models.llama_base import CHATML, LlamaBase, check_chat_gguf, open_llama
from models.protocols import CancelCheck, ChatMessage
from models.validate import check_fits_in_memory, read_gguf

MAX_IMAGE_SIDE = 1024


def check_projector(mmproj: Path, llm_embd: int | None, llm_path: Path) -> None:
    info = read_gguf(mmproj)
    if not info.is_projector:
        raise WrongModelKindError(
            f"{mmproj} is not a vision projector (its architecture is "
            f"{info.architecture or 'unknown'}); a vision model needs the model's mmproj file."
        )
    if info.metadata.get("clip.has_vision_encoder") is False:
        raise WrongModelKindError(f"{mmproj} has no vision encoder (audio-only projector).")
    check_fits_in_memory(mmproj, int((info.expected_size or mmproj.stat().st_size) * 1.2))
    last = info.tensors.get("mm.2.weight")
    if llm_embd and last is not None and len(last.shape) == 2 and last.shape[1] != llm_embd:
        raise WrongModelKindError(
            f"{mmproj} does not match {llm_path.name}: the projector outputs {last.shape[1]}-d "
            f"embeddings but the language model expects {llm_embd}-d."
        )


def image_data_uri(path: str | Path) -> str:
    """An image file → upright, at most MAX_IMAGE_SIDE, JPEG data URI."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as opened:
            im = ImageOps.exif_transpose(opened).convert("RGB")
            im.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
            buf = io.BytesIO()
            im.save(buf, format="JPEG", quality=90)
    except OSError as exc:
        raise ModelInputError(f"{path} is not a readable image ({exc}).") from exc
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _handler_class() -> type:
    from llama_cpp.llama_chat_format import MTMDChatHandler

    class Handler(MTMDChatHandler):
        """Flattens image+text parts to one string for templates that expect strings."""

        flatten = False

        def _get_template_messages(self, messages: Any, media_marker: str) -> list[Any]:
            out = super()._get_template_messages(messages, media_marker)
            if not self.flatten:
                return out
            for m in out:
                if isinstance(m.get("content"), list):
                    texts = [p.get("text", "") for p in m["content"] if isinstance(p, dict)]
                    m["content"] = "\n".join(texts)
            return out

    return Handler


class LlamaVisionModel(LlamaBase):
    """:class:`models.protocols.VisionChatModel` on llama.cpp + mtmd."""

    kind = "vision"

    def __init__(
        self,
        model_path: Path | str,
        mmproj_path: Path | str,
        *,
        context_tokens: int = 4096,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        device: str | None = None,
        model_id: str | None = None,
    ) -> None:
        from models.providers import llama_offload

        path = Path(model_path)
        self.mmproj = Path(mmproj_path)
        layers = llama_offload(device, n_gpu_layers).n_gpu_layers
        info = check_chat_gguf(path, context_tokens, gpu_layers=layers)
        check_projector(self.mmproj, int(info.get("{arch}.embedding_length", 0) or 0), path)
        super().__init__(path, context_tokens, info,
                         model_id or f"llama.cpp:{path.name}+{self.mmproj.name}")  # fmt: skip
        self._handler = _handler_class()(
            clip_model_path=str(self.mmproj), verbose=False, use_gpu=layers != 0
        )
        self._llm, self.offload_report = open_llama(
            self.path, n_ctx=self.context_tokens, n_threads=n_threads, device=device,
            n_gpu_layers=n_gpu_layers, chat_handler=self._handler,
        )  # fmt: skip
        template = str(self._llm.metadata.get("tokenizer.chat_template") or "")
        self._handler.flatten = "['type']" not in template and '["type"]' not in template
        if not template:
            self._llm.metadata["tokenizer.chat_template"] = CHATML
        try:
            self._handler._init_mtmd_context(self._llm)
        except ValueError as exc:
            self.close()
            raise WrongModelKindError(
                f"{self.mmproj} does not match {self.path.name} (or is not a projector llama.cpp "
                f"supports): {exc}"
            ) from exc

    def supports_images(self) -> bool:
        return True

    def _messages(self, messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for m in messages:
            if m.images and m.role == "user":
                parts: list[dict[str, Any]] = [
                    {"type": "image_url", "image_url": {"url": image_data_uri(p)}} for p in m.images
                ]
                parts.append({"type": "text", "text": m.content})
                out.append({"role": m.role, "content": parts})
            else:
                out.append({"role": m.role, "content": m.content})
        return out

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        temperature: float = 0.2,
        should_cancel: CancelCheck | None = None,
    ) -> Iterator[str]:
        with self._lock:
            pieces = self._pieces(self._messages(messages), max_tokens, temperature)
            yield from self._timed(pieces, budget=max_tokens, should_cancel=should_cancel)

    def _pieces(
        self, messages: list[dict[str, Any]], max_tokens: int, temperature: float
    ) -> Iterator[str]:
        """The text of each generated token (mtmd evaluates the images in the prompt)."""
        try:
            chunks = self.llama.create_chat_completion(
                messages=messages, stream=True, max_tokens=max_tokens, temperature=temperature
            )
            try:
                for chunk in chunks:
                    delta = chunk["choices"][0].get("delta", {})
                    if "content" in delta:
                        yield delta.get("content") or ""
            finally:
                chunks.close()
        except ValueError as exc:
            raise InferenceError(f"{self.model_id} could not answer: {exc}") from exc

    def complete(self, messages: Sequence[ChatMessage], **kwargs: Any) -> str:
        return "".join(self.stream(messages, **kwargs))


def load_vision_model(
    runtime: str, files: Sequence[Path], meta: dict[str, Any]
) -> LlamaVisionModel:
    """Factory entry: ``runtime`` "llama.cpp", files = [model.gguf, mmproj.gguf] (any order)."""
    if runtime not in ("llama.cpp", "llama.cpp-mtmd"):
        raise ModelConfigError(f"Unknown vision runtime {runtime!r}; Saem runs them on llama.cpp.")
    paths = [Path(f) for f in files]
    if len(paths) != 2:
        raise WrongModelKindError("A vision model is a language model GGUF plus its mmproj GGUF.")
    projector = [p for p in paths if read_gguf(p).is_projector]
    if len(projector) != 1:
        raise WrongModelKindError(
            f"Exactly one of {paths[0].name}, {paths[1].name} must be the mmproj projector."
        )
    model = paths[0] if paths[1] == projector[0] else paths[1]
    return LlamaVisionModel(
        model, projector[0], context_tokens=int(meta.get("context_tokens", 4096)),
        n_threads=meta.get("n_threads"), n_gpu_layers=meta.get("n_gpu_layers"),
        device=meta.get("device"), model_id=meta.get("model_id"),
    )  # fmt: skip
