"""The security part of :class:`core.peers.service.SyncService` (``service.security``): this
library's id, binding paired devices to their library, and the durable refusal log
(``saem sync log``). A composed object with its own state (the throttle windows, the clock),
not a mixin: the service hands it the database and forwards the ``Replica`` calls.

Binding rule (trust on first use): pairing trusts a device key; the first peer session with
that device records the library id it presents in its HELLO. Every later session must
present the same id, else it is refused before any document data moves. Unpairing and
pairing again forgets the binding (the deliberate way to accept a replaced library).

Records are throttled per (kind, device, host): at most :data:`BURST` rows per
:data:`WINDOW_SECONDS`, so a flood of refused connections cannot turn into a flood of
fsynced commits; the next recorded row says how many were left out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from storage import sync_log
from storage.db import Database
from sync.errors import LibraryMismatchError

log = logging.getLogger("saem.sync")

BURST = 10
WINDOW_SECONDS = 600.0


class PeerSecurity:
    """Library id, peer-library binding and the throttled refusal log of one library."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.clock = clock
        self._library_id: str | None = None
        self._windows: dict[tuple[str, str | None, str | None], list[float]] = {}

    def library_id(self) -> str:
        """This library's random id (sent in the HELLO of every peer session)."""
        if self._library_id is None:
            with self.db.transaction():
                self._library_id = sync_log.library_id(self.db)
        return self._library_id

    def check_peer_library(self, device_id: str, library_id: str) -> None:
        """Bind on first use; refuse a different library later (LibraryMismatchError)."""
        with self.db.transaction():
            bound = sync_log.peer_library(self.db, device_id)
            if bound is None:
                if sync_log.bind_peer_library(self.db, device_id, library_id):
                    sync_log.record(
                        self.db,
                        "bound",
                        f"bound to library {library_id} on first sync",
                        device_id=device_id,
                    )
                    log.info("sync: device %s bound to library %s", device_id[:7], library_id)
                return
        if bound != library_id:
            raise LibraryMismatchError(
                f"Device {device_id[:15]}… belongs to library {bound[:8]}… here, but presented "
                f"library {library_id[:8]}…; refused before any data was exchanged. If its "
                "library was replaced on purpose, unpair and pair it again."
            )

    def record(self, kind: str, reason: str, device_id: str | None, address: str | None) -> None:
        """Record one refusal durably (throttled, see the module docstring)."""
        host = (address or "").rpartition(":")[0] or address
        key = (kind, device_id, host)
        windows = self._windows
        now = self.clock()
        window = windows.get(key)
        if window is None or now - window[0] >= WINDOW_SECONDS:
            left_out = int(window[2]) if window else 0
            window = windows[key] = [now, 0.0, 0.0]  # start, recorded, left out
            if left_out:
                reason += f" (+{left_out} more like this in the previous window, not recorded)"
        if window[1] >= BURST:
            window[2] += 1
            return
        window[1] += 1
        with self.db.transaction():
            sync_log.record(self.db, kind, reason, device_id=device_id, address=address)

    def log(self, limit: int = 50) -> list[sync_log.SyncLogRow]:
        """Recent refusals and bindings, newest first (``saem sync log``)."""
        return sync_log.recent(self.db, limit)
