"""The one text diff of Saem: "old text → new text" as the smallest edits.

Used twice: by sync to turn a note body change into CRDT edits, so concurrent edits merge
(:func:`apply_text_edits`), and — through :mod:`core.content.textmerge` — by the editor to
replay a peer's change into the text the user is typing.

The diff trims the common prefix and suffix (bisection on slices: C-speed compares, O(n))
and runs ``difflib.SequenceMatcher`` (O(n·m)) only on the changed middle. Above
``max_span`` changed code points the matcher is skipped for one replace: sync can afford
:data:`SYNC_MAX_SPAN`, the editor (which diffs on the GUI thread) caps at
:data:`EDITOR_MAX_SPAN`.

Offsets are code points of Python strings. pycrdt's ``Text`` indexes by UTF-8 byte offset,
so :func:`apply_text_edits` converts them before applying.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Protocol

SYNC_MAX_SPAN = 200_000
EDITOR_MAX_SPAN = 20_000


@dataclass(frozen=True)
class Edit:
    """Replace ``old[start:end]`` with ``text``."""

    start: int
    end: int
    text: str


class TextLike(Protocol):
    def insert(self, index: int, value: str) -> None: ...
    def __delitem__(self, key: slice) -> None: ...


def diff(old: str, new: str, max_span: int = SYNC_MAX_SPAN) -> list[Edit]:
    """Small edits turning ``old`` into ``new``, ascending and non-overlapping."""
    if old == new:
        return []
    prefix, suffix = _trim(old, new)
    old_mid = old[prefix : len(old) - suffix]
    new_mid = new[prefix : len(new) - suffix]
    if not old_mid or not new_mid or len(old_mid) + len(new_mid) > max_span:
        return [Edit(prefix, prefix + len(old_mid), new_mid)]
    matcher = SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    return [
        Edit(prefix + i1, prefix + i2, new_mid[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def span_edit(old: str, new: str) -> Edit | None:
    """The one edit (common prefix/suffix trimmed) turning ``old`` into ``new``."""
    if old == new:
        return None
    prefix, suffix = _trim(old, new)
    return Edit(prefix, len(old) - suffix, new[prefix : len(new) - suffix])


def _trim(old: str, new: str) -> tuple[int, int]:
    """Lengths of the common prefix and of the common suffix that does not overlap it."""
    limit = min(len(old), len(new))
    prefix = _common_prefix(old, new, limit)
    return prefix, _common_suffix(old, new, limit - prefix)


def _common_prefix(a: str, b: str, limit: int) -> int:
    """Length of the common prefix, at most ``limit``."""
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


def apply_text_edits(text: TextLike, old: str, edits: list[Edit]) -> None:
    """Apply edits (from :func:`diff`) to a pycrdt Text whose content is ``old``."""
    # Walk back to front so earlier offsets stay valid; convert to UTF-8 byte offsets
    # (for ASCII text they are the code-point offsets: skip encoding the prefix).
    ascii_only = old.isascii()
    for edit in reversed(edits):
        if ascii_only:
            byte_start, byte_end = edit.start, edit.end
        else:
            byte_start = len(old[: edit.start].encode("utf-8"))
            byte_end = byte_start + len(old[edit.start : edit.end].encode("utf-8"))
        if byte_end > byte_start:
            del text[byte_start:byte_end]
        if edit.text:
            text.insert(byte_start, edit.text)
