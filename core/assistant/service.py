"""`Assistant`: answers from your notes with citations, and chat about photos.

``ask``: question → (follow-up? the LLM rewrites it from the chat, else concatenation) →
hybrid search → the best chunks that fit the model's context (deduplicated, with their
heading) → numbered sources → the local LLM streams an answer citing ``[1]``, ``[2]`` →
citations parsed into (item, chunk span) links. When no retrieved chunk is relevant enough
(query-word coverage and meaning similarity under thresholds) it says the notes do not
contain the answer instead of asking the model to invent one.

``photo_chat``: the photo's facts (OCR lines with positions, EXIF time and place, tags,
caption, linked/same-day notes) + the conversation → the vision model with the picture when
one is installed; otherwise the text model, told that it cannot see, and the answer carries
a notice saying so.

Storage policy: a turn (question + answer) is written in ONE transaction only after the
answer is complete. A cancelled or failed answer raises (``CancelledError`` /
``AssistantError``) and stores nothing — the chat is exactly as before.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from core.assistant.answer import Answer as Answer
from core.assistant.answer import Timing
from core.assistant.chats import Chat, ChatsService, NewMessage
from core.assistant.citations import parse_citations
from core.assistant.grounding import cut_source, fallback, unsupported
from core.assistant.history import check_question, known_sources, question_of
from core.assistant.history import history as history_of
from core.assistant.instant import InstantAnswer, InstantAnswerer
from core.assistant.photo_chat import check_decodes, photo_facts, wants_photo_search
from core.assistant.prompting import (
    CANNOT_SEE,
    HINT,
    NO_ANSWER,
    NOT_FOUND,
    REWRITE,
    SYSTEM_ASK,
    SYSTEM_PHOTO_BLIND,
    SYSTEM_PHOTO_SEE,
    detect_language,
    pack_sources,
    user_turn,
)
from core.assistant.retrieval import Retriever, Source, query_terms
from core.errors import (
    AnswerFailedError,
    AssistantModelError,
    CancelledError,
    ContextTooSmallError,
    InputTooLargeError,
)
from models.errors import ModelError
from models.protocols import ChatMessage, ChatModel, VisionChatModel
from storage.ids import ChatId

if TYPE_CHECKING:
    from core.library import Library
    from core.search.searcher import Searcher

TokenCallback = Callable[[str], None]
InstantCallback = Callable[[InstantAnswer | None], None]
CancelCheck = Callable[[], bool]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
IMAGE_TOKENS = 600  # reserved for one image in a vision prompt (mtmd)
TRUST_COVERAGE = 0.5  # instant answers holding less of the question are not put first


def _keeping_models(method: Callable[..., Answer]) -> Callable[..., Answer]:
    """No model is released as idle while an answer is being written."""

    @functools.wraps(method)
    def run(self: Assistant, *args: Any, **kwargs: Any) -> Answer:
        with self.library.models.busy():
            return method(self, *args, **kwargs)

    return run


class Assistant:
    """One per library (cheap); models come from ``library.models`` unless given."""

    def __init__(
        self,
        library: Library,
        *,
        chat_model: ChatModel | None = None,
        vision_model: VisionChatModel | None = None,
        searcher: Searcher | None = None,
        max_answer_tokens: int = 320,
        temperature: float = 0.2,
        max_sources: int = 5,
        max_source_tokens: int = 800,
        rewrite: bool = True,
        grounding: bool = True,
    ) -> None:
        self.library = library
        self.chats = ChatsService(library.db, library.docs)
        self._chat_model = chat_model
        self._vision_model = vision_model
        self.retriever = Retriever(library, searcher)
        self.instants = InstantAnswerer(library, self.retriever)
        self.max_answer_tokens = max_answer_tokens
        self.temperature = temperature
        self.max_sources = max_sources
        self.max_source_tokens = max_source_tokens  # all sources of a turn (time to 1st token)
        self.rewrite = rewrite
        # focus sources on the sentences that matter, keep the instant answer's source, show
        # OCR text as laid out; False = the pipeline before them (the benchmarks' baseline)
        self.grounding = grounding

    # -- models -------------------------------------------------------------------------------

    def chat_model(self) -> ChatModel:
        """The chat model given to the assistant, else the library's (taken from the model
        manager on each use, never kept: an idle one can then be released)."""
        if self._chat_model is not None:
            return self._chat_model
        try:
            return self.library.models.chat()
        except ModelError as exc:
            raise AssistantModelError(f"No chat model can be used: {exc.user_message}") from exc

    def vision_model(self) -> VisionChatModel | None:
        """The vision chat model when one is installed, else None (never guesses)."""
        if self._vision_model is not None:
            return self._vision_model
        manager = self.library.models
        if manager.active("vision-chat") is None:
            return None
        try:
            model = manager.vision_chat()
        except ModelError as exc:
            raise AssistantModelError(
                f"The vision model cannot be used: {exc.user_message}"
            ) from exc
        if not model.supports_images():
            return None
        return model  # the manager keeps one LLM in memory; chat reloads on demand

    # -- ask your notes -----------------------------------------------------------------------

    def instant(self, question: str, *, photo_id: str | None = None) -> InstantAnswer | None:
        """The sentence / table row / OCR row of the library that most likely answers
        ``question`` (within one photo when ``photo_id`` is given), in milliseconds, no LLM."""
        question = check_question(question)
        if photo_id is not None:
            photo_id = self.library.resolve(photo_id.strip(), "photo").id
        return self.instants.answer(question, photo_id=photo_id)

    @_keeping_models
    def ask(
        self,
        question: str,
        chat_id: str | None = None,
        *,
        on_token: TokenCallback | None = None,
        should_cancel: CancelCheck | None = None,
        on_instant: InstantCallback | None = None,
    ) -> Answer:
        started = time.perf_counter()
        question = check_question(question)
        chat = self.chats.get(ChatId(chat_id)) if chat_id else None
        lang = detect_language(question)
        if wants_photo_search(question):
            return self._photo_search(question, question, chat, lang, on_token, [])
        instant = self.instants.answer(question)
        if on_instant is not None:
            on_instant(instant)
        model = self.chat_model()
        self._check_fits(model, question)
        system = ChatMessage("system", SYSTEM_ASK[lang])
        history, known = history_of(chat)
        timing = Timing()
        query = question
        if history and self.rewrite:
            t = time.perf_counter()
            query = self._rewrite(model, [system, *history], question, lang, should_cancel)
            timing.rewrite_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        trusted = self._trusted(instant) if query == question else None
        must = {trusted.item_id: trusted.start} if trusted else {}
        found = self.retriever.retrieve(query, also=question if query != question else None,
                                        must=must)  # fmt: skip
        timing.retrieval_ms = (time.perf_counter() - t) * 1000
        terms = query_terms(f"{query} {question}")
        fresh = [self._cut(s, terms, trusted) for s in found.sources if s.key not in known]
        if trusted:  # the source holding the trusted instant answer's sentence goes first
            fresh.sort(key=lambda s: s.item_id != trusted.item_id)
        next_number = max((n for n in known.values()), default=0) + 1
        for i, s in enumerate(fresh):
            s.number = next_number + i
        budget = min(self._budget(model, [system, *history], question), self.max_source_tokens)
        packed = pack_sources([s.prompt() for s in fresh], budget, model.count_tokens,
                              max_sources=self.max_sources)  # fmt: skip
        by_number = {s.number: s for s in fresh}
        given = [by_number[p.number].with_text(p.text) for p in packed]
        if not found.grounded and not known_sources(chat):
            text = NOT_FOUND[lang]
            if on_token:
                on_token(text)
            answer = self._store(chat, question, text, lang, given, False, query, timing,
                                 citations_from=given)  # fmt: skip
            answer.instant = instant
            return answer
        # the trusted instant answer's sentence, quoted above the sources: the small model
        # copies from it instead of searching five paragraphs (stored with the turn)
        hint = HINT[lang] + trusted.text[:300] if trusted else ""
        messages, given = self._fit(model, system, history, question, given, lang, extra=hint)
        said = self._generate(model, messages, timing, started, on_token, should_cancel, lang)
        cited = [*known_sources(chat), *given]
        flagged = unsupported(said, [s.text for s in cited], question)
        # an answer stating a value found in no source, or nothing at all, is flagged and the
        # instant answer's sentence is shown after it (streamed too: the stored text is shown)
        number = next((s.number for s in cited if instant and s.item_id == instant.item_id), None)
        titles = [s.title for s in cited]
        added = fallback(said, flagged, instant, number, lang, question=question, titles=titles,
                         sources=[s.text for s in cited]) if self.grounding else ""  # fmt: skip
        if added and on_token:
            on_token(added)
        answer = self._store(chat, question, said + added, lang, given, True, query, timing,
                             citations_from=cited, extra=hint)  # fmt: skip
        answer.instant, answer.unsupported = instant, flagged
        answer.model_text, answer.replaced = said, bool(added)
        return answer

    def _trusted(self, instant: InstantAnswer | None) -> InstantAnswer | None:
        """The instant answer when it is about what was asked (it holds enough of the
        question's key words, its item's title — a receipt's store — included): only then is
        its source put first and its sentence quoted. A total row of *another* receipt holds
        "total" but not the store asked about, and stays an ordinary candidate."""
        if not self.grounding or instant is None or instant.coverage < TRUST_COVERAGE:
            return None
        return instant

    def _cut(self, source: Source, terms: list[str], trusted: InstantAnswer | None) -> Source:
        if not self.grounding:
            return source
        at = None
        if trusted and trusted.item_id == source.item_id and trusted.kind != "photo":
            offset = trusted.start - source.start
            at = offset if 0 <= offset < len(source.text) else None
        return source.with_text(cut_source(source.text, terms, kind=source.kind, at=at))

    def _rewrite(
        self,
        model: ChatModel,
        prefix: list[ChatMessage],
        question: str,
        lang: str,
        should_cancel: CancelCheck | None,
    ) -> str:
        """A standalone search query for a follow-up. The prompt shares the chat's prefix (KV
        reuse); a useless rewrite falls back to the previous question + this one."""
        last_user = next((m.content for m in reversed(prefix) if m.role == "user"), "")
        fallback = f"{question_of(last_user)} {question}".strip()
        try:
            out = model.complete(
                [*prefix, ChatMessage("user", REWRITE[lang] + question)],
                max_tokens=40, temperature=0.0, should_cancel=should_cancel,
            )  # fmt: skip
        except ModelError:
            return fallback
        if should_cancel and should_cancel():
            raise CancelledError("The answer was cancelled; nothing was stored.")
        out = out.strip().strip('"').splitlines()[0].strip() if out.strip() else ""
        if len(out) < 3 or len(out) > 300 or "[" in out:
            return fallback
        anchors = query_terms(fallback)
        if anchors and not any(t in out.lower() for t in anchors):
            return fallback  # the rewrite lost every word of the conversation: not trusted
        return out

    # -- photo chat ---------------------------------------------------------------------------

    @_keeping_models
    def photo_chat(
        self,
        photo_id: str,
        question: str,
        chat_id: str | None = None,
        *,
        on_token: TokenCallback | None = None,
        should_cancel: CancelCheck | None = None,
        on_instant: InstantCallback | None = None,
    ) -> Answer:
        started = time.perf_counter()
        question = check_question(question)
        chat = self.chats.get(ChatId(chat_id)) if chat_id else None
        facts = photo_facts(self.library, photo_id)
        lang = detect_language(question)
        if wants_photo_search(question):
            return self._photo_search(question, facts.search_terms() or question, chat, lang,
                                      on_token, [facts.photo_id])  # fmt: skip
        instant = self.instants.answer(question, photo_id=facts.photo_id)
        if on_instant is not None:
            on_instant(instant)
        vision = self.vision_model()
        if vision is not None:
            check_decodes(facts.blob_path)
        model = vision or self.chat_model()
        self._check_fits(model, question)
        system = ChatMessage("system", (SYSTEM_PHOTO_SEE if vision else SYSTEM_PHOTO_BLIND)[lang])
        history, known = history_of(chat)
        timing = Timing()
        order = chat.photos() if chat else []  # photos of the chat: P1, P2… in order
        if facts.photo_id not in order:
            order.append(facts.photo_id)
        extra = facts.render(f"P{order.index(facts.photo_id) + 1}", lang, layout=self.grounding)
        t = time.perf_counter()
        notes = self.retriever.note_sources(facts.note_ids, f"{question} {facts.search_terms()}")
        timing.retrieval_ms = (time.perf_counter() - t) * 1000
        fresh = [s for s in notes if s.key not in known]
        next_number = max(known.values(), default=0) + 1
        for i, s in enumerate(fresh):
            s.number = next_number + i
        reserve = model.count_tokens(extra) + (IMAGE_TOKENS if vision else 0)
        budget = min(self._budget(model, [system, *history], question) - reserve,
                     self.max_source_tokens)  # fmt: skip
        if budget < 0 and not history:
            raise ContextTooSmallError(
                f"This photo's text and facts do not fit in {model.model_id}'s context of "
                f"{model.context_tokens} tokens; use a model with a longer context."
            )
        packed = pack_sources([s.prompt() for s in fresh], max(budget, 0), model.count_tokens,
                              max_sources=3)  # fmt: skip
        by_number = {s.number: s for s in fresh}
        given = [by_number[p.number].with_text(p.text) for p in packed]
        images = (str(facts.blob_path),) if vision else ()
        messages, given = self._fit(model, system, history, question, given, lang, extra=extra,
                                    images=images)  # fmt: skip
        said = self._generate(model, messages, timing, started, on_token, should_cancel, lang)
        texts = [extra, *(s.text for s in given)]
        flagged = unsupported(said, texts, question)
        titles = [s.title for s in given]
        added = fallback(said, flagged, instant, None, lang, question=question, titles=titles,
                         sources=texts) if self.grounding else ""  # fmt: skip
        if added and on_token:
            on_token(added)
        answer = self._store(chat, question, said + added, lang, given, True, question, timing,
                             citations_from=[*known_sources(chat), *given],
                             photos=[facts.photo_id], extra=extra,
                             title_photo=facts.photo_id)  # fmt: skip
        answer.notice = "" if vision else CANNOT_SEE[lang]
        answer.saw_images = [i for m in messages for i in m.images]
        answer.instant, answer.unsupported = instant, flagged
        answer.model_text, answer.replaced = said, bool(added)
        return answer

    def _photo_search(
        self,
        question: str,
        terms: str,
        chat: Chat | None,
        lang: str,
        on_token: TokenCallback | None,
        exclude: list[str],
    ) -> Answer:
        """ "Find photos like this / about this": a photo search, listed as the answer."""
        t = time.perf_counter()
        hits = [h for h in self.retriever.photo_search(terms) if h.item_id not in exclude]
        timing = Timing(retrieval_ms=(time.perf_counter() - t) * 1000)
        if hits:
            head = "찾은 사진:" if lang == "ko" else "Photos found:"
            lines = [f"{i}. {h.title or h.item_id[:8]}" for i, h in enumerate(hits[:10], 1)]
            text = "\n".join([head, *lines])
        else:
            text = "맞는 사진을 찾지 못했습니다." if lang == "ko" else "No matching photos found."
        if on_token:
            on_token(text)
        sources = [Source.from_hit(i, h) for i, h in enumerate(hits[:10], 1)]
        answer = self._store(chat, question, text, lang, sources, bool(hits), terms, timing,
                             citations_from=[], photos=exclude)  # fmt: skip
        answer.photo_hits = hits
        return answer

    # -- shared -------------------------------------------------------------------------------

    def _check_fits(self, model: ChatModel, question: str) -> None:
        n = model.count_tokens(question)
        if n > model.context_tokens // 2:
            raise InputTooLargeError(
                f"The question is {n} tokens long but {model.model_id} reads at most "
                f"{model.context_tokens} tokens including the notes and the answer; shorten it."
            )

    def _fit(
        self,
        model: ChatModel,
        system: ChatMessage,
        history: list[ChatMessage],
        question: str,
        given: list[Source],
        lang: str,
        *,
        extra: str = "",
        images: tuple[str, ...] = (),
    ) -> tuple[list[ChatMessage], list[Source]]:
        """The final messages, measured as a whole: while prompt + answer exceed the context,
        drop the weakest source, then the oldest turn; a question that still does not fit
        is an error (the model would only fail later)."""
        history = list(history)
        given = list(given)
        answer = min(self.max_answer_tokens, model.context_tokens // 4)
        reserve = IMAGE_TOKENS if images else 0
        while True:
            prompt = user_turn(question, [s.prompt() for s in given], lang, extra=extra)
            messages = [system, *history, ChatMessage("user", prompt, images=images)]
            used = sum(model.count_tokens(m.content) + 8 for m in messages)
            if int(used * 1.05) + 8 + answer + reserve <= model.context_tokens:
                return messages, given
            if given:
                given.pop()
            elif len(history) >= 2:
                del history[:2]
            else:
                raise ContextTooSmallError(
                    f"The question and the facts it needs ({used} tokens) do not fit in "
                    f"{model.model_id}'s context of {model.context_tokens} tokens."
                )

    def _budget(self, model: ChatModel, prefix: Sequence[ChatMessage], question: str) -> int:
        used = sum(model.count_tokens(m.content) + 6 for m in prefix)
        used += model.count_tokens(question) + 24
        answer = min(self.max_answer_tokens, model.context_tokens // 4)
        return model.context_tokens - used - answer

    def _generate(
        self,
        model: ChatModel,
        messages: list[ChatMessage],
        timing: Timing,
        started: float,
        on_token: TokenCallback | None,
        should_cancel: CancelCheck | None,
        lang: str,
    ) -> str:
        pieces: list[str] = []
        t0 = time.perf_counter()
        try:
            for piece in model.stream(
                messages, max_tokens=self.max_answer_tokens, temperature=self.temperature,
                should_cancel=should_cancel,
            ):  # fmt: skip
                if timing.first_token_ms is None:
                    now = time.perf_counter()
                    timing.first_token_ms = (now - started) * 1000
                    timing.prompt_to_first_ms = (now - t0) * 1000
                pieces.append(piece)
                timing.tokens += 1
                if on_token:
                    on_token(piece)
                if should_cancel and should_cancel():
                    break
        except ModelError as exc:
            raise AnswerFailedError(f"The model could not answer: {exc.user_message}") from exc
        end = time.perf_counter()
        timing.generation_s = end - t0
        if timing.prompt_to_first_ms is not None:
            timing.decode_s = end - t0 - timing.prompt_to_first_ms / 1000
        if should_cancel and should_cancel():
            raise CancelledError("The answer was cancelled; nothing was stored.")
        return _CONTROL.sub("", "".join(pieces)).strip() or NO_ANSWER[lang]

    def _store(
        self,
        chat: Chat | None,
        question: str,
        text: str,
        lang: str,
        given: list[Source],
        grounded: bool,
        query: str,
        timing: Timing,
        *,
        citations_from: list[Source],
        photos: list[str] | None = None,
        extra: str = "",
        title_photo: str | None = None,
    ) -> Answer:
        registry = {s.number: s for s in citations_from}
        citations = parse_citations(text, registry)
        user = NewMessage("user", question, [{"extra": extra}] if extra else [],
                          photos=list(photos or []))  # fmt: skip
        reply = NewMessage("assistant", text, [s.to_json() for s in given])
        chat_id, first = self.chats.append_turn(
            chat.id if chat else None, [user, reply], title=question, photo_item_id=title_photo
        )
        return Answer(text, chat_id, lang, given, citations, grounded, query, timing=timing,
                      message_ord=first + 1)  # fmt: skip
