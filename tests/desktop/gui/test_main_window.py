"""The window opens on a temp library; notes are created and edited by typing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt

pytestmark = pytest.mark.gui


def test_window_lists_notes_and_sections(qtbot, library, settings):
    from desktop.gui.app import open_window

    library.notes.create("# 커피 메모\n\n라떼를 마셨다 #coffee")
    library.notes.create("# Second note\n\nplain")
    win = open_window(library, settings=settings, auto_index=False)
    win.show()
    qtbot.waitUntil(lambda: win.notes_model.rowCount() == 2, timeout=10_000)
    assert {r.title for r in win.notes_model.rows} == {"커피 메모", "Second note"}
    assert [win.sidebar.item(i).text() for i in range(4)] == ["Notes", "Photos", "Chats", "Tags"]
    qtbot.waitUntil(lambda: win.tags_model.rowCount() == 1)
    qtbot.waitUntil(
        lambda: (
            "Index:" in win.status.index_label.text() and "…" not in win.status.index_label.text()
        )
    )
    assert "left" in win.status.index_label.text()  # two notes wait to be indexed
    win.close()


def test_create_and_edit_note_by_typing(qtbot, window, library, settle, type_text):
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.editor.note_id is not None and window.editor.isEnabled())
    note_id = window.editor.note_id
    edit = window.editor.edit
    edit.setFocus()
    edit.selectAll()
    type_text(edit, "# 장보기 목록\n\n- 우유\n- bread #groceries")
    qtbot.waitUntil(lambda: library.notes.get(note_id).body.endswith("#groceries"), timeout=10_000)
    note = library.notes.get(note_id)
    assert note.title == "장보기 목록", repr(note.body)
    assert note.tags == ["groceries"]
    settle(window)
    qtbot.waitUntil(
        lambda: window.notes_model.rows[window.notes_model.row_of(note_id)].title == "장보기 목록"
    )
    # Undo takes back the last typed word; the library follows.
    window.editor.undo()
    qtbot.waitUntil(lambda: "#groceries" not in library.notes.get(note_id).body, timeout=10_000)
    window.editor.redo()
    qtbot.waitUntil(lambda: library.notes.get(note_id).body.endswith("#groceries"), timeout=10_000)


def test_window_state_persists(qtbot, library, tmp_path):
    from desktop.gui.app import open_window

    path = str(tmp_path / "state.ini")
    win = open_window(
        library, settings=QSettings(path, QSettings.Format.IniFormat), auto_index=False
    )
    win.show()
    win.resize(700, 500)
    win.sidebar.setCurrentRow(3)
    win.close()
    again = open_window(
        library, settings=QSettings(path, QSettings.Format.IniFormat), auto_index=False
    )
    again.show()
    assert again.sidebar.currentRow() == 3
    assert again.size().width() == 700
    again.close()


def test_errors_show_in_the_presenter(qtbot, window, library):
    from core.errors import BadInputError

    def bad() -> None:
        raise BadInputError("That file is not a photo.")

    window.ops.query(bad)
    qtbot.waitUntil(lambda: window.presenter.current == "That file is not a photo.")
    # A storage error from a real service call shows its own sentence.
    window.open_note("no-such-note")
    qtbot.waitUntil(lambda: (window.presenter.current or "").startswith("No item with id"))
    window.ops.query(lambda: 1 / 0)
    qtbot.waitUntil(lambda: (window.presenter.current or "").startswith("Unexpected error"))
