"""A middle-column page: a header (title, optional controls) over a ``Pane`` (the list and
its empty state)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.gui.empty_state import EmptyState, Pane
from desktop.gui.theme.tokens import SPACE_M, SPACE_S, SPACE_XS


class Page(QWidget):
    def __init__(
        self,
        title: str,
        content: QWidget,
        empty: EmptyState,
        controls: list[QWidget] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = QLabel(title, self)
        self.title.setProperty("role", "heading")
        self.subtitle = QLabel("", self)
        self.subtitle.setProperty("role", "caption")
        self.pane = Pane(content, empty, self)
        header = QHBoxLayout()
        header.setContentsMargins(SPACE_M + SPACE_XS, SPACE_M, SPACE_M, SPACE_S)
        header.setSpacing(SPACE_S)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        for control in controls or []:
            control.setParent(self)
            header.addWidget(control)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.pane, 1)
        self.setFocusProxy(self.pane)

    def set_empty(self, empty: bool) -> None:
        self.pane.set_empty(empty)
