"""The justified layout of the photo grid, without Qt: day headers and rows that fill the width.

``group_by_day`` turns photos into entries (a header per day, newest first); ``justify`` lays them
out in one pass (O(photos), a few ms at 20,000) as lines with each cell's x and width, which the
widget in :mod:`desktop.gui.photos.photo_grid` paints and hit-tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

ROW_HEIGHT = 168  # the target height of a justified row
MAX_STRETCH = 1.6  # a row is never taller than this × ROW_HEIGHT
GAP = 4
HEADER_HEIGHT = 44
MARGIN = 12


@dataclass(frozen=True)
class GridEntry:
    photo_id: str | None  # None: a day header
    title: str
    day: str
    thumb_path: str | None = None
    aspect: float = 1.0  # width / height as displayed


def group_by_day(rows: Sequence[Any]) -> list[GridEntry]:
    """Photos → entries with day headers, newest day first. A row is ``core``'s grid tile
    (``photo_id, title, taken_at, thumb_path, aspect``) or a tuple ``(id, title, taken_at
    "YYYY:MM:DD hh:mm:ss" or None, thumb[, aspect])``."""
    by_day: dict[str, list[GridEntry]] = {}
    for row in rows:
        if isinstance(row, tuple):
            photo_id, title, taken_at, thumb, *rest = row
            aspect = float(rest[0]) if rest else 1.0
        else:
            photo_id, title, taken_at = row.photo_id, row.title, row.taken_at
            thumb, aspect = row.thumb_path, row.aspect
        day = _day(taken_at)
        aspect = min(max(aspect, 0.25), 4.0)  # panoramas and slivers stay usable tiles
        by_day.setdefault(day, []).append(GridEntry(photo_id, title, day, str(thumb), aspect))
    entries: list[GridEntry] = []
    for day in sorted(by_day, key=lambda d: (d != "Undated", d), reverse=True):
        count = len(by_day[day])
        entries.append(GridEntry(None, f"{_day_title(day)}  ·  {count:,}", day))
        entries.extend(by_day[day])
    return entries


def _day(taken_at: str | None) -> str:
    if not taken_at or len(taken_at) < 10:
        return "Undated"
    return taken_at[:10].replace(":", "-")


def _day_title(day: str) -> str:
    """ "2024-07-14" → "Sunday, 14 July 2024"."""
    try:
        moment = date.fromisoformat(day)
    except ValueError:
        return day
    return f"{moment.strftime('%A')}, {moment.day} {moment.strftime('%B %Y')}"


@dataclass
class Line:
    y: int
    height: int
    header: int  # entry index of the day header, or -1
    cells: list[tuple[int, int, int]]  # (entry index, x, width)


def justify(entries: Sequence[GridEntry], width: int) -> list[Line]:
    """Lines of a justified layout ``width`` px wide (one pass over the entries)."""
    usable = max(width - 2 * MARGIN, 80)
    lines: list[Line] = []
    y = 0
    pending: list[int] = []
    aspect_sum = 0.0

    def flush(full: bool) -> None:
        nonlocal y, pending, aspect_sum
        if not pending:
            return
        gaps = GAP * (len(pending) - 1)
        height = (usable - gaps) / aspect_sum if full else ROW_HEIGHT
        height = min(height, ROW_HEIGHT * MAX_STRETCH)
        x = float(MARGIN)
        cells = []
        for n, i in enumerate(pending):
            right = (
                MARGIN + usable
                if full and n == len(pending) - 1
                else x + entries[i].aspect * height
            )
            cells.append((i, round(x), max(1, round(right) - round(x))))
            x = right + GAP
        lines.append(Line(y, round(height), -1, cells))
        y += round(height) + GAP
        pending, aspect_sum = [], 0.0

    for i, entry in enumerate(entries):
        if entry.photo_id is None:
            flush(False)
            lines.append(Line(y, HEADER_HEIGHT, i, []))
            y += HEADER_HEIGHT
            continue
        pending.append(i)
        aspect_sum += entry.aspect
        if aspect_sum * ROW_HEIGHT + GAP * (len(pending) - 1) >= usable:
            flush(True)
    flush(False)
    return lines
