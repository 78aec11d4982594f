"""One-time invite codes: hand the library key to a device that never shares a LAN.

Scheme: a **long random code**, not a PAKE. The relay is a mailbox — the two devices need
not be online at the same time — so whatever the inviter leaves there must withstand an
*offline* guess by the server. A PAKE (SPAKE2, CPace) lets a short code resist only
*online* guessing, which needs both devices to run the exchange live, and no maintained
PAKE ships in ``cryptography``. A 128-bit code (26 base32 characters, typed or pasted
once) makes the stored invite as hard to open as the library key itself, works
store-and-forward, and is one-time: the inviter deletes it when the joiner's answer
arrives, and forgets it after 7 days.

The code text is ``<relay URL>#<26 characters>``. Invite room = HMAC(code, "room"); both
records in it are ChaCha20-Poly1305-sealed under HMAC(code, "aead"):

* the inviter's *offer*: library key, inviter device ID and name, relay URLs;
* the joiner's *answer*: its device ID and name (the inviter pairs it on its next sync).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from sync.errors import BadDeviceIdError, RelayKeyError
from sync.identity import normalize_device_id
from sync.relay.crypto import RelayKey
from sync.relay.room import RoomClient

CODE_BYTES = 16


@dataclass(frozen=True)
class Invite:
    url: str
    secret: bytes

    def code(self) -> str:
        raw = base64.b32encode(self.secret).decode().rstrip("=").lower()
        groups = "-".join(raw[i : i + 6] for i in range(0, len(raw), 6))
        return f"{self.url}#{groups}"

    @staticmethod
    def parse(text: str) -> Invite:
        url, sep, groups = text.strip().rpartition("#")
        compact = groups.replace("-", "").replace(" ", "").upper()
        try:
            secret = base64.b32decode(compact + "=" * (-len(compact) % 8))
        except ValueError as exc:
            raise RelayKeyError("That invite code has characters that cannot be in one.") from exc
        if not sep or not url.startswith(("ws://", "wss://")) or len(secret) != CODE_BYTES:
            raise RelayKeyError(
                "That is not a Saem invite code (expected wss://host/prefix#xxxxxx-xxxxxx-…)."
            )
        return Invite(url.rstrip("/"), secret)

    def _mac(self, label: str) -> bytes:
        return hmac.new(self.secret, label.encode(), hashlib.sha256).digest()

    @property
    def room_url(self) -> str:
        return f"{self.url}/invite-{self._mac('saem relay invite room')[:16].hex()}"

    def seal(self, kind: str, record: Mapping[str, object]) -> dict[str, object]:
        nonce = secrets.token_bytes(12)
        data = json.dumps(record).encode()
        aead = ChaCha20Poly1305(self._mac("saem relay invite aead"))
        return {"kind": kind, "nonce": nonce, "box": aead.encrypt(nonce, data, kind.encode())}

    def open(self, value: object) -> tuple[str, dict[str, object]] | None:
        if not isinstance(value, dict) or set(value) != {"kind", "nonce", "box"}:
            return None
        kind, nonce, box = value["kind"], value["nonce"], value["box"]
        if not isinstance(kind, str) or not isinstance(nonce, (bytes, bytearray)):
            return None
        if not isinstance(box, (bytes, bytearray)) or len(nonce) != 12:
            return None
        aead = ChaCha20Poly1305(self._mac("saem relay invite aead"))
        try:
            record = json.loads(aead.decrypt(bytes(nonce), bytes(box), kind.encode()))
        except (InvalidTag, ValueError):
            return None
        return (kind, record) if isinstance(record, dict) else None


@dataclass(frozen=True)
class Offer:
    key_text: str
    device_id: str
    name: str
    urls: list[str]


def new_invite(url: str) -> Invite:
    return Invite(url.rstrip("/"), secrets.token_bytes(CODE_BYTES))


async def post_invite(
    invite: Invite, key: RelayKey, device_id: str, name: str, urls: list[str]
) -> None:
    room = RoomClient(invite.room_url)
    try:
        await room.connect()
        record = {"key": key.text(), "device": device_id, "name": name, "urls": urls}
        await room.append([invite.seal("offer", record)])
        await room.flush()
    finally:
        await room.close()


async def accept_invite(invite: Invite, device_id: str, name: str) -> Offer:
    room = RoomClient(invite.room_url)
    try:
        await room.connect(expect_content=True)
        offer = None
        for value in room.take_inserted():
            opened = invite.open(value)
            if opened and opened[0] == "offer":
                offer = opened[1]
        if offer is None:
            raise RelayKeyError(
                "No invite was found for that code on the relay (expired, already used, or "
                "mistyped)."
            )
        await room.append([invite.seal("answer", {"device": device_id, "name": name})])
        await room.flush()
    finally:
        await room.close()
    urls = offer.get("urls")
    return Offer(
        str(offer.get("key", "")),
        normalize_device_id(str(offer.get("device", ""))),
        str(offer.get("name", "")),
        [str(u) for u in urls] if isinstance(urls, list) else [invite.url],
    )


async def collect_joins(invite: Invite) -> list[tuple[str, str]]:
    """Answers to this invite; when there is one, the invite room is emptied (one-time)."""
    room = RoomClient(invite.room_url)
    try:
        await room.connect(expect_content=True)
        joined: list[tuple[str, str]] = []
        for value in room.take_inserted():
            opened = invite.open(value)
            if opened and opened[0] == "answer":
                try:
                    device = normalize_device_id(str(opened[1].get("device", "")))
                except BadDeviceIdError:
                    continue
                joined.append((device, str(opened[1].get("name", ""))))
        if joined:
            await room.delete(list(range(len(room.entries))))
            await room.flush()
        return joined
    finally:
        await room.close()
