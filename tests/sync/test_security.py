"""Attacks on sync over real loopback mutual TLS: each one is refused, writes nothing to the
library, and leaves a WARNING log line plus a durable ``sync_log`` record."""

from __future__ import annotations

import asyncio
import logging
import shutil
import ssl

import pytest
from click.testing import CliRunner
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from core.library import Library
from core.sync_service import SyncService
from desktop.cli import cli
from storage import crdt_log
from sync.client import run_peer
from sync.errors import UnpairedDeviceError
from sync.protocol import PEER_VERSION, Hello, encode_envelope
from sync.server import SyncServer
from sync.session import Hub
from sync.tls import client_context
from tests.sync.conftest import expect_unpaired_refusal, library_state, paired_libraries

SECURITY_LOGGER = "saem.sync.security"


async def _serve(service: SyncService) -> SyncServer:
    server = SyncServer(service, service.identity, host="127.0.0.1", port=0)
    await server.start()
    return server


def _kinds(service: SyncService) -> list[str]:
    return [r.kind for r in service.security_log(100)]


def _reopened_log(library: Library) -> list[tuple[str, str | None, str | None, str]]:
    """The records as a fresh process would read them (durable, not in memory)."""
    fresh = Library(library.root)
    try:
        return [
            (r.kind, r.device_id, r.address, r.reason) for r in SyncService(fresh).security_log()
        ]
    finally:
        fresh.close()


def _warnings(caplog: pytest.LogCaptureFixture, kind: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == SECURITY_LOGGER
        and r.levelno == logging.WARNING
        and r.getMessage().startswith(f"sync security: {kind} ")
    ]


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
        server = await _serve(sa)
        try:
            await expect_unpaired_refusal(sx, server.port)
            return server.port
        finally:
            await server.stop()

    asyncio.run(main())
    assert library_state(a) == before
    records = [r for r in _reopened_log(a) if r[0] == "unpaired"]
    assert len(records) == 2
    assert all(r[1] == sx.device_id and r[2] and r[2].startswith("127.0.0.1:") for r in records)
    assert all(sx.device_id in r[3] for r in records)
    assert len(_warnings(caplog, "unpaired")) == 2
    stranger.close()


# -- 2. replayed handshake ------------------------------------------------------------------------


class RecordingProxy:
    """A loopback TCP proxy that records every byte the client sent to the server."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.client_bytes = bytearray()
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, record: bool) -> None:
            try:
                while chunk := await src.read(65536):
                    if record:
                        self.client_bytes += chunk
                    dst.write(chunk)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_w, True), pipe(up_r, writer, False))


def test_replayed_handshake_is_refused_and_recorded(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    b.notes.create("# From B\n\nrecorded by the attacker\n")

    async def main() -> bytes:
        server = await _serve(sa)
        proxy = RecordingProxy(server.port)
        await proxy.start()
        try:
            # a genuine session through the attacker's proxy
            report = await run_peer(sb, sb.identity, "127.0.0.1", proxy.port, timeout=30)
            assert report.error is None and report.pushed
            assert [i.title for i in a.list_items()] == ["From B"]  # real data was recorded
            await asyncio.sleep(0.2)
            recorded = bytes(proxy.client_bytes)
            assert recorded[:1] == b"\x16"  # a TLS handshake record (ClientHello) first
            peer_before = sa.status()[0]
            count_before = crdt_log.update_count(a.db)
            state_before = library_state(a)
            # the replay: the same bytes, verbatim, on a fresh connection to the server
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(recorded)
            await writer.drain()
            answer = b""
            while chunk := await asyncio.wait_for(reader.read(65536), 15):
                answer += chunk
            writer.close()
            for _ in range(100):  # the refusal is recorded when the handshake fails
                if "tls" in _kinds(sa):
                    break
                await asyncio.sleep(0.05)
            assert server.hub.peers == {}  # no session was opened
            peer_after = sa.status()[0]
            assert (peer_after.bytes_in, peer_after.last_seen) == (
                peer_before.bytes_in,
                peer_before.last_seen,
            )
            assert crdt_log.update_count(a.db) == count_before
            assert library_state(a) == state_before
            return answer
        finally:
            await proxy.stop()
            await server.stop()

    answer = asyncio.run(main())
    assert b"HTTP/1.1 101" not in answer  # never upgraded (and it could not read it anyway)
    tls = [r for r in _reopened_log(a) if r[0] == "tls"]
    assert len(tls) == 1 and tls[0][2] and tls[0][2].startswith("127.0.0.1:")
    assert tls[0][3].startswith("TLS handshake failed")
    assert _warnings(caplog, "tls")


def test_handshakes_without_a_valid_certificate_are_recorded(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    (a,) = paired_libraries(tmp_path, ["a"])
    sa = SyncService(a)
    # a self-signed certificate, not issued by the Saem device CA
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intruder")])
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, None)
    )
    (tmp_path / "x.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "x.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    def client(with_cert: bool) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if with_cert:
            ctx.load_cert_chain(tmp_path / "x.crt", tmp_path / "x.key")
        return ctx

    async def main() -> None:
        server = await _serve(sa)
        try:
            for with_cert in (False, True):
                with pytest.raises((WebSocketException, OSError)):
                    async with connect(
                        f"wss://127.0.0.1:{server.port}/peer",
                        ssl=client(with_cert),
                        proxy=None,
                        open_timeout=10,
                    ) as ws:
                        await asyncio.wait_for(ws.recv(), 10)
            for _ in range(100):
                if _kinds(sa).count("tls") == 2:
                    break
                await asyncio.sleep(0.05)
        finally:
            await server.stop()

    asyncio.run(main())
    reasons = sorted(r[3] for r in _reopened_log(a) if r[0] == "tls")
    assert len(reasons) == 2, reasons
    assert any("CERTIFICATE" in r.upper() for r in reasons)


def test_server_issues_no_session_tickets(tmp_path):
    """No tickets: a session can never be resumed without the client certificate check."""
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)

    async def main() -> None:
        server = await _serve(sa)
        try:
            ctx = client_context(sb.identity)
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port, ssl=ctx)
            writer.write(
                b"GET /peer HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert head.startswith(b"HTTP/1.1 101")
            sslobj = writer.get_extra_info("ssl_object")
            assert sslobj.version() == "TLSv1.3"
            assert sslobj.session is None or not sslobj.session.has_ticket
            writer.close()
        finally:
            await server.stop()

    asyncio.run(main())


# -- 3. device removed while connected ------------------------------------------------------------


def test_device_removed_while_connected_is_cut_off_and_recorded(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    note = a.notes.create("start\n")

    async def main() -> None:
        server = await _serve(sa)
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
    removed = [r for r in _reopened_log(a) if r[0] == "removed"]
    assert len(removed) == 1 and removed[0][1] == sb.device_id and removed[0][2]
    assert "unpaired" in removed[0][3]
    assert _warnings(caplog, "removed")


# -- 4. a paired device presenting another library ------------------------------------------------


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
        server = await _serve(sa)
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
        server = await _serve(sa)
        try:
            report = await run_peer(sc, sc.identity, "127.0.0.1", server.port, timeout=30)
            assert report.error and not report.pulled
            assert server.hub.peers == {}
        finally:
            await server.stop()

    async def a_dials_c() -> None:
        server = await _serve(sc)
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
    records = [r for r in _reopened_log(a) if r[0] == "library"]
    assert len(records) == 2 and all(r[1] == sb.device_id for r in records)
    assert all(sc.library_id()[:8] in r[3] for r in records)
    assert len(_warnings(caplog, "library")) >= 2

    async def b_still_syncs() -> None:  # the genuine device is unaffected
        server = await _serve(sa)
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
    with pytest.raises(Exception, match="presented library"):
        sa.check_peer_library(sb.device_id, "f" * 32)
    sa.unpair(sb.device_id)
    sa.pair(sb.device_id)
    sa.check_peer_library(sb.device_id, "f" * 32)  # a deliberate re-pair binds anew


# -- 5. malformed frames --------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["no hello", "after hello"])
def test_malformed_frames_are_recorded(tmp_path, first):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    before = crdt_log.update_count(a.db)

    async def main() -> None:
        server = await _serve(sa)
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
    records = [r for r in _reopened_log(a) if r[0] == "malformed"]
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
    assert sorted(r[0] for r in _reopened_log(a)) == ["room", "token"]
    room = next(r for r in _reopened_log(a) if r[0] == "room")
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
    from core.sync_security import BURST, WINDOW_SECONDS

    (a,) = paired_libraries(tmp_path, ["a"])
    sa = SyncService(a)
    now = [1000.0]
    sa.clock = lambda: now[0]  # type: ignore[method-assign]
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
        server = await _serve(sa)
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
    removed = [r for r in _reopened_log(a) if r[0] == "removed"]
    assert len(removed) == 1 and removed[0][1] == sb.device_id


def test_a_stalled_handshake_times_out_and_is_recorded(tmp_path, monkeypatch):
    import sync.tls

    monkeypatch.setattr(sync.tls, "HANDSHAKE_SECONDS", 0.5)
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)

    async def main() -> None:
        server = await _serve(sa)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"\x16\x03\x01")  # the start of a ClientHello, then nothing
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), 10) == b""  # the server hung up
            writer.close()
            report = await run_peer(sb, sb.identity, "127.0.0.1", server.port, timeout=30)
            assert report.error is None  # the paired device is served meanwhile
        finally:
            await server.stop()

    asyncio.run(main())
    tls = [r for r in _reopened_log(a) if r[0] == "tls"]
    assert len(tls) == 1 and tls[0][3] == "TLS handshake did not finish in time"
