"""Keeping the LLM close to the sources: sources cut to the sentences that matter, and answers
whose numbers or names appear in no source flagged.

A small model given a long paragraph answers a neighbouring fact; given the two sentences that
hold the question's words (and their neighbours) it copies the right one, and the prompt is
shorter (faster first token). After the answer, every number it states and every capitalized
name it introduces is looked for in the sources (and the question); what is found nowhere is
reported, so the interface can say "not found in your notes" next to it instead of letting an
invented "12" pass for a total.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.assistant.instant import InstantAnswer, split_units

# a number may be followed by a Korean counter ("1418년", "2년", "600만"): only Latin letters,
# digits and "_" around it make it part of a word (a model name, an id)
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.])[-+]?\d[\d,.\s]*\d(?![A-Za-z0-9_])|(?<![A-Za-z0-9_.])\d(?![A-Za-z0-9_.])"
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z]{2,}(?:\s+[A-Z][a-zA-Z]{2,})*")
_CITE = re.compile(r"[\[【]\s*\d{1,3}(?:\s*[,、\-–~]\s*\d{1,3})*\s*[\]】]")
_MONTHS = frozenset(
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
)


def _sentences(text: str) -> list[tuple[str, int, int]]:
    """The sentences and rows of ``text`` without Markdown heading lines: a heading kept as a
    neighbour ("# 이명박") was copied by the 0.5B as its answer (the source's title is given
    after its text anyway)."""
    return [u for u in split_units(text, split_at=0) if not u[0].startswith("#")]


def focus(text: str, terms: Sequence[str], *, keep: int = 2, neighbours: int = 1) -> str:
    """``text`` cut to its ``keep`` sentences (rows) holding most of ``terms``, each with
    ``neighbours`` sentences around it, in document order; skipped parts become `` … ``.
    The text is returned whole when it is already that short or no sentence has a term."""
    units = _sentences(text)
    if len(units) <= keep + 2 * neighbours:
        return text
    low = [u.lower() for u, _, _ in units]
    scores = [sum(1 for t in terms if t and t in u) for u in low]
    if not any(scores):
        return text
    best = sorted(range(len(units)), key=lambda i: (-scores[i], i))[:keep]
    chosen = sorted({j for i in best if scores[i] for j in range(i - neighbours, i + neighbours + 1)
                     if 0 <= j < len(units)})  # fmt: skip
    runs: list[list[int]] = []
    for j in chosen:
        if runs and j == runs[-1][-1] + 1:
            runs[-1].append(j)
        else:
            runs.append([j])
    parts = [text[units[run[0]][1] : units[run[-1]][2]] for run in runs]
    out = " … ".join(parts)
    if chosen[0] > 0:
        out = "… " + out
    if chosen[-1] < len(units) - 1:
        out += " …"
    return out


def around(text: str, at: int, *, neighbours: int = 1) -> str:
    """The sentence (row) of ``text`` holding character offset ``at`` with ``neighbours``
    sentences on each side; `` … `` marks what was left out. ``text`` whole if ``at`` is
    outside every sentence."""
    units = _sentences(text)
    here = next((i for i, (_, a, b) in enumerate(units) if a <= at < b), None)
    if here is None:
        here = next((i for i, (_, a, _b) in enumerate(units) if a >= at), None)
    if here is None:
        return text
    lo, hi = max(0, here - neighbours), min(len(units) - 1, here + neighbours)
    out = text[units[lo][1] : units[hi][2]]
    return ("… " if lo > 0 else "") + out + (" …" if hi < len(units) - 1 else "")


def cut_source(
    text: str, terms: Sequence[str], *, kind: str, at: int | None = None, short: int = 600
) -> str:
    """What the model sees of one source: around the instant answer's sentence when ``at`` (its
    offset in ``text``) is given, else the one sentence holding most of ``terms`` (five such
    sources make a ~700-token prompt where whole chunks made ~1,450). A photo's text (OCR rows
    + fields, a few hundred characters) stays whole unless long: its rows are not sentences,
    and a receipt's label and total are far apart."""
    if kind == "photo":
        return text if len(text) <= short else focus(text, terms)
    if at is not None:
        return around(text, at)
    return focus(text, terms, keep=1, neighbours=0)


_CONTENT = re.compile(r"[0-9A-Za-z\uac00-\ud7a3]")


_WORD = re.compile(r"[0-9A-Za-z\uac00-\ud7a3]+")


def says_nothing(
    answer: str, question: str = "", titles: Sequence[str] = (), sources: Sequence[str] = ()
) -> bool:
    """An answer that tells nothing: no word once its citations are removed ("[1]"), only
    words of the question ("28조" to "28조에 따라 어느 처벌까지…"), only a source's title
    (the label of a source copied instead of its text: "[1] 이명박"), or a source pasted
    whole instead of an answer (:func:`copies_source`)."""
    bare = _CITE.sub(" ", answer).strip(" .#\n")
    words = _WORD.findall(bare)
    if not words:
        return True
    q = question.lower()
    if all(w.lower() in q for w in words):
        return True
    if copies_source(answer, sources):
        return True
    return any(bare.lower() == t.strip().lower() for t in titles if t.strip())


def copies_source(answer: str, sources: Sequence[str]) -> bool:
    """An answer that pastes a source instead of answering — the 0.5B answered "what was the
    total on the café receipt?" with the receipt's whole OCR text, store to "Thank you!": four
    or more lines, at least 70 % of them found verbatim in one source."""
    lines = [line.strip(" -*#>\t") for line in _CITE.sub(" ", answer).splitlines()]
    lines = [line for line in lines if len(line) >= 3]
    if len(lines) < 4:
        return False
    return any(sum(line in source for line in lines) >= 0.7 * len(lines) for source in sources)


FALLBACK = {
    "en": "\n\n⚠ This answer is not backed by your notes ({what}). Your notes say: “{text}”",
    "ko": "\n\n⚠ 이 답은 노트에서 확인되지 않습니다({what}). 노트의 문장: “{text}”",
}
NOTHING = {"en": "no answer", "ko": "답 없음"}


def fallback(
    answer: str,
    flagged: Sequence[str],
    instant: InstantAnswer | None,
    number: int | None,
    lang: str,
    *,
    question: str = "",
    titles: Sequence[str] = (),
    sources: Sequence[str] = (),
) -> str:
    """The text added after an answer that states a value found in no source, or says nothing:
    the flag and the instant answer's sentence (its span in bold), citing its source. "" when
    the answer passes the check or there is no instant answer to show instead."""
    if instant is None or not (flagged or says_nothing(answer, question, titles, sources)):
        return ""
    what = ", ".join(flagged) if flagged else NOTHING[lang]
    text = FALLBACK[lang].format(what=what, text=instant.highlighted().strip())
    return text + (f" [{number}]" if number else "")


def _digits(text: str) -> str:
    return re.sub(r"[^\d]", "", text)


def key_values(answer: str) -> list[str]:
    """The numbers and capitalized names an answer states (citations removed)."""
    text = _CITE.sub(" ", answer)
    found = [m.group().strip() for m in _NUMBER.finditer(text) if _digits(m.group())]
    found += [m.group() for m in _NAME.finditer(text) if m.group() not in _MONTHS]
    return list(dict.fromkeys(found))


def unsupported(answer: str, sources: Sequence[str], question: str = "") -> list[str]:
    """Numbers and names of ``answer`` that appear in no source and not in the question.
    Numbers compare by their digits ("16,000" = "16000"), names case-insensitively."""
    pool = "\n".join([*sources, question])
    low = pool.lower()
    pool_digits = {_digits(m.group()) for m in _NUMBER.finditer(pool)}
    pool_digits |= {_digits(w) for w in pool.split()}
    out = []
    for value in key_values(answer):
        digits = _digits(value)
        if digits and not any(c.isalpha() for c in value):
            # the same number ("16,000" = "16000" = "16 000"), or these digits standing alone
            # in a source ("2025" of "2025.09.28"); never a piece of another number
            # ("12" of "12,500")
            alone = re.search(rf"(?<![\d])(?<!\d,){re.escape(value)}(?![\d])(?!,\d)", pool)
            if digits not in pool_digits and alone is None:
                out.append(value)
        elif value.lower() not in low:
            out.append(value)
    return out
