"""The middle column's lists: notes (newest first), tags, and items with a tag."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

ID_ROLE = Qt.ItemDataRole.UserRole
KIND_ROLE = Qt.ItemDataRole.UserRole + 1


class ItemListModel(QAbstractListModel):
    """Rows of ``storage.items.ItemRow``-like objects (id, kind, title, updated_at)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_of(self, item_id: str) -> int:
        return next((i for i, r in enumerate(self.rows) if r.id == item_id), -1)

    def update_title(self, item_id: str, title: str) -> None:
        row = self.row_of(item_id)
        if row >= 0:
            old = self.rows[row]
            self.rows[row] = _Row(old.id, old.kind, title, time.time())
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return row.title or "Untitled"
        if role == Qt.ItemDataRole.ToolTipRole:
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.updated_at))
            return f"{row.title}\nChanged {stamp}"
        if role == ID_ROLE:
            return row.id
        if role == KIND_ROLE:
            return row.kind
        return None


class _Row:
    __slots__ = ("id", "kind", "title", "updated_at")

    def __init__(self, id: str, kind: str, title: str, updated_at: float) -> None:
        self.id, self.kind, self.title, self.updated_at = id, kind, title, updated_at


class TagListModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, int]] = []

    def set_rows(self, rows: list[tuple[str, int]]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        tag, count = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"#{tag}  ({count})"
        if role == ID_ROLE:
            return tag
        return None
