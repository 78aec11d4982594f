"""Mutual TLS between Saem devices; trust is the paired device ID, not a CA.

Python's ``ssl`` module cannot accept "any certificate" while still *requesting* a client
certificate (there is no verify callback). So every device certificate is issued by the
*Saem device CA*, whose private key is public on purpose (derived from a constant in
:mod:`sync.identity`): anyone can make a certificate that passes the TLS layer, exactly
as with Syncthing's self-signed certificates. What TLS does give us is proof that the
other side holds the private key of the certificate it presented. After the handshake,
and before any document data is read or sent, each side hashes the peer's certificate
into its device ID and checks it against the paired list (:func:`peer_device_id`).

Replay: TLS 1.3 only, no session tickets (so no resumption and no 0-RTT early data — Python's
``ssl`` has no early-data API at all): every handshake uses fresh randoms and key shares from
both sides, so recorded handshake bytes replayed to the server fail at its Finished check.

The server runs the TLS handshake itself (:class:`TlsServerConnection`) rather than letting
asyncio do it: asyncio reports a failed server-side handshake only at debug level, and every
failed handshake (replay, no or foreign certificate, timeout) must be logged and recorded.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection

from sync.errors import UnpairedDeviceError
from sync.identity import DeviceIdentity, ca_certificate_pem, device_id_from_cert
from sync.security import format_address

HANDSHAKE_SECONDS = 10.0


def _context(purpose: int, identity: DeviceIdentity) -> ssl.SSLContext:
    ctx = ssl.SSLContext(purpose)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(identity.cert_path, identity.key_path)
    ctx.load_verify_locations(cadata=ca_certificate_pem().decode())
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def server_context(identity: DeviceIdentity) -> ssl.SSLContext:
    """Server side: requires a client certificate (mutual TLS); no session tickets."""
    ctx = _context(ssl.PROTOCOL_TLS_SERVER, identity)
    ctx.options |= ssl.OP_NO_TICKET
    ctx.num_tickets = 0  # TLS 1.3: no tickets → no resumption that would skip the cert check
    return ctx


def client_context(identity: DeviceIdentity) -> ssl.SSLContext:
    ctx = _context(ssl.PROTOCOL_TLS_CLIENT, identity)
    ctx.check_hostname = False  # devices have no host names; the device ID is checked
    return ctx


def peer_device_id(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str:
    """The device ID of the other end of a TLS connection."""
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise UnpairedDeviceError("The other device presented no certificate; refused.")
    return device_id_from_cert(der)


def tls_failure_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS handshake failed: certificate refused ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}"
    if isinstance(exc, ConnectionAbortedError):
        return "TLS handshake did not finish in time"
    return f"connection closed during the TLS handshake ({type(exc).__name__})"


class _Gate(asyncio.Protocol):
    """Holds what arrives between the end of the TLS handshake and the hand-over."""

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.eof = False
        self.lost = False

    def data_received(self, data: bytes) -> None:
        self.data.append(data)

    def eof_received(self) -> bool:
        self.eof = True
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


class TlsServerConnection(ServerConnection):
    """A websockets server connection that first runs mutual TLS itself (``loop.start_tls``).

    Give it to ``serve(..., ssl=None, create_connection=tls_connection_factory(...))``.
    """

    def __init__(
        self,
        *args: Any,
        tls: ssl.SSLContext,
        on_failure: Callable[[str | None, str], None],
        tasks: set[asyncio.Task[None]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._tls = tls
        self._on_failure = on_failure
        self._tasks = tasks
        self._secured = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._secured:
            super().connection_made(transport)
            return
        transport.pause_reading()  # type: ignore[attr-defined]
        task = asyncio.get_running_loop().create_task(self._secure(transport))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _secure(self, raw: asyncio.BaseTransport) -> None:
        address = format_address(raw.get_extra_info("peername"))
        gate = _Gate()
        try:
            tls = await asyncio.get_running_loop().start_tls(
                raw,  # type: ignore[arg-type]
                gate,
                self._tls,
                server_side=True,
                ssl_handshake_timeout=HANDSHAKE_SECONDS,
            )
        except OSError as exc:  # ssl.SSLError, reset, ConnectionAbortedError (timeout)
            raw.close()
            self._on_failure(address, tls_failure_reason(exc))
            return
        if tls is None or gate.lost:
            return
        self._secured = True
        tls.set_protocol(self)
        self.connection_made(tls)
        for chunk in gate.data:
            self.data_received(chunk)
        if gate.eof:
            self.eof_received()


def tls_connection_factory(
    tls: ssl.SSLContext,
    on_failure: Callable[[str | None, str], None],
    tasks: set[asyncio.Task[None]],
) -> type[ServerConnection]:
    """The connection class ``serve`` instantiates per accepted socket, bound to these
    arguments (``serve`` takes a class for ``create_connection``)."""

    class BoundTlsServerConnection(TlsServerConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, tls=tls, on_failure=on_failure, tasks=tasks, **kwargs)

    return BoundTlsServerConnection
