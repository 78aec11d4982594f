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

from core.assistant.instant import split_units

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,.\s]*\d(?![\w])|(?<![\w.])\d(?![\w.])")
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


def focus(text: str, terms: Sequence[str], *, keep: int = 2, neighbours: int = 1) -> str:
    """``text`` cut to its ``keep`` sentences (rows) holding most of ``terms``, each with
    ``neighbours`` sentences around it, in document order; skipped parts become `` … ``.
    The text is returned whole when it is already that short or no sentence has a term."""
    units = split_units(text, split_at=0)
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
    pool_digits = [_digits(m.group()) for m in _NUMBER.finditer(pool)]
    out = []
    for value in key_values(answer):
        digits = _digits(value)
        if digits and not any(c.isalpha() for c in value):
            if digits not in pool_digits and digits not in _digits(pool):
                out.append(value)
        elif value.lower() not in low:
            out.append(value)
    return out
