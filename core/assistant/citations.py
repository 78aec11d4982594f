"""Citations in an answer: ``[1]``, ``[1, 3]``, ``[2-4]``, ``[1][2]``, ``【1】`` → sources.

Each citation keeps where it is in the answer (character span) and what it points to: the
item and the character span of the chunk inside that item, so a click can open the item at
the cited passage. Numbers that point to no source are reported, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_CITE = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*(?:,|、|-|–|~)\s*\d{1,3})*)\s*[\]】]")
MAX_RANGE = 20


@dataclass(frozen=True)
class Citation:
    number: int
    at: tuple[int, int]  # span of the marker in the answer text
    item_id: str | None  # None: the number points to no source
    kind: str = ""
    title: str = ""
    chunk_id: int | None = None
    span: tuple[int, int] = (0, 0)  # character span of the cited chunk inside its item

    @property
    def valid(self) -> bool:
        return self.item_id is not None


def _numbers(body: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|、)\s*", body):
        bounds = re.split(r"\s*(?:-|–|~)\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            lo, hi = int(bounds[0]), int(bounds[1])
            if lo <= hi and hi - lo <= MAX_RANGE:
                out.extend(range(lo, hi + 1))
                continue
        out.extend(int(b) for b in bounds if b.isdigit())
    return out


def parse_citations(text: str, sources: Mapping[int, Any]) -> list[Citation]:
    """Every citation marker in ``text``; ``sources`` maps a number to an object with
    ``item_id``, ``kind``, ``title``, ``chunk_id``, ``start``, ``end`` (a ``Source``)."""
    out: list[Citation] = []
    for match in _CITE.finditer(text):
        for number in _numbers(match.group(1)):
            src = sources.get(number)
            if src is None:
                out.append(Citation(number, match.span(), None))
                continue
            out.append(Citation(
                number, match.span(), src.item_id, src.kind, src.title, src.chunk_id,
                (int(src.start), int(src.end)),
            ))  # fmt: skip
    return out


def cited_numbers(citations: list[Citation]) -> list[int]:
    """The distinct valid source numbers, in order of first citation."""
    return list(dict.fromkeys(c.number for c in citations if c.valid))
