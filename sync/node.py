"""A running sync peer: the server, LAN discovery and dialing paired devices (keep-alive)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from storage.errors import StorageError
from sync.client import run_peer
from sync.discovery import Discovery
from sync.errors import BadAddressError, SyncError
from sync.identity import DeviceIdentity
from sync.server import SyncServer
from sync.session import Hub, Replica

log = logging.getLogger("saem.sync")

REDIAL_SECONDS = 5.0
# A device that keeps refusing us (unpaired there, another library, wrong device at that
# address) or is unreachable is redialed after 2×, 4×, 8×… the redial interval, at most this.
MAX_REDIAL_BACKOFF_SECONDS = 300.0
MAINTENANCE_SECONDS = 600.0


def split_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BadAddressError(
            f"{text!r} is not an address; use host:port, e.g. 192.168.1.20:22070."
        )
    return host, int(port)


class SyncNode:
    def __init__(
        self,
        replica: Replica,
        identity: DeviceIdentity,
        *,
        host: str,
        port: int,
        local_port: int | None = None,
        local_token: str | None = None,
        discover: bool = True,
        addresses: Callable[[], dict[str, str]] | None = None,
        mdns_interfaces: list[str] | None = None,
        redial_seconds: float = REDIAL_SECONDS,
        maintenance: Callable[[], object] | None = None,
        maintenance_seconds: float = MAINTENANCE_SECONDS,
    ) -> None:
        self.replica = replica
        self.identity = identity
        self.hub = Hub(replica)
        self.server = SyncServer(
            replica,
            identity,
            host=host,
            port=port,
            local_port=local_port,
            local_token=local_token,
            hub=self.hub,
        )
        self.discover = discover
        self.addresses = addresses or (lambda: {})
        self.discovery: Discovery | None = None
        self.mdns_interfaces = mdns_interfaces
        self.redial_seconds = redial_seconds
        self.maintenance = maintenance  # e.g. log compaction, run now and then
        self.maintenance_seconds = maintenance_seconds
        self._dialing: dict[str, asyncio.Task[object]] = {}
        self._backoff: dict[str, _Backoff] = {}

    async def run(self, on_ready: Callable[[SyncServer], None] | None = None) -> None:
        await self.server.start()
        try:
            if self.discover:
                factory = _loopback_factory(self.mdns_interfaces) if self.mdns_interfaces else None
                self.discovery = Discovery(
                    self.identity.device_id,
                    self.server.port,
                    zeroconf_factory=factory,
                    addresses=self.mdns_interfaces,
                )
                try:
                    await self.discovery.start()
                except OSError as exc:  # no multicast on this network: manual addresses only
                    log.warning("sync: LAN discovery unavailable (%s)", exc)
                    self.discovery = None
            if on_ready:
                on_ready(self.server)
            last_maintenance = asyncio.get_running_loop().time()
            while True:
                self._dial_missing()
                await asyncio.sleep(self.redial_seconds)
                now = asyncio.get_running_loop().time()
                if self.maintenance and now - last_maintenance >= self.maintenance_seconds:
                    last_maintenance = now
                    try:
                        self.maintenance()
                    except (SyncError, StorageError) as exc:
                        log.warning("sync: maintenance failed: %s", exc)
        finally:
            for task in self._dialing.values():
                task.cancel()
            await asyncio.gather(*self._dialing.values(), return_exceptions=True)
            if self.discovery is not None:
                await self.discovery.stop()
            await self.server.stop()

    def _dial_missing(self) -> None:
        targets = dict(self.addresses())
        if self.discovery is not None:
            for device, found in self.discovery.found.items():
                targets.setdefault(device, f"{found.host}:{found.port}")
        now = asyncio.get_running_loop().time()
        for device, address in targets.items():
            if device in self.hub.peers or not self.replica.is_paired(device):
                continue
            task = self._dialing.get(device)
            if task is not None and not task.done():
                continue
            backoff = self._backoff.get(device)
            if backoff is not None and backoff.address == address and now < backoff.next_dial:
                continue
            self._dialing[device] = asyncio.create_task(self._dial(device, address))

    async def _dial(self, device: str, address: str) -> None:
        synced = False
        try:
            host, port = split_address(address)
            report = await run_peer(
                self.replica,
                self.identity,
                host,
                port,
                expected_device=device,
                one_round=False,
                timeout=None,
                hub=self.hub,
            )
            synced = report.pulled
            log.info("sync: live session with %s ended: %s", device[:7], report.error)
        except SyncError as exc:
            log.debug("sync: dialing %s at %s failed: %s", device[:7], address, exc)
        finally:
            self._record_dial(device, address, synced)

    def _record_dial(self, device: str, address: str, synced: bool) -> None:
        """Back off from a device whose dials fail; a session that synced resets it."""
        if synced:
            self._backoff.pop(device, None)
            return
        previous = self._backoff.get(device)
        failures = previous.failures + 1 if previous and previous.address == address else 1
        delay = min(self.redial_seconds * 2**failures, MAX_REDIAL_BACKOFF_SECONDS)
        next_dial = asyncio.get_running_loop().time() + delay
        self._backoff[device] = _Backoff(address, failures, next_dial)


@dataclass(frozen=True)
class _Backoff:
    address: str
    failures: int
    next_dial: float  # event-loop time


def _loopback_factory(interfaces: list[str]) -> Callable[[], object]:
    """mDNS restricted to given interfaces (tests use 127.0.0.1 only)."""

    def factory() -> object:
        from zeroconf.asyncio import AsyncZeroconf

        return AsyncZeroconf(interfaces=interfaces)

    return factory
