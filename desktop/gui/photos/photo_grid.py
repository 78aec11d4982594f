"""The photo grid: justified rows of thumbnails that fill the width, under day headers.

Virtualized: the layout (:mod:`desktop.gui.photos.grid_layout`) is a list of lines computed in
one pass when the width or the photos change, and painting looks up the visible lines by
bisection, so only what is on screen is drawn or loaded. Thumbnails (JPEGs made at import) are
decoded at row height on a thread pool into ``QImage`` and turned into pixmaps on the GUI
thread; a bounded LRU keeps memory flat.

Keyboard: arrows move the selection (up/down to the nearest photo in the row above/below),
Home/End, Page Up/Down, Enter opens the photo in the viewer.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRect, QRectF, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QImageReader,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from desktop.gui.photos.grid_layout import (
    HEADER_HEIGHT,
    MARGIN,
    ROW_HEIGHT,
    GridEntry,
    Line,
    justify,
)
from desktop.gui.rows_model import RowsModel
from desktop.gui.theme.paint import color, scaled_font
from desktop.gui.theme.tokens import RADIUS_M, SPACE_M, SPACE_S, TYPE_SMALL, TYPE_TITLE

DECODE_HEIGHT = 220  # thumbnails are decoded at about row height (not the stored 512 px)
CACHE_SIZE = 600
ID_ROLE = Qt.ItemDataRole.UserRole
HEADER_ROLE = Qt.ItemDataRole.UserRole + 1


def _label(entry: GridEntry) -> str:
    return entry.title if entry.photo_id is None else f"{entry.title} ({entry.day})"


class _ThumbSignals(QObject):
    loaded = Signal(str, QImage)


class _ThumbJob(QRunnable):
    def __init__(self, key: str, path: str, signals: _ThumbSignals) -> None:
        super().__init__()
        self.key, self.path, self.signals = key, path, signals

    def run(self) -> None:
        reader = QImageReader(self.path)
        reader.setAutoTransform(True)
        size = reader.size()
        if size.isValid() and size.height() > DECODE_HEIGHT:
            reader.setScaledSize(
                size.scaled(10_000, DECODE_HEIGHT, Qt.AspectRatioMode.KeepAspectRatio)
            )
        self.signals.loaded.emit(self.key, reader.read())


class PhotoGridModel(RowsModel):
    """Grid entries (day headers and photos) with lazily loaded thumbnails."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            {
                Qt.ItemDataRole.DisplayRole: lambda e: e.title,
                Qt.ItemDataRole.AccessibleTextRole: _label,
                Qt.ItemDataRole.ToolTipRole: _label,
                ID_ROLE: lambda e: e.photo_id,
                HEADER_ROLE: lambda e: e.photo_id is None,
                Qt.ItemDataRole.DecorationRole: lambda e: (
                    self._thumbnail(e) if e.photo_id else None
                ),
            },
            parent,
            key=lambda e: e.photo_id,
            flags=lambda e: Qt.ItemFlag.ItemIsEnabled if e.photo_id is None else None,
        )
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        # Parentless on purpose: a job still running holds it alive after the model is gone
        # (Qt then drops the queued delivery instead of calling into a deleted model).
        self._signals = _ThumbSignals()
        self._signals.loaded.connect(self._on_loaded)
        self._loading_pixmap = QPixmap(8, 8)
        self._loading_pixmap.fill(QColor(128, 128, 128, 60))
        self._photos = 0

    @property
    def entries(self) -> list[GridEntry]:
        return self.rows

    def set_entries(self, entries: list[GridEntry]) -> None:
        self.set_rows(entries)

    def rows_reset(self) -> None:
        self._photos = sum(1 for e in self.rows if e.photo_id)

    def row_of(self, key: Any) -> int:
        return -1 if key is None else super().row_of(key)

    @property
    def photo_count(self) -> int:
        return self._photos

    def cached(self, photo_id: str) -> QPixmap | None:
        return self._cache.get(photo_id)

    def _thumbnail(self, entry: GridEntry) -> QPixmap:
        key = entry.photo_id or ""
        pixmap = self._cache.get(key)
        if pixmap is not None:
            self._cache.move_to_end(key)
            return pixmap
        if key not in self._pending and entry.thumb_path:
            self._pending.add(key)
            self._pool.start(_ThumbJob(key, entry.thumb_path, self._signals))
        return self._loading_pixmap

    def _on_loaded(self, key: str, image: QImage) -> None:
        self._pending.discard(key)
        if image.isNull():
            return
        self._cache[key] = QPixmap.fromImage(image)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        row = self.row_of(key)
        if row >= 0:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def wait_for_thumbnails(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)


class PhotoGrid(QAbstractScrollArea):
    """The justified grid over a :class:`PhotoGridModel`; Enter or a double click opens."""

    photo_activated = Signal(str)
    photo_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Photos")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setMouseTracking(True)
        self.grid_model = PhotoGridModel(self)
        self.grid_model.modelReset.connect(self._relayout)
        self.grid_model.dataChanged.connect(lambda *_a: self.viewport().update())
        self.lines: list[Line] = []
        self._tops: list[int] = []
        self._where: dict[int, tuple[int, int]] = {}  # entry index → (line, cell)
        self._laid_width = -1
        self.current = -1  # entry index of the selected photo
        self._hover = -1

    # -- layout --------------------------------------------------------------------------------

    def _relayout(self) -> None:
        self._laid_width = self.viewport().width()
        self.lines = justify(self.grid_model.entries, self._laid_width)
        self._tops = [line.y for line in self.lines]
        self._where = {
            i: (n, c)
            for n, line in enumerate(self.lines)
            for c, (i, _x, _w) in enumerate(line.cells)
        }
        if self.current >= len(self.grid_model.entries):
            self.current = -1
        total = self.lines[-1].y + self.lines[-1].height + MARGIN if self.lines else 0
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, total - self.viewport().height()))
        bar.setPageStep(self.viewport().height())
        bar.setSingleStep(ROW_HEIGHT // 3)
        self.viewport().update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.viewport().width() != self._laid_width or self.lines:
            self._relayout()

    def sizeHint(self) -> QSize:
        return QSize(600, 480)

    def _visible(self) -> range:
        top = self.verticalScrollBar().value()
        first = max(0, bisect.bisect_right(self._tops, top) - 1)
        last = bisect.bisect_right(self._tops, top + self.viewport().height())
        return range(first, min(last, len(self.lines)))

    def cell_rect(self, entry: int) -> QRect | None:
        where = self._where.get(entry)
        if where is None:
            return None
        line = self.lines[where[0]]
        _i, x, w = line.cells[where[1]]
        return QRect(x, line.y - self.verticalScrollBar().value(), w, line.height)

    def entry_at(self, x: int, y: int) -> int:
        y += self.verticalScrollBar().value()
        n = bisect.bisect_right(self._tops, y) - 1
        if n < 0:
            return -1
        line = self.lines[n]
        if y > line.y + line.height:
            return -1
        for i, cx, w in line.cells:
            if cx <= x < cx + w:
                return i
        return -1

    # -- painting ------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        painter.fillRect(self.viewport().rect(), color("window"))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        top = self.verticalScrollBar().value()
        entries = self.grid_model.entries
        model = self.grid_model
        header_font = scaled_font(self.font(), TYPE_TITLE, QFont.Weight.DemiBold)
        count_font = scaled_font(self.font(), TYPE_SMALL)
        focused = self.hasFocus()
        for n in self._visible():
            line = self.lines[n]
            y = line.y - top
            if line.header >= 0:
                title, _, count = entries[line.header].title.partition("  ·  ")
                rect = QRect(MARGIN, y, self.viewport().width() - 2 * MARGIN, line.height - 8)
                painter.setFont(header_font)
                painter.setPen(color("text"))
                flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
                painter.drawText(rect, flags, title)
                painter.setFont(count_font)
                painter.setPen(color("muted"))
                painter.drawText(
                    rect,
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                    count + (" photo" if count == "1" else " photos") if count else "",
                )
                continue
            for i, x, w in line.cells:
                cell = QRectF(x, y, w, line.height)
                path = QPainterPath()
                path.addRoundedRect(cell, RADIUS_M, RADIUS_M)
                pixmap = model.data(model.index(i, 0), Qt.ItemDataRole.DecorationRole)
                painter.save()
                painter.setClipPath(path)
                painter.fillRect(cell, color("hover"))
                if isinstance(pixmap, QPixmap) and pixmap is not model._loading_pixmap:
                    painter.drawPixmap(cell, pixmap, _crop(pixmap.size(), cell.size()))
                if i == self._hover and i != self.current:
                    painter.fillRect(cell, QColor(255, 255, 255, 36))
                painter.restore()
                if i == self.current:
                    painter.setPen(QPen(color("accent"), 3 if focused else 2))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRoundedRect(cell.adjusted(1.5, 1.5, -1.5, -1.5), RADIUS_M, RADIUS_M)
        painter.end()

    # -- selection and input -------------------------------------------------------------------

    def set_current(self, entry: int, *, scroll: bool = True) -> None:
        entries = self.grid_model.entries
        if not 0 <= entry < len(entries) or entries[entry].photo_id is None:
            return
        self.current = entry
        self.setAccessibleDescription(_label(entries[entry]))
        if scroll:
            self.ensure_visible(entry)
        self.viewport().update()
        photo_id = entries[entry].photo_id
        assert photo_id is not None
        self.photo_selected.emit(photo_id)

    def ensure_visible(self, entry: int) -> None:
        rect = self.cell_rect(entry)
        if rect is None:
            return
        bar = self.verticalScrollBar()
        if rect.top() < SPACE_S:
            line_no = self._where[entry][0]
            under_header = line_no > 0 and self.lines[line_no - 1].header >= 0
            lift = SPACE_M + (HEADER_HEIGHT if under_header else 0)
            bar.setValue(bar.value() + rect.top() - lift)
        elif rect.bottom() > self.viewport().height() - SPACE_S:
            bar.setValue(bar.value() + rect.bottom() - self.viewport().height() + SPACE_M)

    def select_photo(self, photo_id: str) -> None:
        row = self.grid_model.row_of(photo_id)
        if row >= 0:
            self.set_current(row)

    def currentIndex(self) -> Any:
        return self.grid_model.index(self.current, 0)

    def _photo_lines(self) -> list[int]:
        return [n for n, line in enumerate(self.lines) if line.cells]

    def _step_vertical(self, direction: int) -> int:
        where = self._where.get(self.current)
        if where is None:
            return self._first_photo()
        line_no, cell_no = where
        _i, x, w = self.lines[line_no].cells[cell_no]
        centre = x + w / 2
        n = line_no + direction
        while 0 <= n < len(self.lines) and not self.lines[n].cells:
            n += direction
        if not 0 <= n < len(self.lines):
            return self.current
        cells = self.lines[n].cells
        return min(cells, key=lambda c: abs(c[1] + c[2] / 2 - centre))[0]

    def _first_photo(self) -> int:
        return next((i for i, e in enumerate(self.grid_model.entries) if e.photo_id), -1)

    def _step(self, direction: int) -> int:
        entries = self.grid_model.entries
        i = self.current + direction if self.current >= 0 else self._first_photo()
        while 0 <= i < len(entries) and entries[i].photo_id is None:
            i += direction
        return i if 0 <= i < len(entries) else self.current

    def _page(self, direction: int) -> int:
        rect = self.cell_rect(self.current)
        if rect is None:
            return self._first_photo()
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() + direction * bar.pageStep())
        target = self.entry_at(rect.center().x(), rect.center().y())
        return target if target >= 0 else self._step_vertical(direction)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        moves: dict[int, Callable[[], int]] = {
            int(Qt.Key.Key_Right): lambda: self._step(1),
            int(Qt.Key.Key_Left): lambda: self._step(-1),
            int(Qt.Key.Key_Down): lambda: self._step_vertical(1),
            int(Qt.Key.Key_Up): lambda: self._step_vertical(-1),
            int(Qt.Key.Key_Home): self._first_photo,
            int(Qt.Key.Key_End): lambda: max(
                (i for i, e in enumerate(self.grid_model.entries) if e.photo_id), default=-1
            ),
            int(Qt.Key.Key_PageDown): lambda: self._page(1),
            int(Qt.Key.Key_PageUp): lambda: self._page(-1),
        }
        if key in moves:
            self.set_current(moves[key]())
            event.accept()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self.current >= 0:
            self._activate(self.current)
            event.accept()
        else:
            super().keyPressEvent(event)

    def _activate(self, entry: int) -> None:
        photo_id = self.grid_model.entries[entry].photo_id
        if photo_id:
            self.photo_activated.emit(photo_id)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        entry = self.entry_at(int(event.position().x()), int(event.position().y()))
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if entry >= 0:
            self.set_current(entry, scroll=False)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        entry = self.entry_at(int(event.position().x()), int(event.position().y()))
        if entry >= 0:
            self._activate(entry)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        entry = self.entry_at(int(event.position().x()), int(event.position().y()))
        if entry != self._hover:
            self._hover = entry
            entries = self.grid_model.entries
            self.viewport().setToolTip(_label(entries[entry]) if entry >= 0 else "")
            self.viewport().update()

    def leaveEvent(self, event: Any) -> None:
        self._hover = -1
        self.viewport().update()
        super().leaveEvent(event)

    def focusInEvent(self, event: Any) -> None:
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event: Any) -> None:
        super().focusOutEvent(event)
        self.viewport().update()


def _crop(source: QSize, target: Any) -> QRectF:
    """The centred part of ``source`` with the aspect of ``target`` (cover, no letterbox)."""
    sw, sh = source.width(), source.height()
    tw, th = target.width(), target.height()
    if sw <= 0 or sh <= 0 or tw <= 0 or th <= 0:
        return QRectF(0, 0, max(sw, 1), max(sh, 1))
    scale = max(tw / sw, th / sh)
    w, h = tw / scale, th / scale
    return QRectF((sw - w) / 2, (sh - h) / 2, w, h)
