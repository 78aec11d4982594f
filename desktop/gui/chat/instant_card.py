"""The instant answer card above the chat transcript: the sentence (table row, OCR row) of the
library that most likely answers the question, its answer span highlighted, and a link to its
source. It fills in milliseconds (``lib.assistant.instant`` on the fast thread), before the
model's answer streams below it."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from core.assistant.instant import InstantAnswer


class InstantCard(QFrame):
    open_item = Signal(str, str)  # kind, item id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("instantCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Instant answer from your notes")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(self.label.textFormat().RichText)
        self.label.linkActivated.connect(self._link)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.label)
        self.answer: InstantAnswer | None = None
        self.setVisible(False)

    def show_answer(self, answer: InstantAnswer | None) -> None:
        """Show an ``InstantAnswer`` (hidden when None: nothing in the library answers)."""
        self.answer = answer
        if answer is None:
            self.label.clear()
            self.setVisible(False)
            return
        text = answer.text
        if answer.span:
            a, b = answer.span
            body = (html.escape(text[:a]) + "<b><u>" + html.escape(text[a:b]) + "</u></b>"
                    + html.escape(text[b:]))  # fmt: skip
        else:
            body = html.escape(text)
        source = html.escape(answer.title or answer.item_id[:8])
        self.label.setText(
            f"<small>From your {html.escape(answer.kind)}s, in {answer.ms:.0f} ms</small><br>"
            f'“{body}”<br><small>— <a href="saem-item:{answer.kind}/{answer.item_id}">'
            f"{source}</a></small>"
        )
        self.setVisible(True)

    def _link(self, href: str) -> None:
        kind, _, item_id = href.removeprefix("saem-item:").partition("/")
        self.open_item.emit(kind, item_id)
