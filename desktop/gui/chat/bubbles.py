"""The chat transcript's pieces: message bubbles (yours on the right, Saem's on the left),
source cards (thumbnail or kind icon, number, title, the passage) and the scrolling column
that holds them. Citations ``[n]`` are links (``saem-item:kind/id``); cards open on click,
Enter or Space."""

from __future__ import annotations

import html
import re
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.theme import icons
from desktop.gui.theme.tokens import SPACE_L, SPACE_M, SPACE_S, SPACE_XS

_CITE = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*[,、]\s*\d{1,3})*)\s*[\]】]")
THUMB = 44
KIND_ICONS = {"note": "file-text", "photo": "image", "chat": "messages-square"}


def item_link(kind: str, item_id: str, label: str) -> str:
    return f'<a href="saem-item:{kind}/{item_id}">{label}</a>'


def cited_html(text: str, sources: list[dict[str, Any]]) -> str:
    """The answer as HTML with each ``[n]`` a link to source n."""
    by_number = {int(s["number"]): s for s in sources if s.get("number") and s.get("item_id")}

    def cite(match: re.Match[str]) -> str:
        out = []
        for part in re.split(r"\s*[,、]\s*", match.group(1)):
            src = by_number.get(int(part)) if part.isdigit() else None
            out.append(item_link(src["kind"], src["item_id"], f"[{part}]") if src else f"[{part}]")
        return "".join(out)

    return _CITE.sub(cite, html.escape(text)).replace("\n", "<br>")


class Bubble(QFrame):
    """One message. ``role``: ``user`` | ``saem`` | ``note`` (a notice in italics)."""

    link = Signal(str)

    def __init__(self, role: str, body_html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.setProperty("bubble", "user" if role == "user" else "saem")
        self.label = QLabel(body_html, self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.label.setOpenExternalLinks(False)
        self.label.linkActivated.connect(self.link)
        self.label.setAccessibleName("You" if role == "user" else "Saem")
        self.sources = QWidget(self)
        self.sources_layout = QGridLayout(self.sources)
        self.sources_layout.setContentsMargins(0, SPACE_XS, 0, 0)
        self.sources_layout.setSpacing(SPACE_S)
        self.sources.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACE_M, SPACE_S + 2, SPACE_M, SPACE_S + 2)
        layout.setSpacing(SPACE_S)
        if role != "user":
            who = QLabel("Saem", self)
            who.setProperty("role", "caption")
            layout.addWidget(who)
        layout.addWidget(self.label)
        layout.addWidget(self.sources)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def set_html(self, body_html: str) -> None:
        self.label.setText(body_html)

    def add_card(self, card: SourceCard) -> None:
        n = self.sources_layout.count()
        self.sources_layout.addWidget(card, n // 2, n % 2)
        self.sources.show()

    def plain_text(self) -> str:
        doc = self.label.text()
        return re.sub(r"<[^>]+>", "", doc.replace("<br>", "\n")).replace("&amp;", "&")


_LINKS = re.compile(r"!?\[\[([^\]|]+)(?:\|([^\]]+))?\]\]")
_EMPHASIS = re.compile(r"\*\*|__|`")
_HEADINGS = re.compile(r"(?:^|\s)#{1,6}\s+")


def plain_text(text: str) -> str:
    """A passage without Markdown marks, on one line."""
    flat = " ".join(text.replace("…", " ").split())
    flat = _LINKS.sub(lambda m: m.group(2) or m.group(1), flat)
    flat = _HEADINGS.sub(" ", _EMPHASIS.sub("", flat))
    flat = re.sub(r"^\S*\]\]|!?\[\[\S*$", "", flat.strip())  # a link cut by the passage's ends
    return " ".join(flat.split())


class ElidedLabel(QLabel):
    """One line of plain text, cut with "…" at whatever width the layout gives it."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = text
        self.setToolTip(text)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.fontMetrics().height())

    def text(self) -> str:
        return self.full_text

    def paintEvent(self, event: Any) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        shown = self.fontMetrics().elidedText(
            self.full_text, Qt.TextElideMode.ElideRight, self.width()
        )
        painter.drawText(
            self.rect(), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown
        )
        painter.end()


class SourceCard(QFrame):
    """A source of an answer: open it with a click, Enter or Space."""

    open_item = Signal(str, str)

    def __init__(self, source: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("card", True)
        self.kind, self.item_id = str(source.get("kind", "note")), str(source["item_id"])
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        title = str(source.get("title") or "Untitled")
        number = source.get("number")
        self.setAccessibleName(f"Source {number}: {title}")
        self.setToolTip(f"Open “{title}”")
        self.thumb = QLabel(self)
        self.thumb.setFixedSize(QSize(THUMB, THUMB))
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setPixmap(icons.pixmap(KIND_ICONS.get(self.kind, "file-text"), 22, "muted"))
        heading = QLabel(f"<b>[{number}]</b> {html.escape(title)}", self)
        heading.setTextFormat(Qt.TextFormat.RichText)
        passage = plain_text(str(source.get("text") or source.get("heading") or ""))
        snippet = ElidedLabel(passage, self)
        snippet.setProperty("role", "caption")
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(heading)
        if passage:
            text.addWidget(snippet)
        row = QHBoxLayout(self)
        row.setContentsMargins(SPACE_S, SPACE_S, SPACE_M, SPACE_S)
        row.setSpacing(SPACE_S + 2)
        row.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)
        self.setMinimumWidth(180)

    def set_thumbnail(self, pixmap: QPixmap) -> None:
        if not pixmap.isNull():
            self.thumb.setPixmap(
                pixmap.scaled(
                    THUMB,
                    THUMB,
                    Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                    Qt.TransformationMode.SmoothTransformation,
                ).copy(0, 0, THUMB, THUMB)
            )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.open_item.emit(self.kind, self.item_id)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.open_item.emit(self.kind, self.item_id)
        else:
            super().keyPressEvent(event)


class Transcript(QScrollArea):
    """The column of bubbles; keeps to the bottom while an answer streams."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.inner = QWidget(self)
        self.column = QVBoxLayout(self.inner)
        self.column.setContentsMargins(SPACE_L, SPACE_M, SPACE_L, SPACE_M)
        self.column.setSpacing(SPACE_M)
        self.column.addStretch(1)
        self.setWidget(self.inner)
        self.bubbles: list[Bubble] = []

    def add(self, bubble: Bubble) -> Bubble:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        if bubble.role == "user":
            row.addStretch(1)
            row.addWidget(bubble, 4)
        else:
            row.addWidget(bubble, 6)
            row.addStretch(1)
        self.column.insertLayout(self.column.count() - 1, row)
        self.bubbles.append(bubble)
        self.scroll_to_end()
        return bubble

    def clear(self) -> None:
        while self.column.count() > 1:
            item = self.column.takeAt(0)
            layout = item.layout() if item is not None else None
            if layout is not None:
                while layout.count():
                    taken = layout.takeAt(0)
                    child = taken.widget() if taken is not None else None
                    if child is not None:
                        child.deleteLater()
        self.bubbles = []

    def scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        QTimer.singleShot(0, lambda: bar.setValue(bar.maximum()))

    def toPlainText(self) -> str:
        return "\n\n".join(b.plain_text() for b in self.bubbles)

    def toHtml(self) -> str:
        return "\n".join(b.label.text() for b in self.bubbles)
