"""The chat so far as the model saw it, and the checks on a new question.

Turns are rebuilt exactly (sources and photo facts included) so that a follow-up's prompt
starts with the same tokens as the previous turn's and llama.cpp re-uses its KV cache.
"""

from __future__ import annotations

from typing import Any

from core.assistant.chats import Chat
from core.assistant.prompting import NOT_FOUND, detect_language, user_turn
from core.assistant.retrieval import Source
from core.errors import EmptyInputError, InputTooLargeError, MalformedInputError
from models.protocols import ChatMessage

MAX_QUESTION_CHARS = 8000


def check_question(question: str) -> str:
    question = (question or "").strip()
    if not question:
        raise EmptyInputError("Ask a question (it was empty).")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputTooLargeError(
            f"The question is {len(question):,} characters long; the limit is "
            f"{MAX_QUESTION_CHARS:,}. Ask something shorter."
        )
    if "\x00" in question:
        raise MalformedInputError("The question contains NUL bytes.")
    return question


def question_of(user_content: str) -> str:
    for marker in ("Question: ", "질문: "):
        if marker in user_content:
            return user_content.rsplit(marker, 1)[-1].strip()
    return user_content.strip()


def known_sources(chat: Chat | None) -> list[Source]:
    if chat is None:
        return []
    out = []
    for m in chat.messages:
        if m.role == "assistant":
            out += [Source.from_json(d) for d in m.sources if "item_id" in d]
    return out


def history(chat: Chat | None) -> tuple[list[ChatMessage], dict[Any, int]]:
    """The chat's turns exactly as the model saw them (sources and photo facts included, so
    the prompt prefix repeats and llama.cpp re-uses its KV cache), and the sources already
    given (key → number) so that follow-ups keep numbering instead of repeating them."""
    if chat is None:
        return [], {}
    out: list[ChatMessage] = []
    known: dict[Any, int] = {}
    msgs = chat.messages
    for i, m in enumerate(msgs):
        if m.role == "user":
            reply = msgs[i + 1] if i + 1 < len(msgs) and msgs[i + 1].role == "assistant" else None
            given = [Source.from_json(d) for d in reply.sources] if reply else []
            extra = next((d.get("extra", "") for d in m.sources if "extra" in d), "")
            lang = detect_language(m.content)
            prompt = (
                user_turn(
                    m.content, [s.prompt() for s in given if s.kind != "photo"], lang, extra=extra
                )
                if reply and reply.content not in NOT_FOUND.values()
                else m.content
            )
            # Earlier photos are described by their facts block; only the photo of the
            # current turn is attached as an image (it keeps the context small).
            out.append(ChatMessage("user", prompt))
        elif m.role == "assistant":
            out.append(ChatMessage("assistant", m.content))
            for s in (Source.from_json(d) for d in m.sources):
                known.setdefault(s.key, s.number)
    return out, known
