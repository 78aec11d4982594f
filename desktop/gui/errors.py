"""The GUI's one error presenter: typed core errors become one human sentence in a banner.

Errors in :data:`core.errors.USER_ERRORS` carry a sentence written for the user; anything
else is a bug, shown as "Unexpected error" with its traceback in the log.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from core.errors import USER_ERRORS, user_message

log = logging.getLogger(__name__)

_SHOW_MS = 15_000


class ErrorPresenter(QFrame):
    """A dismissable banner at the top of the window."""

    shown = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setAccessibleName("Error message")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#errorBanner { background: #fde8e8; border: 1px solid #e0a0a0; border-radius: 4px; }"
            " #errorBanner QLabel { color: #7a1010; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(self)
        close.setText("✕")
        close.setAccessibleName("Dismiss error")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.history: list[str] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def present(self, exc: BaseException) -> str:
        """Show ``exc`` as one sentence; returns the sentence."""
        if isinstance(exc, USER_ERRORS):
            message = user_message(exc)
        else:
            log.error("unexpected error", exc_info=exc)
            message = f"Unexpected error: {exc.__class__.__name__}: {exc}"
        self.show_message(message)
        return message

    def show_message(self, message: str) -> None:
        self.history.append(message)
        self.label.setText(message)
        self.setAccessibleDescription(message)
        self.show()
        self._timer.start(_SHOW_MS)
        self.shown.emit(message)

    @property
    def current(self) -> str | None:
        return self.label.text() if self.isVisible() else None
