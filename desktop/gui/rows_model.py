"""One Qt list model for every list in the app (notes, tags, palette hits, related items,
photo grid entries): a list of plain Python rows and, per Qt role, a function of the row.

Before, four models each repeated ``rowCount``/``data``/reset bookkeeping. Now a list says
only *what* a row shows::

    model = RowsModel({DisplayRole: lambda tag: f"#{tag[0]}", ID_ROLE: lambda tag: tag[0]},
                      key=lambda tag: tag[0])

``PagedRowsModel`` adds Qt's ``canFetchMore``/``fetchMore`` paging over a source read on the
db worker, so a list of 1,000,000 notes is usable after its first page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

Role = int | Qt.ItemDataRole
RoleFunctions = Mapping[Role, Callable[[Any], Any]]
ROW_ROLE = Qt.ItemDataRole.UserRole + 100  # the row object itself, for delegates

_ROOT = QModelIndex()


class RowsModel(QAbstractListModel):
    """Rows + role functions. ``key`` (optional) gives each row a stable id for ``row_of``."""

    def __init__(
        self,
        roles: RoleFunctions,
        parent: QObject | None = None,
        *,
        key: Callable[[Any], Any] | None = None,
        flags: Callable[[Any], Qt.ItemFlag | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []
        self._roles: dict[int, Callable[[Any], Any]] = {int(r): f for r, f in roles.items()}
        self._key = key
        self._flags = flags
        self._index: dict[Any, int] | None = None

    # -- contents ------------------------------------------------------------------------------

    def set_rows(self, rows: Iterable[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self._index = None
        self.rows_reset()
        self.endResetModel()

    def rows_reset(self) -> None:
        """Hook for subclasses with per-row caches (called inside the reset)."""

    def append_rows(self, rows: list[Any]) -> None:
        if not rows:
            return
        start = len(self.rows)
        self.beginInsertRows(_ROOT, start, start + len(rows) - 1)
        self.rows.extend(rows)
        if self._index is not None and self._key is not None:
            for i, row in enumerate(rows, start):
                self._index.setdefault(self._key(row), i)
        self.endInsertRows()

    def replace_row(self, position: int, row: Any) -> None:
        self.rows[position] = row
        self._index = None
        index = self.index(position, 0)
        self.dataChanged.emit(index, index)

    def row_of(self, key: Any) -> int:
        """The position of the row whose ``key`` is ``key``, or -1."""
        if self._key is None:
            raise TypeError("this model has no key function")
        if self._index is None:
            index: dict[Any, int] = {}
            for i, row in enumerate(self.rows):
                index.setdefault(self._key(row), i)
            self._index = index
        return self._index.get(key, -1)

    def row_at(self, position: int) -> Any:
        return self.rows[position]

    # -- Qt ------------------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        # getattr: Qt may ask for rowCount while __init__ runs, before ``rows`` exists
        return 0 if parent.isValid() else len(getattr(self, "rows", ()))

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == ROW_ROLE:
            return row
        function = self._roles.get(int(role))
        return None if function is None else function(row)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if self._flags is not None and index.isValid() and index.row() < len(self.rows):
            custom = self._flags(self.rows[index.row()])
            if custom is not None:
                return custom
        return super().flags(index)


PAGE = 500


class PagedRowsModel(RowsModel):
    """Rows read page by page from ``fetch(offset, limit)`` on the operations' db worker."""

    def __init__(
        self,
        roles: RoleFunctions,
        parent: QObject | None = None,
        *,
        key: Callable[[Any], Any] | None = None,
        page: int = PAGE,
    ) -> None:
        super().__init__(roles, parent, key=key)
        self.page = page
        self._fetch: Callable[[int, int], list[Any]] | None = None
        self._ops: Any = None
        self._more = False
        self._fetching = False
        self._epoch = 0
        self.loaded_once = False  # the first page arrived (an empty list is then really empty)

    def set_source(self, fetch: Callable[[int, int], list[Any]], ops: Any) -> None:
        self._fetch, self._ops = fetch, ops

    def set_rows(self, rows: Iterable[Any]) -> None:
        super().set_rows(rows)
        self._more = False

    def reload(self, on_loaded: Callable[[], None] | None = None) -> None:
        """Drop the rows and load the first page."""
        assert self._fetch is not None and self._ops is not None
        self._epoch += 1
        epoch, fetch, page = self._epoch, self._fetch, self.page

        def loaded(rows: list[Any]) -> None:
            if epoch != self._epoch:
                return
            self.set_rows(rows)
            self._more = len(rows) == page
            self.loaded_once = True
            if on_loaded is not None:
                on_loaded()

        self._fetching = False
        self._ops.query(lambda: fetch(0, page), loaded)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> bool:
        return not parent.isValid() and self._more and not self._fetching

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> None:
        if not self.canFetchMore(parent) or self._fetch is None:
            return
        self._fetching = True
        epoch, fetch, offset, page = self._epoch, self._fetch, len(self.rows), self.page
        key = self._key

        def loaded(rows: list[Any]) -> None:
            self._fetching = False
            if epoch != self._epoch:
                return
            if key is not None:
                known = {key(r) for r in self.rows}
                rows = [r for r in rows if key(r) not in known]
            self.append_rows(rows)
            self._more = len(rows) > 0

        self._ops.query(lambda: fetch(offset, page), loaded)
