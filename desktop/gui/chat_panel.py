"""The chat panel: where a palette question (Tab) lands. It asks ``core.assistant`` when that
service is installed; until then it keeps the question and says why it cannot answer."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.operations import Operations


class ChatPanel(QWidget):
    answered = Signal(str)

    def __init__(self, library: Any, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.ops = ops
        self.header = QLabel("<b>Ask your notes and photos</b>", self)
        self.transcript = QTextBrowser(self)
        self.transcript.setAccessibleName("Conversation")
        self.question = QLineEdit(self)
        self.question.setAccessibleName("Question")
        self.question.setPlaceholderText("Ask a question about your notes and photos…")
        self.ask_button = QPushButton("Ask", self)
        self.ask_button.setAccessibleName("Ask the assistant")
        self.ask_button.clicked.connect(self.ask)
        self.question.returnPressed.connect(self.ask)
        row = QHBoxLayout()
        row.addWidget(self.question, 1)
        row.addWidget(self.ask_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(row)

    def prefill(self, question: str) -> None:
        self.question.setText(question)
        self.question.setFocus()

    def ask(self) -> None:
        question = self.question.text().strip()
        if not question:
            return
        self.transcript.append(f"<p><b>You:</b> {_escape(question)}</p>")
        try:
            from core.assistant import Assistant  # type: ignore[import-not-found]
        except ImportError:
            self.transcript.append(
                "<p><i>The assistant is not installed in this build yet, so this question "
                "cannot be answered here. Search (Ctrl+K) finds the notes and photos that "
                "mention it.</i></p>"
            )
            return
        library = self.library
        self.question.clear()

        def shown(answer: Any) -> None:
            text = getattr(answer, "text", None) or str(answer)
            self.transcript.append(f"<p><b>Saem:</b> {_escape(text)}</p>")
            self.answered.emit(text)

        self.ops.long(lambda: Assistant(library).ask(question), shown)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
