"""The chat panel in the main window: streaming off the GUI thread, clickable citations,
stop without storing, switching chats. The model is the scripted ChatModel fake (Protocol
boundary) from the assistant tests; search, chats and the library are real."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt, QUrl

from core.assistant.service import Assistant
from core.indexing.indexer import Indexer
from core.search.searcher import Searcher
from desktop.gui.chat.bubbles import SourceCard
from tests.core.assistant.test_service import CHEESE, ScriptedModel
from tests.search_support import HashEmbedder


class SlowModel(ScriptedModel):
    """Waits between tokens until released, so the test can press Stop mid-answer."""

    def __init__(self, replies):
        super().__init__(replies)
        self.gate = threading.Event()

    def stream(self, messages, **kw):
        for i, piece in enumerate(super().stream(messages, **kw)):
            if i == 1:
                self.gate.wait(10)
            yield piece


def _setup(window, library, model):
    embedder = HashEmbedder()
    note = library.notes.create(CHEESE)
    Indexer(library, embedder=embedder, auto_models=False).run()
    window.chat.assistant = Assistant(library, chat_model=model,
                                      searcher=Searcher(library, embedder))  # fmt: skip
    return note


def test_answer_streams_and_citation_opens_the_note(window, library, qtbot, settle):
    note = _setup(window, library, ScriptedModel(["Brie comes from France [1]."]))
    window.ask("Where does brie cheese come from?")
    panel = window.chat
    with qtbot.waitSignal(panel.answered, timeout=20_000):
        panel.ask()
    settle(window)
    html = panel.transcript.toHtml()
    assert f"saem-item:note/{note}" in html and "France" in html
    opened = []
    panel.open_item.connect(lambda kind, item: opened.append((kind, item)))
    panel._link(QUrl(f"saem-item:note/{note}"))
    assert opened == [("note", note)]
    qtbot.waitUntil(lambda: window.editor.note_id == note, timeout=10_000)  # the window opened it
    assert panel.chat_id
    qtbot.waitUntil(lambda: window.chats_model.row_of(panel.chat_id) >= 0)  # listed in Chats
    assert not window.chats_page.pane.is_empty
    # The sources show as cards under the answer; Enter on one opens its item.
    cards = [c for c in panel.findChildren(SourceCard) if c.item_id == note]
    assert cards and cards[0].kind == "note"
    opened.clear()
    qtbot.keyClick(cards[0], Qt.Key.Key_Return)
    assert opened == [("note", note)]


def test_stop_mid_answer_stores_nothing(window, library, qtbot, settle):
    model = SlowModel(["one two three four five six"])
    _setup(window, library, model)
    panel = window.chat
    panel.prefill("Where does brie cheese come from?")
    panel.ask()
    qtbot.waitUntil(lambda: "one" in panel.transcript.toPlainText(), timeout=20_000)
    assert panel.stop_button.isEnabled()
    panel.stop()
    model.gate.set()
    qtbot.waitUntil(lambda: panel.ask_button.isEnabled(), timeout=20_000)
    settle(window)
    assert "not stored" in panel.transcript.toPlainText()
    assert panel.assistant.chats.list() == []


def test_ask_about_the_open_photo_from_the_palette_command(
    window, library, qtbot, settle, tmp_path
):
    from tests.core.assistant.test_service import _receipt

    photo, _ = library.photos.add(_receipt(tmp_path / "r.png", "TOTAL 9,900"))
    model = ScriptedModel(["The total is 9,900."])
    _setup(window, library, model)
    command = next(c for c in window.palette_widget.commands if c.title == "Ask about photo")
    command.action()
    assert window.chat.photo_id is None and not window.chat.photo_label.isHidden()  # none open
    window.open_photo(photo)
    qtbot.waitUntil(lambda: window.viewer.photo_id == photo, timeout=10_000)
    command.action()
    assert window.detail.currentWidget() is window.chat and window.chat.photo_id == photo
    window.chat.prefill("what is the total?")
    with qtbot.waitSignal(window.chat.answered, timeout=20_000):
        window.chat.ask()
    settle(window)
    assert "CANNOT see" in model.calls[0][0].content  # photo chat, no vision model
    assert window.chat.assistant.chats.get(window.chat.chat_id).photo_item_id == photo
