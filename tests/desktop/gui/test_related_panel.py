"""The Related panel beside the open note, and the activity the GUI logs for the recommender."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core.events import EventLog
from desktop.gui.related_panel import ACTIVATE_DEBOUNCE_S

pytestmark = pytest.mark.gui


@pytest.fixture
def notes(library):
    """Three notes: the journal links to the espresso note; groceries is unrelated."""
    espresso = library.notes.create("# Espresso basics\n\nGrind fine, pull for 25 seconds.")
    journal = library.notes.create("# Coffee journal\n\nFollowed [[Espresso basics]] again.")
    groceries = library.notes.create("# Groceries\n\nmilk, eggs, rice")
    return {"espresso": espresso, "journal": journal, "groceries": groceries}


def _titles(window):
    return [r.title for r in window.related.model.rows]


def _open_and_fill(qtbot, window, settle, note_id):
    window.reload_lists()
    settle(window)
    with qtbot.waitSignal(window.related.shown, timeout=10_000):
        window.open_item("note", note_id)
    settle(window)  # the refined (full blend) list has been computed too


def test_opening_a_note_fills_the_panel_with_its_linked_note(qtbot, window, notes, settle):
    _open_and_fill(qtbot, window, settle, notes["journal"])
    panel = window.related
    assert panel.isVisible() and window.editor.note_id == notes["journal"]
    assert _titles(window)[0] == "Espresso basics"
    assert "Coffee journal" not in _titles(window)  # what is on screen is never recommended
    first = panel.model.index(0, 0)
    assert "linked" in panel.model.rows[0].subtitle
    assert "linked" in first.data(Qt.ItemDataRole.AccessibleTextRole)
    assert not panel.state.isVisible()
    # leaving the notes for the chats hides the panel
    window.show_section(2)
    assert not panel.isVisible()


def test_a_note_with_nothing_related_says_so(qtbot, window, library, settle):
    lonely = library.notes.create("# Alone\n\nno links, no tags")
    _open_and_fill(qtbot, window, settle, lonely)
    assert _titles(window) == []
    assert window.related.state.isVisible() and "Nothing related" in window.related.state.text()


def test_enter_and_click_open_a_recommendation_and_record_clicks(qtbot, window, notes, settle):
    _open_and_fill(qtbot, window, settle, notes["journal"])
    panel = window.related
    # keyboard: Ctrl+R focuses the list, Enter opens the first recommendation
    qtbot.keyClick(window.editor.edit, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert panel.list.hasFocus()
    with qtbot.waitSignal(panel.shown, timeout=10_000):
        qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    assert window.editor.note_id == notes["espresso"]
    settle(window)
    stats = EventLog(window.library).panel_stats()
    assert stats.clicks == 1 and stats.impressions >= 2 and stats.mean_click_rank == 1
    # mouse: click the journal back (linked from the other side) in the espresso note's panel
    assert _titles(window)  # the journal itself was just seen: it is not offered again
    assert "Coffee journal" not in _titles(window)
    qtbot.wait(int(ACTIVATE_DEBOUNCE_S * 1000) + 50)
    target = panel.recommendations[0]
    rect = panel.list.visualRect(panel.model.index(0, 0))
    with qtbot.waitSignal(panel.shown, timeout=10_000):
        qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.editor.note_id == target.item_id
    settle(window)
    log = EventLog(window.library)
    assert log.panel_stats().clicks == 2
    clicks = [e for e in log.events(kinds=["click"]) if e.data.get("from") == "related"]
    assert [(c.item_id, c.data["source_item"]) for c in clicks] == [
        (notes["espresso"], notes["journal"]),
        (target.item_id, notes["espresso"]),
    ]
    # closing the window logs the dwell on the note still open
    window.close()
    dwells = [e.item_id for e in log.events(kinds=["dwell"])]
    assert dwells == [notes["journal"], notes["espresso"], target.item_id]


def test_gui_actions_log_open_search_click_dwell_and_ask(qtbot, window, notes, settle):
    window.reload_lists()
    settle(window)
    # palette: search, choose a note with Enter
    qtbot.keyClick(window.notes_view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    palette = window.palette_widget
    qtbot.keyClicks(palette.input, "Groceries")
    qtbot.waitUntil(lambda: any(r.title == "Groceries" for r in palette.model.rows), timeout=10_000)
    while palette.model.rows[palette.list.currentIndex().row()].title != "Groceries":
        qtbot.keyClick(palette.input, Qt.Key.Key_Down)
    with qtbot.waitSignal(window.related.shown, timeout=10_000):
        qtbot.keyClick(palette.input, Qt.Key.Key_Return)
    assert window.editor.note_id == notes["groceries"]
    # another note: the dwell on the first is logged when leaving it
    with qtbot.waitSignal(window.related.shown, timeout=10_000):
        window.open_item("note", notes["journal"])
    # Tab in the palette asks the assistant
    window.open_palette()
    qtbot.keyClicks(palette.input, "how fine to grind")
    qtbot.keyClick(palette.input, Qt.Key.Key_Tab)
    settle(window)
    events = EventLog(window.library).events()
    kinds = [e.kind for e in events]
    for kind in ("open", "search", "click", "dwell", "ask", "impression"):
        assert kind in kinds, kind
    search = next(e for e in events if e.kind == "search")
    click = next(e for e in events if e.kind == "click")
    assert search.query == "Groceries"
    assert (click.item_id, click.query, click.data["from"]) == (
        notes["groceries"],
        "Groceries",
        "palette",
    )
    opens = [e.item_id for e in events if e.kind == "open"]
    assert opens == [notes["groceries"], notes["journal"]]
    dwell = next(e for e in events if e.kind == "dwell")
    assert dwell.item_id == notes["groceries"] and dwell.data["seconds"] >= 0
    ask = next(e for e in events if e.kind == "ask")
    assert ask.query == "how fine to grind"
    # the order a recommender reads: search, click, then the open it led to
    order = [e.kind for e in events if e.kind in ("search", "click", "open")]
    assert order[:3] == ["search", "click", "open"]
    # asking switched the detail to the chat: the journal's dwell ended there
    dwells = [e.item_id for e in events if e.kind == "dwell"]
    assert dwells == [notes["groceries"], notes["journal"]]
    assert not window.related.isVisible()


def test_a_photo_shows_the_note_that_embeds_it_with_its_thumbnail(
    qtbot, window, library, tmp_path, settle
):
    from PIL import Image
    from skimage import data

    path = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, quality=90)
    photo_id, _ = library.photos.add(path)
    note = library.notes.create("# Space trip\n\n![[astronaut.jpg]] at the training pool.")
    library.notes.create("# Unrelated\n\nnothing here")
    window.reload_lists()
    settle(window)
    # the note's panel shows the photo it embeds, with its thumbnail
    with qtbot.waitSignal(window.related.shown, timeout=10_000):
        window.open_item("note", note)
    settle(window)
    photo_row = next(r for r in window.related.model.rows if r.item_id == photo_id)
    assert photo_row.kind == "photo" and photo_row.image is not None
    assert "linked" in photo_row.subtitle
    # the photo's panel: the note was just seen, so it is not offered back
    with qtbot.waitSignal(window.related.shown, timeout=10_000):
        window.open_item("photo", photo_id)
    settle(window)
    assert window.related.isVisible() and window.viewer.photo_id == photo_id
    assert note not in [r.item_id for r in window.related.recommendations]


def test_only_the_last_of_quick_opens_is_painted(qtbot, window, notes, settle):
    window.reload_lists()
    settle(window)
    painted: list[str] = []
    window.related.shown.connect(lambda item_id, _full: painted.append(item_id))
    for key in ("journal", "espresso", "groceries"):  # arrowing through the list
        window.open_item("note", notes[key])
    qtbot.waitUntil(lambda: bool(painted), timeout=10_000)
    settle(window)
    assert set(painted) == {notes["groceries"]}
    assert window.related.item == ("note", notes["groceries"])
    opens = [e.item_id for e in EventLog(window.library).events(kinds=["open"])]
    assert opens[-1] == notes["groceries"]
