"""The plain y-websocket room form (``/<doc-id>``): one document, standard y-sync +
awareness, so a stock Yjs client can open one note. Same persistence rules as the peer
session in :mod:`sync.session` (apply → persist → then forward); the shared pieces are in
:mod:`sync._base`."""

from __future__ import annotations

import asyncio
import itertools

from sync._base import Connection, Hub, Replica, RoomMember, SessionBase, closed_errors
from sync.errors import SyncError, UnpairedDeviceError
from sync.protocol import (
    AuthMessage,
    AwarenessMessage,
    Decoder,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    YMessage,
    decode_message,
    encode_message,
    write_var_bytes,
    write_var_string,
    write_varuint,
)
from sync.wording import CLOSE_INVALID, CLOSE_POLICY


class RoomSession(SessionBase):
    """A stock y-websocket client editing one document (``/<doc-id>``)."""

    _ids = itertools.count(1)

    def __init__(
        self,
        replica: Replica,
        hub: Hub,
        conn: Connection,
        doc_id: str,
        device_id: str | None = None,
    ) -> None:
        super().__init__(replica, hub, conn, f"room:{next(self._ids)}")
        self.doc_id = doc_id
        self.device_id = device_id  # a paired device over mutual TLS; None: local client
        self.awareness: bytes | None = None
        self._clients: dict[int, int] = {}

    async def run(self) -> None:
        room = self.hub.rooms.setdefault(self.doc_id, set())
        room.add(self)
        pump = None
        try:
            self.sent_upto = self.replica.last_change_id()
            await self._send(encode_message(SyncStep1(self.replica.state_vector(self.doc_id))))
            for other in room:
                if other is not self and other.awareness:
                    await self._send(encode_message(AwarenessMessage(other.awareness)))
            pump = asyncio.create_task(self._pump())
            while True:
                frame = await self._recv()
                await self._handle(decode_message(frame))
        except SyncError as exc:
            await self._refuse(exc, CLOSE_INVALID)
        except closed_errors():
            pass
        finally:
            if pump is not None:
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)
            room.discard(self)
            self.hub.unsubscribe(self._wake)
            await self._broadcast_leave(room)

    async def _handle(self, msg: YMessage) -> None:
        if isinstance(msg, SyncStep1):
            diff = self.replica.diff(self.doc_id, msg.state_vector)
            await self._send(encode_message(SyncStep2(diff)))
        elif isinstance(msg, (SyncStep2, SyncUpdate)):
            if self.replica.apply_batch([(self.doc_id, msg.update)], self.origin):
                self.hub.notify()
        elif isinstance(msg, AwarenessMessage):
            self.awareness = msg.payload
            self._remember_clients(msg.payload)
            for other in list(self.hub.rooms.get(self.doc_id, ())):
                if other is not self:
                    await other._send_quietly(encode_message(msg))
        elif isinstance(msg, QueryAwareness):
            for other in list(self.hub.rooms.get(self.doc_id, ())):
                if other is not self and other.awareness:
                    await self._send(encode_message(AwarenessMessage(other.awareness)))
        elif isinstance(msg, AuthMessage):
            pass

    def _remember_clients(self, payload: bytes) -> None:
        dec = Decoder(payload)
        for _ in range(dec.varuint()):
            client, clock = dec.varuint(), dec.varuint()
            state = dec.var_string()
            if state == "null":
                self._clients.pop(client, None)
            else:
                self._clients[client] = clock

    async def _broadcast_leave(self, room: set[RoomMember]) -> None:
        """Tell the others this client's cursors are gone (as the y-websocket server does)."""
        if not self._clients:
            return
        out = bytearray()
        write_varuint(out, len(self._clients))
        for client, clock in self._clients.items():
            write_varuint(out, client)
            write_varuint(out, clock + 1)
            write_var_string(out, "null")
        msg = bytearray()
        write_varuint(msg, 1)
        write_var_bytes(msg, bytes(out))
        for other in list(room):
            await other._send_quietly(bytes(msg))

    async def _pump(self) -> None:
        while True:
            if self.device_id is not None and not self.replica.is_paired(self.device_id):
                exc = UnpairedDeviceError(
                    f"Device {self.device_id[:15]}… was unpaired; the room is closed."
                )
                await self._refuse(exc, CLOSE_POLICY, "removed")
                return
            changes = self._pending_changes(self.doc_id)
            for change in changes:
                await self._send(encode_message(SyncUpdate(change.data)))
            await self._wait_for_changes()
