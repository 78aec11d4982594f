"""The chat panel: ask your notes (or a photo) and watch the answer stream in.

The instant answer (a verbatim sentence of the library, no model) fills the card above the
transcript first, from the db thread; the assistant then runs on the operations helper's
long-work thread and each token is handed to the GUI thread with ``ops.to_gui``. Citations
``[n]`` and the numbered sources are links that open their item. Stop cancels the answer:
nothing of it is stored (``core.assistant.service``).
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.chat.instant_card import InstantCard
from desktop.gui.operations import CancelToken, Operations

if TYPE_CHECKING:
    from core.assistant.service import Assistant
    from core.library import Library

_CITE = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*[,、]\s*\d{1,3})*)\s*[\]】]")


class ChatPanel(QWidget):
    answered = Signal(str)  # the answer text, once complete and stored
    open_item = Signal(str, str)  # kind, item id (a clicked citation or source)

    def __init__(self, library: Library, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.ops = ops
        self.assistant: Any = None  # created on first use (tests may set their own)
        self.chat_id: str | None = None
        self.photo_id: str | None = None
        self._turns: list[str] = []  # rendered HTML of finished turns
        self._live = ""  # the answer while it streams
        self._cancel: CancelToken | None = None

        self.header = QLabel("<b>Ask your notes and photos</b>", self)
        self.chats = QComboBox(self)
        self.chats.setAccessibleName("Conversation")
        self.chats.addItem("New chat", None)
        self.chats.activated.connect(self._chat_chosen)
        self.photo_label = QLabel("", self)
        self.photo_label.setVisible(False)
        self.instant = InstantCard(self)
        self.instant.open_item.connect(self.open_item)
        self.transcript = QTextBrowser(self)
        self.transcript.setAccessibleName("Conversation")
        self.transcript.setOpenLinks(False)
        self.transcript.anchorClicked.connect(self._link)
        self.question = QLineEdit(self)
        self.question.setAccessibleName("Question")
        self.question.setPlaceholderText("Ask a question about your notes and photos…")
        self.ask_button = QPushButton("Ask", self)
        self.ask_button.setAccessibleName("Ask the assistant")
        self.ask_button.clicked.connect(self.ask)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setAccessibleName("Stop the answer")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.question.returnPressed.connect(self.ask)
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.chats)
        row = QHBoxLayout()
        row.addWidget(self.question, 1)
        row.addWidget(self.ask_button)
        row.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.photo_label)
        layout.addWidget(self.instant)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(row)
        if parent is not None and hasattr(parent, "open_item"):
            self.open_item.connect(parent.open_item)
        self.reload_chats()

    # -- public -------------------------------------------------------------------------------

    def prefill(self, question: str) -> None:
        """Put a question in the box (the palette's Tab) and show its instant answer."""
        self.question.setText(question)
        self.question.setFocus()
        self.show_instant(question)

    def show_instant(self, question: str) -> None:
        """Look up the instant answer on the db thread; the card shows it when found."""
        if not question.strip():
            self.instant.show_answer(None)
            return
        helper, photo_id = self._assistant(), self.photo_id

        def work() -> Any:
            return helper.instant(question, photo_id=photo_id)

        self.ops.query(work, self.instant.show_answer, lambda _e: self.instant.show_answer(None))

    def about_photo(self, photo: Any, title: str = "") -> None:
        """Ask the next questions about a photo: its id, or the photo viewer (its open photo).
        Brings the panel forward in the main window."""
        photo_id = getattr(photo, "photo_id", photo)
        show = getattr(self.window(), "ask", None)
        if show is not None:
            show("")  # the main window's "show the chat panel with this question"
        if not photo_id:
            self.photo_label.setText("Open a photo first, then ask about it.")
            self.photo_label.setVisible(True)
            return
        self.photo_id = photo_id
        self.photo_label.setText(f"About the photo <b>{html.escape(title or photo_id[:8])}</b>")
        self.photo_label.setVisible(True)
        self.question.setFocus()

    def new_chat(self) -> None:
        self.chat_id = None
        self.photo_id = None
        self.photo_label.setVisible(False)
        self._turns = []
        self._render()

    def reload_chats(self) -> None:
        self.ops.query(lambda: self._service().list(limit=50), self._chats_loaded)

    def ask(self) -> None:
        question = self.question.text().strip()
        if not question or self._cancel is not None:
            return
        self.question.clear()
        self.show_instant(question)
        self._turns.append(f"<p><b>You:</b> {html.escape(question)}</p>")
        self._live = ""
        self._render()
        token = CancelToken()
        self._cancel = token
        self.ask_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        helper, chat_id, photo_id = self._assistant(), self.chat_id, self.photo_id

        def streamed(piece: str) -> None:
            self.ops.to_gui(lambda: self._token(piece))

        def work() -> Any:
            if photo_id:
                return helper.photo_chat(photo_id, question, chat_id, on_token=streamed,
                                         should_cancel=token)  # fmt: skip
            return helper.ask(question, chat_id, on_token=streamed, should_cancel=token)

        self.ops.long(work, self._done, self._failed)

    def stop(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    # -- callbacks (GUI thread) ---------------------------------------------------------------

    def _token(self, piece: str) -> None:
        if self._cancel is not None:
            self._live += piece
            self._render()

    def _done(self, answer: Any) -> None:
        self._finish()
        self.chat_id = answer.chat_id
        self._turns.append(_answer_html(answer))
        self._render()
        self.reload_chats()
        self.answered.emit(answer.text)

    def _failed(self, exc: BaseException) -> None:
        from core.errors import CancelledError, user_message

        self._finish()
        why = "Stopped; the answer was not stored." if isinstance(exc, CancelledError) \
            else user_message(exc)  # fmt: skip
        self._turns.append(f"<p><i>{html.escape(why)}</i></p>")
        self._render()

    def _finish(self) -> None:
        self._cancel = None
        self._live = ""
        self.ask_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _chats_loaded(self, rows: list[Any]) -> None:
        current = self.chat_id
        self.chats.blockSignals(True)
        self.chats.clear()
        self.chats.addItem("New chat", None)
        for row in rows:
            self.chats.addItem(row.title, row.id)
        index = self.chats.findData(current) if current else 0
        self.chats.setCurrentIndex(max(index, 0))
        self.chats.blockSignals(False)

    def _chat_chosen(self, index: int) -> None:
        chat_id = self.chats.itemData(index)
        if not chat_id:
            self.new_chat()
            return
        self.ops.query(lambda: self._service().get(chat_id), self._show_chat)

    def _show_chat(self, chat: Any) -> None:
        self.chat_id = chat.id
        self.photo_id = chat.photos()[-1] if chat.photos() else None
        self.photo_label.setVisible(bool(self.photo_id))
        self._turns = []
        for m in chat.messages:
            if m.role == "user":
                self._turns.append(f"<p><b>You:</b> {html.escape(m.content)}</p>")
            elif m.role == "assistant":
                self._turns.append(_stored_html(m.content, m.sources))
        self._render()

    def _link(self, url: QUrl) -> None:
        if url.scheme() == "saem-item":
            kind, _, item_id = url.path().partition("/")
            self.open_item.emit(kind, item_id)

    # -- helpers ------------------------------------------------------------------------------

    def _assistant(self) -> Assistant:
        if self.assistant is None:
            self.assistant = self.library.assistant
        return self.assistant

    def _service(self) -> Any:
        return self._assistant().chats

    def _render(self) -> None:
        live = f"<p><b>Saem:</b> {html.escape(self._live)}▌</p>" if self._cancel else ""
        self.transcript.setHtml("".join(self._turns) + live)
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())


def _link(kind: str, item_id: str, label: str) -> str:
    return f'<a href="saem-item:{kind}/{item_id}">{label}</a>'


def _stored_html(text: str, sources: list[dict[str, Any]]) -> str:
    by_number = {int(s["number"]): s for s in sources if s.get("number") and s.get("item_id")}

    def cite(match: re.Match[str]) -> str:
        out = []
        for part in re.split(r"\s*[,、]\s*", match.group(1)):
            src = by_number.get(int(part)) if part.isdigit() else None
            out.append(_link(src["kind"], src["item_id"], f"[{part}]") if src else f"[{part}]")
        return "".join(out)

    body = _CITE.sub(cite, html.escape(text)).replace("\n", "<br>")
    items = "".join(
        f"<li>{_link(s['kind'], s['item_id'], html.escape(f'[{n}] ' + (s.get('title') or '')))}"
        "</li>"
        for n, s in sorted(by_number.items())
    )
    return f"<p><b>Saem:</b> {body}</p>" + (f"<ul>{items}</ul>" if items else "")


def _answer_html(answer: Any) -> str:
    notice = f"<p><i>{html.escape(answer.notice)}</i></p>" if answer.notice else ""
    sources = [s.to_json() for s in answer.sources]
    given = {s["number"] for s in sources}
    for c in answer.citations:  # a follow-up may cite a source of an earlier turn
        if c.valid and c.number not in given:
            given.add(c.number)
            sources.append({"number": c.number, "item_id": c.item_id, "kind": c.kind,
                            "title": c.title})  # fmt: skip
    return notice + _stored_html(answer.text, sources)
