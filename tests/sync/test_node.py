"""`SyncNode` redials paired devices with back-off (real sockets on 127.0.0.1)."""

from __future__ import annotations

import asyncio

from core.peers.service import SyncService
from sync.node import SyncNode
from sync.server import SyncServer
from tests.sync.conftest import paired_libraries, until


def test_a_refusing_address_is_redialed_with_backoff_then_recovers(tmp_path):
    """Something that is not Saem answers at b's address: a backs off (2×, 4×, … the redial
    interval) instead of dialing every cycle; once b really serves there, a syncs."""
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    note = b.notes.create("# From B\n\n백오프 뒤에도 도착\n")
    accepted = 0

    async def refuse(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()

    async def main() -> None:
        listener = await asyncio.start_server(refuse, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        node = SyncNode(
            sa,
            sa.identity,
            host="127.0.0.1",
            port=0,
            discover=False,
            addresses=lambda: {sb.device_id: f"127.0.0.1:{port}"},
            redial_seconds=0.05,
        )
        task = asyncio.create_task(node.run())
        try:
            await asyncio.sleep(2.0)
            # without back-off a dial every 0.05 s cycle: ~40; with it: 0, .1, .3, .7, 1.5 s
            assert 2 <= accepted <= 7, accepted
            listener.close()
            await listener.wait_closed()
            server = SyncServer(sb, sb.identity, host="127.0.0.1", port=port)
            await server.start()
            try:
                await until(lambda: a.db.scalar("SELECT count(*) FROM notes") == 1)
            finally:
                await server.stop()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    assert a.notes.get(note).body == "# From B\n\n백오프 뒤에도 도착\n"
