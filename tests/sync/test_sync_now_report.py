"""`sync now` says in words what happened and what moved when the other device drops the
connection (issue: it ended with a bare `ConnectionClosedError(None, None, None)`)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from core.peers.service import SyncService
from sync.blobs import BlobExchange
from sync.errors import SyncIncompleteError
from sync.server import SyncServer
from sync.session import Hub
from tests.sync.conftest import paired_libraries


class _DropOnFirstBlob(BlobExchange):
    """The serving device's blob reader, cut short: at the first photo chunk asked for, the
    server aborts the TCP connection (no close frame) — what a crash or a lost network does.
    Only this hook is replaced; the session, TLS and WebSocket stack are the real ones."""

    def __init__(self, inner: BlobExchange, hub: Hub) -> None:
        super().__init__(inner.blobs, inner.tmp)
        self.hub = hub

    def read(self, sha256: str, offset: int, length: int = 256 * 1024) -> bytes:
        for session in list(self.hub.peers.values()):
            session.conn.transport.abort()  # type: ignore[attr-defined]
        return super().read(sha256, offset, length)


def _photo(tmp_path, seed: int):
    import numpy as np
    from PIL import Image

    path = tmp_path / f"p{seed}.png"
    Image.fromarray((np.random.default_rng(seed).random((64, 64, 3)) * 255).astype("uint8")).save(
        path
    )
    return path


def test_a_dropped_connection_is_told_in_words_with_what_was_transferred(tmp_path):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    note = a.notes.create("# Arrived\n\nbefore the drop\n")
    a.photos.add(_photo(tmp_path, 1))
    b.notes.create("# From b\n")
    hub = Hub(sa)
    sa.blobs = _DropOnFirstBlob(sa.blobs, hub)
    ready = threading.Event()
    port: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        async def main() -> None:
            server = SyncServer(sa, sa.identity, host="127.0.0.1", port=0, hub=hub)
            await server.start()
            port.append(server.port)
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)
            await server.stop()

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        with pytest.raises(SyncIncompleteError) as info:
            sb.sync_now(f"127.0.0.1:{port[0]}", timeout=60)
    finally:
        stop.set()
        thread.join(30)
    report = info.value.report
    assert report.pulled and report.pushed  # every document had moved both ways
    assert report.updates_in > 0 and report.docs_out > 0 and report.blobs_missing == 1
    assert "Error(" not in str(info.value)  # words, not an exception's repr
    assert b.notes.get(note).title == "Arrived"  # what arrived before the drop was kept
