"""The pieces both sync session forms share (private to :mod:`sync.session` and
:mod:`sync.room`): the :class:`Replica` and :class:`Connection` protocols, the :class:`Hub`
that wakes every open session when the log grows, and :class:`SessionBase` (counted frames,
refusals, the pump over the persisted log). Keeping them here lets ``room`` and ``session``
each import this module and never each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from sync.blobs import BlobExchange
from sync.errors import TextFrameError
from sync.security import audit, format_address, kind_of
from sync.wording import CLOSE_INVALID

POLL_SECONDS = 0.05  # also picks up edits made by other processes (CLI)
BATCH = 512


class Change(Protocol):
    """One logged CRDT update (read-only, as ``storage.crdt_log.LoggedUpdate``)."""

    @property
    def id(self) -> int: ...
    @property
    def doc_id(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def origin(self) -> str: ...


class Replica(Protocol):
    blobs: BlobExchange

    @property
    def device_id(self) -> str: ...

    def doc_ids(self) -> list[str]: ...
    def check_doc_id(self, doc_id: str) -> None: ...
    def state_vector(self, doc_id: str) -> bytes: ...
    def diff(self, doc_id: str, state_vector: bytes) -> bytes: ...
    def apply_batch(self, updates: Sequence[tuple[str, bytes]], origin: str) -> int: ...
    def changes_since(self, after_id: int, limit: int = BATCH) -> Sequence[Change]: ...
    def last_change_id(self) -> int: ...
    def refresh(self) -> None: ...
    def is_paired(self, device_id: str) -> bool: ...
    def record_peer(
        self, device_id: str, bytes_in: int, bytes_out: int, address: str | None
    ) -> None: ...
    def peer_acked(self, device_id: str, upto_id: int) -> None: ...
    def wanted_blobs(self) -> list[str]: ...
    def blob_arrived(self, sha256: str) -> None: ...
    def room_allowed(self, doc_id: str) -> bool: ...
    def library_id(self) -> str: ...
    def check_peer_library(self, device_id: str, library_id: str) -> None: ...
    def relay_offer(self) -> tuple[str, list[str]] | None: ...
    def relay_offered(self, device_id: str, key: str, urls: list[str]) -> None: ...
    def security_event(
        self, kind: str, reason: str, device_id: str | None, address: str | None
    ) -> None: ...


class Connection(Protocol):
    """What we need of a websockets connection."""

    async def send(self, message: bytes) -> None: ...
    async def recv(self) -> Any: ...
    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class RoomMember(Protocol):
    """A session in a y-websocket room, as the other members of the room see it."""

    awareness: bytes | None

    async def _send_quietly(self, data: bytes) -> None: ...


class PeerMember(Protocol):
    """An open peer session, as the hub sees it."""

    conn: Connection


class Hub:
    """Wakes the pumps of every open session when the log grows; tracks open sessions."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self._events: set[asyncio.Event] = set()
        self.rooms: dict[str, set[RoomMember]] = {}
        self.peers: dict[str, PeerMember] = {}

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        self._events.add(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        self._events.discard(event)

    def notify(self) -> None:
        for event in self._events:
            event.set()


class SessionBase:
    """What the peer session and the room session share: counted frames, the refusal path
    and the pump that tails the persisted update log."""

    def __init__(self, replica: Replica, hub: Hub, conn: Connection, origin: str) -> None:
        self.replica = replica
        self.hub = hub
        self.conn = conn
        self.origin = origin
        self.bytes_in = 0
        self.bytes_out = 0
        self.sent_upto = 0
        self._wake = hub.subscribe()
        self._closed = asyncio.Event()
        self._refused = False

    async def _send(self, data: bytes) -> None:
        self.bytes_out += len(data)
        await self.conn.send(data)

    async def _send_quietly(self, data: bytes) -> None:
        try:
            await self._send(data)
        except closed_errors():
            pass

    async def _recv(self) -> bytes:
        frame = await self.conn.recv()
        if isinstance(frame, str):
            frame = frame.encode("utf-8", "replace")
            self.bytes_in += len(frame)
            exc = TextFrameError("A peer sent a text frame; only binary frames are valid.")
            await self._refuse(exc, CLOSE_INVALID)
            raise exc
        self.bytes_in += len(frame)
        return bytes(frame)

    def _pending_changes(self, doc_filter: str | None = None) -> list[Change]:
        self.replica.refresh()
        changes = list(self.replica.changes_since(self.sent_upto, BATCH))
        if changes:
            self.sent_upto = changes[-1].id
        return [
            c
            for c in changes
            if c.origin != self.origin and (doc_filter is None or c.doc_id == doc_filter)
        ]

    async def _wait_for_changes(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
        except TimeoutError:
            pass
        self._wake.clear()

    async def _refuse(self, exc: Exception, code: int, kind: str | None = None) -> None:
        """Close with ``code`` and log + record why (once per connection)."""
        if self._refused:
            return
        self._refused = True
        message = getattr(exc, "user_message", str(exc))
        audit(
            self.replica,
            kind or kind_of(exc),
            message,
            device_id=getattr(self, "device_id", None) or getattr(self.conn, "saem_device", None),
            address=format_address(getattr(self.conn, "remote_address", None)),
        )
        reason = message.encode()[:120].decode("utf-8", "ignore")  # close reason ≤ 123 bytes
        await self.conn.close(code, reason)


def closed_errors() -> tuple[type[BaseException], ...]:
    from websockets.exceptions import ConnectionClosed

    return (ConnectionClosed, ConnectionError, EOFError)
