"""A long live session (pycrdt >= 0.14 has reported leaks/segfaults in long sessions,
jupyter-server-documents#270): many edits stream between two peers; memory stays bounded
and both sides end identical."""

from __future__ import annotations

import asyncio
import gc

import pytest

from core.peers.service import SyncService
from sync.client import run_peer
from sync.server import SyncServer
from sync.session import Hub
from tests.sync.conftest import library_state, paired_libraries


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * 4096 / 1e6


@pytest.mark.slow
def test_long_live_session_stays_bounded(tmp_path):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    notes = [a.notes.create(f"# 노트 {i}\n\n") for i in range(20)]
    samples: list[float] = []

    async def main() -> None:
        server = SyncServer(sa, sa.identity, host="127.0.0.1", port=0)
        await server.start()
        hub = Hub(sb)
        live = asyncio.create_task(
            run_peer(
                sb, sb.identity, "127.0.0.1", server.port, one_round=False, timeout=None, hub=hub
            )
        )
        try:
            for i in range(900):
                note = notes[i % len(notes)]
                lib, service_hub = (a, server.hub) if i % 2 else (b, hub)
                row = lib.db.query_one("SELECT body FROM notes WHERE item_id = ?", (note,))
                if row is None:
                    await asyncio.sleep(0.01)
                    continue
                lib.notes.edit(note, row[0] + f"한글 {i} ")
                service_hub.notify()
                await asyncio.sleep(0.002)
                if i % 150 == 149:
                    gc.collect()
                    samples.append(_rss_mb())
            for _ in range(500):
                if library_state(a) == library_state(b):
                    break
                await asyncio.sleep(0.02)
        finally:
            live.cancel()
            await asyncio.gather(live, return_exceptions=True)
            await server.stop()

    asyncio.run(main())
    assert library_state(a) == library_state(b)
    print("RSS MB samples:", samples)
    assert samples[-1] - samples[0] < 20, samples  # no steady growth per edit
