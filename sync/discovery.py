"""LAN discovery with zeroconf (mDNS / DNS-SD): announce this device, find paired ones.

Service type ``_saem-sync._tcp.local.``; the TXT record carries the device ID (``id=``),
which is only a *hint*: the TLS handshake + paired-ID check decide who is trusted, so a
spoofed announcement can at worst make us dial a wrong address and refuse it.

The network boundary is :class:`AsyncZeroconf`; tests replace it (``zeroconf_factory``)
because multicast is not available in CI containers.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zeroconf import ServiceInfo, ServiceStateChange, Zeroconf
    from zeroconf.asyncio import AsyncServiceBrowser

log = logging.getLogger("saem.sync")

SERVICE_TYPE = "_saem-sync._tcp.local."


@dataclass(frozen=True)
class Found:
    device_id: str
    host: str
    port: int


def service_name(device_id: str) -> str:
    return f"saem-{device_id[:15]}.{SERVICE_TYPE}"


def make_info(device_id: str, port: int, addresses: list[str]) -> ServiceInfo:
    from zeroconf import ServiceInfo

    return ServiceInfo(
        SERVICE_TYPE,
        service_name(device_id),
        addresses=[socket.inet_aton(a) for a in addresses],
        port=port,
        properties={"id": device_id, "v": "1"},
        server=f"saem-{device_id[:7].lower()}.local.",
    )


def parse_info(info: Any) -> Found | None:  # a ServiceInfo (or a test double)
    """A discovered service → (device ID, address, port); None when incomplete."""
    if info is None or not info.port:
        return None
    props = info.properties or {}
    raw = props.get(b"id") or props.get("id")
    if not raw:
        return None
    device_id = raw.decode() if isinstance(raw, bytes) else str(raw)
    addresses = info.parsed_addresses() if hasattr(info, "parsed_addresses") else []
    if not addresses:
        return None
    return Found(device_id, addresses[0], int(info.port))


def local_addresses() -> list[str]:
    """IPv4 addresses of this host (best effort, no network traffic)."""
    found: set[str] = set()
    try:
        for entry in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(entry[4][0]))
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127.")) or ["127.0.0.1"]


class Discovery:
    """Announce this device and keep a table of devices seen on the LAN."""

    def __init__(
        self,
        device_id: str,
        port: int,
        *,
        zeroconf_factory: Callable[[], Any] | None = None,
        addresses: list[str] | None = None,
    ) -> None:
        self.device_id = device_id
        self.port = port
        self.addresses = addresses or local_addresses()
        self.found: dict[str, Found] = {}
        self._factory = zeroconf_factory
        self._azc: Any = None  # AsyncZeroconf, or the test double from zeroconf_factory
        self._browser: AsyncServiceBrowser | None = None
        self._info: ServiceInfo | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    async def start(self) -> None:
        from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

        self._azc = self._factory() if self._factory else AsyncZeroconf()
        self._info = make_info(self.device_id, self.port, self.addresses)
        await self._azc.async_register_service(self._info)
        self._browser = AsyncServiceBrowser(
            self._azc.zeroconf, SERVICE_TYPE, handlers=[self._on_change]
        )

    def _on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        from zeroconf import ServiceStateChange

        if state_change is ServiceStateChange.Removed:
            for key in list(self.found):
                if name.startswith(f"saem-{key[:15]}"):
                    del self.found[key]
            return
        task = asyncio.ensure_future(self._resolve(zeroconf, service_type, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, zeroconf: Zeroconf, service_type: str, name: str) -> None:
        from zeroconf.asyncio import AsyncServiceInfo

        info = AsyncServiceInfo(service_type, name)
        if await info.async_request(zeroconf, 3000):
            self.add(info)

    def add(self, info: ServiceInfo) -> Found | None:
        found = parse_info(info)
        if found and found.device_id != self.device_id:
            self.found[found.device_id] = found
            log.info("sync: discovered %s at %s:%s", found.device_id[:7], found.host, found.port)
        return found

    async def stop(self) -> None:
        if self._browser is not None:
            await self._browser.async_cancel()
        if self._azc is not None:
            if self._info is not None:
                await self._azc.async_unregister_service(self._info)
            await self._azc.async_close()
