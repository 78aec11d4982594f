"""The palette's rows: what a hit looks like (thumbnail, title, kind, the matched text
highlighted), the list model and its delegate."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QImage, QPainter, QPixmap, QTextDocument, QTextOption
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

ICON = 40
ROW_HEIGHT = 52
_STANDARD_ICONS = {
    "note": QStyle.StandardPixmap.SP_FileIcon,
    "command": QStyle.StandardPixmap.SP_CommandLink,
    "chat": QStyle.StandardPixmap.SP_MessageBoxQuestion,
    "ask": QStyle.StandardPixmap.SP_MessageBoxQuestion,
}
_FALLBACK_ICON = QStyle.StandardPixmap.SP_FileIcon
KIND_LABELS = {
    "note": "Note",
    "photo": "Photo",
    "ocr": "Photo text",
    "chat": "Chat",
    "command": "Command",
    "ask": "Ask",
}


@dataclass
class PaletteRow:
    kind: str  # note | photo | ocr | chat | command | ask
    title: str
    subtitle: str = ""
    highlights: list[tuple[int, int]] = field(default_factory=list)
    item_id: str | None = None
    image: QImage | None = None
    action: Callable[[], None] | None = None


@dataclass
class Command:
    title: str
    keywords: str
    action: Callable[[], None]


def hit_to_row(hit: Any) -> PaletteRow:
    """A ``core.search.searcher.SearchHit`` (or ``QuickHit``) as a palette row (image loaded here:
    this runs on the worker thread, QImage is safe off the GUI thread)."""
    reasons = list(getattr(hit, "reasons", []) or [])
    kind = hit.kind
    if kind == "photo" and "photo text" in reasons:
        kind = "ocr"
    image = None
    thumb = getattr(hit, "thumb_path", None)
    if thumb:
        loaded = QImage(str(thumb))
        if not loaded.isNull():
            image = loaded.scaled(
                ICON,
                ICON,
                Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                Qt.TransformationMode.SmoothTransformation,
            )
    snippet = hit.snippet if hit.snippet != hit.title else ""
    highlights = list(hit.highlights) if snippet else []
    return PaletteRow(kind, hit.title or "(untitled)", snippet, highlights, hit.item_id, image)


class PaletteModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[PaletteRow] = []
        self._pixmaps: dict[int, QPixmap] = {}

    def set_rows(self, rows: list[PaletteRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self._pixmaps = {}
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{KIND_LABELS.get(row.kind, row.kind)}: {row.title}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.subtitle or row.title
        if role == Qt.ItemDataRole.DecorationRole and row.image is not None:
            if index.row() not in self._pixmaps:
                self._pixmaps[index.row()] = QPixmap.fromImage(row.image)
            return self._pixmaps[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None


class PaletteDelegate(QStyledItemDelegate):
    """Icon or thumbnail, title, kind, and the matched text with highlights."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(1, ROW_HEIGHT)  # as wide as the view; never a horizontal scroll

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        row: PaletteRow = index.data(Qt.ItemDataRole.UserRole)
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawPrimitive(
            QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget
        )
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        text_color = pal.highlightedText().color() if selected else pal.text().color()
        rect = option.rect.adjusted(6, 6, -6, -6)
        icon_rect = QRect(rect.left(), rect.top(), ICON, ICON)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        painter.save()
        if isinstance(pixmap, QPixmap):
            painter.drawPixmap(icon_rect, pixmap)
        else:
            icon = style.standardIcon(_STANDARD_ICONS.get(row.kind, _FALLBACK_ICON))
            icon.paint(painter, icon_rect.adjusted(8, 8, -8, -8))
        left = icon_rect.right() + 10
        kind_text = KIND_LABELS.get(row.kind, row.kind)
        font = painter.font()
        small = painter.font()
        small.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(small)
        kind_width = painter.fontMetrics().horizontalAdvance(kind_text) + 8
        painter.setPen(pal.placeholderText().color() if not selected else text_color)
        painter.drawText(
            QRect(rect.right() - kind_width, rect.top(), kind_width, 20),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            kind_text,
        )
        bold = painter.font()
        bold.setPointSizeF(font.pointSizeF())
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_color)
        title_rect = QRect(left, rect.top(), rect.right() - left - kind_width, 20)
        title = painter.fontMetrics().elidedText(
            row.title, Qt.TextElideMode.ElideRight, title_rect.width()
        )
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title
        )
        if row.subtitle:
            doc = QTextDocument()
            doc.setDefaultFont(small)
            doc.setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignLeft))
            no_wrap = doc.defaultTextOption()
            no_wrap.setWrapMode(QTextOption.WrapMode.NoWrap)
            doc.setDefaultTextOption(no_wrap)
            doc.setDocumentMargin(0)
            color = text_color.name()
            doc.setHtml(
                f"<span style='color:{color}'>{_highlighted(row.subtitle, row.highlights)}</span>"
            )
            doc.setTextWidth(rect.right() - left)
            painter.translate(left, rect.top() + 22)
            painter.setClipRect(QRect(0, 0, rect.right() - left, 20))
            doc.drawContents(painter)
        painter.restore()


def _highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    text = " ".join(text.split())[:240] if not spans else text[:400]
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos or start >= len(text):
            continue
        out.append(html.escape(text[pos:start]))
        out.append(f"<b><u>{html.escape(text[start:end])}</u></b>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out).replace("\n", " ")
