"""Empty states: what a pane shows when it has nothing yet, always with a way forward.

``EmptyState`` is an icon, a heading, a sentence and one or two buttons (the first is the
primary call to action). ``Pane`` stacks a content widget over its empty state and switches
between them when told ``set_empty(bool)``; a pane's model decides, not a timer."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.theme import icons
from desktop.gui.theme.tokens import ICON_L, SPACE_L, SPACE_M, SPACE_S, SPACE_XL

Action = tuple[str, Callable[[], object]]


class EmptyState(QFrame):
    def __init__(
        self,
        icon: str,
        heading: str,
        text: str,
        actions: list[Action] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setProperty("empty", True)
        self.icon_name = icon
        self.icon = QLabel(self)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.heading = QLabel(heading, self)
        self.heading.setProperty("role", "title")
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel(text, self)
        self.text.setProperty("role", "muted")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.buttons: list[QPushButton] = []
        row = QHBoxLayout()
        row.setSpacing(SPACE_S)
        row.addStretch(1)
        for i, (label, slot) in enumerate(actions or []):
            button = QPushButton(label, self)
            button.setProperty("variant", "primary" if i == 0 else "")
            button.clicked.connect(lambda _=False, slot=slot: slot())
            row.addWidget(button)
            self.buttons.append(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACE_L, SPACE_XL, SPACE_L, SPACE_XL)
        layout.setSpacing(SPACE_M)
        layout.addStretch(1)
        layout.addWidget(self.icon)
        layout.addWidget(self.heading)
        layout.addWidget(self.text)
        layout.addSpacing(SPACE_S)
        layout.addLayout(row)
        layout.addStretch(2)
        self.setAccessibleName(heading)
        if self.buttons:
            self.setFocusProxy(self.buttons[0])
        self.refresh_icon()

    def refresh_icon(self) -> None:
        self.icon.setPixmap(icons.pixmap(self.icon_name, ICON_L, "faint"))

    def set_text(self, heading: str, text: str) -> None:
        self.heading.setText(heading)
        self.text.setText(text)
        self.setAccessibleName(heading)


class Pane(QStackedWidget):
    """A content widget and its empty state; focus goes to whichever shows."""

    def __init__(self, content: QWidget, empty: EmptyState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.content = content
        self.empty = empty
        self.addWidget(content)
        self.addWidget(empty)
        self.setFocusProxy(content)

    def set_empty(self, empty: bool) -> None:
        self.setCurrentWidget(self.empty if empty else self.content)
        self.setFocusProxy(self.empty if empty else self.content)

    @property
    def is_empty(self) -> bool:
        return self.currentWidget() is self.empty
