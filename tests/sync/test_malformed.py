"""Hostile input on the wire: refused cleanly, nothing written, other peers still served."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from core.library import Library
from core.peers.service import SyncService
from storage import crdt_log
from sync.client import run_peer
from sync.errors import UnpairedDeviceError
from sync.protocol import (
    PEER_VERSION,
    DocFrame,
    Hello,
    SyncStep1,
    SyncUpdate,
    encode_envelope,
    write_varuint,
)
from sync.server import SyncServer
from sync.tls import client_context
from tests.sync.conftest import expect_unpaired_refusal, paired_libraries


def _huge_prefix() -> bytes:
    out = bytearray([0])  # DOC envelope
    write_varuint(out, 2**40)  # doc id length far past the frame
    return bytes(out) + b"library"


def _bad_update() -> bytes:
    return encode_envelope(DocFrame("library", SyncUpdate(b"\x07\x07\x07garbage")))


BAD_FRAMES = {
    "garbage": b"\xde\xad\xbe\xef" * 8,
    "truncated": encode_envelope(DocFrame("library", SyncUpdate(b"x" * 50)))[:-10],
    "huge length prefix": _huge_prefix(),
    "unknown document": encode_envelope(DocFrame("../../etc/passwd", SyncUpdate(b"\x00\x00"))),
    "unknown document step1": encode_envelope(DocFrame("bogus", SyncStep1(b"\x00"))),
    "undecodable update": _bad_update(),
    "text frame": "hello",
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
def test_bad_frame_closes_the_connection_and_writes_nothing(tmp_path, name):
    a, b, c = paired_libraries(tmp_path, ["a", "b", "c"])
    sa, sb, sc = SyncService(a), SyncService(b), SyncService(c)
    a.notes.create("# Server note\n")
    c.notes.create("# From C\n")
    before = crdt_log.update_count(a.db)

    async def main() -> None:
        server = SyncServer(sa, sa.identity, host="127.0.0.1", port=0)
        await server.start()
        try:
            uri = f"wss://127.0.0.1:{server.port}/peer"
            async with connect(uri, ssl=client_context(sb.identity), proxy=None) as ws:
                # a valid hello first, so the bad frame reaches the document handling
                await ws.send(encode_envelope(Hello(PEER_VERSION, sb.library_id())))
                await ws.send(BAD_FRAMES[name])
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await asyncio.wait_for(ws.recv(), 10)
                assert closed.value.rcvd is not None and closed.value.rcvd.code in (1007, 1008)
            assert crdt_log.update_count(a.db) == before
            assert [r.kind for r in sa.security_log()] == ["malformed", "bound"]
            # the server keeps serving the other paired device
            report = await run_peer(sc, sc.identity, "127.0.0.1", server.port, timeout=30)
            assert report.error is None and report.updates_out == 0
        finally:
            await server.stop()

    asyncio.run(main())
    assert sorted(i.title for i in a.list_items()) == ["From C", "Server note"]
    assert a.db.integrity_check() == ["ok"]


def test_unpaired_device_is_refused_before_any_data(tmp_path):
    a, c = paired_libraries(tmp_path, ["a", "c"])
    stranger = Library(tmp_path / "stranger")
    sa, sc, sx = SyncService(a), SyncService(c), SyncService(stranger)
    sx.pair(sa.device_id)  # the stranger trusts a, but a never paired it
    a.notes.create("# private\n")
    stranger.notes.create("# push attempt\n")

    async def main() -> None:
        server = SyncServer(sa, sa.identity, host="127.0.0.1", port=0)
        await server.start()
        try:
            response = await expect_unpaired_refusal(sx, server.port)
            assert b"private" not in response.body
            assert any(sx.device_id in why for why in server.refused)
            report = await run_peer(sc, sc.identity, "127.0.0.1", server.port, timeout=30)
            assert report.error is None
        finally:
            await server.stop()

    asyncio.run(main())
    assert [i.title for i in a.list_items()] == ["private"]
    assert stranger.list_items()[0].title == "push attempt" and len(stranger.list_items()) == 1
    stranger.close()


def test_unpairing_takes_effect_for_new_connections(tmp_path):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    sa.unpair("b")

    async def main() -> None:
        server = SyncServer(sa, sa.identity, host="127.0.0.1", port=0)
        await server.start()
        try:
            with pytest.raises(UnpairedDeviceError):
                await run_peer(sb, sb.identity, "127.0.0.1", server.port, timeout=10)
        finally:
            await server.stop()

    asyncio.run(main())


def test_room_refuses_garbage_from_a_local_client(tmp_path):
    (a,) = paired_libraries(tmp_path, ["a"])
    sa = SyncService(a)
    note = a.notes.create("x")
    before = crdt_log.update_count(a.db)

    async def main() -> None:
        server = SyncServer(
            sa, sa.identity, host="127.0.0.1", port=0, local_port=0, local_token="t0k"
        )
        await server.start()
        try:
            uri = f"ws://127.0.0.1:{server.local_port}/note:{note}?token=t0k"
            for frame in (b"\x00\x02\xff\xff\xff\xff\x0f", b"\x00\x02\x03abc", b"\x05"):
                async with connect(uri, proxy=None) as ws:
                    await ws.recv()  # the server's sync step 1
                    await ws.send(frame)
                    with pytest.raises(ConnectionClosed) as closed:
                        while True:
                            await asyncio.wait_for(ws.recv(), 10)
                    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
        finally:
            await server.stop()

    asyncio.run(main())
    assert crdt_log.update_count(a.db) == before
