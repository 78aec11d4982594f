"""Turn "old text → new text" into the smallest CRDT edits, so concurrent edits merge.

pycrdt's ``Text`` indexes by UTF-8 byte offset, so positions computed on Python strings
(code points) are converted before they are applied.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Protocol

# Above this many changed code points the O(n·m) matcher is skipped for one replace.
_MAX_MATCHER_SPAN = 200_000


class TextLike(Protocol):
    def insert(self, index: int, value: str) -> None: ...
    def __delitem__(self, key: slice) -> None: ...


def text_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """Edits as (start, end, replacement) in code points of ``old``, in ascending order."""
    if old == new:
        return []
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    old_mid = old[prefix : len(old) - suffix]
    new_mid = new[prefix : len(new) - suffix]
    if not old_mid or not new_mid or len(old_mid) + len(new_mid) > _MAX_MATCHER_SPAN:
        return [(prefix, prefix + len(old_mid), new_mid)]
    edits: list[tuple[int, int, str]] = []
    matcher = SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append((prefix + i1, prefix + i2, new_mid[j1:j2]))
    return edits


def apply_text_edits(text: TextLike, old: str, edits: list[tuple[int, int, str]]) -> None:
    """Apply edits (from :func:`text_edits`) to a pycrdt Text whose content is ``old``."""
    # Walk back to front so earlier offsets stay valid; convert to UTF-8 byte offsets.
    for start, end, replacement in reversed(edits):
        byte_start = len(old[:start].encode("utf-8"))
        byte_end = byte_start + len(old[start:end].encode("utf-8"))
        if byte_end > byte_start:
            del text[byte_start:byte_end]
        if replacement:
            text.insert(byte_start, replacement)
