"""The justified layout: rows fill the width, keep each photo's aspect, break at day headers."""

from __future__ import annotations

import pytest

from desktop.gui.photos.grid_layout import GAP, MARGIN, ROW_HEIGHT, GridEntry, group_by_day, justify


def _entries(aspects_by_day: dict[str, list[float]]) -> list[GridEntry]:
    rows = []
    for day, aspects in aspects_by_day.items():
        for i, aspect in enumerate(aspects):
            rows.append(
                (f"{day}-{i}", f"p{i}", f"{day.replace('-', ':')} 10:00:00", "t.jpg", aspect)
            )
    return group_by_day(rows)


def test_full_rows_fill_the_width_and_keep_aspect():
    entries = _entries({"2024-07-14": [1.5, 0.75, 1.0, 1.33, 1.5, 1.0, 0.66, 1.5, 1.5]})
    width = 900
    lines = justify(entries, width)
    assert lines[0].header == 0 and not lines[0].cells  # the day header first
    photo_lines = [line for line in lines if line.cells]
    for line in photo_lines[:-1]:  # every full row ends at the right margin
        i, x, w = line.cells[-1]
        assert x + w == width - MARGIN
        assert line.cells[0][1] == MARGIN
        for (i, x, w), nxt in zip(line.cells, line.cells[1:], strict=False):
            assert nxt[1] - (x + w) in (GAP - 1, GAP, GAP + 1)
            assert w / line.height == pytest.approx(entries[i].aspect, rel=0.06)
    last = photo_lines[-1]
    assert last.height == ROW_HEIGHT  # the last row of a day is not stretched
    assert sum(len(line.cells) for line in photo_lines) == 9


def test_days_start_new_rows_newest_first():
    entries = _entries({"2024-07-14": [1.0, 1.0], "2024-07-15": [1.0]})
    lines = justify(entries, 1200)
    kinds = ["header" if line.header >= 0 else len(line.cells) for line in lines]
    assert kinds == ["header", 1, "header", 2]
    assert entries[lines[0].header].day == "2024-07-15"
    assert lines[1].y >= lines[0].y + lines[0].height


def test_twenty_thousand_photos_lay_out_in_one_pass():
    entries = _entries(
        {
            f"2024-{m:02d}-{d:02d}": [1.33, 0.75, 1.5] * 25
            for m in range(1, 10)
            for d in range(1, 31)
        }
    )
    assert len(entries) > 20_000
    lines = justify(entries, 1000)
    placed = sum(len(line.cells) for line in lines)
    assert placed == sum(1 for e in entries if e.photo_id)
    assert all(lines[i].y < lines[i + 1].y for i in range(len(lines) - 1))
