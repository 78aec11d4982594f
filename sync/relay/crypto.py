"""The library key and sealed relay entries.

Key: 32 random bytes created once per library and handed to paired devices (over the
mutual-TLS peer session, or through a one-time invite code). Everything the relay sees is
derived from it with HMAC-SHA256 under distinct labels, so the server learns nothing it
could link to a library, a device certificate or another room:

* room name  = HMAC(key, "saem relay v1 room")[:16] (hex), the Yjs document name;
* device tag = HMAC(key, "saem relay v1 device" + device ID)[:8] (hex), the ``device`` field;
* AEAD key   = HMAC(key, "saem relay v1 aead").

An entry is sealed with ChaCha20-Poly1305 (a fresh random 96-bit nonce per entry; a library
writes far fewer than the 2^32 entries after which random nonces start to risk a collision)
with the associated data ``room | device tag | seq``, so moving an entry to another room or
changing its visible fields breaks authentication. Inside the ciphertext:
``kind, device ID, seq, the device certificate (DER), payload, Ed25519 signature`` — the
signature by the device key (the key of its TLS certificate, whose SHA-256 *is* its device
ID) over the associated data, kind and payload. So holding the library key lets a device
read the room, but an entry is applied only when it was signed by a device this library
paired (a stolen laptop is cut off by unpairing it, as for direct sync).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from sync.errors import (
    ProtocolError,
    RelayEntryError,
    RelayForgedError,
    RelayKeyError,
    RelayTamperedError,
)
from sync.identity import DeviceIdentity, device_id_from_cert
from sync.protocol import Decoder, write_var_bytes, write_var_string, write_varuint

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_PREFIX = "saemkey1-"
VERSION = 1
KINDS = ("updates", "snapshot", "blob", "ack", "want")
ENTRY_FIELDS = ("device", "seq", "nonce", "ciphertext")


@dataclass(frozen=True)
class RelayKey:
    secret: bytes

    @staticmethod
    def new() -> RelayKey:
        return RelayKey(secrets.token_bytes(KEY_BYTES))

    @staticmethod
    def parse(text: str) -> RelayKey:
        """The form printed by :meth:`text` (``saemkey1-<hex>``)."""
        raw = text.strip()
        if not raw.startswith(KEY_PREFIX):
            raise RelayKeyError("That is not a Saem relay key (it starts with 'saemkey1-').")
        try:
            secret = bytes.fromhex(raw.removeprefix(KEY_PREFIX))
        except ValueError as exc:
            raise RelayKeyError("The relay key has characters that are not hex digits.") from exc
        if len(secret) != KEY_BYTES:
            raise RelayKeyError(f"A relay key has {KEY_BYTES} bytes; this one {len(secret)}.")
        return RelayKey(secret)

    def text(self) -> str:
        return KEY_PREFIX + self.secret.hex()

    def _mac(self, label: str) -> bytes:
        return hmac.new(self.secret, label.encode("utf-8"), hashlib.sha256).digest()

    @property
    def room(self) -> str:
        return self._mac("saem relay v1 room")[:16].hex()

    @property
    def fingerprint(self) -> str:
        """A short public name for the key (shown to compare two devices' keys)."""
        return self._mac("saem relay v1 fingerprint")[:4].hex()

    def device_tag(self, device_id: str) -> str:
        return self._mac("saem relay v1 device" + device_id)[:8].hex()

    def aead(self) -> ChaCha20Poly1305:
        return ChaCha20Poly1305(self._mac("saem relay v1 aead"))


def load_key(path: Path) -> RelayKey | None:
    if not path.is_file():
        return None
    return RelayKey.parse(path.read_text())


def store_key(path: Path, key: RelayKey) -> None:
    """Write the key file (mode 0600, fsynced, atomically replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.text() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class Opened:
    """A verified entry: who wrote it (device ID, checked against its signature), what."""

    tag: str
    seq: int
    kind: str
    device_id: str
    payload: bytes


def _aad(room: str, tag: str, seq: int) -> bytes:
    return f"saem-relay-v{VERSION}|{room}|{tag}|{seq}".encode()


class Sealer:
    """Seals this device's entries and opens everyone's, for one key."""

    def __init__(self, key: RelayKey, identity: DeviceIdentity) -> None:
        self.key = key
        self.room = key.room
        self.identity = identity
        self.tag = key.device_tag(identity.device_id)
        self._aead = key.aead()
        pem = identity.key_path.read_bytes()
        private = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private, ed25519.Ed25519PrivateKey):
            raise RelayKeyError("This device's key is not an Ed25519 key.")
        self._private = private

    def seal(self, seq: int, kind: str, payload: bytes) -> dict[str, Any]:
        aad = _aad(self.room, self.tag, seq)
        signature = self._private.sign(aad + kind.encode() + b"\x00" + payload)
        inner = bytearray()
        write_varuint(inner, VERSION)
        write_var_string(inner, kind)
        write_var_string(inner, self.identity.device_id)
        write_varuint(inner, seq)
        write_var_bytes(inner, self.identity.cert_der)
        write_var_bytes(inner, payload)
        write_var_bytes(inner, signature)
        nonce = secrets.token_bytes(NONCE_BYTES)
        return {
            "device": self.tag,
            "seq": seq,
            "nonce": nonce,
            "ciphertext": self._aead.encrypt(nonce, bytes(inner), aad),
        }

    def open(self, entry: object) -> Opened:
        """Verify and decrypt one array element; raises a :class:`RelayEntryError` subclass."""
        tag, seq, nonce, ciphertext = outer_fields(entry)
        aad = _aad(self.room, tag, seq)
        try:
            inner = self._aead.decrypt(nonce, ciphertext, aad)
        except InvalidTag as exc:
            raise RelayTamperedError(
                f"Relay entry {tag}#{seq} failed authentication (written with another key, "
                "or changed after it was written); ignored."
            ) from exc
        try:
            dec = Decoder(inner)
            version = dec.varuint()
            kind = dec.var_string()
            device_id = dec.var_string()
            inner_seq = dec.varuint()
            cert_der = dec.var_bytes()
            payload = dec.var_bytes()
            signature = dec.var_bytes()
            dec.finish()
        except ProtocolError as exc:
            raise RelayForgedError(
                f"Relay entry {tag}#{seq} decrypts to a malformed record; ignored."
            ) from exc
        if version != VERSION or kind not in KINDS or inner_seq != seq:
            raise RelayForgedError(f"Relay entry {tag}#{seq} has an inconsistent header; ignored.")
        if device_id_from_cert(cert_der) != device_id or self.key.device_tag(device_id) != tag:
            raise RelayForgedError(
                f"Relay entry {tag}#{seq} claims device {device_id[:7]}… but carries another "
                "device's certificate; ignored."
            )
        try:
            public = x509.load_der_x509_certificate(cert_der).public_key()
            if not isinstance(public, ed25519.Ed25519PublicKey):
                raise RelayForgedError(f"Relay entry {tag}#{seq} is not signed with Ed25519.")
            public.verify(signature, aad + kind.encode() + b"\x00" + payload)
        except (InvalidSignature, ValueError) as exc:
            raise RelayForgedError(
                f"Relay entry {tag}#{seq} has a bad signature for device {device_id[:7]}…; ignored."
            ) from exc
        return Opened(tag, seq, kind, device_id, payload)


def outer_fields(entry: object) -> tuple[str, int, bytes, bytes]:
    """The visible fields of an array element, type-checked (RelayEntryError if not)."""
    if not isinstance(entry, dict) or set(entry) != set(ENTRY_FIELDS):
        raise RelayEntryError("An element of the relay room is not a Saem entry; ignored.")
    tag, seq, nonce, ciphertext = (entry[k] for k in ENTRY_FIELDS)
    if (
        not isinstance(tag, str)
        or len(tag) != 16
        or not isinstance(seq, (int, float))
        or seq != int(seq)
        or not 0 < int(seq) < 2**53
        or not isinstance(nonce, (bytes, bytearray))
        or len(nonce) != NONCE_BYTES
        or not isinstance(ciphertext, (bytes, bytearray))
        or len(ciphertext) < 16
    ):
        raise RelayEntryError("An element of the relay room has malformed fields; ignored.")
    return tag, int(seq), bytes(nonce), bytes(ciphertext)
