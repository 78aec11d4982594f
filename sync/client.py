"""Dialing a paired device: one sync round (``saem sync now``) or a live session."""

from __future__ import annotations

import logging
from collections.abc import Callable

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

from sync.errors import PeerUnreachableError, UnpairedDeviceError
from sync.identity import DeviceIdentity
from sync.protocol import MAX_FRAME
from sync.security import audit
from sync.session import Hub, PeerSession, Replica, SessionReport
from sync.tls import client_context, peer_device_id

log = logging.getLogger("saem.sync")


async def run_peer(
    replica: Replica,
    identity: DeviceIdentity,
    host: str,
    port: int,
    *,
    expected_device: str | None = None,
    one_round: bool = True,
    timeout: float | None = 300.0,
    hub: Hub | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SessionReport:
    """Connect to ``host:port``, check its device ID, then sync (one round or until closed)."""
    address = f"{host}:{port}"
    uri = f"wss://{'[' + host + ']' if ':' in host else host}:{port}/peer"
    try:
        conn = await connect(
            uri,
            ssl=client_context(identity),
            max_size=MAX_FRAME,
            compression=None,
            proxy=None,
            open_timeout=10,
            ping_interval=20,
            ping_timeout=60,
        )
    except InvalidStatus as exc:
        if exc.response.status_code == 403:
            raise UnpairedDeviceError(
                f"The device at {address} refused this device: pair it there too "
                "(`saem sync pair <this device's ID>`)."
            ) from exc
        raise PeerUnreachableError(
            f"The device at {address} refused the connection ({exc})."
        ) from exc
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise PeerUnreachableError(f"Cannot reach a Saem device at {address} ({exc}).") from exc
    try:
        device = peer_device_id(conn.transport.get_extra_info("ssl_object"))
        if expected_device and device != expected_device:
            why = (
                f"The device at {address} is {device[:7]}…, not the paired device "
                f"{expected_device[:7]}…; nothing was sent."
            )
            audit(replica, "wrong-device", why, device_id=device, address=address)
            raise UnpairedDeviceError(why)
        if not replica.is_paired(device):
            why = f"The device at {address} ({device}) is not paired; nothing was sent."
            audit(replica, "unpaired", why, device_id=device, address=address)
            raise UnpairedDeviceError(why)
        session = PeerSession(
            replica, hub or Hub(replica), conn, device, address=address, progress=progress
        )
        return await session.run(one_round=one_round, timeout=timeout)
    finally:
        await conn.close()
