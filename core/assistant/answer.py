"""What an answer carries back to the interface: text, sources, citations, timing, the instant
answer shown before it, and what the check against the sources found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.assistant.citations import Citation
from core.assistant.instant import InstantAnswer
from core.assistant.retrieval import Source

if TYPE_CHECKING:
    from core.search.searcher import SearchHit


@dataclass
class Timing:
    rewrite_ms: float = 0.0
    retrieval_ms: float = 0.0
    first_token_ms: float | None = None  # from the call until the first answer token
    prompt_to_first_ms: float | None = None  # from the model call until the first token
    generation_s: float = 0.0  # model call until the last token (prompt evaluation included)
    decode_s: float = 0.0  # first token until the last one
    tokens: int = 0

    @property
    def tokens_per_s(self) -> float:
        """Decoding speed (after the first token)."""
        return (self.tokens - 1) / self.decode_s if self.decode_s > 0 and self.tokens > 1 else 0.0


@dataclass
class Answer:
    text: str
    chat_id: str
    language: str
    sources: list[Source]  # the sources given to the model in this turn
    citations: list[Citation]
    grounded: bool  # retrieval found something relevant (else: "not in your notes")
    query: str  # what was searched (the rewritten question on follow-ups)
    notice: str = ""  # e.g. "No vision model is installed, so I cannot see this photo…"
    photo_hits: list[SearchHit] = field(default_factory=list)  # "find photos like this"
    saw_images: list[str] = field(default_factory=list)  # image files the model was given
    timing: Timing = field(default_factory=Timing)
    message_ord: int = 0  # ord of the assistant message in the chat
    instant: InstantAnswer | None = None  # shown before the model ran
    unsupported: list[str] = field(default_factory=list)  # numbers/names found in no source
    model_text: str = ""  # the model's own words (``text`` adds the checked fallback to them)
    replaced: bool = False  # the model's answer failed the check: the instant sentence is shown
