"""Attacks on the TLS handshake of sync (replayed, certificate-less, stalled) over real
loopback sockets: each is refused, writes nothing, and leaves a durable ``sync_log`` record."""

from __future__ import annotations

import asyncio
import logging
import ssl

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from core.peers.service import SyncService
from storage import crdt_log
from sync.client import run_peer
from sync.tls import client_context
from tests.sync.conftest import library_state, paired_libraries
from tests.sync.security_support import (
    log_kinds,
    reopened_log,
    security_warnings,
    serve_sync,
)

# -- replayed handshake ------------------------------------------------------------------------


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
        server = await serve_sync(sa)
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
                if "tls" in log_kinds(sa):
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
    tls = [r for r in reopened_log(a) if r[0] == "tls"]
    assert len(tls) == 1 and tls[0][2] and tls[0][2].startswith("127.0.0.1:")
    assert tls[0][3].startswith("TLS handshake failed")
    assert security_warnings(caplog, "tls")


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
        server = await serve_sync(sa)
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
                if log_kinds(sa).count("tls") == 2:
                    break
                await asyncio.sleep(0.05)
        finally:
            await server.stop()

    asyncio.run(main())
    reasons = sorted(r[3] for r in reopened_log(a) if r[0] == "tls")
    assert len(reasons) == 2, reasons
    assert any("CERTIFICATE" in r.upper() for r in reasons)


def test_server_issues_no_session_tickets(tmp_path):
    """No tickets: a session can never be resumed without the client certificate check."""
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)

    async def main() -> None:
        server = await serve_sync(sa)
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


def test_a_stalled_handshake_times_out_and_is_recorded(tmp_path, monkeypatch):
    import sync.tls

    monkeypatch.setattr(sync.tls, "HANDSHAKE_SECONDS", 0.5)
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)

    async def main() -> None:
        server = await serve_sync(sa)
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
    tls = [r for r in reopened_log(a) if r[0] == "tls"]
    assert len(tls) == 1 and tls[0][3] == "TLS handshake did not finish in time"
