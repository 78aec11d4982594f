"""The photo grid: a virtualized icon view grouped by day, thumbnails loaded lazily.

Only rows the view paints ask for a thumbnail; the JPEG thumbnails (already made at import)
are decoded on a thread pool into ``QImage`` and turned into pixmaps on the GUI thread. A
bounded LRU keeps memory flat with 20,000 photos. Day headers are rows as wide as the view,
so the icon flow breaks a line at each new day.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPixmap
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

CELL = 132
THUMB = 124
HEADER_HEIGHT = 30
CACHE_SIZE = 1500
ID_ROLE = Qt.ItemDataRole.UserRole
HEADER_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class GridEntry:
    photo_id: str | None  # None: a day header
    title: str
    day: str
    thumb_path: str | None = None


def group_by_day(rows: list[tuple[str, str, str | None, Any]]) -> list[GridEntry]:
    """(id, title, taken_at "YYYY:MM:DD hh:mm:ss" or None, thumb) → entries with day headers,
    newest day first."""
    by_day: dict[str, list[GridEntry]] = {}
    for photo_id, title, taken_at, thumb in rows:
        day = _day(taken_at)
        by_day.setdefault(day, []).append(GridEntry(photo_id, title, day, str(thumb)))
    entries: list[GridEntry] = []
    for day in sorted(by_day, key=lambda d: (d != "Undated", d), reverse=True):
        entries.append(GridEntry(None, day, day))
        entries.extend(by_day[day])
    return entries


def _day(taken_at: str | None) -> str:
    if not taken_at or len(taken_at) < 10:
        return "Undated"
    return taken_at[:10].replace(":", "-")


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
        if size.isValid() and (size.width() > THUMB or size.height() > THUMB):
            reader.setScaledSize(size.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        self.signals.loaded.emit(self.key, image)


class PhotoGridModel(QAbstractListModel):
    entries: Sequence[GridEntry] = ()  # class default: Qt may ask for rowCount in __init__

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[GridEntry] = []
        self._row_of: dict[str, int] = {}
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        # Parentless on purpose: a job still running holds it alive after the model is gone
        # (Qt then drops the queued delivery instead of calling into a deleted model).
        self._signals = _ThumbSignals()
        self._signals.loaded.connect(self._on_loaded)
        self._loading_pixmap = QPixmap(THUMB, THUMB)
        self._loading_pixmap.fill(QColor(128, 128, 128, 60))

    def set_entries(self, entries: list[GridEntry]) -> None:
        self.beginResetModel()
        self.entries = entries
        self._row_of = {e.photo_id: i for i, e in enumerate(entries) if e.photo_id}
        self.endResetModel()

    def row_of(self, photo_id: str) -> int:
        return self._row_of.get(photo_id, -1)

    @property
    def photo_count(self) -> int:
        return len(self._row_of)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if index.isValid() and self.entries[index.row()].photo_id is None:
            return Qt.ItemFlag.ItemIsEnabled
        return super().flags(index)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        if role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.AccessibleTextRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return entry.title if entry.photo_id is None else f"{entry.title} ({entry.day})"
        if role == ID_ROLE:
            return entry.photo_id
        if role == HEADER_ROLE:
            return entry.photo_id is None
        if role == Qt.ItemDataRole.DecorationRole and entry.photo_id:
            return self._thumbnail(entry)
        return None

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
        row = self._row_of.get(key)
        if row is not None:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def wait_for_thumbnails(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)


class _GridDelegate(QStyledItemDelegate):
    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        if index.data(HEADER_ROLE):
            return QSize(max(CELL, self.view.viewport().width() - 12), HEADER_HEIGHT)
        return QSize(CELL, CELL)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        rect: QRect = option.rect
        if index.data(HEADER_ROLE):
            painter.save()
            font = painter.font()
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(option.palette.text().color())
            painter.drawText(
                rect.adjusted(4, 0, 0, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                index.data(Qt.ItemDataRole.DisplayRole),
            )
            painter.restore()
            return
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight())
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            size = pixmap.size().scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio)
            x = rect.x() + (rect.width() - size.width()) // 2
            y = rect.y() + (rect.height() - size.height()) // 2
            painter.drawPixmap(QRect(x, y, size.width(), size.height()), pixmap)
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.save()
            painter.setPen(option.palette.highlight().color())
            painter.drawRect(rect.adjusted(1, 1, -2, -2))
            painter.restore()


class PhotoGrid(QListView):
    """Icon-mode view over :class:`PhotoGridModel`; ``activated`` opens the viewer."""

    photo_activated = Signal(str)
    photo_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Photos")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(1000)
        self.setSpacing(2)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.grid_model = PhotoGridModel(self)
        self.setModel(self.grid_model)
        self.setItemDelegate(_GridDelegate(self))
        self.activated.connect(self._activated)
        self.selectionModel().currentChanged.connect(self._current_changed)

    def _activated(self, index: QModelIndex) -> None:
        photo_id = index.data(ID_ROLE)
        if photo_id:
            self.photo_activated.emit(photo_id)

    def _current_changed(self, index: QModelIndex, _previous: QModelIndex) -> None:
        photo_id = index.data(ID_ROLE) if index.isValid() else None
        if photo_id:
            self.photo_selected.emit(photo_id)

    def select_photo(self, photo_id: str) -> None:
        row = self.grid_model.row_of(photo_id)
        if row >= 0:
            index = self.grid_model.index(row, 0)
            self.setCurrentIndex(index)
            self.scrollTo(index)
