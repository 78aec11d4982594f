"""The note list's rows: title, the start of the body, times, in three orders, paged."""

from __future__ import annotations

import pytest

from core.errors import UnknownNameError


def test_summaries_orders_and_pages(library):
    ids = {}
    for title in ("바다", "Apple", "가방"):
        ids[title] = library.notes.create(f"# {title}\n\n{title} body")
    library.notes.edit(ids["바다"], "# 바다\n\nedited last")
    newest = [s.title for s in library.notes.summaries("updated")]
    assert newest[0] == "바다"
    assert [s.title for s in library.notes.summaries("created")] == ["가방", "Apple", "바다"]
    assert [s.title for s in library.notes.summaries("title")] == ["Apple", "가방", "바다"]
    first = library.notes.summaries("title", limit=2)
    rest = library.notes.summaries("title", limit=2, offset=2)
    assert [s.title for s in first + rest] == ["Apple", "가방", "바다"]
    assert first[0].head.startswith("# Apple") and first[0].kind == "note"
    library.notes.delete(ids["Apple"])
    assert "Apple" not in [s.title for s in library.notes.summaries("title")]


def test_unknown_order_is_a_bad_input(library):
    with pytest.raises(UnknownNameError):
        library.notes.summaries("size")
