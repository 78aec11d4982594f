"""Defect 1 of issue 18: the first Ctrl+K after the first indexing pass must not crash meaning
search. A palette search while only keywords are indexed makes the vector index with no
vectors; when the embeddings land, the next search must find notes by meaning (real USE-m3)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _deep_search(qtbot, window, type_text, query: str) -> list[tuple[str, str]]:
    qtbot.keyClick(window.notes_view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    palette = window.palette_widget
    assert palette.isVisible() and palette.input.hasFocus()
    palette.input.clear()
    shown: list[int] = []
    palette.index_results_shown.connect(shown.append)
    type_text(palette.input, query)
    # the hybrid search runs after a pause in typing; wait for its answer for this query
    generation = palette._generation
    qtbot.waitUntil(lambda: shown.count(generation) >= 2, timeout=60_000)
    palette.index_results_shown.disconnect(shown.append)
    rows = [(r.kind, r.title) for r in palette.model.rows]
    qtbot.keyClick(palette.input, Qt.Key.Key_Escape)
    return rows


def test_meaning_search_after_the_first_indexing_pass(qtbot, window, library, settle, type_text):
    library.notes.create("# 커피 일기\n\n아침마다 커피를 한 잔 마신다. 오늘은 라떼.")
    library.notes.create("# Groceries\n\nmilk, eggs, bread")
    window.reload_lists()
    settle(window)
    stop = {"now": False}

    def after_keywords(done: int, total: int, stage: str) -> None:
        stop["now"] = stop["now"] or stage.startswith("keywords")

    # the background indexer is part way: notes are chunked, nothing is embedded yet
    report = library.indexer.run(progress=after_keywords, should_cancel=lambda: stop["now"])
    assert report.cancelled and report.vectors == 0
    _deep_search(qtbot, window, type_text, "커피 한 잔")
    assert window.presenter.history == []

    report = library.indexer.run()  # the pass finishes: the first vectors arrive
    assert report.vectors > 0
    rows = _deep_search(qtbot, window, type_text, "커피 한 잔")
    assert window.presenter.history == []
    assert ("note", "커피 일기") in rows
    hits = library.search.search("커피 한 잔").hits
    assert hits and hits[0].title == "커피 일기" and "meaning" in hits[0].reasons
