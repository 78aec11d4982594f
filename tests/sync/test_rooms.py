"""The plain y-websocket room form: sync, live updates and awareness relay (raw frames)."""

from __future__ import annotations

import asyncio
import json

from pycrdt import Doc, Text
from websockets.asyncio.client import connect

from core.peers.service import SyncService
from sync.protocol import (
    AwarenessMessage,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_message,
    write_var_string,
    write_varuint,
)
from sync.server import SyncServer
from sync.tls import client_context
from tests.sync.conftest import paired_libraries


def _awareness(client: int, clock: int, state: object) -> bytes:
    out = bytearray()
    write_varuint(out, 1)
    write_varuint(out, client)
    write_varuint(out, clock)
    write_var_string(out, json.dumps(state))
    return bytes(out)


async def _next(ws, kind: type) -> object:  # type: ignore[no-untyped-def]
    while True:
        msg = decode_message(await asyncio.wait_for(ws.recv(), 10))
        if isinstance(msg, kind):
            return msg


def test_paired_device_opens_a_note_room_over_mutual_tls(tmp_path):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    note = a.notes.create("# 방\n\nhello\n")

    async def main() -> None:
        server = SyncServer(sa, sa.identity, host="127.0.0.1", port=0)
        await server.start()
        try:
            uri = f"wss://127.0.0.1:{server.port}/note:{note}"
            async with connect(uri, ssl=client_context(sb.identity), proxy=None) as ws:
                first = await _next(ws, SyncStep1)  # the server's state vector
                assert isinstance(first, SyncStep1)
                await ws.send(encode_message(SyncStep1(b"\x00")))
                step2 = await _next(ws, SyncStep2)
                doc = Doc()
                body = doc.get("body", type=Text)
                doc.apply_update(step2.update)  # type: ignore[attr-defined]
                assert str(body) == "# 방\n\nhello\n"
                before = doc.get_state()
                body.insert(len(str(body).encode()), "room edit\n")
                await ws.send(encode_message(SyncUpdate(doc.get_update(before))))
                for _ in range(200):
                    if "room edit" in a.notes.get(note).body:
                        break
                    await asyncio.sleep(0.02)
        finally:
            await server.stop()

    asyncio.run(main())
    assert a.notes.get(note).body == "# 방\n\nhello\nroom edit\n"


def test_awareness_is_relayed_queried_and_cleared_on_leave(tmp_path):
    (a,) = paired_libraries(tmp_path, ["a"])
    sa = SyncService(a)
    note = a.notes.create("x")

    async def main() -> None:
        server = SyncServer(
            sa, sa.identity, host="127.0.0.1", port=0, local_port=0, local_token="tok"
        )
        await server.start()
        uri = f"ws://127.0.0.1:{server.local_port}/note:{note}?token=tok"
        try:
            async with connect(uri, proxy=None) as one, connect(uri, proxy=None) as two:
                await _next(one, SyncStep1)
                await _next(two, SyncStep1)
                await one.send(encode_message(AwarenessMessage(_awareness(7, 1, {"u": "one"}))))
                got = await _next(two, AwarenessMessage)
                assert got.payload == _awareness(7, 1, {"u": "one"})  # type: ignore[attr-defined]
                await two.send(encode_message(QueryAwareness()))
                again = await _next(two, AwarenessMessage)
                assert again == got
                await one.close()
                gone = await _next(two, AwarenessMessage)
                assert gone.payload == _awareness(7, 2, None)  # type: ignore[attr-defined]
        finally:
            await server.stop()

    asyncio.run(main())
