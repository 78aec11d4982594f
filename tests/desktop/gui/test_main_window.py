"""The window opens on a temp library; notes are created and edited by typing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt

pytestmark = pytest.mark.gui


def test_window_lists_notes_and_sections(qtbot, library, settings):
    from desktop.gui.app import open_window
    from desktop.gui.main_window import NOTES, TAGS
    from desktop.gui.notes.item_list import COUNT_ROLE

    library.notes.create("# 커피 메모\n\n라떼를 마셨다 #coffee")
    library.notes.create("# Second note\n\n- plain **text**")
    win = open_window(library, settings=settings, auto_index=False)
    win.show()
    qtbot.waitUntil(lambda: win.notes_model.rowCount() == 2, timeout=10_000)
    rows = {r.title: r for r in win.notes_model.rows}
    assert set(rows) == {"커피 메모", "Second note"}
    # Each row shows its first line as plain text, under a day group.
    assert rows["커피 메모"].preview == "라떼를 마셨다 #coffee"
    assert rows["Second note"].preview == "plain text"
    assert {r.group for r in rows.values()} == {"Today"}
    assert [win.sidebar.item(i).text() for i in range(5)] == [
        "Notes",
        "Photos",
        "Chats",
        "Tags",
        "Devices",
    ]
    qtbot.waitUntil(lambda: win.tags_model.rowCount() == 1)
    assert win.sidebar.item(TAGS).data(COUNT_ROLE) == 1
    qtbot.waitUntil(lambda: "left to index" in win.status.index_label.text())  # two notes wait
    assert win.sidebar.item(NOTES).data(COUNT_ROLE) == 2
    assert win.status.sync_button.toolTip().startswith("Sync")
    assert win.status.models_label.text()  # the model/device chip
    win.close()


def test_notes_sort_by_title_groups_by_initial(qtbot, window, library, settle):
    for title in ("바다", "가방", "Apple"):
        library.notes.create(f"# {title}\n\nbody")
    window.reload_lists()
    settle(window)
    window.notes_sort.setCurrentIndex(window.notes_sort.findData("title"))
    qtbot.waitUntil(lambda: [r.group for r in window.notes_model.rows][:1] == ["A"])
    rows = window.notes_model.rows
    assert [(r.title, r.group) for r in rows] == [("Apple", "A"), ("가방", "ㄱ"), ("바다", "ㅂ")]
    assert window.settings.value("notes/order") == "title"


def test_empty_library_shows_calls_to_action(qtbot, window):
    """A new, empty library: every pane says what to do, with a button that does it."""
    pages = window.pages()
    qtbot.waitUntil(lambda: all(p.pane.is_empty for p in pages[:4]), timeout=10_000)
    for page in pages:
        empty = page.pane.empty
        assert empty.buttons and empty.heading.text()
    window.show_section(0)
    button = window.notes_page.pane.empty.buttons[0]  # "New note"
    assert button.text() == "New note"
    button.setFocus()
    qtbot.keyClick(button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.editor.note_id is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not window.notes_page.pane.is_empty, timeout=10_000)


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
    win.resize(790, 560)  # above the minimum (~770), inside the offscreen 800×600 screen
    win.sidebar.setCurrentRow(4)
    win.close()
    again = open_window(
        library, settings=QSettings(path, QSettings.Format.IniFormat), auto_index=False
    )
    again.show()
    assert again.sidebar.currentRow() == 4
    assert again.size().width() == 790
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
