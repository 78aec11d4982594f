"""One small interface per model kind. Runtimes implement these; core depends only on them.

Implementations load lazily (nothing heavy at import), expose ``model_id`` (stable, used as
the key of stored vectors), and free native resources in ``close()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Vector: TypeAlias = NDArray[np.float32]


def __getattr__(name: str) -> Any:
    """``Vector`` is made on first use (PEP 562): importing the protocols — which ``core``
    does at start-up, e.g. the desktop window — does not import numpy (≈0.3–0.9 s)."""
    if name == "Vector":
        import numpy as np
        from numpy.typing import NDArray

        return NDArray[np.float32]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@runtime_checkable
class TextEmbedder(Protocol):
    """Text → L2-normalized vectors. Queries and passages may be encoded differently (e5)."""

    model_id: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> Vector: ...  # shape (n, dim)
    def embed_passages(self, texts: Sequence[str]) -> Vector: ...  # shape (n, dim)
    def close(self) -> None: ...


@dataclass(frozen=True)
class OcrWord:
    text: str
    confidence: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels of the upright image


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: float
    box: tuple[float, float, float, float]
    block: int
    line: int
    engine: str = ""
    words: tuple[OcrWord, ...] = ()


@runtime_checkable
class OcrEngine(Protocol):
    """An image (path or RGB array, upright) → text lines in reading order."""

    model_id: str

    def read(self, image: Any) -> list[OcrLine]: ...
    def close(self) -> None: ...


@runtime_checkable
class ImageTextEmbedder(Protocol):
    """CLIP-style: images and texts → vectors in one space."""

    model_id: str
    dim: int

    def embed_images(self, images: Sequence[Any]) -> Vector: ...
    def embed_texts(self, texts: Sequence[str]) -> Vector: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class TagScore:
    tag: str  # plain user tag ("dog", "beach", "people")
    score: float
    source: str = ""  # raw label that produced it ("golden retriever", "coco:dog")


@dataclass(frozen=True)
class ImageTags:
    tags: list[TagScore]
    people: int = 0
    raw_labels: list[tuple[str, float]] = field(default_factory=list)
    class_probs: Any = None  # classifier probabilities (for semantic vectors)
    colors: list[str] = field(default_factory=list)  # colour names ("red") the tagger saw


@runtime_checkable
class ImageTagger(Protocol):
    """An image → tags; ``ocr_lines`` (text already read in it) may refine them (a receipt)."""

    model_id: str

    def tag(self, image: Any, ocr_lines: Sequence[OcrLine] | None = None) -> ImageTags: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system | user | assistant
    content: str
    images: tuple[str, ...] = ()  # file paths (vision models only)


CancelCheck = Callable[[], bool]


@runtime_checkable
class ChatModel(Protocol):
    """Streaming chat completion. ``context_tokens`` is the budget prompt + answer share."""

    model_id: str
    context_tokens: int

    def count_tokens(self, text: str) -> int: ...
    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        temperature: float = 0.2,
        should_cancel: CancelCheck | None = None,
    ) -> Iterator[str]: ...
    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        temperature: float = 0.2,
        should_cancel: CancelCheck | None = None,
    ) -> str: ...  # the whole answer of ``stream``
    def close(self) -> None: ...


@runtime_checkable
class VisionChatModel(ChatModel, Protocol):
    """A chat model that also sees the images attached to messages."""

    def supports_images(self) -> bool: ...
