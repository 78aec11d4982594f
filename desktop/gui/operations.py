"""Running library work off the GUI thread (Anki's ``CollectionOp`` / ``QueryOp`` pattern).

Three single-thread executors:

* ``db`` — short reads and edits (note saves, list pages, palette searches). One thread, so
  operations on the library run in the order they were asked.
* ``long`` — long work (imports, indexing) that reports progress and can be cancelled; it
  runs beside ``db`` so the palette stays responsive during an import;
* ``fast`` — quick lookups in memory (the palette's title matches) that must not queue
  behind a slow query.

The ``Database`` has its own lock, so the threads never run statements on the SQLite
connection at the same time.

Results and errors come back on the GUI thread through a queued Qt signal. Errors that are
not handled by the caller go to the window's one :class:`~desktop.gui.errors.ErrorPresenter`.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)

Callback = Callable[[Any], object]
ErrorCallback = Callable[[BaseException], object]


class _Bridge(QObject):
    """Lives on the GUI thread; worker threads emit, the slot runs on the GUI thread."""

    deliver = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.deliver.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, fn: Callable[[], object]) -> None:
        fn()


class CancelToken:
    """A ``should_cancel()`` callable for core functions; ``cancel()`` from the GUI."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()


class Operations(QObject):
    """The one place that runs background work for a window."""

    busy_changed = Signal(int)  # number of operations in flight

    def __init__(self, on_error: ErrorCallback | None = None) -> None:
        super().__init__()
        self._bridge = _Bridge()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="saem-db")
        self._long = ThreadPoolExecutor(max_workers=1, thread_name_prefix="saem-long")
        self._fast = ThreadPoolExecutor(max_workers=1, thread_name_prefix="saem-fast")
        self._on_error = on_error
        self._in_flight = 0
        self._closed = False

    def report_error(self, exc: BaseException) -> None:
        """Show an error through the window's presenter (GUI thread only)."""
        if self._on_error is not None:
            self._on_error(exc)
        else:
            log.error("operation failed", exc_info=exc)

    def set_error_handler(self, on_error: ErrorCallback) -> None:
        self._on_error = on_error

    # -- running -------------------------------------------------------------------------------

    def query(
        self,
        work: Callable[[], Any],
        on_success: Callback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> Future[Any] | None:
        """Run ``work()`` on the db thread; ``on_success(result)`` runs on the GUI thread."""
        return self._submit(self._db, work, on_success, on_error)

    def fast(
        self,
        work: Callable[[], Any],
        on_success: Callback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> Future[Any] | None:
        """Run quick, mostly in-memory ``work()`` (palette title matches) that must never wait
        behind a slow query on the db thread."""
        return self._submit(self._fast, work, on_success, on_error)

    def long(
        self,
        work: Callable[[], Any],
        on_success: Callback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> Future[Any] | None:
        """Run long ``work()`` (import, indexing) on the long-work thread."""
        return self._submit(self._long, work, on_success, on_error)

    def run_for_dialog(
        self,
        work: Callable[[], Any],
        show: Callable[[str], None],
        done_text: str,
        after: Callable[[], None],
        *,
        long: bool = False,
    ) -> Future[Any] | None:
        """Dialog actions: typed errors go to the dialog's own message line (``show``),
        anything else to the window's presenter; on success show ``done_text``, then ``after()``.
        """
        from core.errors import USER_ERRORS, user_message

        def failed(exc: BaseException) -> None:
            if isinstance(exc, USER_ERRORS):
                show(user_message(exc))
            else:
                self.report_error(exc)

        def done(_result: Any) -> None:
            show(done_text)
            after()

        return (self.long if long else self.query)(work, done, failed)

    def to_gui(self, fn: Callable[[], object]) -> None:
        """Call ``fn`` on the GUI thread (e.g. from a progress callback)."""
        if not self._closed:
            self._bridge.deliver.emit(fn)

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        work: Callable[[], Any],
        on_success: Callback | None,
        on_error: ErrorCallback | None,
    ) -> Future[Any] | None:
        if self._closed:
            return None
        self._in_flight += 1
        self.busy_changed.emit(self._in_flight)

        def finish(ok: bool, value: Any) -> None:
            self._in_flight -= 1
            self.busy_changed.emit(self._in_flight)
            if ok:
                if on_success is not None:
                    on_success(value)
            elif on_error is not None:
                on_error(value)
            elif self._on_error is not None:
                self._on_error(value)
            else:
                log.error("background operation failed", exc_info=value)

        def run() -> Any:
            try:
                result = work()
            except Exception as exc:  # delivered to the GUI thread's error handler
                self.to_gui(functools.partial(finish, False, exc))
                raise
            self.to_gui(functools.partial(finish, True, result))
            return result

        return pool.submit(run)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until queued work has run (tests and shutdown); GUI callbacks still queue."""
        for pool in (self._db, self._long, self._fast):
            pool.submit(lambda: None).result(timeout=timeout)

    def shutdown(self) -> None:
        """Stop accepting work and wait for what is running (called when the window closes)."""
        self._closed = True
        self._long.shutdown(wait=True, cancel_futures=True)
        self._fast.shutdown(wait=True, cancel_futures=True)
        self._db.shutdown(wait=True, cancel_futures=False)
