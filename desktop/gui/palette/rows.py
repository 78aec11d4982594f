"""The palette's rows: what a hit looks like (thumbnail, title, kind, the matched text
highlighted), the list model and its delegate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from desktop.gui.rows_model import RowsModel
from desktop.gui.theme import icons
from desktop.gui.theme.paint import color, row_background, scaled_font
from desktop.gui.theme.tokens import RADIUS_S, SPACE_S, TYPE_CAPTION, TYPE_SMALL, TYPE_TITLE

if TYPE_CHECKING:
    from core.search.quick_find import QuickHit
    from core.search.searcher import SearchHit

ICON = 40
ROW_HEIGHT = 56
KIND_ICONS = {
    "note": "file-text",
    "photo": "image",
    "ocr": "scan-text",
    "chat": "messages-square",
    "command": "command",
    "ask": "sparkles",
}
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


def hit_to_row(hit: SearchHit | QuickHit) -> PaletteRow:
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


class PaletteModel(RowsModel):
    """Palette rows on the one rows model; thumbnails become pixmaps once, when painted."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            {
                Qt.ItemDataRole.DisplayRole: _label,
                Qt.ItemDataRole.AccessibleTextRole: _label,
                Qt.ItemDataRole.ToolTipRole: lambda r: r.subtitle or r.title,
                Qt.ItemDataRole.DecorationRole: self._pixmap,
                Qt.ItemDataRole.UserRole: lambda r: r,
            },
            parent,
        )
        self._pixmaps: dict[int, QPixmap] = {}

    def rows_reset(self) -> None:
        self._pixmaps = {}

    def _pixmap(self, row: PaletteRow) -> QPixmap | None:
        if row.image is None:
            return None
        key = id(row)
        if key not in self._pixmaps:
            self._pixmaps[key] = QPixmap.fromImage(row.image)
        return self._pixmaps[key]


def _label(row: PaletteRow) -> str:
    return f"{KIND_LABELS.get(row.kind, row.kind)}: {row.title}"


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
        cell = option.rect.adjusted(SPACE_S // 2, 1, -SPACE_S // 2, -1)
        row_background(painter, option, cell)
        rect = cell.adjusted(8, 8, -10, -8)
        icon_rect = QRect(rect.left(), rect.top(), ICON, ICON)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if isinstance(pixmap, QPixmap):
            clip = QPainterPath()
            clip.addRoundedRect(QRectF(icon_rect), RADIUS_S + 2, RADIUS_S + 2)
            painter.setClipPath(clip)
            painter.drawPixmap(icon_rect, pixmap)
            painter.setClipping(False)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color("hover"))
            painter.drawRoundedRect(QRectF(icon_rect), RADIUS_S + 2, RADIUS_S + 2)
            glyph = icons.pixmap(KIND_ICONS.get(row.kind, "file-text"), 20, "muted")
            painter.drawPixmap(icon_rect.adjusted(10, 10, -10, -10), glyph)
        left = icon_rect.right() + 12
        kind_text = KIND_LABELS.get(row.kind, row.kind)
        base = option.font
        small = scaled_font(base, TYPE_CAPTION)
        painter.setFont(small)
        kind_width = painter.fontMetrics().horizontalAdvance(kind_text) + 8
        painter.setPen(color("muted"))
        painter.drawText(
            QRect(rect.right() - kind_width, rect.top(), kind_width, 20),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            kind_text,
        )
        painter.setFont(scaled_font(base, TYPE_TITLE - 1, QFont.Weight.DemiBold))
        painter.setPen(color("text"))
        title_rect = QRect(left, rect.top(), rect.right() - left - kind_width, 20)
        title = painter.fontMetrics().elidedText(
            row.title, Qt.TextElideMode.ElideRight, title_rect.width()
        )
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title
        )
        if row.subtitle:
            draw_highlighted(
                painter,
                QRect(left, rect.top() + 23, rect.right() - left, 18),
                row.subtitle,
                row.highlights,
                scaled_font(base, TYPE_SMALL),
            )
        painter.restore()


def segments(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """``text`` on one line as (piece, matched) runs."""
    text = " ".join(text.split())[:240] if not spans else text[:400]
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos or start >= len(text):
            continue
        out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    out.append((text[pos:], False))
    return [(piece.replace("\n", " "), hit) for piece, hit in out if piece]


def draw_highlighted(
    painter: QPainter, rect: QRect, text: str, spans: list[tuple[int, int]], font: QFont
) -> None:
    """The matched words on a highlight fill, the rest muted, cut with "…" at the edge.
    Drawn run by run with font metrics (a QTextDocument per row cost ~4 ms a paint)."""
    bold = QFont(font)
    bold.setWeight(QFont.Weight.DemiBold)
    plain_metrics, bold_metrics = QFontMetrics(font), QFontMetrics(bold)
    x, right = rect.left(), rect.right()
    flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    for piece, hit in segments(text, spans):
        metrics = bold_metrics if hit else plain_metrics
        room = right - x
        if room <= metrics.horizontalAdvance("…"):
            break
        shown = metrics.elidedText(piece, Qt.TextElideMode.ElideRight, room)
        width = metrics.horizontalAdvance(shown)
        box = QRect(x, rect.top(), width, rect.height())
        if hit:
            painter.fillRect(box.adjusted(-1, 1, 1, -1), color("highlight"))
        painter.setFont(bold if hit else font)
        painter.setPen(color("text" if hit else "muted"))
        painter.drawText(box, flags, shown)
        x += width
        if shown != piece:
            break
