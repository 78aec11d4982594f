"""Compacting the CRDT update log into snapshots without losing what a peer still needs."""

from __future__ import annotations

from dataclasses import dataclass

from pycrdt import get_state, get_update

from core.content.documents import DocumentCache
from storage import crdt_log, peers
from storage.db import Database
from sync.protocol import Decoder, write_varuint


@dataclass(frozen=True)
class CompactReport:
    documents: int
    updates_removed: int
    bytes_before: int
    bytes_after: int


def compact_logs(db: Database, docs: DocumentCache, min_updates: int = 32) -> CompactReport:
    """Replace each document's logged updates by one snapshot (its encoded state).

    Nothing a peer needs is lost: a Yjs state update contains every struct (deleted
    content as GC ranges) plus the whole delete set, and a peer asks with its state
    vector, so the diff against the snapshot is exactly what it lacks — whatever its
    age; no per-peer bookkeeping is needed. The one thing an encoded state drops is
    what is still *pending* (structs waiting for a missing dependency, deletions of
    items not received yet), so updates holding pending parts stay in the log.
    ``merge_updates`` is deliberately not used: under our fuzz it lost map entries.

    Live sessions forward by tailing the log, so rows a connected peer has not been
    sent yet must stay: only updates every peer seen so far has acknowledged
    (``acked_upto``) are folded in. A paired device that never connected does not
    hold compaction back (its first sync is a full state-vector exchange anyway).
    """
    documents = removed = before = after = 0
    limit = peers.min_acked_of_seen(db)
    for doc_id in crdt_log.doc_ids(db):
        if crdt_log.update_count(db, doc_id) < min_updates:
            continue
        with docs.committing(doc_id), db.transaction():
            snapshot, upto = crdt_log.snapshot_of(db, doc_id)
            logged = [
                u
                for u in crdt_log.updates_after(db, doc_id, upto)
                if limit is None or u.id <= limit
            ]
            if len(logged) < min_updates:
                continue
            # the document may hold newer updates than `logged[-1]`; those stay logged
            # too, and applying them again on load is a no-op
            state = docs.get(doc_id).encode_state()
            clocks = decode_state_vector(get_state(state))
            kept = [u for u in logged if has_pending_parts(u.data, clocks)]
            crdt_log.write_snapshot(db, doc_id, state, logged[-1].id)
            for update in kept:
                crdt_log.append_update(db, doc_id, update.data, update.origin)
            documents += 1
            removed += len(logged) - len(kept)
            before += len(snapshot or b"") + sum(len(u.data) for u in logged)
            after += len(state) + sum(len(u.data) for u in kept)
    return CompactReport(documents, removed, before, after)


def decode_state_vector(sv: bytes) -> dict[int, int]:
    dec = Decoder(sv)
    return {dec.varuint(): dec.varuint() for _ in range(dec.varuint())}


def has_pending_parts(update: bytes, clocks: dict[int, int]) -> bool:
    """Does ``update`` hold structs or deletions beyond a document's state vector?"""
    diff = get_update(update, encode_state_vector(clocks))
    dec = Decoder(diff)
    if dec.varuint() != 0:
        return True  # structs the document has not integrated
    # what is left is the update's delete set
    for _ in range(dec.varuint()):
        client = dec.varuint()
        for _ in range(dec.varuint()):
            clock, length = dec.varuint(), dec.varuint()
            if clock + length > clocks.get(client, 0):
                return True  # deletes items the document does not have yet
    return False


def encode_state_vector(clocks: dict[int, int]) -> bytes:
    out = bytearray()
    write_varuint(out, len(clocks))
    for client, clock in clocks.items():
        write_varuint(out, client)
        write_varuint(out, clock)
    return bytes(out)
