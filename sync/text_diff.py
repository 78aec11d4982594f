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
    limit = min(len(old), len(new))
    prefix = _common_prefix(old, new, limit)
    suffix = _common_suffix(old, new, limit - prefix)
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


def _common_prefix(a: str, b: str, limit: int) -> int:
    """Length of the common prefix, by bisection on slices (C-speed compares, O(n))."""
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix, at most ``limit`` (so it never overlaps the prefix)."""
    lo, hi = 0, limit
    la, lb = len(a), len(b)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def apply_text_edits(text: TextLike, old: str, edits: list[tuple[int, int, str]]) -> None:
    """Apply edits (from :func:`text_edits`) to a pycrdt Text whose content is ``old``."""
    # Walk back to front so earlier offsets stay valid; convert to UTF-8 byte offsets
    # (for ASCII text they are the code-point offsets: skip encoding the prefix).
    ascii_only = old.isascii()
    for start, end, replacement in reversed(edits):
        if ascii_only:
            byte_start, byte_end = start, end
        else:
            byte_start = len(old[:start].encode("utf-8"))
            byte_end = byte_start + len(old[start:end].encode("utf-8"))
        if byte_end > byte_start:
            del text[byte_start:byte_end]
        if replacement:
            text.insert(byte_start, replacement)
