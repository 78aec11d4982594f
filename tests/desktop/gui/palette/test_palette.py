"""The Ctrl+K palette, by keyboard only: search, move, open; commands; Tab asks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def _rows(window):
    return [(r.kind, r.title) for r in window.palette_widget.model.rows]


def test_palette_finds_and_opens_a_note_by_keyboard(qtbot, window, library, settle, type_text):
    library.notes.create("# 커피 일기\n\n라떼를 마셨다")
    target = library.notes.create("# 커피 원두 메모\n\n에티오피아")
    library.notes.create("# Groceries\n\nmilk")
    window.reload_lists()
    settle(window)
    qtbot.keyClick(window.notes_view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    palette = window.palette_widget
    assert palette.isVisible() and palette.input.hasFocus()
    type_text(palette.input, "커피 원")
    qtbot.waitUntil(lambda: ("note", "커피 원두 메모") in _rows(window), timeout=10_000)
    rows = _rows(window)
    assert ("note", "Groceries") not in rows
    assert rows[-1][0] == "ask"
    index = rows.index(("note", "커피 원두 메모"))
    for _ in range(index):
        qtbot.keyClick(palette.input, Qt.Key.Key_Down)
    qtbot.keyClick(palette.input, Qt.Key.Key_Return)
    assert not palette.isVisible()
    qtbot.waitUntil(lambda: window.editor.note_id == target)
    assert "에티오피아" in window.editor.text


def test_stale_results_are_dropped(qtbot, window, library, settle):
    for i in range(30):
        library.notes.create(f"# alpha {i}\n\nbody")
    library.notes.create("# alphabet soup\n\nbody")
    settle(window)
    window.open_palette()
    palette = window.palette_widget
    shown: list[int] = []
    palette.results_shown.connect(shown.append)
    for ch in "alphabet":  # every keystroke queues a search; only the last may paint
        qtbot.keyClicks(palette.input, ch)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == palette._generation, timeout=10_000)
    settle(window)
    assert set(shown) == {palette._generation}
    assert [t for k, t in _rows(window) if k == "note"] == ["alphabet soup"]
    qtbot.keyClick(palette.input, Qt.Key.Key_Escape)
    assert not palette.isVisible()


def test_commands_and_tab_to_ask(qtbot, window, library, settle):
    window.open_palette()
    palette = window.palette_widget
    qtbot.keyClicks(palette.input, "new note")
    qtbot.waitUntil(lambda: ("command", "New note") in _rows(window), timeout=10_000)
    settle(window)
    before = library.stats().notes
    index = _rows(window).index(("command", "New note"))
    for _ in range(index):
        qtbot.keyClick(palette.input, Qt.Key.Key_Down)
    qtbot.keyClick(palette.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: library.stats().notes == before + 1, timeout=10_000)
    settle(window)

    window.open_palette()
    palette.input.clear()
    qtbot.keyClicks(palette.input, "where did I drink coffee")
    qtbot.keyClick(palette.input, Qt.Key.Key_Tab)
    assert not palette.isVisible()
    assert window.detail.currentWidget() is window.chat
    assert window.chat.question.text() == "where did I drink coffee"


def test_palette_says_no_matches_only_when_nothing_matched(qtbot, window, library, settle):
    library.notes.create("# Groceries\n\nmilk and bread")
    window.reload_lists()
    settle(window)
    window.open_palette()
    palette = window.palette_widget
    shown: list[int] = []
    palette.index_results_shown.connect(shown.append)
    qtbot.keyClicks(palette.input, "xqzvblorft")
    qtbot.waitUntil(lambda: palette._generation in shown, timeout=10_000)
    assert palette.empty.isVisible() and palette.empty.text() == "No matches"
    assert [k for k, _ in _rows(window)] == ["ask"]  # no item rows, only the Ask row
    palette.input.clear()
    assert not palette.empty.isVisible()
    qtbot.keyClicks(palette.input, "groceries")
    qtbot.waitUntil(lambda: ("note", "Groceries") in _rows(window), timeout=10_000)
    assert not palette.empty.isVisible()
    settle(window)
