"""One sync connection, transport-agnostic: the multiplexed peer session and the y-websocket
room session. Both speak through a :class:`Replica` (implemented by ``core.peers.service``).

Rules every path here follows:

* an update is applied by :meth:`Replica.apply_batch`, which persists it (SQLite commit)
  before returning; only then is anything acknowledged (``FLUSHED``) or forwarded;
* forwarding is done by *pumps* that tail the persisted update log, so a peer never gets
  an update that could still be lost here, and edits made by other processes (CLI) flow too;
* a malformed frame, an unknown document or a bad update closes the connection (code 1007 /
  1008) after nothing was written for it; other connections are not affected.

Initial exchange on a peer connection (both sides, symmetric)::

    → HELLO(version, my library id); ← the peer's HELLO, checked before anything else
      (a paired device bound to another library is refused: no document data either way)
    → RELAY_KEY(key, relay URLs) when this library has a relay key (a device without one
      adopts it; one with another key keeps its own and records the conflict)
    → step1 for every doc I have, then FLUSH(init)
    ← step2 for each of those; step1 for docs the other side did not announce
    ← FLUSHED(init)            : I now hold everything the peer had (pulled)
    → FLUSH(t) meaning "my log up to <start>"; ← FLUSHED(t): the peer persisted it (pushed)
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sync._base import BATCH, Connection, Hub, Replica, SessionBase, closed_errors
from sync.blobs import CHUNK_SIZE
from sync.errors import (
    BlobTransferError,
    PeerVersionError,
    ProtocolError,
    SyncError,
    UnpairedDeviceError,
)
from sync.protocol import (
    PEER_VERSION,
    BlobData,
    BlobNone,
    BlobWant,
    DocFrame,
    Envelope,
    Flush,
    Flushed,
    Hello,
    RelayKeyOffer,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_envelope,
    encode_envelope,
)
from sync.security import audit
from sync.wording import CLOSE_INVALID, CLOSE_POLICY, describe_close, describe_transfer

# Hub, Replica and Connection live in sync._base (shared with sync.room); importers keep
# reaching them here.
__all__ = ["Connection", "Hub", "PeerSession", "Replica", "SessionReport"]

HELLO_SECONDS = 30.0


@dataclass
class SessionReport:
    device_id: str
    bytes_in: int = 0
    bytes_out: int = 0
    updates_in: int = 0
    updates_out: int = 0
    blobs_in: int = 0
    pulled: bool = False
    pushed: bool = False
    error: str | None = None
    blob_failures: list[str] = field(default_factory=list)
    docs_out: int = 0  # documents the other side lacked something of (sync step 2 sent)
    blobs_missing: int = 0  # photos requested that had not arrived when the session ended
    note: str | None = None  # set when a round counts as done despite an early close

    def transferred(self) -> str:
        """What moved, in words (for the CLI and error messages)."""
        return describe_transfer(self)


class PeerSession(SessionBase):
    """The multiplexed connection between two paired Saem devices."""

    def __init__(
        self,
        replica: Replica,
        hub: Hub,
        conn: Connection,
        device_id: str,
        address: str | None = None,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> None:
        super().__init__(replica, hub, conn, f"peer:{device_id}")
        self.progress = progress  # (documents received, documents expected, doc id)
        self._received = 0
        self.device_id = device_id
        self.address = address
        self.report = SessionReport(device_id)
        self._tokens = itertools.count(1)
        self._acks: dict[int, int] = {}
        self._init_token = 0
        self._push_token = 0
        self._announced: set[str] = set()
        self._requested: set[str] = set()
        self._failed_blobs: set[str] = set()
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._done = asyncio.Event()
        self._start = 0

    async def run(self, *, one_round: bool = False, timeout: float | None = None) -> SessionReport:
        tasks: list[asyncio.Task[Any]] = []
        admitted = False
        try:
            await self._send(encode_envelope(Hello(PEER_VERSION, self.replica.library_id())))
            await self._expect_hello()
            admitted = True  # only now does this connection speak for the paired device
            self.hub.peers[self.device_id] = self
            self._start = self.replica.last_change_id()
            self.sent_upto = self._start
            offer = self.replica.relay_offer()
            if offer is not None:  # the relay key rides the paired, mutual-TLS channel only
                await self._send(encode_envelope(RelayKeyOffer(offer[0], tuple(offer[1]))))
            for doc_id in self.replica.doc_ids():
                self._announced.add(doc_id)
                sv = self.replica.state_vector(doc_id)
                await self._send(encode_envelope(DocFrame(doc_id, SyncStep1(sv))))
            self._init_token = await self._flush(None)
            tasks = [
                asyncio.create_task(self._reader()),
                asyncio.create_task(self._process()),
                asyncio.create_task(self._pump()),
            ]
            waiters: list[asyncio.Future[Any]] = list(tasks)
            if one_round:
                waiters.append(asyncio.ensure_future(self._done.wait()))
            done, pending = await asyncio.wait(
                waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                if waiter not in tasks:
                    waiter.cancel()
            if not done:
                self.report.error = "timed out"
            for task in done:
                exc = task.exception() if task in tasks else None
                if exc is not None:
                    self.report.error = describe_close(exc)
            if one_round:
                if not self._done.is_set() and not self.report.error:
                    self.report.error = "the connection closed before the round finished"
                await self.conn.close(1000, "round complete")
        except SyncError as exc:
            self.report.error = exc.user_message
            await self._refuse(
                exc, CLOSE_INVALID if isinstance(exc, ProtocolError) else CLOSE_POLICY
            )
        except closed_errors() as exc:
            self.report.error = self.report.error or describe_close(exc)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.hub.unsubscribe(self._wake)
            if self.hub.peers.get(self.device_id) is self:
                del self.hub.peers[self.device_id]
            self.report.bytes_in, self.report.bytes_out = self.bytes_in, self.bytes_out
            self.report.blobs_missing = len(self._requested)
            if admitted:  # a refused impostor does not count as "seen"
                self.replica.record_peer(
                    self.device_id, self.bytes_in, self.bytes_out, self.address
                )
        return self.report

    async def _expect_hello(self) -> None:
        """The peer's first frame must be a HELLO naming the library it is bound to."""
        try:
            frame = await asyncio.wait_for(self._recv(), HELLO_SECONDS)
        except TimeoutError as exc:
            raise ProtocolError(f"no hello within {HELLO_SECONDS:.0f} s") from exc
        hello = decode_envelope(frame)
        if not isinstance(hello, Hello):
            raise ProtocolError("the first frame was not a hello")
        if hello.version != PEER_VERSION:
            raise PeerVersionError(
                f"The other device speaks sync version {hello.version}, this one "
                f"{PEER_VERSION}; update Saem on both devices."
            )
        self.replica.check_peer_library(self.device_id, hello.library_id)

    async def _flush(self, covers: int | None) -> int:
        token = next(self._tokens)
        if covers is not None:
            self._acks[token] = covers
        await self._send(encode_envelope(Flush(token)))
        return token

    async def _reader(self) -> None:
        try:
            while True:
                await self._queue.put(await self._recv())
        finally:
            await self._queue.put(None)

    async def _process(self) -> None:
        while True:
            frame = await self._queue.get()
            if frame is None:
                return
            frames = [frame]
            while len(frames) < BATCH and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    self._queue.put_nowait(None)
                    break
                frames.append(nxt)
            try:
                await self._handle_frames(frames)
            except SyncError as exc:
                await self._refuse(exc, CLOSE_INVALID)
                raise

    async def _handle_frames(self, frames: list[bytes]) -> None:
        updates: list[tuple[str, bytes]] = []
        for frame in frames:
            env = decode_envelope(frame)
            if isinstance(env, DocFrame) and isinstance(env.message, (SyncStep2, SyncUpdate)):
                self.replica.check_doc_id(env.doc_id)
                updates.append((env.doc_id, env.message.update))
                if isinstance(env.message, SyncStep2):
                    self._received += 1
                continue
            await self._apply(updates)
            updates = []
            await self._handle(env)
        await self._apply(updates)
        if self.progress is not None and self._received:
            self.progress(self._received, max(self._received, len(self._announced)), "")
        self._check_done()

    async def _apply(self, updates: list[tuple[str, bytes]]) -> None:
        if not updates:
            return
        novel = self.replica.apply_batch(updates, self.origin)  # persisted when it returns
        self.report.updates_in += novel
        if novel:
            self.hub.notify()
            if any(doc_id == "library" for doc_id, _ in updates) and self.report.pulled:
                await self._request_blobs()

    async def _handle(self, env: Envelope) -> None:
        if isinstance(env, DocFrame):
            msg = env.message
            if isinstance(msg, SyncStep1):
                self.replica.check_doc_id(env.doc_id)
                diff = self.replica.diff(env.doc_id, msg.state_vector)
                await self._send(encode_envelope(DocFrame(env.doc_id, SyncStep2(diff))))
                if diff != b"\x00\x00":  # an empty update: the other side lacked nothing
                    self.report.docs_out += 1
                if env.doc_id not in self._announced:
                    self._announced.add(env.doc_id)
                    sv = self.replica.state_vector(env.doc_id)
                    await self._send(encode_envelope(DocFrame(env.doc_id, SyncStep1(sv))))
            # awareness / query-awareness / auth on the peer channel: nothing to do
        elif isinstance(env, Flush):
            await self._send(encode_envelope(Flushed(env.token)))
        elif isinstance(env, Flushed):
            if env.token == self._init_token:
                self.report.pulled = True
                self._push_token = await self._flush(self._start)
                await self._request_blobs()
            elif env.token in self._acks:
                if env.token == self._push_token:
                    self.report.pushed = True
                self.replica.peer_acked(self.device_id, self._acks.pop(env.token))
        elif isinstance(env, BlobWant):
            await self._serve_blob(env)
        elif isinstance(env, BlobData):
            self._receive_blob(env)
        elif isinstance(env, BlobNone):
            self._requested.discard(env.sha256)
            self._failed_blobs.add(env.sha256)
        elif isinstance(env, RelayKeyOffer):
            self.replica.relay_offered(self.device_id, env.key, list(env.urls))

    async def _request_blobs(self) -> None:
        for sha in self.replica.wanted_blobs():
            if sha not in self._requested and sha not in self._failed_blobs:
                self._requested.add(sha)
                offset = self.replica.blobs.partial(sha)
                await self._send(encode_envelope(BlobWant(sha, offset)))

    async def _serve_blob(self, want: BlobWant) -> None:
        size = self.replica.blobs.size(want.sha256)
        if size is None or want.offset > size:
            await self._send(encode_envelope(BlobNone(want.sha256)))
            return
        offset = want.offset
        while True:
            chunk = self.replica.blobs.read(want.sha256, offset, CHUNK_SIZE)
            await self._send(encode_envelope(BlobData(want.sha256, offset, size, chunk)))
            offset += len(chunk)
            if offset >= size or not chunk:
                return

    def _receive_blob(self, data: BlobData) -> None:
        if data.sha256 not in self._requested:
            return  # unsolicited: ignore
        try:
            complete = self.replica.blobs.write(data.sha256, data.offset, data.total, data.chunk)
        except BlobTransferError as exc:
            audit(self.replica, "blob", exc.user_message, device_id=self.device_id)
            self._requested.discard(data.sha256)
            self._failed_blobs.add(data.sha256)
            self.report.blob_failures.append(data.sha256)
            return
        if complete:
            self._requested.discard(data.sha256)
            self.report.blobs_in += 1
            self.replica.blob_arrived(data.sha256)

    def _check_done(self) -> None:
        if (
            self.report.pulled
            and self.report.pushed
            and not self._requested
            and not self._acks
            and self.sent_upto >= self.replica.last_change_id()
        ):
            self._done.set()

    async def _pump(self) -> None:
        while True:
            if not self.replica.is_paired(self.device_id):
                # the user removed this device while it was connected: stop at once
                exc = UnpairedDeviceError(
                    f"Device {self.device_id[:15]}… was unpaired; the connection is closed."
                )
                await self._refuse(exc, CLOSE_POLICY, "removed")
                raise exc
            changes = self._pending_changes()
            for change in changes:
                frame = DocFrame(change.doc_id, SyncUpdate(change.data))
                await self._send(encode_envelope(frame))
                self.report.updates_out += 1
            if changes:
                await self._flush(self.sent_upto)
            self._check_done()
            if len(changes) < BATCH:
                await self._wait_for_changes()
