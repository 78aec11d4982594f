"""The writing half of :class:`sync.relay.engine.RelayEngine` (see the engine's docstring:
numbers reserved before sending, first write = the library's own documents, afterwards what
the log gained, re-written whole when the room lost this device's entries)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from sync.blobs import CHUNK_SIZE
from sync.relay import payload as P
from sync.relay.room import RoomClient
from sync.relay.state import batched

if TYPE_CHECKING:
    from sync.relay.crypto import Sealer
    from sync.relay.engine import RelayStore
    from sync.relay.state import RelayReport, RelayState

log = logging.getLogger("saem.sync.relay")

ACK_SECONDS = 30.0  # a live device posts its read cursors at most this often


class RelayWriter:
    store: RelayStore
    sealer: Sealer
    state: RelayState
    report: RelayReport
    base_url: str
    _own_max: int
    _blob_check: bool
    _acks: dict[str, Any]
    _seen: set[tuple[str, int]]
    _room_blobs: set[str]
    _wanted_by_others: set[str]
    _wants_posted: set[str]
    _acked: tuple[dict[str, int], tuple[str, ...]] | None
    _acked_at: float

    # -- writing ------------------------------------------------------------------------------

    async def _write(self, room: RoomClient) -> None:
        self.store.refresh()
        if self.state.started and self.state.content_seq > self._own_max:
            log.warning(
                "relay %s: entries up to #%d are missing from the room; writing the whole "
                "state again",
                self.base_url,
                self.state.content_seq,
            )
            self.state.started = False
            self.report.rewrote_state = True
        batches: list[tuple[str, bytes]] = []
        if not self.state.started:
            upto = self.store.last_change_id()
            # first time here: the documents this library has from elsewhere than this room;
            # after a loss: everything (applying state twice is harmless)
            doc_ids = self.store.doc_ids() if self.report.rewrote_state else self._own_docs()
            docs = [(d, self.store.diff(d, b"")) for d in doc_ids]
            batches = [("updates", P.encode_updates(b)) for b in batched(docs)]
        else:
            upto, changes = self._new_changes()
            if changes:
                batches = [("updates", P.encode_updates(b)) for b in batched(changes)]
        if self._blob_check or batches:  # photos can only change with documents or entries
            self._blob_check = False
            batches += self._blob_entries()
            batches += self._want_entries()
        ack = self._ack_entry()
        if ack is not None:
            batches.append(ack)
        if batches:
            await self._send(room, batches, upto)
        elif not self.state.started or upto > self.state.sent_upto:
            self.state.started = True
            self.state.sent_upto = max(upto, self.state.sent_upto)
            self.store.save_relay_state(self.state)

    def _own_docs(self) -> list[str]:
        own = getattr(self.store, "docs_not_from_relay", None)
        return list(own()) if callable(own) else self.store.doc_ids()

    def _new_changes(self) -> tuple[int, list[tuple[str, bytes]]]:
        members = set(self._acks) | {t for t, _ in self._seen}
        upto = self.state.sent_upto
        out: list[tuple[str, bytes]] = []
        while True:
            changes = self.store.changes_since(upto, 2048)
            if not changes:
                return upto, out
            for change in changes:
                origin = change.origin
                if origin.startswith(("relay:", "snapshot:")):
                    continue
                if origin.startswith("peer:"):
                    device = origin.removeprefix("peer:")
                    if self.sealer.key.device_tag(device) in members:
                        continue  # that device writes its own updates into the room
                out.append((change.doc_id, change.data))
            upto = changes[-1].id

    def _blob_entries(self) -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        sent = set(self.state.blobs_sent)
        for sha in self._local_blobs():
            if sha in self._room_blobs:
                continue
            if sha in sent and sha not in self._wanted_by_others:
                continue
            size = self.store.blobs.size(sha)
            if size is None:
                continue
            offset = 0
            while offset < size or offset == 0:
                chunk = self.store.blobs.read(sha, offset, CHUNK_SIZE)
                out.append(("blob", P.encode_blob(P.BlobChunk(sha, offset, size, chunk))))
                offset += len(chunk)
                if not chunk:
                    break
            self._room_blobs.add(sha)
            self.report.blobs_out += 1
            if sha not in sent:
                self.state.blobs_sent.append(sha)
        self._wanted_by_others.clear()
        return out

    def _local_blobs(self) -> list[str]:
        local = getattr(self.store, "local_blobs", None)
        return list(local()) if callable(local) else []

    def _want_entries(self) -> list[tuple[str, bytes]]:
        missing = [s for s in self.store.wanted_blobs() if s not in self._room_blobs]
        fresh = [s for s in missing if s not in self._wants_posted]
        if not fresh:
            return []
        self._wants_posted.update(fresh)
        return [("want", P.encode_want(missing[i : i + 500])) for i in range(0, len(missing), 500)]

    def _ack_entry(self) -> tuple[str, bytes] | None:
        if self._acked is not None and time.monotonic() - self._acked_at < ACK_SECONDS:
            return None
        cursors = dict(self.state.cursors)
        paired = tuple(sorted(self.store.paired_devices()))
        if (cursors, paired) == self._acked or not (cursors or paired):
            return None
        self._acked, self._acked_at = (cursors, paired), time.monotonic()
        return ("ack", P.encode_ack(P.Ack(cursors, int(time.time()), paired)))

    async def _send(
        self, room: RoomClient, batches: list[tuple[str, bytes]], upto: int | None = None
    ) -> None:
        """Reserve sequence numbers (committed), send, wait until the server processed it,
        then commit what was written (and the log position ``upto`` it covers)."""
        first = self.state.next_seq
        self.state.next_seq += len(batches)
        self.store.save_relay_state(self.state)  # reserved before anything leaves
        entries = [self.sealer.seal(first + i, k, data) for i, (k, data) in enumerate(batches)]
        for kind, data in batches:
            if kind == "ack":
                self._acks[self.sealer.tag] = P.decode("ack", data)
        for i in range(0, len(entries), 16):
            await room.append(entries[i : i + 16])
        await room.flush()
        self.state.written_seq = first + len(batches) - 1
        content = [first + i for i, (k, _) in enumerate(batches) if k != "ack" and k != "want"]
        if content:
            self.state.content_seq = content[-1]
            self._own_max = max(self._own_max, content[-1])
        self.state.entries_out += len(entries)
        self.report.entries_out += len(entries)
        if upto is not None:
            self.state.started = True
            self.state.sent_upto = max(upto, self.state.sent_upto)
        self.store.save_relay_state(self.state)
