"""Merging a remote body change into text the user is typing (pure Python, no Qt).

The editor knows three texts: ``base`` (the body it last synced with the library), ``local``
(what is in the editor now) and ``remote`` (the library's body after a peer's edit). It needs
the *remote* changes expressed as edits on ``local`` so it can apply them to the open
document with a cursor, leaving the user's own edits — and the caret — where they are.
Text the user inserted is never deleted by a remote edit (as in a sequence CRDT: a concurrent
delete cannot remove characters it never saw).

Offsets are code points of Python strings. The diff itself is :mod:`sync.text_diff` (the one
Saem has, also used to turn body changes into CRDT edits); this module adds the three-way
rebase the editor needs. The GUI imports it from here (desktop does not import ``sync``).
"""

from __future__ import annotations

from sync.text_diff import EDITOR_MAX_SPAN, Edit, span_edit
from sync.text_diff import diff as _diff

__all__ = ["Edit", "apply", "diff", "map_position", "rebase", "span_edit", "utf16_offset"]


def diff(old: str, new: str) -> list[Edit]:
    """:func:`sync.text_diff.diff` with the editor's cap (it runs on the GUI thread)."""
    return _diff(old, new, EDITOR_MAX_SPAN)


def apply(text: str, edits: list[Edit]) -> str:
    """Apply ascending, non-overlapping edits to ``text``."""
    out: list[str] = []
    pos = 0
    for edit in edits:
        out.append(text[pos : edit.start])
        out.append(edit.text)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def map_position(pos: int, edits: list[Edit]) -> int:
    """Where position ``pos`` of the old text is after ``edits`` (inserts at ``pos`` push it)."""
    shift = 0
    for edit in edits:
        if edit.end < pos or (edit.end == pos and edit.start < pos):
            shift += len(edit.text) - (edit.end - edit.start)
        elif edit.start <= pos:  # pos inside a replaced range, or an insert right at pos
            return edit.start + shift + (len(edit.text) if edit.start == pos else 0)
        else:
            break
    return pos + shift


def _map_base(pos: int, local: list[Edit], *, after_inserts: bool) -> int:
    """``pos`` of base in local coordinates: before text the user inserted right there, or
    after it with ``after_inserts`` (a remote insert goes before, a remote delete after)."""
    shift = 0
    for edit in local:
        if after_inserts:
            passed = edit.end < pos or (edit.start <= pos and edit.end == pos)
        else:
            passed = edit.end <= pos and edit.start < pos
        if passed:
            shift += len(edit.text) - (edit.end - edit.start)
        elif edit.start < pos < edit.end:
            return edit.start + shift + len(edit.text)
        else:
            break
    return pos + shift


def rebase(base: str, local: str, remote: str) -> list[Edit]:
    """The remote changes (``base`` → ``remote``) as ascending edits on ``local``."""
    remote_edits = diff(base, remote)
    if not remote_edits:
        return []
    local_edits = diff(base, local)
    out: list[Edit] = []
    for redit in remote_edits:
        # Split the remote deletion around ranges the user changed: those characters are the
        # user's now, and the user's inserts inside the range must survive.
        pieces = [(redit.start, redit.end)]
        for ledit in local_edits:
            next_pieces = []
            for s, e in pieces:
                if ledit.end <= s or ledit.start >= e:
                    if ledit.start == ledit.end and s < ledit.start < e:
                        next_pieces += [(s, ledit.start), (ledit.start, e)]
                    else:
                        next_pieces.append((s, e))
                    continue
                if s < ledit.start:
                    next_pieces.append((s, ledit.start))
                if ledit.end < e:
                    next_pieces.append((ledit.end, e))
            pieces = next_pieces
        if redit.text:
            at = _map_base(redit.start, local_edits, after_inserts=False)
            out.append(Edit(at, at, redit.text))
        for s, e in pieces:
            if s < e:
                ms = _map_base(s, local_edits, after_inserts=True)
                out.append(Edit(ms, ms + (e - s), ""))
    out.sort(key=lambda ed: (ed.start, ed.end))
    return _normalize(out)


def _normalize(edits: list[Edit]) -> list[Edit]:
    """Merge touching/overlapping edits so the list is strictly non-overlapping."""
    merged: list[Edit] = []
    for edit in edits:
        if merged and (
            edit.start < merged[-1].end
            or (edit.start == merged[-1].end and merged[-1].start < merged[-1].end)
        ):
            prev = merged[-1]
            merged[-1] = Edit(prev.start, max(prev.end, edit.end), prev.text + edit.text)
        else:
            merged.append(edit)
    return merged


def utf16_offset(text: str, pos: int) -> int:
    """Qt counts positions in UTF-16 code units; Python in code points."""
    head = text[:pos]
    return pos + sum(1 for ch in head if ord(ch) > 0xFFFF)
