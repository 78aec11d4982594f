"""Updates waiting for missing history: repeats are dropped, the amount held is bounded."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from pycrdt import Doc, Text

from core.library import Library
from core.peers import pending
from core.peers.service import SyncService
from storage import crdt_log
from sync.errors import PendingLimitError


def _orphan_update(size: int = 10_000) -> bytes:
    """An update that depends on an earlier one the receiver never got."""
    doc = Doc()
    body = doc.get("body", type=Text)
    body += "first edit "  # never sent
    before = doc.get_state()
    body += "x" * size
    return doc.get_update(before)


def test_a_pending_update_sent_1000_times_is_stored_once(tmp_path):
    lib = Library(tmp_path / "lib")
    service = SyncService(lib)
    doc_id = f"note:{secrets.token_hex(16)}"
    update = _orphan_update()
    for _ in range(10):  # one transaction each, as separate peer frames would be
        service.apply_batch([(doc_id, update)], "room:1")
    assert service.apply_batch([(doc_id, update)] * 990, "peer:X") == 0
    assert crdt_log.update_count(lib.db, doc_id) == 1
    service.compact(min_updates=1)
    assert crdt_log.update_count(lib.db, doc_id) == 1  # still pending, still kept once


def test_a_repeated_update_over_the_local_yjs_room_is_stored_once(tmp_path):
    """The path of the report: a y-websocket client repeating it to a note room."""
    from websockets.asyncio.client import connect

    from sync.protocol import SyncStep1, SyncStep2, SyncUpdate, decode_message, encode_message
    from sync.server import SyncServer

    lib = Library(tmp_path / "lib")
    note = lib.notes.create("# Room\n\nbody\n")
    service = SyncService(lib)
    update = _orphan_update(20_000)
    rows_before = crdt_log.update_count(lib.db, f"note:{note}")

    async def main() -> None:
        server = SyncServer(
            service,
            service.identity,
            host="127.0.0.1",
            port=0,
            local_port=0,
            local_token=service.local_token(),
        )
        await server.start()
        try:
            url = f"ws://127.0.0.1:{server.local_port}/note:{note}?token={service.local_token()}"
            async with connect(url, proxy=None) as ws:
                for _ in range(40):
                    await ws.send(encode_message(SyncUpdate(update)))
                # the room answers a step 1 after everything sent before it was handled
                await ws.send(encode_message(SyncStep1(b"\x00")))
                while not isinstance(decode_message(await ws.recv()), SyncStep2):
                    pass
        finally:
            await server.stop()

    asyncio.run(main())
    assert crdt_log.update_count(lib.db, f"note:{note}") == rows_before + 1


def test_pending_data_per_document_is_bounded_and_the_excess_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(pending, "MAX_PENDING_BYTES", 100_000)
    lib = Library(tmp_path / "lib")
    service = SyncService(lib)
    doc_id = f"note:{secrets.token_hex(16)}"
    for _ in range(8):  # distinct orphan updates, ~10 kB each
        service.apply_batch([(doc_id, _orphan_update())], "peer:X")
    rows = crdt_log.update_count(lib.db, doc_id)
    with pytest.raises(PendingLimitError):
        service.apply_batch([(doc_id, _orphan_update(size=40_000))], "peer:X")
    assert crdt_log.update_count(lib.db, doc_id) == rows
    assert lib.db.integrity_check() == ["ok"]
