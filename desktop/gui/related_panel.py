"""The Related panel beside the note editor and the photo viewer, and the GUI's activity log.

The moment an item opens, :meth:`RelatedPanel.show_item` asks the recommender on the db worker
for a fast first list (``on_open(..., fast=True)``: logs the open and the impression; keyword
searches only when cached) and paints it; a second job then warms the item's keyword searches
and repaints with the full blend if it differs. A newer open makes older jobs skip their work
and drop their results, so arrowing through the notes list never queues stale lists.

:class:`ActivityLog` records what the user does from the GUI (searches and clicks in the
palette, dwell time when leaving an item, Tab-to-ask questions) off the GUI thread. Logging
never interrupts the user: its failures (e.g. an item deleted meanwhile) are only logged.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFocusEvent, QFontMetrics, QImage, QResizeEvent
from PySide6.QtWidgets import QApplication, QLabel, QListView, QVBoxLayout, QWidget

from core.errors import USER_ERRORS, NotFoundError
from core.library import PhotoId
from desktop.gui.operations import Operations
from desktop.gui.palette.rows import ICON, KIND_LABELS, PaletteDelegate, PaletteModel, PaletteRow
from desktop.gui.theme.tokens import TYPE_SMALL

if TYPE_CHECKING:
    from core.events import EventLog
    from core.library import Library
    from core.related.recommender import Recommender

log = logging.getLogger(__name__)

LIMIT = 8
ACTIVATE_DEBOUNCE_S = 0.4  # a double click emits clicked and activated: open once
_EVENT_KINDS = {"note": "note", "photo": "photo", "ocr": "photo"}


class ActivityLog:
    """``EventLog.record`` on the db worker; failures are logged, never shown."""

    def __init__(self, library: Library, ops: Operations) -> None:
        self.library = library
        self.ops = ops
        self._events: EventLog | None = None

    def record(
        self,
        kind: str,
        item_id: str | None = None,
        query: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.ops.query(
            lambda: self.events().record(kind, item_id, query, data),
            on_error=lambda exc: log.info("could not log a %s event: %s", kind, exc),
        )

    def events(self) -> EventLog:
        """The library's ``EventLog`` (first made on the worker: keeps imports off start-up)."""
        return self.library.events

    def searched(self, query: str, kind: str, item_id: str) -> None:
        """The palette closed on ``query``; ``item_id`` is the result chosen (if any)."""
        if not query.strip() or kind == "ask":
            return  # an "Ask: …" row is logged as the question (``asked``)
        self.record("search", query=query)
        if item_id and kind in _EVENT_KINDS:
            self.record("click", item_id, query=query, data={"from": "palette", "kind": kind})

    def asked(self, question: str) -> None:
        if question.strip():
            self.record("ask", query=question)


class RelatedModel(PaletteModel):
    """Palette rows whose accessible text and tooltip say every reason; the painted line is
    elided to the list's width (``subtitle_width``) so a long reason never ends mid-word."""

    subtitle_width = 0

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{KIND_LABELS.get(row.kind, row.kind)}: {row.title} — {row.subtitle}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.title}\n{row.subtitle}"
        if role == Qt.ItemDataRole.UserRole and self.subtitle_width > 0:
            font = QApplication.font()
            font.setPixelSize(TYPE_SMALL)  # the delegate's small font
            short = QFontMetrics(font).elidedText(
                row.subtitle, Qt.TextElideMode.ElideRight, self.subtitle_width
            )
            return replace(row, subtitle=short)
        return super().data(index, role)


class RelatedList(QListView):
    """The rows show as selected only while the list has the keyboard focus (so the panel
    does not look like it holds the cursor); Enter opens the current row."""

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        current = self.currentIndex()
        if not current.isValid() and self.model().rowCount():
            current = self.model().index(0, 0)
        if current.isValid():
            self.setCurrentIndex(current)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.clearSelection()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        model = self.model()
        if isinstance(model, RelatedModel):
            model.subtitle_width = max(40, self.viewport().width() - ICON - 30)


class RelatedPanel(QWidget):
    """What to open next, beside the open note or photo."""

    open_item = Signal(str, str)  # kind, item id
    shown = Signal(str, bool)  # item id whose list is painted, and whether it is the full blend

    def __init__(self, library: Library, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.ops = ops
        self.activity = ActivityLog(library, ops)
        self.item: tuple[str, str] | None = None  # (kind, id) of the open item
        self.recommendations: list[Any] = []
        self._recommender: Recommender | None = None
        self._generation = 0
        self._opened_at = 0.0
        self._open_logged = False
        self._last_activation = float("-inf")

        self.setObjectName("relatedPanel")
        self.setAccessibleName("Related items")
        self.title = QLabel("Related", self)
        self.title.setObjectName("relatedTitle")
        self.title.setAccessibleName("Related items heading")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.state = QLabel("", self)
        self.state.setAccessibleName("Related items state")
        self.state.setWordWrap(True)
        self.state.setEnabled(False)
        self.list = RelatedList(self)
        self.list.setAccessibleName("Related items list")
        self.list.setAccessibleDescription("Enter opens the item")
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.model = RelatedModel(self)
        self.list.setModel(self.model)
        self.list.setItemDelegate(PaletteDelegate(self.list))
        self.list.activated.connect(lambda index: self.activate(index.row()))
        self.list.clicked.connect(lambda index: self.activate(index.row()))
        self.title.setBuddy(self.list)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.state)
        layout.addWidget(self.list, 1)
        self.setMinimumWidth(220)

    # -- opening -------------------------------------------------------------------------------

    def show_item(self, kind: str, item_id: str) -> None:
        """An item opened in the detail area: log the open and fill the panel."""
        if self.item == (kind, item_id):
            return
        self.leave()
        self._generation += 1
        generation = self._generation
        self.item = (kind, item_id)
        self._opened_at = time.monotonic()
        self._open_logged = False
        self.recommendations = []
        self.model.set_rows([])
        self._set_state("Finding related items…")

        def first() -> tuple[list[Any], list[PaletteRow]] | None:
            if generation != self._generation:
                return None  # already left: not an open worth logging
            recs = self.recommender().on_open(item_id, exclude=[item_id], limit=LIMIT, fast=True)
            return recs, self._rows(recs)

        def first_shown(result: tuple[list[Any], list[PaletteRow]] | None) -> None:
            if result is None or generation != self._generation:
                return
            self._open_logged = True
            self._paint(item_id, *result, full=False)
            self.ops.query(full, full_shown, on_error=failed)

        def full() -> tuple[list[Any], list[PaletteRow]] | None:
            if generation != self._generation:
                return None
            rec = self.recommender()
            rec.warm([item_id], should_cancel=lambda: generation != self._generation)
            recs = rec.related(item_id, limit=LIMIT, exclude=[item_id])
            return recs, self._rows(recs)

        def full_shown(result: tuple[list[Any], list[PaletteRow]] | None) -> None:
            if result is None or generation != self._generation:
                return
            recs, rows = result
            if [r.item_id for r in recs] != [r.item_id for r in self.recommendations] or [
                r.reasons for r in recs
            ] != [r.reasons for r in self.recommendations]:
                self._paint(item_id, recs, rows, full=True)
            else:
                self.shown.emit(item_id, True)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self._set_state("Related items are not available right now.")
            if not isinstance(exc, NotFoundError):  # deleted meanwhile: the editor says so
                self.ops.report_error(exc)

        self.ops.query(first, first_shown, on_error=failed)

    def leave(self) -> None:
        """The open item leaves the screen: log how long it was looked at."""
        if self.item is not None and self._open_logged:
            seconds = round(max(0.0, time.monotonic() - self._opened_at), 2)
            self.activity.record("dwell", self.item[1], data={"seconds": seconds})
        self._generation += 1  # drops lists still on their way
        self.item = None
        self._open_logged = False

    def recommender(self) -> Recommender:
        """The library's ``Recommender`` (first made on the worker; its caches live there)."""
        return self.library.related

    # -- choosing ------------------------------------------------------------------------------

    def activate(self, row: int) -> None:
        """Open a recommendation (Enter or click) and log the click for ``saem stats related``."""
        if not 0 <= row < len(self.recommendations) or self.item is None:
            return
        now = time.monotonic()
        if now - self._last_activation < ACTIVATE_DEBOUNCE_S:
            return
        self._last_activation = now
        rec, source = self.recommendations[row], self.item[1]
        self.ops.query(
            lambda: self.recommender().record_click(source, rec, row + 1),
            on_error=lambda exc: log.info("could not log a related click: %s", exc),
        )
        self.open_item.emit(rec.kind, rec.item_id)

    # -- painting ------------------------------------------------------------------------------

    def _paint(self, item_id: str, recs: list[Any], rows: list[PaletteRow], *, full: bool) -> None:
        had_focus = self.list.hasFocus()
        current = max(0, self.list.currentIndex().row())
        self.recommendations = recs
        self.model.set_rows(rows)
        if rows:
            self._set_state("")
            index = self.model.index(min(current, len(rows) - 1), 0)
            if had_focus:
                self.list.setCurrentIndex(index)
            else:
                self.list.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.NoUpdate
                )
        else:
            self._set_state("Nothing related yet. Link notes with [[…]], tag items, or open more.")
        if had_focus:
            self.list.setFocus()
        self.shown.emit(item_id, full)

    def _set_state(self, text: str) -> None:
        self.state.setText(text)
        self.state.setVisible(bool(text))

    def _rows(self, recs: list[Any]) -> list[PaletteRow]:
        """Runs on the worker: rows with photo thumbnails loaded (QImage is thread-safe)."""
        rows = []
        for rec in recs:
            image = self._thumbnail(rec.item_id) if rec.kind == "photo" else None
            subtitle = " · ".join(rec.reasons)
            rows.append(
                PaletteRow(rec.kind, rec.title or "(untitled)", subtitle, [], rec.item_id, image)
            )
        return rows

    def _thumbnail(self, photo_id: str) -> QImage | None:
        try:
            path = self.library.photos.get(PhotoId(photo_id)).thumb_path
        except USER_ERRORS:  # deleted meanwhile: the row just has no picture
            return None
        loaded = QImage(str(path))
        if loaded.isNull():
            return None
        return loaded.scaled(
            ICON,
            ICON,
            Qt.AspectRatioMode.KeepAspectRatioByExpanding,
            Qt.TransformationMode.SmoothTransformation,
        )
