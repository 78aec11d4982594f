"""The relay half of :class:`core.peers.service.SyncService`: the library key, the relays this
library syncs through, the durable state the relay engine needs (``sync.relay.engine``),
one-time invite codes, and "which path synced last".

The key lives in ``<library>/sync/relay.key`` (mode 0600) next to the device key; it is
never stored in ``library.db`` (which exports and backups copy). Relay URLs and per-room
state live in the ``settings`` table (``storage.relay``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage import peers, photos
from storage import relay as relay_store
from sync.errors import RelayError, RelayKeyError
from sync.identity import DeviceIdentity
from sync.relay.crypto import RelayKey, Sealer, load_key, store_key
from sync.relay.engine import RelayEngine
from sync.relay.invite import Invite, accept_invite, collect_joins, new_invite, post_invite
from sync.relay.state import RelayReport, RelayState, describe

if TYPE_CHECKING:
    from core.library import Library
    from storage.db import Database

log = logging.getLogger("saem.sync.relay")

INVITE_SECONDS = 7 * 86_400.0


@dataclass(frozen=True)
class RelayStatus:
    url: str
    room: str
    key_fingerprint: str
    last_sync: float | None
    last_error: str | None
    entries_in: int
    entries_out: int
    pending_updates: int
    devices_seen: int


class RelayMixin:
    """Mixin for SyncService (needs ``db``, ``folder``, ``identity``, ``library`` and the
    Replica methods)."""

    db: Database
    folder: Path
    library: Library

    if TYPE_CHECKING:  # provided by SyncService (security_event forwards to its PeerSecurity)

        @property
        def identity(self) -> DeviceIdentity: ...

        def security_event(
            self, kind: str, reason: str, device_id: str | None, address: str | None
        ) -> None: ...

        def pair(
            self, device_id: str, name: str = "", address: str | None = None
        ) -> peers.PeerRow: ...

        def doc_ids(self) -> list[str]: ...

        def last_change_id(self) -> int: ...

        def apply_batch(self, updates: Sequence[tuple[str, bytes]], origin: str) -> int: ...

    # -- the key ------------------------------------------------------------------------------

    @property
    def _key_path(self) -> Path:
        return self.folder / "relay.key"

    def relay_key(self, *, create: bool = False) -> RelayKey | None:
        key = load_key(self._key_path)
        if key is None and create:
            key = RelayKey.new()
            store_key(self._key_path, key)
            log.info("relay: created the library key %s", key.fingerprint)
        return key

    def adopt_relay_key(self, key: RelayKey, urls: Sequence[str], source: str) -> bool:
        """Take the library key (and relay URLs) handed over by ``source``; True if adopted.
        A device that already has another key keeps it and records the conflict."""
        mine = self.relay_key()
        if mine is not None and mine != key:
            self.security_event(
                "relay-key",
                f"{source} offered relay key {key.fingerprint}, but this library uses "
                f"{mine.fingerprint}; kept this one (use `saem sync relay join` to switch).",
                None,
                None,
            )
            return False
        if mine is None:
            store_key(self._key_path, key)
            state = self.relay_state(key.room)
            state.joined = True  # wait for the server to load the room before reading it
            self.save_relay_state(state)
        with self.db.transaction():
            known = relay_store.relay_urls(self.db)
            merged = known + [u for u in urls if u not in known]
            if merged != known:
                relay_store.set_json(self.db, relay_store.URLS_KEY, merged)
        return mine is None or merged != known

    def relay_offer(self) -> tuple[str, list[str]] | None:
        """What a peer session hands a paired device: the key text and the relay URLs."""
        key = self.relay_key()
        return None if key is None else (key.text(), self.relay_urls())

    def relay_offered(self, device_id: str, key_text: str, urls: list[str]) -> None:
        try:
            key = RelayKey.parse(key_text)
        except RelayKeyError as exc:
            self.security_event("relay-key", exc.user_message, device_id, None)
            return
        self.adopt_relay_key(key, [u for u in urls if _valid_url(u)], f"Device {device_id[:7]}…")

    # -- relays -------------------------------------------------------------------------------

    def relay_urls(self) -> list[str]:
        return relay_store.relay_urls(self.db)

    def relay_add(self, url: str) -> RelayKey:
        """Sync through the Yjs server at ``url`` (``ws://`` or ``wss://``, any path prefix)."""
        url = url.strip().rstrip("/")
        if not _valid_url(url):
            raise RelayError(f"{url!r} is not a relay address; use wss://host[:port]/prefix.")
        key = self.relay_key(create=True)
        assert key is not None
        with self.db.transaction():
            urls = relay_store.relay_urls(self.db)
            if url not in urls:
                relay_store.set_json(self.db, relay_store.URLS_KEY, [*urls, url])
        return key

    def relay_remove(self, url: str) -> bool:
        with self.db.transaction():
            urls = relay_store.relay_urls(self.db)
            if url.rstrip("/") not in urls:
                return False
            relay_store.set_json(
                self.db, relay_store.URLS_KEY, [u for u in urls if u != url.rstrip("/")]
            )
        return True

    def relay_status(self) -> list[RelayStatus]:
        key = self.relay_key()
        if key is None:
            return []
        state = self.relay_state(key.room)
        pending = int(  # logged updates not written to the room yet (none came from it)
            self.db.scalar(
                "SELECT COUNT(*) FROM crdt_updates WHERE id > ?"
                " AND origin NOT LIKE 'relay:%' AND origin NOT LIKE 'snapshot:%'",
                (state.sent_upto if state.started else 0,),
            )
        )
        return [
            RelayStatus(
                url,
                key.room,
                key.fingerprint,
                state.last_sync,
                state.last_error,
                state.entries_in,
                state.entries_out,
                pending,
                len(state.cursors),
            )
            for url in self.relay_urls()
        ]

    def _engine(self, url: str, **options: Any) -> RelayEngine:
        key = self.relay_key()
        if key is None:
            raise RelayKeyError(
                "This library has no relay key yet: `saem sync relay add URL`, pair with a "
                "device that has one, or `saem sync relay join CODE`."
            )
        return RelayEngine(self, Sealer(key, self.identity), url, **options)  # type: ignore[arg-type]

    def relay_sync(self, url: str | None = None, **options: Any) -> list[RelayReport]:
        """One round with each relay (or ``url``): read and apply, write, compact if due."""
        urls = [url.rstrip("/")] if url else self.relay_urls()
        if not urls:
            raise RelayError("No relay configured: `saem sync relay add wss://host/prefix`.")
        reports = []
        for each in urls:
            self._collect_invite_joins(each)
            report = asyncio.run(self._engine(each, **options).sync_once())
            self.note_synced("relay", describe(report))
            reports.append(report)
        return reports

    def relay_run(self, stop: asyncio.Event | None = None) -> None:
        """Stay connected to every relay until cancelled (Ctrl+C)."""
        asyncio.run(self.relay_tasks(stop))

    async def relay_tasks(self, stop: asyncio.Event | None = None) -> None:
        """Live relay sessions for every configured relay (none without a key or a relay)."""
        if self.relay_key() is None or not self.relay_urls():
            return
        engines = [self._engine(url) for url in self.relay_urls()]
        await asyncio.gather(*(engine.run_live(stop) for engine in engines))

    def relay_compact(self, url: str | None = None) -> int:
        """Force a compaction of the room now (snapshot + delete what everyone read)."""

        async def run(engine: RelayEngine) -> int:
            from sync.relay.room import RoomClient

            room = RoomClient(engine.url)
            engine._new_connection()
            try:
                await room.connect(expect_content=engine._expect())
                await engine._read(room, initial=True)
                await engine._write(room)
                return await engine.compact(room)
            finally:
                await engine._finish(room)

        urls = [url] if url else self.relay_urls()
        return sum(asyncio.run(run(self._engine(u, compact_above=0))) for u in urls)

    # -- RelayStore ---------------------------------------------------------------------------

    def relay_state(self, room: str) -> RelayState:
        raw = relay_store.room_state(self.db, room)
        fields = {f.name for f in dataclasses.fields(RelayState)}
        state = RelayState(room=room)
        for name, value in raw.items():
            if name in fields and name != "room":
                setattr(state, name, value)
        state.cursors = {str(k): int(v) for k, v in dict(state.cursors).items()}
        return state

    def save_relay_state(self, state: RelayState) -> None:
        with self.db.transaction():
            relay_store.set_room_state(self.db, state.room, dataclasses.asdict(state))

    def apply_relay(
        self, updates: Sequence[tuple[str, bytes]], origin: str, state: RelayState
    ) -> int:
        """Apply through the peer-sync path and move the cursor in the same transaction."""
        with self.db.transaction():
            novel = self.apply_batch(updates, origin)
            relay_store.set_room_state(self.db, state.room, dataclasses.asdict(state))
        return int(novel)

    def docs_not_from_relay(self) -> list[str]:
        """Documents with content that did not come from a relay room (what a library
        writes the first time it meets a room)."""
        rows = self.db.query(
            "SELECT DISTINCT doc_id FROM crdt_updates"
            " WHERE origin NOT LIKE 'relay:%' AND origin NOT LIKE 'snapshot:%'"
            " UNION SELECT doc_id FROM crdt_snapshots ORDER BY 1"
        )
        ids = {r[0] for r in rows}
        return [d for d in self.doc_ids() if d in ids]

    def paired_devices(self) -> list[str]:
        return [p.device_id for p in peers.list_peers(self.db)]

    def local_blobs(self) -> list[str]:
        have = self.library.store.blobs.has
        return sorted(sha for sha in photos.all_sha256(self.db) if have(sha))

    # -- which path synced last -----------------------------------------------------------------

    def note_synced(self, path: str, what: str) -> None:
        with self.db.transaction():
            relay_store.set_json(
                self.db, relay_store.LAST_KEY, {"path": path, "at": time.time(), "what": what}
            )

    def last_synced(self) -> dict[str, Any] | None:
        """``{"path": "relay"|"peer", "at": unix time, "what": sentence}`` or None."""
        value = relay_store.get_json(self.db, relay_store.LAST_KEY, None)
        return value if isinstance(value, dict) else None

    # -- one-time invite codes --------------------------------------------------------------------

    def relay_invite(self, url: str | None = None) -> str:
        """Post an invite into the relay and return the one-time code to type on the new device."""
        urls = [url] if url else self.relay_urls()
        if not urls:
            raise RelayError("Add a relay first: `saem sync relay add wss://host/prefix`.")
        key = self.relay_key(create=True)
        assert key is not None
        invite = new_invite(urls[0])
        name = self.library.root.name
        asyncio.run(post_invite(invite, key, self.identity.device_id, name, self.relay_urls()))
        with self.db.transaction():
            pending = relay_store.get_json(self.db, relay_store.INVITES_KEY, [])
            pending = [p for p in pending if p.get("expires", 0) > time.time()]
            pending.append({"code": invite.code(), "expires": time.time() + INVITE_SECONDS})
            relay_store.set_json(self.db, relay_store.INVITES_KEY, pending)
        return invite.code()

    def relay_join(self, code: str, inviter_name: str = "") -> peers.PeerRow:
        """Use a code from `saem sync relay invite` on another device: adopt its library key
        and relays, pair that device, and tell it this device's ID (it pairs us on its next
        relay sync)."""
        invite = Invite.parse(code)
        offer = asyncio.run(accept_invite(invite, self.identity.device_id, self.library.root.name))
        key = RelayKey.parse(offer.key_text)
        mine = self.relay_key()
        if mine is not None and mine != key:
            self._key_path.unlink()  # joining means: this library now uses that key
        self.adopt_relay_key(key, offer.urls, "The invite")
        return self.pair(offer.device_id, name=inviter_name or offer.name)

    def _collect_invite_joins(self, url: str) -> None:
        pending = relay_store.get_json(self.db, relay_store.INVITES_KEY, [])
        if not pending:
            return
        left = []
        for item in pending:
            if item.get("expires", 0) <= time.time():
                continue
            invite = Invite.parse(item["code"])
            if invite.url != url:
                left.append(item)
                continue
            try:
                joined = asyncio.run(collect_joins(invite))
            except RelayError as exc:
                log.warning("relay: invite not checked: %s", exc)
                left.append(item)
                continue
            for device_id, name in joined:
                self.pair(device_id, name=name)
                log.info("relay: paired %s through a one-time invite", device_id[:7])
            if not joined:
                left.append(item)
        with self.db.transaction():
            relay_store.set_json(self.db, relay_store.INVITES_KEY, left)


def _valid_url(url: str) -> bool:
    return isinstance(url, str) and url.startswith(("ws://", "wss://")) and len(url) > 7


def format_status(status: RelayStatus) -> str:
    when = (
        "never"
        if status.last_sync is None
        else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status.last_sync))
    )
    text = (
        f"{status.url}  key {status.key_fingerprint}  last sync {when}  "
        f"read {status.entries_in}  written {status.entries_out}  "
        f"pending {status.pending_updates}  devices {status.devices_seen}"
    )
    if status.last_error:
        text += f"\n  last error: {status.last_error}"
    return text


__all__ = ["RelayMixin", "RelayStatus", "describe", "format_status"]
