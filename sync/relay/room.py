"""A minimal y-websocket client for the relay room (one pycrdt doc, ``Y.Array`` ``entries``).

It speaks the standard y-sync protocol to any stock Yjs WebSocket server (``@y/websocket-
server`` and other servers of the plain y-websocket protocol; Hocuspocus frames messages
with the document name and is not spoken here): sync step 1/2 on connect, then
updates both ways. Stock servers never acknowledge an update, so :meth:`RoomClient.flush`
sends a sync step 1 and waits for the step 2 it answers: messages on one connection are
handled in order, so by then the server has applied everything sent before. Whether it
also reached the server's disk is something no stock server says; the engine therefore
checks, on the next connect, that its entries are present, and writes again what is not
(see :mod:`sync.relay.engine`).

Elements inserted into the array (by the server's initial state or by other devices) are
collected from the array's observer — it only copies the event delta, never reads the
document inside its own observer (pycrdt-websocket#79).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pycrdt import Array, Doc, TransactionEvent
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from sync.errors import ProtocolError, RelayError, RelayUnreachableError
from sync.protocol import (
    AuthMessage,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_message,
)

ENTRIES = "entries"
CONNECT_SECONDS = 15.0
FLUSH_SECONDS = 60.0
LOAD_WAIT_SECONDS = 0.5  # an empty room: is the server still loading it?
LOAD_WAIT_KNOWN_SECONDS = 20.0  # ... when this device wrote there (pass a number: other waits)


class RoomClient:
    """The relay room on one server: read what arrives, append/delete entries."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.doc: Doc[Any] = Doc()
        self.entries: Array[Any] = self.doc.get(ENTRIES, type=Array)
        self.inserted: list[Any] = []  # elements inserted since the caller last took them
        self.changed = asyncio.Event()
        self.bytes_in = 0
        self.bytes_out = 0
        self._conn: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._step2 = 0
        self._step2_seen = asyncio.Condition()
        self._capturing = False
        self._captured: list[bytes] = []
        self._failure: BaseException | None = None
        self.doc.observe(self._on_transaction)
        self.entries.observe(self._on_entries)

    # -- observers (copy only) ---------------------------------------------------------------

    def _on_transaction(self, event: TransactionEvent) -> None:
        if self._capturing:
            self._captured.append(event.update)

    def _on_entries(self, event: Any) -> None:  # an ArrayEvent (its delta is untyped)
        if self._capturing:
            return  # our own appends/deletes
        for part in event.delta:
            values = part.get("insert")
            if values:
                self.inserted.extend(values)
        self.changed.set()

    # -- connection --------------------------------------------------------------------------

    async def connect(self, *, expect_content: bool | float = False) -> None:
        """Open the connection and load the room's current content.

        A stock server loads a room from its database *after* answering the first client's
        sync step 1 (y-websocket's ``bindState`` is asynchronous), then sends the loaded
        content as an ordinary update. So when the first answer is an empty room, wait a
        little for that update — longer when this device knows the room is not empty.
        """
        try:
            self._conn = await connect(
                self.url,
                max_size=None,
                compression=None,
                proxy=None,
                open_timeout=CONNECT_SECONDS,
                ping_interval=20,
                ping_timeout=60,
            )
        except InvalidStatus as exc:
            raise RelayUnreachableError(
                f"The relay at {self.url} refused the connection ({exc})."
            ) from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise RelayUnreachableError(f"Cannot reach the relay at {self.url} ({exc}).") from exc
        self._reader = asyncio.create_task(self._read())
        await self.flush()  # our step 1 → the server's step 2: the whole room
        if not len(self.entries):
            with contextlib.suppress(TimeoutError):
                wait = (
                    LOAD_WAIT_KNOWN_SECONDS
                    if expect_content is True
                    else float(expect_content) or LOAD_WAIT_SECONDS
                )
                await asyncio.wait_for(self.changed.wait(), wait)
            self._check()

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self._conn.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _send(self, data: bytes) -> None:
        if self._conn is None:
            raise RelayUnreachableError("The relay connection is not open.")
        self._check()
        self.bytes_out += len(data)
        try:
            await self._conn.send(data)
        except (ConnectionClosed, OSError) as exc:
            raise RelayUnreachableError(f"The relay at {self.url} closed the connection.") from exc

    def check(self) -> None:
        """Raise RelayUnreachableError if the connection has failed."""
        self._check()

    def _check(self) -> None:
        if self._failure is not None:
            if isinstance(self._failure, RelayError):
                raise self._failure
            raise RelayUnreachableError(
                f"The relay at {self.url} closed the connection ({self._failure!r})."
            ) from self._failure

    async def _read(self) -> None:
        assert self._conn is not None
        try:
            async for frame in self._conn:
                if isinstance(frame, str):
                    continue  # not part of y-sync; a stock server never sends one
                self.bytes_in += len(frame)
                msg = decode_message(frame)
                if isinstance(msg, SyncStep1):
                    diff = self.doc.get_update(msg.state_vector)
                    await self._send(encode_message(SyncStep2(diff)))
                elif isinstance(msg, (SyncStep2, SyncUpdate)):
                    try:
                        self.doc.apply_update(msg.update)
                    except ValueError as exc:
                        raise ProtocolError("the relay sent an undecodable update") from exc
                    if isinstance(msg, SyncStep2):
                        async with self._step2_seen:
                            self._step2 += 1
                            self._step2_seen.notify_all()
                elif isinstance(msg, AuthMessage):
                    raise RelayError(f"The relay at {self.url} denied access: {msg.reason}")
            code, reason = self._conn.close_code, self._conn.close_reason
            raise RelayUnreachableError(
                f"The relay at {self.url} closed the connection"
                + (f" (code {code}{': ' + reason if reason else ''})." if code else ".")
            )
        except (ConnectionClosed, OSError, RelayError) as exc:
            self._failure = exc
        finally:
            self.changed.set()
            async with self._step2_seen:
                self._step2_seen.notify_all()

    async def flush(self, timeout: float = FLUSH_SECONDS) -> None:
        """Return once the server has processed everything sent so far."""
        async with self._step2_seen:
            target = self._step2 + 1
        await self._send(encode_message(SyncStep1(self.doc.get_state())))
        async with self._step2_seen:
            try:
                await asyncio.wait_for(
                    self._step2_seen.wait_for(
                        lambda: self._step2 >= target or self._failure is not None
                    ),
                    timeout,
                )
            except TimeoutError as exc:
                raise RelayUnreachableError(
                    f"The relay at {self.url} did not answer within {timeout:.0f} s."
                ) from exc
        self._check()

    # -- writing -----------------------------------------------------------------------------

    async def append(self, values: list[dict[str, Any]]) -> None:
        if values:
            await self._change(lambda: self.entries.extend(values))

    async def delete(self, indexes: list[int]) -> None:
        """Delete elements by position (positions of the current local array)."""

        def run() -> None:
            for index in sorted(set(indexes), reverse=True):
                del self.entries[index]

        if indexes:
            await self._change(run)

    async def _change(self, change: Any) -> None:
        self._captured.clear()
        self._capturing = True
        try:
            with self.doc.transaction():
                change()
        finally:
            self._capturing = False
        updates, self._captured = self._captured, []
        for update in updates:
            await self._send(encode_message(SyncUpdate(update)))

    def take_inserted(self) -> list[Any]:
        taken, self.inserted = self.inserted, []
        self.changed.clear()
        return taken

    def snapshot(self) -> list[Any]:
        """Every element of the room as the local doc has it now (for compaction)."""
        return list(self.entries.to_py() or [])
