"""Updates that wait for missing history ("pending"): dropped when repeated, bounded in size.

A CRDT update whose dependencies have not arrived cannot be integrated yet; the document
keeps it aside and it must stay in the log until its history arrives (compaction keeps such
rows too, see :mod:`core.peers.compaction`). Because its structs stay "new" to the state
vector, the usual "nothing new" test never recognised it when sent again: a peer (or a
y-websocket client) repeating it grew the log by one row per repetition. Now a pending
update identical to one already logged for the document is dropped, and the pending data a
document may hold is bounded (:data:`MAX_PENDING_BYTES`): past it, the batch is refused
(nothing written) and the sending session is closed.
"""

from __future__ import annotations

from core.peers.compaction import decode_state_vector, has_pending_parts
from storage import crdt_log
from storage.db import Database
from sync.docs import CrdtDoc
from sync.errors import PendingLimitError

MAX_PENDING_BYTES = 4 * 1024 * 1024


def still_pending(doc: CrdtDoc, update: bytes) -> bool:
    """After applying ``update``: does the document still lack some of its history?"""
    return has_pending_parts(update, decode_state_vector(doc.state_vector()))


def logged_already(db: Database, doc_id: str, update: bytes) -> bool:
    return (
        db.scalar(
            "SELECT 1 FROM crdt_updates WHERE doc_id = ? AND length(data) = ? AND data = ? LIMIT 1",
            (doc_id, len(update), update),
        )
        is not None
    )


def check_budget(db: Database, doc_id: str, doc: CrdtDoc, incoming: int) -> None:
    """Raise PendingLimitError if logging ``incoming`` more pending bytes passes the bound."""
    clocks = decode_state_vector(doc.state_vector())
    held = sum(
        len(u.data)
        for u in crdt_log.updates_after(db, doc_id, crdt_log.snapshot_of_upto(db, doc_id))
        if has_pending_parts(u.data, clocks)
    )
    if held + incoming > MAX_PENDING_BYTES:
        raise PendingLimitError(
            f"Document {doc_id} already holds {held:,} bytes of updates waiting for missing "
            f"history (limit {MAX_PENDING_BYTES:,}); more were refused and nothing was written."
        )
