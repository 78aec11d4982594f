"""Compaction of a relay room: one encrypted snapshot, then delete what everyone has read.

Deleted: every ``updates``/``blob`` entry of a writer W with seq <= the snapshot's cursor for
W *and* <= the cursor for W in the latest ack of every device that acked within
``known_for`` (W itself excepted); older snapshots; all but each device's latest ack; want
lists (they are posted again while still unanswered); elements that are not valid entries.
A device whose ack is older than ``known_for`` (away) or that never acked (new) starts
from the snapshot.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import TYPE_CHECKING

from sync.errors import RelayEntryError
from sync.relay import payload as P
from sync.relay.crypto import Opened
from sync.relay.room import RoomClient
from sync.relay.state import batched

if TYPE_CHECKING:
    from sync.relay.engine import RelayEngine

log = logging.getLogger("saem.sync.relay")


async def compact_room(engine: RelayEngine, room: RoomClient) -> int:
    now = time.time()
    known = {t: a for t, a in engine._acks.items() if now - a.at <= engine.known_for}
    known[engine.sealer.tag] = P.Ack(dict(engine.state.cursors), int(now))
    covers = dict(engine.state.cursors)
    covers[engine.sealer.tag] = engine.state.written_seq
    docs = [(d, engine.store.diff(d, b"")) for d in engine.store.doc_ids()]
    parts = batched(docs) or [[]]
    snap_id = secrets.token_hex(8)
    batches = [
        ("snapshot", P.encode_snapshot(P.Snapshot(snap_id, i, len(parts), covers, part)))
        for i, part in enumerate(parts)
    ]
    before = len(room.entries)
    await engine._send(room, batches)
    new_first = engine.state.written_seq - len(batches) + 1
    doomed: list[int] = []
    latest_ack: dict[str, int] = {}
    elements = room.snapshot()
    opened: list[tuple[int, Opened | None]] = []
    for index, value in enumerate(elements):
        try:
            opened.append((index, engine.sealer.open(value)))
        except RelayEntryError:
            opened.append((index, None))  # refused already; garbage goes too
    for _, entry in opened:
        if entry is not None and entry.kind == "ack":
            latest_ack[entry.tag] = max(latest_ack.get(entry.tag, 0), entry.seq)
    for index, entry in opened:
        if entry is None:
            doomed.append(index)
            continue
        if entry.kind == "snapshot":
            if not (entry.tag == engine.sealer.tag and entry.seq >= new_first):
                doomed.append(index)
        elif entry.kind == "ack":
            if entry.seq < latest_ack.get(entry.tag, 0):
                doomed.append(index)
        elif entry.kind == "want":
            doomed.append(index)  # answered in this round or asked again
        elif entry.seq <= covers.get(entry.tag, 0) and all(
            ack.cursors.get(entry.tag, 0) >= entry.seq
            for reader, ack in known.items()
            if reader != entry.tag
        ):
            doomed.append(index)
    await room.delete(doomed)
    await room.flush()
    engine.report.compacted += len(doomed)
    log.info("relay %s: compacted %d of %d entries", engine.base_url, len(doomed), before)
    return len(doomed)
