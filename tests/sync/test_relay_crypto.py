"""Sealed relay entries, the library key and invite codes (no server needed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sync.errors import RelayEntryError, RelayForgedError, RelayKeyError, RelayTamperedError
from sync.identity import load_or_create_identity
from sync.relay import payload as P
from sync.relay.crypto import RelayKey, Sealer
from sync.relay.invite import Invite, new_invite


@pytest.fixture
def devices(tmp_path):
    return load_or_create_identity(tmp_path / "a"), load_or_create_identity(tmp_path / "b")


def test_a_sealed_entry_opens_for_any_key_holder_and_names_its_signer(devices):
    a, b = devices
    key = RelayKey.new()
    updates = [("note:" + "0" * 32, b"\x01\x02"), ("library", b"\x03")]
    entry = Sealer(key, a).seal(5, "updates", P.encode_updates(updates))
    assert set(entry) == {"device", "seq", "nonce", "ciphertext"}
    assert a.device_id.encode() not in entry["ciphertext"]
    opened = Sealer(key, b).open(entry)
    assert (opened.device_id, opened.seq, opened.kind) == (a.device_id, 5, "updates")
    assert P.decode("updates", opened.payload) == updates
    assert entry["device"] == key.device_tag(a.device_id) != key.device_tag(b.device_id)


def test_changed_moved_or_foreign_entries_are_refused(devices):
    a, b = devices
    key = RelayKey.new()
    entry = Sealer(key, a).seal(1, "ack", P.encode_ack(P.Ack({"x" * 16: 3}, 0)))
    reader = Sealer(key, b)
    flipped = bytearray(entry["ciphertext"])
    flipped[-1] ^= 1
    for changed in (
        {**entry, "ciphertext": bytes(flipped)},
        {**entry, "seq": 2},  # the visible fields are authenticated too
        {**entry, "device": key.device_tag(b.device_id)},
        Sealer(RelayKey.new(), a).seal(1, "ack", b""),  # another library's key
    ):
        with pytest.raises(RelayTamperedError):
            reader.open(changed)
    for garbage in (None, "text", [1], {"device": "x"}, {**entry, "nonce": b"short"}):
        with pytest.raises(RelayEntryError):
            reader.open(garbage)
    impostor = replace(b, cert_der=a.cert_der, device_id=a.device_id)  # b's key, a's cert
    with pytest.raises(RelayForgedError):
        reader.open(Sealer(key, impostor).seal(1, "updates", P.encode_updates([])))


def test_room_names_and_tags_depend_on_the_key_only():
    key = RelayKey.new()
    assert RelayKey.parse(key.text()) == key and len(key.room) == 32
    assert RelayKey.new().room != key.room
    for bad in ("", "saemkey1-zz", "saemkey1-" + "00" * 31, "other-" + "00" * 32):
        with pytest.raises(RelayKeyError):
            RelayKey.parse(bad)


def test_invite_codes_round_trip_and_reject_typos():
    invite = new_invite("wss://relay.example.org/saem/")
    parsed = Invite.parse(invite.code())
    assert parsed == invite and parsed.url == "wss://relay.example.org/saem"
    record = parsed.seal("offer", {"key": "k"})
    assert invite.open(record) == ("offer", {"key": "k"})
    assert new_invite(invite.url).open(record) is None  # another code cannot open it
    for bad in ("wss://x/y", "http://x#abcdef", invite.code()[:-3]):
        with pytest.raises(RelayKeyError):
            Invite.parse(bad)
