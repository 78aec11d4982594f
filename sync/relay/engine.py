"""Syncing a library through a relay room: what to write, what to read, compaction.

**Writing.** Each entry gets the next sequence number of this device; numbers are reserved
durably *before* the entry is sent, so a crash can leave a gap but never reuse a number
(a reused number would be refused as a replay by readers that saw the first one). The
first time a library meets a room it writes its whole state (one encoded state per
document); afterwards it writes what its update log gained since ``sent_upto`` — local
edits, and updates that arrived from direct peers that are not themselves in the room.
Updates that came *from* the relay are never written back. On every connect the device
checks that its last written entry is in the room (or covered by a snapshot); if a server
lost it (kill -9 before its disk write), the whole state is written again: CRDT state is
idempotent to apply, so this repairs any loss without bookkeeping.

**Reading.** Every element is opened (:class:`sync.relay.crypto.Sealer`): a garbage,
tampered, forged, unpaired or replayed element is refused, recorded in the sync log
(``saem sync log``) and skipped; the others continue. Updates are applied through
:meth:`RelayStore.apply_relay`, the same durable path as peer sync (one SQLite transaction
that applies, logs, materializes and moves this reader's cursor for that writer), so
nothing is ever treated as read before it is on disk.

**Compaction.** Each device posts an ``ack`` entry with its read cursors. When the room has
more than ``compact_above`` entries, a device writes one encrypted snapshot (the state of
every document, in parts) covering its cursors, then deletes every entry that all devices
that acked within ``known_for`` seconds have read, and older snapshots and acks. A device
away longer than that (or new) starts from the snapshot; photo chunks deleted meanwhile are
asked for again with a ``want`` entry and written again by any device that has them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Protocol

from storage.errors import StorageError
from sync.errors import (
    BlobTransferError,
    RelayEntryError,
    RelayError,
    RelayReplayError,
    RelayUnpairedError,
    SyncError,
)
from sync.relay import payload as P
from sync.relay.crypto import Opened, Sealer
from sync.relay.room import RoomClient
from sync.relay.state import (
    MAX_REFUSED,
    RelayReport,
    RelayState,
    describe,
    fingerprint,
)
from sync.relay.writer import RelayWriter
from sync.session import Replica

log = logging.getLogger("saem.sync.relay")

COMPACT_ABOVE = 2_000
KNOWN_FOR_SECONDS = 30 * 86_400.0
POLL_SECONDS = 0.05
CONTENT_KINDS = ("updates", "snapshot", "blob")  # entries whose loss must be repaired
JOINED_WAIT_SECONDS = 5.0  # the key came from a device that may have written already
GROUP_ENTRIES = 64  # update entries of one writer applied in one transaction
GROUP_BYTES = 4 * 1024 * 1024
NOTE_SECONDS = 10.0  # "which path synced last" is recorded at most this often when live


class RelayStore(Replica, Protocol):
    """The library side (``core`` implements it next to the Replica methods)."""

    def relay_state(self, room: str) -> RelayState: ...
    def save_relay_state(self, state: RelayState) -> None: ...
    def apply_relay(
        self, updates: Sequence[tuple[str, bytes]], origin: str, state: RelayState
    ) -> int: ...
    def note_synced(self, path: str, what: str) -> None: ...
    def paired_devices(self) -> list[str]: ...


class RelayEngine(RelayWriter):
    def __init__(
        self,
        store: RelayStore,
        sealer: Sealer,
        url: str,
        *,
        compact_above: int = COMPACT_ABOVE,
        known_for: float = KNOWN_FOR_SECONDS,
    ) -> None:
        self.store = store
        self.sealer = sealer
        self.base_url = url.rstrip("/")
        self.url = f"{self.base_url}/{sealer.room}"
        self.compact_above = compact_above
        self.known_for = known_for
        self.state = store.relay_state(sealer.room)
        self.report = RelayReport(self.base_url)
        self._seen: set[tuple[str, int]] = set()
        self._own_max = 0
        self._acks: dict[str, P.Ack] = {}
        self._wanted_by_others: set[str] = set()
        self._room_blobs: set[str] = set()
        self._snap_parts: dict[str, dict[int, P.Snapshot]] = {}
        self._refused: set[str] = set(self.state.refused)
        self._blob_check = True
        self._compacted_size = 0  # room size right after this device's last compaction
        self._vouches: dict[str, tuple[int, frozenset[str]]] = {}  # tag -> (ack seq, paired)
        self._acked: tuple[dict[str, int], tuple[str, ...]] | None = None
        self._acked_at = 0.0
        self._wants_posted: set[str] = set()

    # -- one round / live ---------------------------------------------------------------------

    async def sync_once(self) -> RelayReport:
        """Connect, read and apply everything, write what the room lacks, compact if due."""
        room = RoomClient(self.url)
        self._new_connection()
        try:
            await room.connect(expect_content=self._expect())
            await self._read(room, initial=True)
            await self._write(room)
            await room.flush()
            await self._read(room, initial=False)
            await self._maybe_compact(room)
            await room.flush()
        except SyncError as exc:
            self._fail(exc)
            raise
        finally:
            await self._finish(room)
        return self.report

    async def run_live(self, stop: asyncio.Event | None = None) -> None:
        """Stay connected: apply entries as they arrive, write local changes as they happen.
        Reconnects with back-off while the relay is unreachable."""
        delay = 1.0
        while stop is None or not stop.is_set():
            room = RoomClient(self.url)
            self._new_connection()
            try:
                await room.connect(expect_content=self._expect())
                delay = 1.0
                self.report.error = None
                await self._read(room, initial=True)
                moved, noted = -1, 0.0
                while stop is None or not stop.is_set():
                    room.check()  # the server went away: reconnect
                    await self._write(room)
                    await self._read(room, initial=False)
                    await self._maybe_compact(room)
                    self._mark_synced()
                    now_moved = self.report.entries_in + self.report.entries_out
                    if now_moved != moved and time.monotonic() - noted > NOTE_SECONDS:
                        moved, noted = now_moved, time.monotonic()
                        self.store.note_synced("relay", describe(self.report))
                    try:
                        await asyncio.wait_for(room.changed.wait(), POLL_SECONDS)
                    except TimeoutError:
                        pass
            except (SyncError, StorageError) as exc:  # e.g. the library busy: try again later
                self._fail(exc)
                log.warning("relay %s: %s (retrying in %.0f s)", self.base_url, exc, delay)
            finally:
                await self._finish(room)
            if stop is not None and stop.is_set():
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    def _expect(self) -> bool | float:
        """How long an empty-looking room is waited for (the server may still load it)."""
        if self.state.started:
            return True  # this device wrote there: it is not empty
        return JOINED_WAIT_SECONDS if self.state.joined else False

    def _new_connection(self) -> None:
        """Forget what the previous connection showed of the room (it may have changed,
        e.g. a restarted server that lost its last writes)."""
        self._seen.clear()
        self._own_max = 0
        self._room_blobs.clear()
        self._snap_parts.clear()
        self._vouches.clear()
        self._blob_check = True

    def _fail(self, exc: SyncError | StorageError) -> None:
        message = getattr(exc, "user_message", None) or str(exc)
        self.report.error = message
        self.state.last_error = message
        self.store.save_relay_state(self.state)

    def _mark_synced(self) -> None:
        self.state.last_sync = time.time()
        self.state.last_error = None

    async def _finish(self, room: RoomClient) -> None:
        await room.close()
        self.report.bytes_in += room.bytes_in
        self.report.bytes_out += room.bytes_out
        room.bytes_in = room.bytes_out = 0
        if self.report.error is None:
            self._mark_synced()
        self.store.save_relay_state(self.state)

    # -- reading ------------------------------------------------------------------------------

    async def _read(self, room: RoomClient, *, initial: bool) -> None:
        values = room.take_inserted()
        if not values:
            return
        opened: list[Opened] = []
        verified: list[tuple[object, str, Opened | RelayEntryError]] = []
        for value in values:
            print_ = fingerprint(value)
            if print_ in self._refused:
                continue  # refused and recorded in an earlier read
            try:
                verified.append((value, print_, self.sealer.open(value)))
            except RelayEntryError as exc:
                verified.append((value, print_, exc))
        self._learn_vouches([v for _, _, v in verified if isinstance(v, Opened)])
        for _value, print_, checked in verified:
            entry: Opened | None = None
            try:
                if isinstance(checked, RelayEntryError):
                    raise checked
                entry = checked
                key = (entry.tag, entry.seq)
                if key in self._seen:
                    raise RelayReplayError(
                        f"Relay entry {entry.tag}#{entry.seq} appears twice in the room; "
                        "the copy was ignored."
                    )
                self._seen.add(key)
                if entry.tag != self.sealer.tag and not self._trusted(entry.device_id):
                    raise RelayUnpairedError(
                        f"Relay entry {entry.tag}#{entry.seq} was written by device "
                        f"{entry.device_id[:15]}…, which is not paired here (nor by a paired "
                        "device); ignored."
                    )
                if (
                    not initial
                    and entry.tag != self.sealer.tag
                    and entry.seq <= self.state.cursors.get(entry.tag, 0)
                    and entry.kind in ("updates", "snapshot")
                ):
                    raise RelayReplayError(
                        f"Relay entry {entry.tag}#{entry.seq} was already applied and was "
                        "written into the room again; ignored."
                    )
            except RelayEntryError as exc:
                self._refuse(exc, entry.device_id if entry is not None else None, print_)
                continue
            opened.append(entry)
        opened.sort(key=lambda e: (e.tag, e.seq))
        if opened:
            self._blob_check = True
        await self._apply(opened)

    def _learn_vouches(self, entries: list[Opened]) -> None:
        """The latest ack of each device paired here names the devices it pairs."""
        for entry in entries:
            if entry.kind != "ack" or not self.store.is_paired(entry.device_id):
                continue
            if entry.seq <= self._vouches.get(entry.tag, (0, frozenset()))[0]:
                continue
            try:
                ack = P.decode("ack", entry.payload)
            except RelayEntryError:
                continue  # refused (and recorded) when the entry itself is handled
            assert isinstance(ack, P.Ack)
            self._vouches[entry.tag] = (entry.seq, frozenset(ack.paired))

    def _trusted(self, device_id: str) -> bool:
        """Paired here, or paired by a device paired here (as direct sync, where a paired
        device forwards what it received from the devices *it* paired)."""
        if self.store.is_paired(device_id):
            return True
        return any(device_id in devices for _, devices in self._vouches.values())

    def _refuse(self, exc: RelayEntryError, device_id: str | None, print_: str = "") -> None:
        self.report.refused += 1
        # a replay's fingerprint is the original's; an unpaired device may be paired later
        if print_ and exc.kind not in ("relay-replayed", "relay-unpaired"):
            self._refused.add(print_)
            self.state.refused = [*self.state.refused, print_][-MAX_REFUSED:]
        log.warning("relay: %s", exc.user_message)
        self.store.security_event(exc.kind, exc.user_message, device_id, self.base_url)

    async def _apply(self, opened: list[Opened]) -> None:
        updates: list[Opened] = []
        blobs: list[tuple[Opened, P.BlobChunk]] = []
        for entry in opened:
            try:
                value = P.decode(entry.kind, entry.payload)
            except RelayEntryError as exc:
                self._refuse(exc, entry.device_id)
                continue
            if entry.tag == self.sealer.tag:
                if entry.kind in CONTENT_KINDS:  # receipts and wants may be compacted away
                    self._own_max = max(self._own_max, entry.seq)
                if isinstance(value, P.Ack):
                    self._acks[entry.tag] = value
                continue
            if entry.kind == "updates":
                updates.append(entry)
            elif isinstance(value, P.Snapshot):
                self._snap_parts.setdefault(value.snap_id, {})[value.part] = value
                self._own_max = max(self._own_max, value.covers.get(self.sealer.tag, 0))
            elif isinstance(value, P.BlobChunk):
                blobs.append((entry, value))
                if value.offset + len(value.chunk) >= value.total:
                    self._room_blobs.add(value.sha256)
            elif isinstance(value, P.Ack):
                # acks and wants never move cursors: reading an ack must not cause an ack
                self._acks[entry.tag] = value
            elif isinstance(value, list):
                self._wanted_by_others.update(str(s) for s in value)
        self._apply_snapshots()
        group: list[Opened] = []
        size = 0
        for entry in updates:
            if entry.seq <= self.state.cursors.get(entry.tag, 0):
                continue  # applied in an earlier session (or covered by a snapshot)
            if group and (
                group[0].tag != entry.tag or len(group) >= GROUP_ENTRIES or size > GROUP_BYTES
            ):
                await self._apply_group(group)
                group, size = [], 0
            group.append(entry)
            size += len(entry.payload)
        if group:
            await self._apply_group(group)
        self._apply_blobs(blobs)

    async def _apply_group(self, group: list[Opened]) -> None:
        """Consecutive entries of one writer in ONE transaction (with its cursor), then let
        the event loop run: a long catch-up must not starve the keep-alive pings (the
        stock server drops a connection that has not answered its ping for 30 s)."""
        if len(group) == 1:
            self._apply_docs(_docs(group[0]), group[0].device_id, group[0])
        else:
            saved = dict(self.state.cursors)
            last = group[-1]
            self.state.cursors[last.tag] = max(last.seq, saved.get(last.tag, 0))
            try:
                novel = self.store.apply_relay(
                    [d for e in group for d in _docs(e)], f"relay:{last.device_id}", self.state
                )
            except SyncError:  # one bad entry: find it, apply the others
                self.state.cursors = saved
                for entry in group:
                    self._apply_docs(_docs(entry), entry.device_id, entry)
            else:
                self.state.entries_in += len(group)
                self.report.entries_in += len(group)
                self.report.updates_applied += novel
        await asyncio.sleep(0)

    def _advance(self, entry: Opened) -> None:
        if entry.seq > self.state.cursors.get(entry.tag, 0):
            self.state.cursors[entry.tag] = entry.seq

    def _apply_docs(
        self, docs: list[tuple[str, bytes]], device_id: str, entry: Opened | None
    ) -> None:
        if entry is not None:
            self.state.cursors[entry.tag] = max(entry.seq, self.state.cursors.get(entry.tag, 0))
            self.state.entries_in += 1
            self.report.entries_in += 1
        try:
            novel = self.store.apply_relay(docs, f"relay:{device_id}", self.state)
        except SyncError as exc:
            if entry is not None:  # the cursor moved only in memory: put it back
                self.state = self.store.relay_state(self.sealer.room)
            self.store.security_event("relay-malformed", exc.user_message, device_id, self.base_url)
            self.report.refused += 1
            return
        self.report.updates_applied += novel

    def _apply_snapshots(self) -> None:
        for snap_id, parts in list(self._snap_parts.items()):
            first = next(iter(parts.values()))
            if len(parts) < first.parts:
                continue  # a compaction still being written (or lost parts): wait
            covers = first.covers
            if all(self.state.cursors.get(t, 0) >= s for t, s in covers.items()):
                continue  # nothing new for us
            for part in sorted(parts.values(), key=lambda p: p.part):
                self._apply_docs(part.docs, f"snapshot:{snap_id}", None)
            for tag, seq in covers.items():
                if tag != self.sealer.tag and seq > self.state.cursors.get(tag, 0):
                    self.state.cursors[tag] = seq
            self.store.save_relay_state(self.state)

    def _apply_blobs(self, blobs: list[tuple[Opened, P.BlobChunk]]) -> None:
        wanted = set(self.store.wanted_blobs())
        for entry, chunk in sorted(blobs, key=lambda b: (b[1].sha256, b[1].offset)):
            self._advance(entry)
            if chunk.sha256 not in wanted:
                continue
            try:
                done = self.store.blobs.write(chunk.sha256, chunk.offset, chunk.total, chunk.chunk)
            except BlobTransferError as exc:
                self.store.security_event("blob", exc.user_message, entry.device_id, None)
                continue
            if done:
                wanted.discard(chunk.sha256)
                self.report.blobs_in += 1
                self.store.blob_arrived(chunk.sha256)
        if blobs:
            self.store.save_relay_state(self.state)

    # -- compaction ---------------------------------------------------------------------------

    async def _maybe_compact(self, room: RoomClient) -> None:
        """Compact when the room passed ``compact_above`` entries and grew by as many since
        this device last compacted it (entries other devices have not read yet stay, so
        compacting at every new entry would only rewrite the snapshot)."""
        size = len(room.entries)
        if size > self.compact_above and size > self._compacted_size + self.compact_above:
            await self.compact(room)
            self._compacted_size = len(room.entries)

    async def compact(self, room: RoomClient) -> int:
        """Write a snapshot covering this device's cursors, then delete what every device
        known to the room has read. Returns how many elements were deleted."""
        from sync.relay.compaction import compact_room

        return await compact_room(self, room)


__all__ = ["RelayEngine", "RelayError", "RelayReport", "RelayState", "RelayStore"]


def _docs(entry: Opened) -> list[tuple[str, bytes]]:
    docs = P.decode("updates", entry.payload)
    assert isinstance(docs, list)
    return docs  # type: ignore[return-value]
