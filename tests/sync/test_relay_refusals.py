"""Whatever else is written into the relay room is refused, recorded in the sync log and
changes nothing, while good entries keep being applied (stock server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from core.peers.service import SyncService
from sync.relay.crypto import RelayKey, Sealer
from sync.relay.payload import encode_updates
from sync.relay.room import RoomClient
from tests.sync.conftest import library_state, paired_libraries
from tests.sync.relay_support import RelayServer, relay_server_available

pytestmark = pytest.mark.skipif(
    not relay_server_available(), reason="run `make setup` (npm ci in tests/sync/js) first"
)


def _copy(element: dict[str, Any]) -> dict[str, Any]:
    """An element as read back, in the types it was written with (bytes, not bytearray)."""
    return {k: bytes(v) if isinstance(v, bytearray) else v for k, v in element.items()}


async def _room(url: str) -> RoomClient:
    room = RoomClient(url)
    await room.connect(expect_content=True)
    return room


def _kinds(service: SyncService) -> list[str]:
    return [row.kind for row in service.security_log(200)]


def test_garbage_tampered_replayed_forged_wrong_key_and_unpaired_entries_are_refused(tmp_path):
    relay = RelayServer(tmp_path / "relay-db").start()
    try:
        _run(tmp_path, relay)
    finally:
        relay.kill9()


def _run(tmp_path: Any, relay: RelayServer) -> None:
    a, b, x = paired_libraries(tmp_path, ["a", "b", "x"])
    sa, sb, sx = SyncService(a), SyncService(b), SyncService(x)
    sb.unpair(sx.device_id)  # x holds the key (and pairs a and b), but neither pairs x
    sa.unpair(sx.device_id)
    key = sa.relay_add(relay.url)
    sb.adopt_relay_key(key, [relay.url], "test")
    sx.adopt_relay_key(key, [relay.url], "test")
    note = a.notes.create("# Shared\n\nfirst\n")
    sa.relay_sync()
    sb.relay_sync()
    x.notes.create("# Planted by x\n\nb never paired x\n")
    sx.relay_sync()  # a genuine, signed entry from a device b did not pair
    room_url = f"{relay.url}/{key.room}"
    state_before = library_state(b)

    async def attack() -> None:
        room = await _room(room_url)
        real = [_copy(e) for e in room.snapshot() if isinstance(e, dict) and "ciphertext" in e]
        genuine = real[0]
        tampered = dict(genuine)
        flipped = bytearray(genuine["ciphertext"])
        flipped[len(flipped) // 2] ^= 0x01
        tampered["ciphertext"] = bytes(flipped)
        truncated = dict(genuine)
        truncated["ciphertext"] = bytes(genuine["ciphertext"][:40])
        # another key, written into this room under a plausible device tag
        other = Sealer(RelayKey.new(), sa.identity)
        wrong_key = other.seal(99, "updates", encode_updates([(f"note:{note}", b"\x00\x00")]))
        # x signs, but claims to be a (a's certificate inside, x's signature)
        impostor = replace(sx.identity, cert_der=sa.identity.cert_der, device_id=sa.device_id)
        forged = Sealer(key, impostor).seal(7, "updates", encode_updates([]))
        await room.append(
            [
                {"device": "nonsense"},  # not an entry
                {"device": 1, "seq": "x", "nonce": b"", "ciphertext": b""},
                tampered,
                truncated,
                wrong_key,
                forged,
                dict(genuine),  # replayed: an exact copy of an entry already there
                "just a string",  # type: ignore[list-item]
                [1, 2, 3],  # type: ignore[list-item]
            ]
        )
        await room.flush()
        await room.close()

    asyncio.run(attack())
    assert library_state(b) == state_before
    report = sb.relay_sync()[0]
    assert report.refused >= 8
    assert library_state(b) == state_before  # nothing from any of them was written
    assert "Planted by x" not in {r[0] for r in b.db.query("SELECT title FROM items")}
    kinds = _kinds(sb)
    for kind in (
        "relay-garbage",
        "relay-tampered",
        "relay-forged",
        "relay-unpaired",
        "relay-replayed",
    ):
        assert kind in kinds, (kind, kinds)

    # good entries keep flowing past the junk, both ways
    a.notes.edit(note, "# Shared\n\nfirst\nsecond from a\n")
    sa.relay_sync()
    sb.relay_sync()
    assert "second from a" in b.notes.get(note).body
    b.notes.edit(note, "# Shared\n\nfirst\nsecond from a\nthird from b\n")
    sb.relay_sync()
    sa.relay_sync()
    assert a.notes.get(note).body == b.notes.get(note).body
    assert b.db.integrity_check() == ["ok"]
    # junk is recorded once, not again at every sync
    recorded = [k for k in _kinds(sb) if k in ("relay-garbage", "relay-tampered", "relay-forged")]
    sb.relay_sync()
    again = [k for k in _kinds(sb) if k in ("relay-garbage", "relay-tampered", "relay-forged")]
    assert again == recorded


def test_a_replay_appended_while_a_device_is_live_is_refused(tmp_path):
    """An old entry written again while a device is connected is a replay too (it is not a
    duplicate within one read: the original may be gone). Entries keep flowing after it."""
    relay = RelayServer(tmp_path / "relay-db").start()
    try:
        a, b = paired_libraries(tmp_path, ["a", "b"])
        sa, sb = SyncService(a), SyncService(b)
        key = sa.relay_add(relay.url)
        sb.adopt_relay_key(key, [relay.url], "test")
        note = a.notes.create("# One\n\nx\n")
        sa.relay_sync()
        sb.relay_sync()
        asyncio.run(_replay_while_live(sa, sb, f"{relay.url}/{key.room}", note))
        assert "relay-replayed" in _kinds(sb)
        assert "from a while b was live" in b.notes.get(note).body
    finally:
        relay.kill9()


async def _replay_while_live(sa: SyncService, sb: SyncService, room_url: str, note: str) -> None:
    from tests.sync.conftest import until

    stop = asyncio.Event()
    live = asyncio.create_task(sb._engine(sb.relay_urls()[0]).run_live(stop))
    try:
        room = await _room(room_url)
        elements = room.snapshot()
        index = next(i for i, e in enumerate(elements) if isinstance(e, dict) and e["seq"] == 1)
        copy = _copy(elements[index])
        await room.delete([index])
        await room.append([copy])
        await room.flush()
        await room.close()
        await until(lambda: "relay-replayed" in _kinds(sb), timeout=30)
        sa.library.notes.edit(note, "# One\n\nx\nfrom a while b was live\n")
        await asyncio.to_thread(sa.relay_sync)
        await until(lambda: "while b was live" in sb.library.notes.get(note).body, timeout=30)
    finally:
        stop.set()
        await asyncio.wait_for(live, 30)


def test_a_device_paired_by_a_paired_device_is_trusted_and_unpairing_it_cuts_it_off(tmp_path):
    """b never paired c, but a (paired with b) did: a's signed ack vouches for c, as a
    direct peer forwards what it got from the devices it paired. When a unpairs c, c's new
    entries are refused."""
    relay = RelayServer(tmp_path / "relay-db").start()
    try:
        a, b, c = paired_libraries(tmp_path, ["a", "b", "c"])
        sa, sb, sc = SyncService(a), SyncService(b), SyncService(c)
        sb.unpair(sc.device_id)
        key = sa.relay_add(relay.url)
        for other in (sb, sc):
            other.adopt_relay_key(key, [relay.url], "test")
        first = c.notes.create("# From c\n\nintroduced by a\n")
        for service in (sc, sa, sb):
            service.relay_sync()
        assert b.notes.get(first).title == "From c"
        sa.unpair(sc.device_id)
        sa.relay_sync()  # a's new ack no longer names c
        second = c.notes.create("# Later from c\n\nafter a unpaired c\n")
        sc.relay_sync()
        sb.relay_sync()
        assert "Later from c" not in {r[0] for r in b.db.query("SELECT title FROM items")}
        assert second and "relay-unpaired" in _kinds(sb)
    finally:
        relay.kill9()


def test_an_undecodable_update_in_a_signed_entry_is_refused_alone(tmp_path):
    """A paired device's entry whose update cannot be decoded is recorded; the entries
    around it (applied together in one transaction normally) still apply."""
    import secrets

    from pycrdt import Doc, Text

    from storage import crdt_log

    relay = RelayServer(tmp_path / "relay-db").start()
    try:
        a, b = paired_libraries(tmp_path, ["a", "b"])
        sa, sb = SyncService(a), SyncService(b)
        key = sa.relay_add(relay.url)
        sb.adopt_relay_key(key, [relay.url], "test")
        sa.relay_sync()
        sb.relay_sync()

        def update(text: str) -> bytes:
            doc = Doc()
            doc.get("body", type=Text).insert(0, text)
            return doc.get_update()

        ids = [f"note:{secrets.token_hex(16)}" for _ in range(3)]
        sealer = Sealer(key, sa.identity)
        first = sa.relay_state(key.room).next_seq + 10
        entries = [
            sealer.seal(first, "updates", encode_updates([(ids[0], update("good one"))])),
            sealer.seal(first + 1, "updates", encode_updates([(ids[1], b"\xff\xfe\xfd")])),
            sealer.seal(first + 2, "updates", encode_updates([(ids[2], update("good two"))])),
        ]

        async def write() -> None:
            room = await _room(f"{relay.url}/{key.room}")
            await room.append(entries)
            await room.flush()
            await room.close()

        asyncio.run(write())
        sb.relay_sync()
        counts = [crdt_log.update_count(b.db, doc_id) for doc_id in ids]
        assert counts == [1, 0, 1]
        assert "relay-malformed" in _kinds(sb)
    finally:
        relay.kill9()
