"""LAN discovery: real zeroconf (mDNS) restricted to the loopback interface, no LAN traffic."""

from __future__ import annotations

import asyncio

import pytest

from core.peers.service import SyncService
from sync.discovery import make_info, parse_info
from sync.node import SyncNode
from tests.sync.conftest import library_state, paired_libraries


def test_service_info_round_trip():
    device = "AAAAAAA-BBBBBBB-CCCCCCC-DDDDDDD-EEEEEEE-FFFFFFF-GGGGGGG-HHHHHHH"
    found = parse_info(make_info(device, 22070, ["192.168.1.20"]))
    assert found is not None
    assert (found.device_id, found.host, found.port) == (device, "192.168.1.20", 22070)


def test_paired_nodes_find_each_other_with_mdns_and_sync(tmp_path):
    a, b = paired_libraries(tmp_path, ["a", "b"])  # paired, but no address known
    sa, sb = SyncService(a), SyncService(b)
    note = a.notes.create("# Found via mDNS\n")

    async def main() -> None:
        nodes = [
            SyncNode(
                s,
                s.identity,
                host="127.0.0.1",
                port=0,
                discover=True,
                mdns_interfaces=["127.0.0.1"],
                redial_seconds=0.2,
            )
            for s in (sa, sb)
        ]
        tasks = [asyncio.create_task(n.run()) for n in nodes]
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while b.db.scalar("SELECT body FROM notes WHERE item_id = ?", (note,)) is None:
                for task in tasks:
                    if task.done():
                        exc = task.exception()
                        if isinstance(exc, OSError):
                            pytest.skip(f"no multicast on loopback here: {exc}")
                        raise AssertionError(f"node stopped: {exc!r}")
                assert loop.time() < deadline, "peers did not find each other"
                await asyncio.sleep(0.05)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    assert library_state(a) == library_state(b)
