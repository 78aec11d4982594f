"""The middle column's lists: notes (newest first), tags, and items with a tag."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

ID_ROLE = Qt.ItemDataRole.UserRole
KIND_ROLE = Qt.ItemDataRole.UserRole + 1


PAGE = 500


class ItemListModel(QAbstractListModel):
    """Rows of ``storage.items.ItemRow``-like objects (id, kind, title, updated_at).

    With a source (``set_source``) it fills page by page as the view scrolls (Qt's
    ``canFetchMore``/``fetchMore``), each page read on the db worker: the window is usable
    after the first page, with 10,000 notes or 1,000,000."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []
        self._fetch: Callable[[int, int], list[Any]] | None = None
        self._ops: Any = None
        self._more = False
        self._fetching = False
        self._epoch = 0

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self._more = False
        self.endResetModel()

    def set_source(self, fetch: Callable[[int, int], list[Any]], ops: Any) -> None:
        self._fetch, self._ops = fetch, ops

    def reload(self, on_loaded: Callable[[], None] | None = None) -> None:
        """Drop the rows and load the first page."""
        assert self._fetch is not None and self._ops is not None
        self._epoch += 1
        epoch, fetch = self._epoch, self._fetch

        def loaded(rows: list[Any]) -> None:
            if epoch != self._epoch:
                return
            self.set_rows(rows)
            self._more = len(rows) == PAGE
            if on_loaded is not None:
                on_loaded()

        self._fetching = False
        self._ops.query(lambda: fetch(0, PAGE), loaded)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more and not self._fetching

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent) or self._fetch is None:
            return
        self._fetching = True
        epoch, fetch, offset = self._epoch, self._fetch, len(self.rows)

        def loaded(rows: list[Any]) -> None:
            self._fetching = False
            if epoch != self._epoch:
                return
            known = {r.id for r in self.rows}
            rows = [r for r in rows if r.id not in known]
            if rows:
                self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
                self.rows.extend(rows)
                self.endInsertRows()
            self._more = len(rows) > 0

        self._ops.query(lambda: fetch(offset, PAGE), loaded)

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
