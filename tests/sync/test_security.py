"""Attacks on sync over real loopback mutual TLS: each one is refused, writes nothing to the
library, and leaves a WARNING log line plus a durable ``sync_log`` record."""

from __future__ import annotations

import asyncio
import logging
import shutil

import pytest
from click.testing import CliRunner
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from core.library import Library
from core.peers.service import SyncService
from desktop.cli.main import cli
from storage import crdt_log
from sync.client import run_peer
from sync.errors import LibraryMismatchError, UnpairedDeviceError
from sync.protocol import PEER_VERSION, Hello, encode_envelope
from sync.server import SyncServer
from sync.session import Hub
from sync.tls import client_context
from tests.sync.conftest import expect_unpaired_refusal, library_state, paired_libraries
from tests.sync.security_support import (
    reopened_log,
    security_warnings,
    serve_sync,
)

# -- 1. unpaired device ---------------------------------------------------------------------------


def test_unpaired_device_is_refused_and_recorded(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    (a,) = paired_libraries(tmp_path, ["a"])
    stranger = Library(tmp_path / "stranger")
    sa, sx = SyncService(a), SyncService(stranger)
    sx.pair(sa.device_id)
    a.notes.create("# private\n")
    stranger.notes.create("# push attempt\n")
    before = library_state(a)

    async def main() -> int:
        server = await serve_sync(sa)
        try:
            await expect_unpaired_refusal(sx, server.port)
            return server.port
        finally:
            await server.stop()

    asyncio.run(main())
    assert library_state(a) == before
    records = [r for r in reopened_log(a) if r[0] == "unpaired"]
    assert len(records) == 2
    assert all(r[1] == sx.device_id and r[2] and r[2].startswith("127.0.0.1:") for r in records)
    assert all(sx.device_id in r[3] for r in records)
    assert len(security_warnings(caplog, "unpaired")) == 2
    stranger.close()


# -- 2. device removed while connected ------------------------------------------------------------


def test_device_removed_while_connected_is_cut_off_and_recorded(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    note = a.notes.create("start\n")

    async def main() -> None:
        server = await serve_sync(sa)
        live = asyncio.create_task(
            run_peer(
                sb,
                sb.identity,
                "127.0.0.1",
                server.port,
                one_round=False,
                timeout=None,
                hub=Hub(sb),
            )
        )
        try:
            for _ in range(300):
                if b.list_items():
                    break
                await asyncio.sleep(0.02)
            sa.unpair(sb.device_id)
            report = await asyncio.wait_for(live, 15)
            assert report.error
        finally:
            live.cancel()
            await asyncio.gather(live, return_exceptions=True)
            await server.stop()

    asyncio.run(main())
    assert b.notes.get(note).body == "start\n"
    removed = [r for r in reopened_log(a) if r[0] == "removed"]
    assert len(removed) == 1 and removed[0][1] == sb.device_id and removed[0][2]
    assert "unpaired" in removed[0][3]
    assert security_warnings(caplog, "removed")


# -- 3. a paired device presenting another library ------------------------------------------------


def _impostor(tmp_path, b: Library, a_device: str) -> Library:
    """Library C, a different library that carries B's device identity (copied key)."""
    c = Library(tmp_path / "c")
    shutil.copytree(b.root / "sync", c.root / "sync", dirs_exist_ok=True)
    sc = SyncService(c)
    sc.pair(a_device, name="a")
    c.notes.create("# From C\n\nmust never reach A\n")
    return c


def test_paired_device_serving_another_library_is_refused_both_ways(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    a.notes.create("# From A\n")
    b.notes.create("# From B\n")

    async def first_sync() -> None:
        server = await serve_sync(sa)
        try:
            report = await run_peer(sb, sb.identity, "127.0.0.1", server.port, timeout=30)
            assert report.error is None
        finally:
            await server.stop()

    asyncio.run(first_sync())
    assert ("bound", sb.device_id) in [(r.kind, r.device_id) for r in sa.security_log()]
    c = _impostor(tmp_path, b, sa.device_id)
    sc = SyncService(c)
    assert sc.device_id == sb.device_id and sc.library_id() != sb.library_id()
    state_a = library_state(a)
    count_a = crdt_log.update_count(a.db)
    seen_b = sa.status()[0]

    async def c_dials_a() -> None:
        server = await serve_sync(sa)
        try:
            report = await run_peer(sc, sc.identity, "127.0.0.1", server.port, timeout=30)
            assert report.error and not report.pulled
            assert server.hub.peers == {}
        finally:
            await server.stop()

    async def a_dials_c() -> None:
        server = await serve_sync(sc)
        try:
            report = await run_peer(
                sa,
                sa.identity,
                "127.0.0.1",
                server.port,
                expected_device=sb.device_id,
                timeout=30,
            )
            assert report.error and "presented library" in report.error
        finally:
            await server.stop()

    asyncio.run(c_dials_a())
    asyncio.run(a_dials_c())
    assert library_state(a) == state_a and crdt_log.update_count(a.db) == count_a
    assert sa.status()[0] == seen_b  # the impostor did not count as "B was seen"
    assert sorted(i.title for i in c.list_items()) == ["From C"]  # nothing of A went to C
    records = [r for r in reopened_log(a) if r[0] == "library"]
    assert len(records) == 2 and all(r[1] == sb.device_id for r in records)
    assert all(sc.library_id()[:8] in r[3] for r in records)
    assert len(security_warnings(caplog, "library")) >= 2

    async def b_still_syncs() -> None:  # the genuine device is unaffected
        server = await serve_sync(sa)
        try:
            b.notes.create("# Later from B\n")
            report = await run_peer(sb, sb.identity, "127.0.0.1", server.port, timeout=30)
            assert report.error is None and report.pushed
        finally:
            await server.stop()

    asyncio.run(b_still_syncs())
    assert library_state(a) == library_state(b)
    c.close()


def test_repairing_resets_the_library_binding(tmp_path):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    sa.check_peer_library(sb.device_id, sb.library_id())
    with pytest.raises(LibraryMismatchError):
        sa.check_peer_library(sb.device_id, "f" * 32)
    sa.unpair(sb.device_id)
    sa.pair(sb.device_id)
    sa.check_peer_library(sb.device_id, "f" * 32)  # a deliberate re-pair binds anew


# -- 4. malformed frames --------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["no hello", "after hello"])
def test_malformed_frames_are_recorded(tmp_path, first):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    before = crdt_log.update_count(a.db)

    async def main() -> None:
        server = await serve_sync(sa)
        try:
            uri = f"wss://127.0.0.1:{server.port}/peer"
            async with connect(uri, ssl=client_context(sb.identity), proxy=None) as ws:
                if first == "after hello":
                    await ws.send(encode_envelope(Hello(PEER_VERSION, sb.library_id())))
                await ws.send(b"\xde\xad\xbe\xef" * 8)
                with pytest.raises(ConnectionClosed):
                    while True:
                        await asyncio.wait_for(ws.recv(), 10)
        finally:
            await server.stop()

    asyncio.run(main())
    assert crdt_log.update_count(a.db) == before
    records = [r for r in reopened_log(a) if r[0] == "malformed"]
    assert len(records) == 1 and records[0][1] == sb.device_id
    assert "malformed" in records[0][3]


# -- the one CLI place ----------------------------------------------------------------------------


def test_sync_log_command_lists_refusals(tmp_path):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa = SyncService(a)
    runner = CliRunner()
    empty = runner.invoke(cli, ["--library", str(a.root), "sync", "log"])
    assert empty.exit_code == 0 and "No refused connections" in empty.output
    sa.security_event("tls", "TLS handshake failed: test", None, "127.0.0.1:5555")
    sa.security_event("library", "presented library 1234", SyncService(b).device_id, None)
    out = runner.invoke(cli, ["--library", str(a.root), "sync", "log", "--limit", "1"])
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and "library" in lines[0] and SyncService(b).device_id[:15] in lines[0]
    full = runner.invoke(cli, ["--library", str(a.root), "sync", "log"]).output
    assert "127.0.0.1:5555" in full and "TLS handshake failed" in full


def test_wrong_device_wrong_token_and_unknown_room_are_recorded(tmp_path):
    a, b, c = paired_libraries(tmp_path, ["a", "b", "c"])
    sa, sb, sc = SyncService(a), SyncService(b), SyncService(c)
    note = a.notes.create("x")

    async def main() -> None:
        server = SyncServer(
            sa, sa.identity, host="127.0.0.1", port=0, local_port=0, local_token="t0k"
        )
        await server.start()
        try:
            with pytest.raises(UnpairedDeviceError):  # b dials a, expecting c there
                await run_peer(
                    sb, sb.identity, "127.0.0.1", server.port, expected_device=sc.device_id
                )
            with pytest.raises(InvalidStatus):
                await connect(f"ws://127.0.0.1:{server.local_port}/note:{note}?token=bad")
            with pytest.raises(InvalidStatus):
                await connect(
                    f"wss://127.0.0.1:{server.port}/note:{'0' * 32}",
                    ssl=client_context(sb.identity),
                    proxy=None,
                )
        finally:
            await server.stop()

    asyncio.run(main())
    assert [r.kind for r in sb.security_log()] == ["wrong-device"]
    assert sorted(r[0] for r in reopened_log(a)) == ["room", "token"]
    room = next(r for r in reopened_log(a) if r[0] == "room")
    assert room[1] == sb.device_id


def test_serving_process_logs_refusals_and_cli_reads_them(tmp_path, serve_processes):
    """`saem sync serve` (a real process) prints the WARNING; `saem sync log` from another
    process reads the durable record while the server keeps running."""
    from tests.sync.conftest import ServeProcess, wait_until

    (a,) = paired_libraries(tmp_path, ["a"])
    a_root = a.root
    a.close()
    stranger = Library(tmp_path / "stranger")
    sx = SyncService(stranger)
    serving = ServeProcess(a_root).start()
    serve_processes.append(serving)

    with pytest.raises(UnpairedDeviceError):
        asyncio.run(run_peer(sx, sx.identity, "127.0.0.1", serving.port, timeout=10))
    wait_until(lambda: any("sync security: unpaired" in line for line in serving.log))
    out = CliRunner().invoke(cli, ["--library", str(a_root), "sync", "log"])
    assert out.exit_code == 0 and "unpaired" in out.output and sx.device_id[:15] in out.output
    serving.stop()
    stranger.close()


def test_a_flood_of_refusals_is_throttled_but_counted(tmp_path):
    from core.peers.security import BURST, WINDOW_SECONDS

    (a,) = paired_libraries(tmp_path, ["a"])
    sa = SyncService(a)
    now = [1000.0]
    sa.security.clock = lambda: now[0]
    for i in range(BURST + 40):
        sa.security_event("tls", f"TLS handshake failed: {i}", None, f"10.0.0.9:{4000 + i}")
    sa.security_event("tls", "TLS handshake failed: other host", None, "10.0.0.7:1")
    assert len(sa.security_log(1000)) == BURST + 1
    now[0] += WINDOW_SECONDS
    sa.security_event("tls", "TLS handshake failed: later", None, "10.0.0.9:9999")
    latest = sa.security_log(1)[0]
    assert latest.reason.endswith("(+40 more like this in the previous window, not recorded)")


def test_device_removed_while_in_a_note_room_is_cut_off_and_recorded(tmp_path):
    from sync.protocol import SyncStep1, encode_message

    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    note = a.notes.create("room\n")

    async def main() -> int | None:
        server = await serve_sync(sa)
        try:
            uri = f"wss://127.0.0.1:{server.port}/note:{note}"
            async with connect(uri, ssl=client_context(sb.identity), proxy=None) as ws:
                await asyncio.wait_for(ws.recv(), 10)  # the server's step 1: the room is open
                await ws.send(encode_message(SyncStep1(b"\x00")))
                sa.unpair(sb.device_id)
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await asyncio.wait_for(ws.recv(), 10)
                return closed.value.rcvd.code if closed.value.rcvd else None
        finally:
            await server.stop()

    assert asyncio.run(main()) == 1008
    removed = [r for r in reopened_log(a) if r[0] == "removed"]
    assert len(removed) == 1 and removed[0][1] == sb.device_id
