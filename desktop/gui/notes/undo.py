"""Undo/redo that records *changes*, not snapshots, so it survives remote edits.

Each step is "at ``pos`` the text ``removed`` became ``inserted``". When a peer's edit lands
in the document, every recorded step is moved through it (operational transform on offsets);
a step whose own text the peer changed is dropped with everything beneath it, never applied
at the wrong place. Offsets are code points.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from core.content.textmerge import Edit

_GROUP_SECONDS = 1.5


@dataclass
class Step:
    pos: int
    removed: str
    inserted: str
    at: float = field(default_factory=time.monotonic)


class ChangeHistory:
    def __init__(self) -> None:
        self.undo_stack: list[Step] = []
        self.redo_stack: list[Step] = []

    def clear(self) -> None:
        self.undo_stack.clear()
        self.redo_stack.clear()

    def record(self, edit: Edit, old_text: str) -> None:
        """A local change ``edit`` (in ``old_text`` coordinates) was made by the user."""
        removed = old_text[edit.start : edit.end]
        step = Step(edit.start, removed, edit.text)
        self.redo_stack.clear()
        top = self.undo_stack[-1] if self.undo_stack else None
        if (
            top is not None
            and not removed
            and not top.removed
            and "\n" not in edit.text
            and step.at - top.at < _GROUP_SECONDS
            and edit.start == top.pos + len(top.inserted)
        ):
            top.inserted += edit.text  # typing a word is one undo step
            top.at = step.at
            return
        self.undo_stack.append(step)

    def pop_undo(self) -> Edit | None:
        """The edit that undoes the last step (in current-document coordinates)."""
        if not self.undo_stack:
            return None
        step = self.undo_stack.pop()
        self.redo_stack.append(step)
        return Edit(step.pos, step.pos + len(step.inserted), step.removed)

    def pop_redo(self) -> Edit | None:
        if not self.redo_stack:
            return None
        step = self.redo_stack.pop()
        self.undo_stack.append(step)
        return Edit(step.pos, step.pos + len(step.removed), step.inserted)

    def transform(self, edits: list[Edit]) -> None:
        """Move every step through remote ``edits`` (ascending, current coordinates)."""
        _transform(self.undo_stack, edits, undo=True)
        _transform(self.redo_stack, edits, undo=False)


def _transform(stack: list[Step], edits: list[Edit], *, undo: bool) -> None:
    for index in range(len(stack) - 1, -1, -1):
        step = stack[index]
        current, other = (step.inserted, step.removed) if undo else (step.removed, step.inserted)
        lo, hi = step.pos, step.pos + len(current)
        if any(e.start < hi and e.end > lo and (e.start, e.end) != (lo, lo) for e in edits) or any(
            lo < e.start < hi for e in edits
        ):
            del stack[: index + 1]  # the peer changed this step's own text: drop it and older
            return
        shift = sum(len(e.text) - (e.end - e.start) for e in edits if e.end <= lo)
        # Into the coordinates of the document this (older) step sees.
        delta = len(other) - len(current)
        edits = [
            Edit(e.start + delta, e.end + delta, e.text) if e.start >= hi else e for e in edits
        ]
        step.pos = lo + shift
