"""The status bar: indexing progress (items left, stage, cancel), sync state, models/device.

A timer asks the library for its state on the db worker every ``POLL_MS``; the indexer runs
on the long-work thread when there are pending jobs (auto-indexing can be switched off).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from desktop.gui.operations import CancelToken, Operations

if TYPE_CHECKING:
    from core.library import Library

POLL_MS = 2000


@dataclass(frozen=True)
class LibraryState:
    notes: int
    photos: int
    pending: int
    failed: int
    stage: str
    sync: str
    models: str


def read_state(library: Library) -> LibraryState:
    """Runs on the db worker. First brings cached CRDT documents up to date with updates
    other processes (``saem sync``, the CLI) logged, so local edits build on them."""
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
    return LibraryState(
        stats.notes,
        stats.photos,
        pending,
        failed,
        stage,
        _sync_state(service),
        _models_state(library),
    )


ONLINE_SECONDS = 120


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


def _models_state(library: Library) -> str:
    manager = getattr(library, "models", None)
    if manager is None:
        return "Models: none"
    active = [m for m in manager.list() if m.active]
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
        self.index_label = QLabel("Index: …", self)
        self.index_label.setAccessibleName("Indexing status")
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Indexing progress")
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Cancel indexing")
        self.cancel_button.clicked.connect(self.cancel_index)
        self.cancel_button.hide()
        self.sync_label = QLabel("Sync: …", self)
        self.sync_label.setAccessibleName("Sync status")
        self.models_label = QLabel("Models: …", self)
        self.models_label.setAccessibleName("Active models and device")
        self.addWidget(self.index_label)
        self.addWidget(self.progress)
        self.addWidget(self.cancel_button)
        self.addPermanentWidget(self.sync_label)
        self.addPermanentWidget(self.models_label)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

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
            self.index_label.setText("Index: unavailable")
            self.ops.report_error(exc)
            self.timer.stop()

        self.ops.query(lambda: read_state(library), self._show, failed)

    def _show(self, state: LibraryState) -> None:
        self._polling = False
        self.state = state
        if self._token is None:
            left = (
                f"{state.pending:,} item(s) left · {state.stage}" if state.pending else "up to date"
            )
            failed = f" · {state.failed} failed" if state.failed else ""
            self.index_label.setText(f"Index: {left}{failed}")
        self.sync_label.setText(state.sync)
        self.models_label.setText(state.models)
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

        ops.long(
            lambda: library.indexer.run(progress=progress, should_cancel=token), finished, failed
        )

    def _progress(self, done: int, total: int, note: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.index_label.setText(f"Index: {max(total - done, 0):,} item(s) left · {note}")

    def cancel_index(self) -> None:
        if self._token is not None:
            self._token.cancel()
            self.index_label.setText("Index: cancelling…")
            self.auto_index = False

    @property
    def indexing(self) -> bool:
        return self._token is not None
