"""Prompts of the assistant: language, instructions, numbered sources and the token budget.

Prompts are short on purpose: on a 2-core CPU every prompt token costs time before the first
answer token. Sources are rendered inside the user turn that asked for them and kept verbatim
in later turns, so a follow-up's prompt starts with exactly the tokens of the previous turn
and llama.cpp re-uses their KV cache (only the new turn is evaluated).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN = re.compile(r"[A-Za-z]")

SYSTEM_ASK = {
    "en": (
        "Use only the numbered notes in the user's message to answer. Answer in one short "
        "sentence that copies the exact words, names and numbers of the note that answers "
        "(never change a name or a number), and put the note's number in brackets after it, "
        "like [1]. If the notes do not answer the question, say that your notes do not say. "
        "Do not guess. Answer in English."
    ),
    "ko": (
        "사용자 메시지의 번호 붙은 노트만 사용해 답하세요. "
        "답이 있는 노트의 낱말, 이름, 숫자를 그대로 옮겨 짧은 한 문장으로 답하고(이름과 숫자를 "
        "바꾸지 마세요), 그 뒤에 노트 번호를 [1]처럼 괄호로 붙이세요. 노트에 답이 없으면 노트에 "
        "없다고 말하세요. 추측하지 마세요. 한국어로 답하세요."
    ),
}
SYSTEM_PHOTO_SEE = {
    "en": (
        "You answer questions about the user's photos. You see the attached photo. Also use "
        "the text found in it (OCR), its date, place and tags, and the numbered notes; cite "
        "notes like [1]. Copy names, dates and amounts exactly as the photo's text writes "
        "them; a total is the amount on the row labelled total. Answer in English, briefly."
    ),
    "ko": (
        "사용자의 사진에 대한 질문에 답하세요. 첨부된 사진을 볼 수 있습니다. 사진 속 글자(OCR), "
        "날짜, 장소, 태그와 번호 붙은 노트도 사용하고 노트는 [1]처럼 인용하세요. 이름, 날짜, "
        "금액은 사진 속 글자 그대로 옮기고, 합계는 합계라고 적힌 줄의 금액입니다. 한국어로 짧게 "
        "답하세요."
    ),
}
SYSTEM_PHOTO_BLIND = {
    "en": (
        "You answer questions about the user's photos, but you CANNOT see images. You only "
        "have the text found in the photo (OCR), its date, place, tags and the numbered "
        "notes; cite notes like [1]. Copy names, dates and amounts exactly as the photo's text "
        "writes them; a total is the amount on the row labelled total. If the question is "
        "about what the picture looks like and these do not say, answer that you cannot see "
        "the picture. Never describe what you cannot see. Answer in English, briefly."
    ),
    "ko": (
        "사용자의 사진에 대한 질문에 답하지만, 당신은 이미지를 볼 수 없습니다. 사진 속 글자"
        "(OCR), 날짜, 장소, 태그와 번호 붙은 노트만 있습니다. 노트는 [1]처럼 인용하세요. 이름, "
        "날짜, 금액은 사진 속 글자 그대로 옮기고, 합계는 합계라고 적힌 줄의 금액입니다. "
        "질문이 사진의 모습에 관한 것이고 이 정보로 알 수 없으면 "
        "사진을 볼 수 없다고 답하세요. 보이지 않는 것을 묘사하지 마세요. 한국어로 짧게 답하세요."
    ),
}
REWRITE = {
    "en": (
        "Rewrite my next question as one standalone search query that needs no earlier "
        "messages. Reply with the query only.\nNext question: "
    ),
    "ko": (
        "다음 질문을 이전 대화 없이도 이해되는 하나의 검색어 문장으로 바꿔 쓰세요. 검색어만 "
        "답하세요.\n다음 질문: "
    ),
}
NOT_FOUND = {
    "en": "I could not find this in your notes.",
    "ko": "노트에서 이 내용을 찾을 수 없습니다.",
}
NO_ANSWER = {
    "en": "The model gave no answer.",
    "ko": "모델이 답을 내지 못했습니다.",
}
CANNOT_SEE = {
    "en": (
        "No vision model is installed, so I cannot see this photo: this answer uses only the "
        "text found in it, its date, place and tags, and your notes."
    ),
    "ko": (
        "비전 모델이 설치되어 있지 않아 사진을 볼 수 없습니다. 이 답은 사진 속 글자, 날짜, "
        "장소, 태그와 노트만 사용합니다."
    ),
}
QUESTION = {"en": "Question: ", "ko": "질문: "}
HINT = {
    "en": "The sentence of my notes that most likely answers: ",
    "ko": "답이 있을 가능성이 가장 큰 노트 문장: ",
}
SOURCES = {"en": "Sources from my notes:", "ko": "내 노트의 출처:"}


def detect_language(text: str) -> str:
    """``"ko"`` when Hangul makes up a real part of the letters, else ``"en"``."""
    hangul = len(_HANGUL.findall(text))
    latin = len(_LATIN.findall(text))
    if hangul == 0:
        return "en"
    # a Hangul syllable carries ~2-3 Latin letters' worth of text
    return "ko" if hangul * 2.5 >= latin * 0.5 else "en"


@dataclass(frozen=True)
class PromptSource:
    """A numbered piece of a note (or photo text) as the model sees it."""

    number: int
    title: str
    heading: str
    text: str

    def render(self) -> str:
        """``[n] text`` then ``(title › heading)`` on its own line: with the title right after
        the number, a small model answered "[1] <title>" (it copied the label)."""
        label = self.title or "Untitled"
        if self.heading and self.heading.strip("# ").lower() != label.lower():
            label += " › " + self.heading.strip("# ")
        return f"[{self.number}] {self.text.strip()}\n({label})"


def render_sources(sources: Sequence[PromptSource], lang: str) -> str:
    if not sources:
        return ""
    return SOURCES[lang] + "\n" + "\n\n".join(s.render() for s in sources)


def user_turn(question: str, sources: Sequence[PromptSource], lang: str, extra: str = "") -> str:
    """The user turn: (photo facts) + numbered sources + the question."""
    parts = [p for p in (extra.strip(), render_sources(sources, lang)) if p]
    parts.append(QUESTION[lang] + question.strip())
    return "\n\n".join(parts)


def fit_text(text: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """``text`` cut (at a sentence or word boundary when possible) to ``max_tokens``."""
    if max_tokens <= 0:
        return ""
    n = count(text)
    if n <= max_tokens:
        return text
    cut = text
    while n > max_tokens and cut:
        keep = max(1, int(len(cut) * max_tokens / n * 0.95))
        cut = cut[:keep]
        boundary = max(cut.rfind(". "), cut.rfind("다. "), cut.rfind("\n"))
        if boundary > len(cut) // 2:
            cut = cut[: boundary + 1]
        elif " " in cut[len(cut) // 2 :]:
            cut = cut[: cut.rfind(" ")]
        n = count(cut + " …")
    return cut.rstrip() + " …" if cut else ""


def pack_sources(
    candidates: Sequence[PromptSource],
    budget_tokens: int,
    count: Callable[[str], int],
    *,
    max_sources: int = 5,
    min_tokens: int = 48,
) -> list[PromptSource]:
    """The best candidates that fit in ``budget_tokens`` (in order); long ones are cut so
    that at least the best few fit rather than one long chunk taking everything."""
    out: list[PromptSource] = []
    left = budget_tokens
    todo = list(candidates)[:max_sources]
    for i, src in enumerate(todo):
        if left < min_tokens:
            break
        share = max(min_tokens, left // max(1, min(3, len(todo) - i)))
        rendered = src.render()
        cost = count(rendered) + 2
        if cost > share:
            header = count(PromptSource(src.number, src.title, src.heading, "").render()) + 4
            text = fit_text(src.text, share - header, count)
            if not text:
                continue
            src = PromptSource(src.number, src.title, src.heading, text)
            cost = count(src.render()) + 2
        out.append(src)
        left -= cost
    return out
