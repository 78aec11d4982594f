"""`SyncServer`: the long-running peer (``saem sync serve``).

Two listeners, one process, one :class:`~sync.session.Hub`:

* **peer listener** (mutual TLS, any interface): ``/peer`` is the multiplexed connection of
  a paired Saem device; ``/<doc-id>`` (e.g. ``/note:<id>``) is the plain y-websocket room
  form for a paired device. The client certificate's device ID is checked against the
  paired list in ``process_request`` — before the WebSocket handshake completes, so an
  unknown device gets HTTP 403 and not a single byte of document data.
* **local listener** (optional, plain ``ws://``, bound to 127.0.0.1 only): room form for a
  stock JavaScript Yjs client on this machine (``y-websocket`` cannot present a client
  certificate from a browser). It requires ``?token=<secret>`` — the secret is in
  ``<library>/sync/local-token`` (mode 0600), so only a local user who can read the library
  can connect.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from sync.errors import SyncError, SyncServerError
from sync.identity import DeviceIdentity
from sync.protocol import MAX_FRAME
from sync.room import RoomSession
from sync.security import audit, format_address
from sync.session import Hub, PeerSession, Replica
from sync.tls import HANDSHAKE_SECONDS, peer_device_id, server_context, tls_connection_factory

log = logging.getLogger("saem.sync")

DEFAULT_PORT = 22070


class SyncServer:
    def __init__(
        self,
        replica: Replica,
        identity: DeviceIdentity,
        *,
        host: str = "0.0.0.0",
        port: int = DEFAULT_PORT,
        local_port: int | None = None,
        local_token: str | None = None,
        hub: Hub | None = None,
    ) -> None:
        self.replica = replica
        self.identity = identity
        self.host = host
        self.port = port
        self.local_port = local_port
        self.local_token = local_token
        self.hub = hub or Hub(replica)
        self.refused: list[str] = []
        self._servers: list[Server] = []
        self._handshakes: set[asyncio.Task[None]] = set()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        tls = server_context(self.identity)
        common: dict[str, Any] = {
            "max_size": MAX_FRAME,
            "compression": None,
            "ping_interval": 20,
            "ping_timeout": 60,
        }
        peer = await serve(
            self._handle_peer_listener,
            self.host,
            self.port,
            create_connection=tls_connection_factory(tls, self._tls_failed, self._handshakes),
            process_request=self._check_peer,
            open_timeout=HANDSHAKE_SECONDS,
            **common,
        )
        self._servers.append(peer)
        self.port = _bound_port(peer)
        if self.local_port is not None:
            if not self.local_token:
                raise SyncServerError("The local listener needs a token.")
            local = await serve(
                self._handle_local,
                "127.0.0.1",
                self.local_port,
                process_request=self._check_local,
                **common,
            )
            self._servers.append(local)
            self.local_port = _bound_port(local)

    async def stop(self) -> None:
        for task in list(self._handshakes):
            task.cancel()
        await asyncio.gather(*self._handshakes, return_exceptions=True)
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Future()
        finally:
            await self.stop()

    # -- admission (before the WebSocket handshake completes) ---------------------------------

    def _tls_failed(self, address: str | None, why: str) -> None:
        self.refused.append(why)
        audit(self.replica, "tls", why, address=address)

    def _refuse(
        self,
        conn: ServerConnection,
        status: HTTPStatus,
        why: str,
        kind: str,
        device: str | None = None,
    ) -> Response:
        self.refused.append(why)
        audit(
            self.replica, kind, why, device_id=device, address=format_address(conn.remote_address)
        )
        return conn.respond(status, why + "\n")

    def _check_peer(self, conn: ServerConnection, request: Request) -> Response | None:
        try:
            device = peer_device_id(conn.transport.get_extra_info("ssl_object"))
        except SyncError as exc:
            return self._refuse(conn, HTTPStatus.FORBIDDEN, exc.user_message, "unpaired")
        if not self.replica.is_paired(device):
            return self._refuse(
                conn, HTTPStatus.FORBIDDEN, f"unknown device {device}", "unpaired", device
            )
        conn.saem_device = device  # type: ignore[attr-defined]
        path = urlsplit(request.path).path
        if path == "/peer":
            return None
        return self._check_room(conn, path)

    def _check_local(self, conn: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        token = parse_qs(parts.query).get("token", [""])[0]
        if not self.local_token or not hmac.compare_digest(token, self.local_token):
            return self._refuse(
                conn, HTTPStatus.UNAUTHORIZED, "missing or wrong local token", "token"
            )
        return self._check_room(conn, parts.path)

    def _check_room(self, conn: ServerConnection, path: str) -> Response | None:
        doc_id = unquote(path.lstrip("/"))
        if not self.replica.room_allowed(doc_id):
            device = getattr(conn, "saem_device", None)
            return self._refuse(
                conn, HTTPStatus.NOT_FOUND, f"no such note {doc_id[:60]!r}", "room", device
            )
        return None

    # -- handlers -----------------------------------------------------------------------------

    async def _handle_peer_listener(self, conn: ServerConnection) -> None:
        path = urlsplit(conn.request.path).path if conn.request else "/"
        device = conn.saem_device  # type: ignore[attr-defined]
        if path == "/peer":
            remote = conn.remote_address
            address = f"{remote[0]}:{remote[1]}" if remote else None
            session = PeerSession(self.replica, self.hub, conn, device, address=None)
            report = await session.run()
            log.info("sync: session with %s ended (%s; %s)", device[:7], address, report.error)
        else:
            doc_id = unquote(path.lstrip("/"))
            await RoomSession(self.replica, self.hub, conn, doc_id, device_id=device).run()

    async def _handle_local(self, conn: ServerConnection) -> None:
        path = urlsplit(conn.request.path).path if conn.request else "/"
        await RoomSession(self.replica, self.hub, conn, unquote(path.lstrip("/"))).run()


def _bound_port(server: Server) -> int:
    for sock in server.sockets:
        return int(sock.getsockname()[1])
    raise SyncServerError("The sync server did not bind a port.")
