"""The status bar: indexing progress (a bar, the current stage, cancel), sync state as an
icon with a tooltip (click: Devices), and the models/device chip (click: Models).

A timer asks the library for its state on the db worker every ``POLL_MS``; the indexer runs
on the long-work thread when there are pending jobs (auto-indexing can be switched off).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QStatusBar,
    QToolButton,
    QWidget,
)

from desktop.gui.operations import CancelToken, Operations
from desktop.gui.theme import icons
from desktop.gui.theme.tokens import SPACE_S

if TYPE_CHECKING:
    from core.library import Library

POLL_MS = 2000
# one indexing run holds the long-work thread at most this long, then yields to other long
# work (an import, an export) and resumes at the next poll: a background upgrade to e5 can
# take an hour on a big library
RUN_SLICE_S = 60.0
# models (OCR, taggers, embedder, LLM) and the place table no work used for this long are
# released on the next poll: a window left open gives their memory back (they load again
# when needed)
MODEL_IDLE_S = 60.0


@dataclass(frozen=True)
class LibraryState:
    notes: int
    photos: int
    pending: int
    failed: int
    stage: str
    sync: str
    models: str
    sync_kind: str = "none"  # none | offline | online | pending: the icon
    device: str = ""
    meaning: str = ""  # while meaning search is being upgraded: how far (IndexStatus.meaning)


def read_state(library: Library) -> LibraryState:
    """Runs on the db worker. Releases models idle for ``MODEL_IDLE_S``, then brings cached
    CRDT documents up to date with updates other processes (``saem sync``, the CLI) logged,
    so local edits build on them. Photos read by another OCR engine are queued to be read
    again (once per open and when the OCR model changes: ``Library.queue_stale_ocr``)."""
    library.release_idle(MODEL_IDLE_S)
    library.queue_stale_ocr()
    service = library.sync
    service.refresh()
    stats = library.stats()
    pending, failed, stage = (
        stats.jobs.get("pending", 0) + stats.jobs.get("running", 0),
        stats.jobs.get("failed", 0),
        "idle",
    )
    status = library.indexer.status()
    pending, failed, stage = status.pending + status.running, status.failed, status.stage
    meaning = status.meaning.line() if status.target_model else ""
    return LibraryState(
        stats.notes,
        stats.photos,
        pending,
        failed,
        stage,
        _sync_state(service),
        _models_state(library),
        _sync_kind(service),
        _device(library),
        meaning,
    )


ONLINE_SECONDS = 120


def index_text(state: LibraryState) -> str:
    """The idle indexing line: what waits, what failed, or up to date."""
    failed = f" · {state.failed:,} failed" if state.failed else ""
    if state.stage == "upgrading" and state.meaning:  # searchable; the better model comes
        return f"Index up to date · {state.meaning}{failed}"
    if state.pending:
        stage = f" ({state.stage})" if state.stage and state.stage != "idle" else ""
        return f"{state.pending:,} item(s) left to index{stage}{failed}"
    return f"Index up to date{failed}"


def _sync_state(service: Any) -> str:
    if service is None:
        return "Sync: not installed"
    peers = service.status()
    last = service.last_synced()  # which path synced last: relay or direct
    via = ""
    if last and last.get("at"):
        when = time.strftime("%H:%M", time.localtime(float(last["at"])))
        via = f" · last via {'relay' if last.get('path') == 'relay' else 'direct'} {when}"
    if not peers:
        return "Sync: no paired devices" + via
    now = time.time()
    online = sum(1 for p in peers if p.last_seen and now - p.last_seen < ONLINE_SECONDS)
    pending = sum(p.pending for p in peers)
    text = f"Sync: {online}/{len(peers)} peers online" + (f", {pending} pending" if pending else "")
    return text + via


def _sync_kind(service: Any) -> str:
    peers = service.status() if service is not None else []
    if not peers:
        return "none"
    now = time.time()
    if any(p.pending for p in peers):
        return "pending"
    online = any(p.last_seen and now - p.last_seen < ONLINE_SECONDS for p in peers)
    return "online" if online else "offline"


def _device(library: Library) -> str:
    return library.models.device()


SYNC_ICONS = {
    "none": "cloud-off",
    "offline": "cloud-off",
    "online": "cloud",
    "pending": "refresh-cw",
}


def _models_state(library: Library) -> str:
    manager = library.models
    # every poll: the upgrade's progress is counted once, by the indexer's status
    active = [m for m in manager.list(progress=False) if m.active]
    names = ", ".join(sorted({m.name for m in active})[:3])
    device = manager.device()
    return (
        f"Models: {len(active)} active ({names}) · {device}"
        if active
        else (f"Models: none active · {device}")
    )


class StatusArea(QStatusBar):
    index_finished = Signal(object)
    state_changed = Signal(object)
    models_requested = Signal()
    devices_requested = Signal()

    def __init__(
        self, library: Library, ops: Operations, *, auto_index: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.ops = ops
        self.auto_index = auto_index
        self.state: LibraryState | None = None
        self._token: CancelToken | None = None
        self._polling = False
        self.index_icon = QLabel(self)
        self.index_label = QLabel("Index: …", self)
        self.index_label.setAccessibleName("Indexing status")
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Indexing progress")
        self.progress.setFixedWidth(140)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QToolButton(self)
        self.cancel_button.setProperty("variant", "ghost")
        self.cancel_button.setToolTip("Stop indexing (it resumes later)")
        self.cancel_button.setAccessibleName("Cancel indexing")
        self.cancel_button.clicked.connect(self.cancel_index)
        self.cancel_button.hide()
        left = QWidget(self)
        row = QHBoxLayout(left)
        row.setContentsMargins(SPACE_S, 0, 0, 0)
        row.setSpacing(SPACE_S)
        self.index_icon.setFixedSize(16, 16)
        for widget in (self.index_icon, self.index_label, self.progress, self.cancel_button):
            row.addWidget(widget)
        row.addStretch(1)
        self.sync_button = QToolButton(self)
        self.sync_button.setProperty("variant", "ghost")
        self.sync_button.setAccessibleName("Sync status")
        self.sync_button.setToolTip("Sync: …")
        self.sync_button.setIconSize(QSize(16, 16))
        self.sync_button.clicked.connect(self.devices_requested)
        self.sync_label = self.sync_button  # its text is the tooltip: the icon says the state
        self.models_label = QToolButton(self)
        self.models_label.setProperty("variant", "chip")
        self.models_label.setText("Models …")
        self.models_label.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.models_label.setAccessibleName("Active models and device: open Models")
        self.models_label.clicked.connect(self.models_requested)
        self.addWidget(left)
        self.addPermanentWidget(self.sync_button)
        self.addPermanentWidget(self.models_label)
        self.refresh_icons()
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

    def refresh_icons(self) -> None:
        self.cancel_button.setIcon(icons.icon("x", "muted"))
        self.models_label.setIcon(icons.icon("cpu", "text"))
        kind = self.state.sync_kind if self.state is not None else "none"
        self.sync_button.setIcon(icons.icon(SYNC_ICONS.get(kind, "cloud-off"), "muted"))
        self._index_icon(str(self.index_icon.property("icon_name") or "check"))

    def _index_icon(self, name: str) -> None:
        if name == "loader":
            name = "refresh-cw"
        self.index_icon.setProperty("icon_name", name)
        token = "warning" if name == "triangle-alert" else "muted"
        self.index_icon.setPixmap(icons.pixmap(name, 14, token))

    def start(self) -> None:
        self.timer.start()
        self.poll()

    def poll(self) -> None:
        if self._polling:
            return
        self._polling = True
        library = self.library

        def failed(exc: BaseException) -> None:
            self._polling = False
            self.index_label.setText("Indexing unavailable")
            self.ops.report_error(exc)
            self.timer.stop()

        self.ops.query(lambda: read_state(library), self._show, failed)

    def _show(self, state: LibraryState) -> None:
        self._polling = False
        self.state = state
        if self._token is None:
            self.index_label.setText(index_text(state))
            self._index_icon(
                "triangle-alert" if state.failed else "loader" if state.pending else "check"
            )
        self.sync_button.setToolTip(state.sync)
        self.sync_button.setIcon(icons.icon(SYNC_ICONS.get(state.sync_kind, "cloud-off"), "muted"))
        self.models_label.setToolTip(f"{state.models}\nClick to choose models and the device")
        active = state.models.split("·")[0].removeprefix("Models:").split("(")[0].strip()
        self.models_label.setText(f"{(state.device or 'cpu').upper()} · {active}")
        self.state_changed.emit(state)
        if self.auto_index and state.pending and self._token is None:
            self.run_index()

    # -- indexing ------------------------------------------------------------------------------

    def run_index(self) -> None:
        token = self._token = CancelToken()
        library, ops = self.library, self.ops
        self.progress.show()
        self.progress.setRange(0, 0)
        self.cancel_button.show()
        self._index_icon("loader")

        def progress(done: int, total: int, note: str = "") -> None:
            ops.to_gui(lambda: self._progress(done, total, note))

        def finished(report: Any) -> None:
            self._token = None
            self.progress.hide()
            self.cancel_button.hide()
            self.index_finished.emit(report)
            self.poll()

        def failed(exc: BaseException) -> None:
            self._token = None
            self.progress.hide()
            self.cancel_button.hide()
            self.auto_index = False  # do not retry in a loop; the user can index again
            ops.report_error(exc)

        started = time.monotonic()

        def should_stop() -> bool:
            return token() or time.monotonic() - started > RUN_SLICE_S

        ops.long(
            lambda: library.indexer.run(progress=progress, should_cancel=should_stop),
            finished,
            failed,
        )

    def _progress(self, done: int, total: int, note: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        stage = f" · {note}" if note else ""
        self.index_label.setText(f"Indexing{stage} · {max(total - done, 0):,} left")

    def cancel_index(self) -> None:
        if self._token is not None:
            self._token.cancel()
            self.index_label.setText("Stopping indexing…")
            self.auto_index = False

    @property
    def indexing(self) -> bool:
        return self._token is not None
