"""The note editor: a peer's CRDT update that lands while the user types merges in place."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def _peer_edit(library, note_id: str, new_body: str) -> None:
    """A second replica (its own NoteDoc built from our state) edits the note; its update
    arrives through the sync service, as it would from the network."""
    from core.peers.service import SyncService
    from sync.docs import NoteDoc

    peer = NoteDoc(None, [library.docs.note(note_id).encode_state()])
    update = peer.set_text(new_body)
    assert SyncService(library).apply(f"note:{note_id}", update)


def test_remote_edit_while_typing_keeps_text_and_caret(qtbot, window, library, settle, type_text):
    note_id = library.notes.create("# Trip\n\nDay one: Seoul.\n")
    window.reload_lists()
    settle(window)
    window.open_item("note", note_id)
    qtbot.waitUntil(lambda: window.editor.note_id == note_id)
    edit = window.editor.edit
    edit.setFocus()
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    type_text(edit, "Day two: 부산")
    window.editor._save_timer.stop()  # the user is still typing: nothing sent yet
    assert library.notes.get(note_id).body == "# Trip\n\nDay one: Seoul.\n"

    # Meanwhile a peer adds a line at the top and fixes a word the user did not touch.
    _peer_edit(library, note_id, "Packing list first!\n# Trip\n\nDay one: Seoul city.\n")
    window.editor.refresh()
    expected = "Packing list first!\n# Trip\n\nDay one: Seoul city.\nDay two: 부산"
    qtbot.waitUntil(lambda: window.editor.text == expected, timeout=10_000)
    # The caret is still right after what the user typed, and typing continues there.
    assert edit.textCursor().position() == len(expected)
    type_text(edit, "!")
    qtbot.waitUntil(lambda: library.notes.get(note_id).body == expected + "!", timeout=10_000)
    settle(window)

    # Undo survives the remote edit: it takes back the user's own typing, not the peer's.
    window.editor.undo()
    window.editor.undo()
    assert "Packing list first!" in window.editor.text
    assert "Seoul city" in window.editor.text
    assert "부산" not in window.editor.text
    qtbot.waitUntil(lambda: "부산" not in library.notes.get(note_id).body, timeout=10_000)
    window.editor.redo()
    window.editor.redo()
    qtbot.waitUntil(lambda: library.notes.get(note_id).body == expected + "!", timeout=10_000)

    # The CRDT log replays to the same text (no duplicated or lost characters).
    from sync.docs import NoteDoc

    replica = NoteDoc(None, [library.docs.note(note_id).encode_state()])
    assert replica.text == expected + "!"


def test_preview_toggle_and_wikilink_completion(qtbot, window, library, settle, type_text):
    library.notes.create("# 커피 일기\n\n라떼")
    note_id = library.notes.create("# Links\n\n")
    window.reload_lists()
    settle(window)
    window.open_item("note", note_id)
    qtbot.waitUntil(lambda: window.editor.note_id == note_id)
    edit = window.editor.edit
    edit.setFocus()
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    type_text(edit, "See [[커피")
    popup = window.editor.completer.popup()
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert window.editor.text.endswith("See [[커피 일기]]")
    qtbot.waitUntil(
        lambda: (
            [link.dst_item_id is not None for link in library.notes.get(note_id).links] == [True]
        ),
        timeout=10_000,
    )
    qtbot.keyClick(edit, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert window.editor.stack.currentWidget() is window.editor.preview
    assert "커피 일기" in window.editor.preview.toPlainText()


def test_switching_notes_mid_save_loses_nothing(qtbot, window, library, settle, type_text):
    first = library.notes.create("# First\n\n")
    second = library.notes.create("# Second\n\n")
    window.reload_lists()
    settle(window)
    window.open_item("note", first)
    qtbot.waitUntil(lambda: window.editor.note_id == first)
    edit = window.editor.edit
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    type_text(edit, "one ")
    window.editor.save_now()  # a save is on its way…
    type_text(edit, "two")  # …while the user keeps typing, then switches notes at once
    window.open_item("note", second)
    qtbot.waitUntil(lambda: window.editor.note_id == second)
    settle(window)
    assert library.notes.get(first).body == "# First\n\none two"


def test_note_deleted_elsewhere_is_kept_on_screen_read_only(qtbot, window, library, settle):
    note_id = library.notes.create("# Gone soon\n\ntext")
    window.open_item("note", note_id)
    qtbot.waitUntil(lambda: window.editor.note_id == note_id)
    library.notes.delete(note_id)
    window.editor.refresh()
    qtbot.waitUntil(lambda: window.editor.note_id is None)
    assert window.editor.edit.isReadOnly()
    assert "text" in window.editor.text
    settle(window)
    assert window.presenter.current is None  # not an error: it is just gone
