"""The Ctrl+K search palette: notes, photos, photo text, chats and commands in one list.

Each keystroke bumps a generation counter and queues a search on the db worker; a search
whose generation is no longer current is skipped before it starts and its results are
dropped when they arrive, so typing never waits and stale results never flash.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)

from core.errors import USER_ERRORS
from desktop.gui.operations import Operations
from desktop.gui.palette.rows import (
    Command,
    PaletteDelegate,
    PaletteModel,
    PaletteRow,
    hit_to_row,
)
from desktop.gui.theme.paint import color

if TYPE_CHECKING:
    from core.library import Library
    from core.search.quick_find import QuickFinder, QuickHit
    from core.search.searcher import Searcher, SearchHit

__all__ = ["Command", "PaletteRow", "SearchPalette"]

LIMIT = 12
DEEP_SEARCH_MS = 300


class SearchPalette(QFrame):
    """A frameless overlay on the main window. Emits what the user chose."""

    open_item = Signal(str, str)  # kind, item id
    ask = Signal(str)  # a question for the assistant
    searched = Signal(str, str, str)  # query, kind and item id chosen ("" when none)
    results_shown = Signal(int)  # generation whose results are now painted
    index_results_shown = Signal(int)  # ... including the search index's hits

    def __init__(self, library: Library, ops: Operations, parent: QWidget) -> None:
        super().__init__(parent)
        self.library = library
        self.ops = ops
        self.commands: list[Command] = []
        self._generation = 0
        self._engine: Searcher | None = None
        self._quick: QuickFinder | None = None
        # [generation, index hits, title hits] of the results on screen
        self._found: list[Any] = [0, None, None]
        self._deep_timer = QTimer(self)
        self._deep_timer.setSingleShot(True)
        self._deep_timer.setInterval(DEEP_SEARCH_MS)
        self._deep_timer.timeout.connect(self._deep_search)
        self.setObjectName("Palette")  # styled by desktop.gui.theme (QFrame#Palette)
        self.setAccessibleName("Search palette")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        # No QGraphicsDropShadowEffect: it re-renders and blurs the whole overlay on every
        # keystroke's repaint (measured: palette p95 74 → 206 ms); the border lifts it instead.
        self.input = QLineEdit(self)
        self.input.setAccessibleName("Search notes, photos, photo text, chats and commands")
        self.input.setPlaceholderText("Search, or type a command…   Tab: ask the assistant")
        self.input.setClearButtonEnabled(True)
        self.input.setMinimumHeight(40)
        self.input.installEventFilter(self)
        self.list = _OpaqueList(self)
        self.list.setAccessibleName("Results")
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.model = PaletteModel(self)
        self.list.setModel(self.model)
        self.list.setItemDelegate(PaletteDelegate(self.list))
        self.list.activated.connect(lambda index: self.activate(index.row()))
        self.list.clicked.connect(lambda index: self.activate(index.row()))
        # said once the index has answered and nothing matched (issue 15: "nothing found" is
        # said honestly, not hidden behind commands and the Ask row)
        self.empty = QLabel("No matches", self)
        self.empty.setAccessibleName("No matches")
        self.empty.setProperty("role", "caption")
        self.empty.hide()
        self.hint = QLabel("↑↓ move · Enter open · Tab ask · Esc close", self)
        self.hint.setAccessibleName("Keyboard hints")
        self.hint.setProperty("role", "caption")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 8)
        layout.setSpacing(8)
        layout.addWidget(self.input)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        self.input.textChanged.connect(self._query_changed)
        self.hide()

    # -- showing -------------------------------------------------------------------------------

    def open(self) -> None:
        parent = self.parentWidget()
        width = min(720, max(420, parent.width() - 80))
        height = min(480, max(260, parent.height() - 120))
        self.setGeometry((parent.width() - width) // 2, 60, width, height)
        self.show()
        self.raise_()
        self.input.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.input.selectAll()
        self._query_changed(self.input.text())

    def close_palette(self) -> None:
        self.hide()
        self._generation += 1
        parent = self.parentWidget()
        if parent is not None:
            parent.setFocus()

    # -- searching -----------------------------------------------------------------------------

    def _query_changed(self, text: str) -> None:
        self._generation += 1
        query = text.strip()
        commands = self._matching_commands(query)
        if not query:
            self.empty.hide()
            self._show(self._generation, commands)
            return
        self._run(self._generation, query, commands, deep=False)
        self._deep_timer.start()

    def _deep_search(self) -> None:
        """After a pause in typing: the full hybrid search (meaning, photo text, tags…)."""
        query = self.input.text().strip()
        if query and self.isVisible():
            self._run(self._generation, query, self._matching_commands(query), deep=True)

    def _run(self, generation: int, query: str, commands: list[PaletteRow], *, deep: bool) -> None:
        """Phase 1 (fast thread): title matches, painted at once. Phase 2 (db thread): index
        hits (keywords per keystroke; the hybrid search after a pause) merged above them."""

        def finish(gen: int, rows: list[PaletteRow]) -> None:
            ask = PaletteRow(
                "ask",
                f"Ask: {query}",
                "Tab sends the question to the assistant",
                action=functools.partial(self.ask.emit, query),
            )
            self._show(gen, [*rows, *commands, ask])
            self.empty.setVisible(not rows and self._found[1] is not None)

        def titles() -> tuple[int, list[PaletteRow] | None]:
            if generation != self._generation:
                return generation, None
            return generation, [hit_to_row(h) for h in self._titles(query)]

        def render(gen: int) -> None:
            index_hits = self._found[1] or []
            seen = {h.item_id for h in index_hits}
            title_hits = [h for h in self._found[2] or [] if h.item_id not in seen]
            finish(gen, (index_hits + title_hits)[:LIMIT])

        def arrived(result: tuple[int, list[PaletteRow] | None], slot: int) -> None:
            gen, hits = result
            if hits is None or gen != self._generation:
                return
            if self._found[0] != gen:
                self._found = [gen, None, None]
            self._found[slot] = hits
            render(gen)
            if slot == 1:
                self.index_results_shown.emit(gen)

        def titles_done(result: tuple[int, list[PaletteRow] | None]) -> None:
            arrived(result, 2)

        def indexed() -> tuple[int, list[PaletteRow] | None]:
            if generation != self._generation:
                return generation, None  # a newer keystroke already queued its own search
            return generation, [hit_to_row(h) for h in self._index_hits(query, deep=deep)]

        def indexed_done(result: tuple[int, list[PaletteRow] | None]) -> None:
            arrived(result, 1)

        if not deep:
            self.ops.fast(titles, titles_done)
        self.ops.query(indexed, indexed_done)

    def _titles(self, query: str, *, refresh: bool = False) -> list[QuickHit]:
        """Title matches from memory (no database wait on the keystroke path)."""
        if self._quick is None:
            self._quick = self.library.quick_find
        return list(self._quick.search(query, limit=LIMIT, refresh=refresh).hits)

    def _index_hits(self, query: str, *, deep: bool) -> list[SearchHit] | list[QuickHit]:
        """Runs on the db worker: the Searcher's hits (plus titles when there is no index)."""
        if self._quick is not None:
            self._quick.refresh()  # here, not on the keystroke path: new titles appear
        if self._engine is None:
            self._engine = _make_engine(self.library)
        if self._engine is None:
            return self._titles(query, refresh=True)
        try:
            found = (
                self._engine.search(query, limit=LIMIT)
                if deep
                else self._engine.suggest(query, limit=LIMIT)
            )
        except USER_ERRORS:
            return []  # e.g. a query the index cannot parse yet: titles still match
        return list(found.hits)

    def _matching_commands(self, query: str) -> list[PaletteRow]:
        words = query.casefold().split()
        return [
            PaletteRow("command", c.title, action=c.action)
            for c in self.commands
            if all(w in f"{c.title} {c.keywords}".casefold() for w in words)
        ][:8]

    def _show(self, generation: int, rows: list[PaletteRow]) -> None:
        self.model.set_rows(rows)
        if rows:
            self.list.setCurrentIndex(self.model.index(0, 0))
        self.results_shown.emit(generation)

    # -- choosing ------------------------------------------------------------------------------

    def activate(self, row: int) -> None:
        if not 0 <= row < len(self.model.rows):
            return
        chosen = self.model.rows[row]
        query = self.input.text().strip()
        self.close_palette()
        self.searched.emit(query, chosen.kind, chosen.item_id or "")
        if chosen.action is not None:
            chosen.action()
        elif chosen.item_id:
            self.open_item.emit("photo" if chosen.kind == "ocr" else chosen.kind, chosen.item_id)

    def _move(self, delta: int) -> None:
        count = self.model.rowCount()
        if not count:
            return
        current = self.list.currentIndex().row()
        row = min(max(0, current + delta), count - 1)
        self.list.setCurrentIndex(self.model.index(row, 0))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.input and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key == Qt.Key.Key_Down:
                self._move(1)
            elif key == Qt.Key.Key_Up:
                self._move(-1)
            elif key == Qt.Key.Key_PageDown:
                self._move(8)
            elif key == Qt.Key.Key_PageUp:
                self._move(-8)
            elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.activate(self.list.currentIndex().row())
            elif key == Qt.Key.Key_Escape:
                self.close_palette()
                self.searched.emit(self.input.text().strip(), "", "")
            elif key == Qt.Key.Key_Tab:
                query = self.input.text().strip()
                if query:
                    self.close_palette()
                    self.ask.emit(query)
            else:
                return False
            return True
        return super().eventFilter(watched, event)


class _OpaqueList(QListView):
    """Paints its own background, so Qt knows a repaint of the results covers every pixel and
    does not repaint the window under the overlay on each keystroke (it did: the note list
    below was painted again for every palette repaint)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        painter.fillRect(event.rect(), color("raised"))
        painter.end()
        super().paintEvent(event)


def _make_engine(library: Library) -> Searcher:
    """The library's hybrid Searcher."""
    return library.search
