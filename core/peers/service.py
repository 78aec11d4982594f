"""`SyncService`: this library as a sync replica (pairing, applying remote updates, status).

Every remote update goes through :meth:`SyncService.apply_batch`, which in ONE SQLite
transaction: applies it to the cached pycrdt document → appends it to ``crdt_updates`` →
re-materializes the affected rows (items, note body/title/tags/links, photos, deletions) →
queues "index" jobs. It returns only after the commit, so whatever the sync layer then
acknowledges or forwards is durable. If anything fails the transaction rolls back and the
touched documents are dropped from the cache (they reload from the log, the truth).

Documents are never rebuilt from plain text. Changed library items are found by comparing
the items map before and after applying (no pycrdt observers: reading a document inside its
own observer is pycrdt-websocket#79, and reading MapEvent.keys panicked inside yrs 0.28
under our convergence fuzz).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycrdt import get_update

from core.content.documents import log_update
from core.content.markdown import parse_note
from core.peers import pending
from core.peers.compaction import CompactReport, compact_logs
from core.peers.relay import RelayMixin
from core.peers.security import PeerSecurity
from storage import crdt_log, items, jobs, notes, peers, photos, tags
from storage.errors import NotFoundError
from storage.ids import LIBRARY_DOC_ID
from storage.photos import PhotoMeta
from storage.sync_log import SyncLogRow
from sync.blobs import BlobExchange
from sync.errors import (
    BadDeviceIdError,
    MalformedUpdateError,
    NoPeerAddressError,
    SyncIncompleteError,
    UnknownDocumentError,
)
from sync.identity import DeviceIdentity, load_or_create_identity, normalize_device_id
from sync.node import split_address

if TYPE_CHECKING:
    from core.library import Library
    from sync.server import SyncServer
    from sync.session import SessionReport

log = logging.getLogger("saem.sync")

INDEX_JOB = "index"
_DOC_ID = re.compile(r"^(library|(note|chat):[0-9a-f]{32})$")
_EMPTY_UPDATE = b"\x00\x00"
_PHOTO_FIELDS = (
    "sha256",
    "size",
    "mime",
    "width",
    "height",
    "orientation",
    "taken_at",
    "gps_lat",
    "gps_lon",
    "camera_make",
    "camera_model",
    "original_name",
)


@dataclass(frozen=True)
class PeerStatus:
    device_id: str
    name: str
    address: str | None
    last_seen: float | None
    pending: int
    bytes_in: int
    bytes_out: int


class SyncService(RelayMixin):
    """This library as a replica (implements ``sync.session.Replica``)."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.db = library.db
        self.docs = library.docs
        self.folder: Path = library.root / "sync"
        self.blobs = BlobExchange(library.store.blobs, library.store.paths.tmp)
        self._identity: DeviceIdentity | None = None
        self._seen = crdt_log.last_update_id(self.db)
        self.security = PeerSecurity(self.db)

    # -- security (``Replica`` calls, answered by the composed PeerSecurity) -------------------

    def library_id(self) -> str:
        return self.security.library_id()

    def check_peer_library(self, device_id: str, library_id: str) -> None:
        self.security.check_peer_library(device_id, library_id)

    def security_event(
        self, kind: str, reason: str, device_id: str | None, address: str | None
    ) -> None:
        self.security.record(kind, reason, device_id, address)

    def security_log(self, limit: int = 50) -> list[SyncLogRow]:
        return self.security.log(limit)

    # -- identity and pairing -----------------------------------------------------------------

    @property
    def identity(self) -> DeviceIdentity:
        if self._identity is None:
            self._identity = load_or_create_identity(self.folder)
        return self._identity

    @property
    def device_id(self) -> str:
        return self.identity.device_id

    def local_token(self) -> str:
        """Secret for the loopback-only plain-WebSocket room listener (file mode 0600)."""
        import os

        path = self.folder / "local-token"
        if not path.is_file():
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(24))
        return path.read_text().strip()

    def pair(self, device_id: str, name: str = "", address: str | None = None) -> peers.PeerRow:
        normalized = normalize_device_id(device_id)
        if normalized == self.device_id:
            raise BadDeviceIdError("That is this device's own ID; pair the OTHER device's ID.")
        if address is not None:
            split_address(address)
        with self.db.transaction():
            return peers.pair(self.db, normalized, name, address)

    def resolve_peer(self, text: str) -> peers.PeerRow:
        """A paired device by full ID, ID prefix (dashes optional) or name."""
        key = text.replace("-", "").upper()
        matches = [
            p
            for p in peers.list_peers(self.db)
            if p.device_id.replace("-", "").startswith(key) or p.name == text
        ]
        if len(matches) != 1:
            raise NotFoundError(
                f"No paired device matches {text!r}."
                if not matches
                else f"{text!r} matches several paired devices; give more of the ID."
            )
        return matches[0]

    def unpair(self, text: str) -> peers.PeerRow:
        peer = self.resolve_peer(text)
        with self.db.transaction():
            peers.unpair(self.db, peer.device_id)
        return peer

    def devices(self) -> list[peers.PeerRow]:
        return peers.list_peers(self.db)

    def status(self) -> list[PeerStatus]:
        return [
            PeerStatus(
                p.device_id,
                p.name,
                p.address,
                p.last_seen,
                peers.pending_updates(self.db, p.device_id, int(p.state.get("acked_upto", 0))),
                p.bytes_in,
                p.bytes_out,
            )
            for p in peers.list_peers(self.db)
        ]

    # -- Replica: reading ---------------------------------------------------------------------

    def check_doc_id(self, doc_id: str) -> None:
        if not _DOC_ID.match(doc_id):
            raise UnknownDocumentError(
                f"A peer named an unknown document {doc_id[:60]!r}; refused."
            )

    def doc_ids(self) -> list[str]:
        ids = crdt_log.doc_ids(self.db)
        # the library doc first: the receiver creates item rows before note bodies arrive
        return sorted(ids, key=lambda d: (d != LIBRARY_DOC_ID, d))

    def state_vector(self, doc_id: str) -> bytes:
        self.check_doc_id(doc_id)
        return self.docs.get(doc_id).state_vector()

    def diff(self, doc_id: str, state_vector: bytes) -> bytes:
        self.check_doc_id(doc_id)
        doc = self.docs.get(doc_id)
        try:
            return doc.encode_state(state_vector or None)
        except ValueError as exc:
            raise MalformedUpdateError("A peer sent a malformed state vector; refused.") from exc

    def last_change_id(self) -> int:
        return crdt_log.last_update_id(self.db)

    def changes_since(self, after_id: int, limit: int = 512) -> list[crdt_log.LoggedUpdate]:
        return crdt_log.updates_since(self.db, after_id, limit)

    def refresh(self) -> None:
        """Apply log entries written by other processes (e.g. `saem notes edit`) to cached docs."""
        newer = crdt_log.updates_since(self.db, self._seen, 10_000)
        for update in newer:
            doc = self.docs.peek(update.doc_id)
            if doc is not None:
                doc.apply_update(update.data)  # idempotent for updates it already has
        if newer:
            self._seen = newer[-1].id

    # -- Replica: writing ---------------------------------------------------------------------

    def apply(self, doc_id: str, update: bytes, origin: str = "remote") -> bool:
        return self.apply_batch([(doc_id, update)], origin) > 0

    def apply_batch(self, updates: Sequence[tuple[str, bytes]], origin: str) -> int:
        """Apply, persist and materialize remote updates in one transaction; returns how many
        brought something new (duplicates are dropped without being logged)."""
        for doc_id, _ in updates:
            self.check_doc_id(doc_id)
        touched = {d for d, _ in updates} | {LIBRARY_DOC_ID}
        novel = 0
        dirty_notes: set[str] = set()
        with self.docs.committing(*touched), self.db.transaction():
            library = self.docs.library()
            items_before: dict[str, Any] | None = None
            for doc_id, update in updates:
                is_library = doc_id == LIBRARY_DOC_ID
                doc = library if is_library else self.docs.get(doc_id)
                try:
                    news = get_update(update, doc.state_vector())
                    if news == _EMPTY_UPDATE:
                        continue
                    if is_library and items_before is None:
                        items_before = library.items.to_py()
                    doc.apply_update(update)
                    if pending.still_pending(doc, update):
                        if pending.logged_already(self.db, doc_id, update):
                            continue  # a repeat of an update still waiting for its history
                        pending.check_budget(self.db, doc_id, doc, len(update))
                except ValueError as exc:
                    raise MalformedUpdateError(
                        f"A peer sent an update for {doc_id} that cannot be decoded; "
                        "nothing was written."
                    ) from exc
                log_update(self.db, doc_id, update, origin)
                novel += 1
                if doc_id.startswith("note:"):
                    dirty_notes.add(doc_id.removeprefix("note:"))
            if origin.startswith("room:"):
                for note_id in dirty_notes:
                    items_before = items_before or library.items.to_py()
                    self._derive_note_meta(note_id)
            changed: set[str] = set()
            after: dict[str, Any] = {}
            if items_before is not None:
                # Which items changed: compare before/after AFTER the transaction (pycrdt
                # observers are not used: reading event keys panicked in yrs 0.28, and
                # reading a doc inside its observer is pycrdt-websocket#79).
                after = library.items.to_py() or {}
                changed = {
                    k
                    for k in after.keys() | items_before.keys()
                    if after.get(k) != items_before.get(k)
                }
            for item_id in sorted(changed | dirty_notes):
                entry = after[item_id] if item_id in after else library.get_item(item_id)
                self._materialize_item(item_id, entry)
            if changed:
                self.library.notes.resolve_pending_links()  # targets may have just arrived
        return novel

    def _derive_note_meta(self, note_id: str) -> None:
        """A y-websocket editor only changes the body: update title/tags as a local edit."""
        library = self.docs.library()
        entry = library.get_item(note_id)
        if entry is None or entry.get("kind") != "note":
            return
        body = self.docs.note(note_id).text
        parsed = parse_note(body, fallback_title=str(entry.get("title") or ""))
        update = library.put_item(note_id, {"title": parsed.title, "tags": parsed.tags})
        log_update(self.db, LIBRARY_DOC_ID, update, "local")

    def _materialize_item(self, item_id: str, entry: dict[str, Any] | None) -> None:
        if not entry or entry.get("kind") not in ("note", "photo"):
            return
        kind = entry["kind"]
        title = str(entry.get("title") or "")
        deleted = bool(entry.get("deleted"))
        tag_list = [str(t) for t in entry.get("tags") or [] if isinstance(t, str)]
        row = items.find_item(self.db, item_id)
        if row is None:
            if kind == "photo" and not self._insert_photo(item_id, entry):
                return
            if kind == "note":
                created = float(entry.get("created_at") or 0) or None
                items.insert_item(self.db, item_id, "note", title, created)
                notes.insert_note(self.db, item_id, self.docs.note(item_id).text)
            if deleted:
                items.update_item(self.db, item_id, deleted=True)
        else:
            if row.kind != kind:
                return
            if row.title != title or row.deleted != deleted:
                items.update_item(self.db, item_id, title=title, deleted=deleted)
        if deleted:
            peers.clear_derived(self.db, item_id)
        tags.set_tags(self.db, item_id, tag_list, source="user")
        if kind == "note":
            body = self.docs.note(item_id).text
            if notes.get_note(self.db, item_id).body != body:
                notes.set_body(self.db, item_id, body)
            links = self.library.notes._resolve_links(parse_note(body).links)
            tags.set_links(self.db, item_id, links)
        else:
            caption = str(entry.get("caption") or "")
            if photos.get_photo(self.db, item_id).meta.caption != caption:
                photos.set_caption(self.db, item_id, caption)
        if not deleted and (
            kind == "note"
            or self.library.store.blobs.has(photos.get_photo(self.db, item_id).meta.sha256)
        ):
            jobs.enqueue(self.db, INDEX_JOB, item_id)

    def _insert_photo(self, item_id: str, entry: dict[str, Any]) -> bool:
        sha = str(entry.get("sha256") or "")
        if not re.fullmatch(r"[0-9a-f]{64}", sha):
            log.warning("sync: photo %s has no valid sha256; not materialized", item_id)
            return False
        if photos.find_by_sha256(self.db, sha) is not None:
            # The same file imported on two devices under two ids: keep the first row only.
            log.warning("sync: photo %s duplicates an existing photo; not materialized", item_id)
            return False
        values: dict[str, Any] = {k: entry.get(k) for k in _PHOTO_FIELDS}
        values["size"] = int(values["size"] or 0)
        values["mime"] = str(values["mime"] or "application/octet-stream")
        values["caption"] = str(entry.get("caption") or "")
        meta = PhotoMeta(**values)
        created = float(entry.get("created_at") or 0) or None
        items.insert_item(self.db, item_id, "photo", str(entry.get("title") or ""), created)
        photos.insert_photo(self.db, item_id, meta)
        return True

    # -- blobs --------------------------------------------------------------------------------

    def wanted_blobs(self) -> list[str]:
        have = self.library.store.blobs.has
        return sorted(sha for sha in photos.all_sha256(self.db) if not have(sha))

    def blob_arrived(self, sha256: str) -> None:
        from core.photos.files import make_thumbnail

        row = photos.find_by_sha256(self.db, sha256)
        if row is None:
            return
        try:
            make_thumbnail(
                self.library.store.blobs.path(sha256), self.library.photos.thumb_path(sha256)
            )
        except Exception as exc:  # noqa: BLE001 - a bad image must not stop sync
            log.warning("sync: no thumbnail for %s: %s", sha256[:12], exc)
        with self.db.transaction():
            jobs.enqueue(self.db, INDEX_JOB, row.item_id)

    # -- peers bookkeeping --------------------------------------------------------------------

    def is_paired(self, device_id: str) -> bool:
        return peers.is_paired(self.db, device_id)

    def record_peer(
        self, device_id: str, bytes_in: int, bytes_out: int, address: str | None
    ) -> None:
        with self.db.transaction():
            peers.record_traffic(self.db, device_id, bytes_in, bytes_out, address)

    def peer_acked(self, device_id: str, upto_id: int) -> None:
        with self.db.transaction():
            peers.set_acked(self.db, device_id, upto_id)

    def room_allowed(self, doc_id: str) -> bool:
        if not doc_id.startswith("note:") or not _DOC_ID.match(doc_id):
            return False
        row = items.find_item(self.db, doc_id.removeprefix("note:"))
        return row is not None and row.kind == "note" and not row.deleted

    def peer_addresses(self) -> dict[str, str]:
        return {p.device_id: p.address for p in peers.list_peers(self.db) if p.address}

    # -- running ------------------------------------------------------------------------------

    def serve(
        self,
        *,
        host: str = "0.0.0.0",
        port: int = 22070,
        local_port: int | None = None,
        discover: bool = True,
        on_ready: Callable[[SyncServer], None] | None = None,
    ) -> None:
        """Run as a long-lived peer until cancelled (Ctrl+C)."""
        import asyncio

        from sync.node import SyncNode

        node = SyncNode(
            self,
            self.identity,
            host=host,
            port=port,
            local_port=local_port,
            local_token=self.local_token() if local_port is not None else None,
            discover=discover,
            addresses=self.peer_addresses,
            maintenance=self.compact,
        )

        async def run() -> None:  # direct peers and relays, side by side
            await asyncio.gather(node.run(on_ready), self.relay_tasks())

        asyncio.run(run())

    def sync_now(
        self,
        target: str,
        *,
        timeout: float = 300.0,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> SessionReport:
        """One sync round with a paired device (name, ID prefix or host:port)."""
        import asyncio

        from sync.client import run_peer

        expected: str | None = None
        if ":" in target:
            host, port = split_address(target)
        else:
            peer = self.resolve_peer(target)
            expected = peer.device_id
            if not peer.address:
                raise NoPeerAddressError(
                    f"No address known for {peer.name or peer.device_id[:7]}; use "
                    "`saem sync pair <ID> --address host:port` or `saem sync now host:port`."
                )
            host, port = split_address(peer.address)
        report = asyncio.run(
            run_peer(
                self,
                self.identity,
                host,
                port,
                expected_device=expected,
                timeout=timeout,
                progress=progress,
            )
        )
        if report.error:
            if report.pulled and report.pushed and not report.blobs_missing:
                # every document had moved both ways and was stored: the round did its work
                report.note = f"{report.error} after the round had finished"
            else:
                raise SyncIncompleteError(
                    f"Sync with {host}:{port} did not finish: {report.error}. "
                    f"{report.transferred()}",
                    report,
                )
        self.note_synced("peer", f"Synced with {report.device_id[:7]}: {report.transferred()}")
        return report

    # -- compaction ---------------------------------------------------------------------------

    def compact(self, min_updates: int = 32) -> CompactReport:
        """Replace each document's logged updates by one snapshot (see core.peers.compaction)."""
        return compact_logs(self.db, self.docs, min_updates)
