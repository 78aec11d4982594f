"""Painting helpers for the item delegates, so every list shares one look: rounded rows with a
hover and a selected fill, and a focus ring on the current row when its view has focus."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from desktop.gui.theme.tokens import RADIUS_M, colors


def color(token: str) -> QColor:
    return QColor(getattr(colors(), token))


def row_background(
    painter: QPainter, option: QStyleOptionViewItem, rect: QRect, radius: int = RADIUS_M
) -> None:
    """Hover / selected fill and the keyboard focus ring, rounded."""
    state = option.state
    selected = bool(state & QStyle.StateFlag.State_Selected)
    hovered = bool(state & QStyle.StateFlag.State_MouseOver)
    focused = bool(state & QStyle.StateFlag.State_HasFocus)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    box = QRectF(rect).adjusted(1, 1, -1, -1)
    if selected or hovered:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color("accent_soft" if selected else "hover"))
        painter.drawRoundedRect(box, radius, radius)
    if focused and option.widget is not None and option.widget.hasFocus():
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(color("accent"), 2))
        painter.drawRoundedRect(box.adjusted(1, 1, -1, -1), radius, radius)
    painter.restore()


def scaled_font(base: QFont, pixels: int, weight: QFont.Weight | None = None) -> QFont:
    font = QFont(base)
    font.setPixelSize(pixels)
    if weight is not None:
        font.setWeight(weight)
    return font
