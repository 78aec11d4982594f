"""The chat panel: ask your notes (or a photo) and watch the answer stream in.

Layout, top to bottom: header (chat title, the photo being discussed, New chat) · the
**instant-answer slot** (``instant_area`` holding the ``InstantCard``: a verbatim sentence of
the library, no model, filled from the db thread first) · the transcript of bubbles with
source cards · the question field with Ask / Stop.

The assistant runs on the operations helper's long-work thread; each token is handed to the
GUI thread with ``ops.to_gui``. Citations ``[n]`` and the source cards open their item. Stop
cancels the answer: nothing of it is stored (``core.assistant.service``).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.library import ChatId, PhotoId
from desktop.gui.chat.bubbles import Bubble, SourceCard, Transcript, cited_html
from desktop.gui.chat.instant_card import InstantCard
from desktop.gui.operations import CancelToken, Operations
from desktop.gui.theme import icons
from desktop.gui.theme.tokens import SPACE_L, SPACE_M, SPACE_S

if TYPE_CHECKING:
    from core.assistant.chats import Chat, ChatsService
    from core.assistant.service import Answer, Assistant
    from core.library import Library


class ChatPanel(QWidget):
    answered = Signal(str)  # the answer text, once complete and stored
    open_item = Signal(str, str)  # kind, item id (a clicked citation or source)

    def __init__(self, library: Library, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.ops = ops
        self.assistant: Assistant | None = None  # created on first use (tests may set their own)
        self.chat_id: str | None = None
        self.photo_id: str | None = None
        self._live: Bubble | None = None  # the answer while it streams
        self._live_text = ""
        self._cancel: CancelToken | None = None

        # header
        self.header = QLabel("New chat", self)
        self.header.setProperty("role", "title")
        self.header.setAccessibleName("Chat title")
        self.photo_label = QLabel("", self)
        self.photo_label.setProperty("role", "muted")
        self.photo_label.setVisible(False)
        self.new_button = QPushButton("New chat", self)
        self.new_button.setProperty("variant", "ghost")
        self.new_button.clicked.connect(self.new_chat)
        top = QHBoxLayout()
        top.setContentsMargins(SPACE_L, SPACE_M, SPACE_M, 0)
        top.addWidget(self.header, 1)
        top.addWidget(self.new_button)
        # the instant-answer slot (see the module docstring)
        self.instant_area = QWidget(self)
        self.instant_layout = QVBoxLayout(self.instant_area)
        self.instant_layout.setContentsMargins(SPACE_L, SPACE_S, SPACE_L, 0)
        self.instant = InstantCard(self.instant_area)
        self.instant.open_item.connect(self.open_item)
        self.instant_layout.addWidget(self.instant)
        # transcript
        self.transcript = Transcript(self)
        self.transcript.setAccessibleName("Conversation")
        self.hint = QLabel(
            "Ask anything about your notes and photos — in Korean or English. Answers cite "
            "their sources; click one to open it.",
            self,
        )
        self.hint.setProperty("role", "muted")
        self.hint.setWordWrap(True)
        self.hint.setContentsMargins(SPACE_L, SPACE_M, SPACE_L, 0)
        # question row
        self.question = QLineEdit(self)
        self.question.setAccessibleName("Question")
        self.question.setPlaceholderText("Ask a question about your notes and photos…")
        self.question.returnPressed.connect(self.ask)
        self.ask_button = QPushButton("Ask", self)
        self.ask_button.setProperty("variant", "primary")
        self.ask_button.setAccessibleName("Ask the assistant")
        self.ask_button.clicked.connect(self.ask)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setAccessibleName("Stop the answer")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        row = QHBoxLayout()
        row.setContentsMargins(SPACE_L, SPACE_S, SPACE_L, SPACE_L)
        row.setSpacing(SPACE_S)
        row.addWidget(self.question, 1)
        row.addWidget(self.ask_button)
        row.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        self.photo_label.setContentsMargins(SPACE_L, 0, SPACE_L, 0)
        layout.addWidget(self.photo_label)
        layout.addWidget(self.instant_area)
        layout.addWidget(self.hint)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(row)
        self.setFocusProxy(self.question)
        self.refresh_icons()
        if parent is not None and hasattr(parent, "open_item"):
            self.open_item.connect(parent.open_item)

    def refresh_icons(self) -> None:
        self.ask_button.setIcon(icons.icon("send", "on_accent"))
        self.stop_button.setIcon(icons.icon("square", "text"))
        self.new_button.setIcon(icons.icon("plus", "text"))

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
        self.header.setText("New chat")
        self.transcript.clear()
        self.instant.show_answer(None)
        self.hint.show()

    def open_chat(self, chat_id: str) -> None:
        if chat_id and chat_id != self.chat_id:
            self.ops.query(lambda: self._service().get(ChatId(chat_id)), self._show_chat)

    def ask(self) -> None:
        question = self.question.text().strip()
        if not question or self._cancel is not None:
            return
        self.question.clear()
        self.show_instant(question)
        self.hint.hide()
        self.transcript.add(Bubble("user", html.escape(question), self.transcript.inner))
        self._live_text = ""
        self._live = self._bubble("saem", "…")
        token = CancelToken()
        self._cancel = token
        self.ask_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        helper, chat_id, photo_id = self._assistant(), self.chat_id, self.photo_id

        def streamed(piece: str) -> None:
            self.ops.to_gui(lambda: self._token(piece))

        def work() -> Any:
            if photo_id:
                return helper.photo_chat(
                    photo_id, question, chat_id, on_token=streamed, should_cancel=token
                )
            return helper.ask(question, chat_id, on_token=streamed, should_cancel=token)

        self.ops.long(work, self._done, self._failed)

    def stop(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    # -- callbacks (GUI thread) ---------------------------------------------------------------

    def _token(self, piece: str) -> None:
        if self._cancel is not None and self._live is not None:
            self._live_text += piece
            self._live.set_html(html.escape(self._live_text).replace("\n", "<br>") + " ▌")
            self.transcript.scroll_to_end()

    def _done(self, answer: Answer) -> None:
        live = self._live
        self._finish()
        self.chat_id = answer.chat_id
        notice = f"<i>{html.escape(answer.notice)}</i><br><br>" if answer.notice else ""
        self._answer_bubble(answer.text, _answer_sources(answer), live, notice)
        self.header.setText(self._title_of(answer))
        self.answered.emit(answer.text)

    def _failed(self, exc: BaseException) -> None:
        from core.errors import CancelledError, user_message

        live = self._live
        self._finish()
        why = (
            "Stopped; the answer was not stored."
            if isinstance(exc, CancelledError)
            else user_message(exc)
        )
        if live is not None:
            kept = html.escape(self._live_text).replace("\n", "<br>")
            live.set_html((kept + "<br><br>" if kept else "") + f"<i>{html.escape(why)}</i>")

    def _finish(self) -> None:
        self._cancel = None
        self._live = None
        self.ask_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _show_chat(self, chat: Chat) -> None:
        self.chat_id = chat.id
        self.photo_id = chat.photos()[-1] if chat.photos() else None
        self.photo_label.setVisible(bool(self.photo_id))
        if self.photo_id:
            self.photo_label.setText("About a photo")
        self.header.setText(chat.title or "Chat")
        self.transcript.clear()
        self.instant.show_answer(None)
        self.hint.setVisible(not chat.messages)
        for m in chat.messages:
            if m.role == "user":
                self._bubble("user", html.escape(m.content))
            elif m.role == "assistant":
                self._answer_bubble(m.content, list(m.sources))

    def _link(self, url: QUrl | str) -> None:
        url = QUrl(url) if isinstance(url, str) else url
        if url.scheme() == "saem-item":
            kind, _, item_id = url.path().partition("/")
            self.open_item.emit(kind, item_id)

    # -- helpers ------------------------------------------------------------------------------

    def _bubble(self, role: str, body: str) -> Bubble:
        bubble = Bubble(role, body, self.transcript.inner)
        bubble.link.connect(self._link)
        return self.transcript.add(bubble)

    def _answer_bubble(
        self,
        text: str,
        sources: list[dict[str, Any]],
        bubble: Bubble | None = None,
        notice: str = "",
    ) -> Bubble:
        """An answer with its source cards (into ``bubble``, the one that streamed, if any)."""
        body = notice + cited_html(text, sources)
        if bubble is None:
            bubble = self._bubble("saem", body)
        else:
            bubble.set_html(body)
        photos: list[SourceCard] = []
        for source in sorted(
            (s for s in sources if s.get("item_id") and s.get("number")),
            key=lambda s: int(s["number"]),
        ):
            card = SourceCard(source, bubble.sources)
            card.open_item.connect(self.open_item)
            bubble.add_card(card)
            if card.kind == "photo":
                photos.append(card)
        if photos:
            self._load_thumbnails(photos)
        return bubble

    def _load_thumbnails(self, cards: list[SourceCard]) -> None:
        photos = self.library.photos
        ids = [c.item_id for c in cards]

        def work() -> dict[str, QImage]:
            out = {}
            for item_id in ids:
                image = QImage(str(photos.get(PhotoId(item_id)).thumb_path))
                if not image.isNull():
                    out[item_id] = image.scaledToHeight(96)
            return out

        def loaded(images: dict[str, QImage]) -> None:
            for card in cards:
                if card.item_id in images:
                    card.set_thumbnail(QPixmap.fromImage(images[card.item_id]))

        self.ops.query(work, loaded)

    def _title_of(self, answer: Answer) -> str:
        query = answer.query or ""
        return (query[:60] + "…") if len(query) > 60 else (query or "Chat")

    def _assistant(self) -> Assistant:
        if self.assistant is None:
            self.assistant = self.library.assistant
        return self.assistant

    def _service(self) -> ChatsService:
        return self._assistant().chats if self.assistant is not None else self.library.chats


def _answer_sources(answer: Any) -> list[dict[str, Any]]:
    """The sources of this turn, plus those of earlier turns that this answer cites."""
    sources = [s.to_json() for s in answer.sources]
    given = {s["number"] for s in sources}
    for c in answer.citations:
        if c.valid and c.number not in given:
            given.add(c.number)
            sources.append(
                {"number": c.number, "item_id": c.item_id, "kind": c.kind, "title": c.title}
            )
    return sources
