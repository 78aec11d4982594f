"""The y-sync wire protocol (as spoken by ``y-websocket``) and Saem's peer envelope.

Encoding is lib0's: unsigned varints (7 bits per byte, little endian, high bit = more),
``varUint8Array`` = varuint length + bytes, ``varString`` = varUint8Array of UTF-8.

y-websocket messages::

    messageSync (0)            varuint 0, then
        syncStep1 (0)          varuint 0, varUint8Array state vector
        syncStep2 (1)          varuint 1, varUint8Array update
        update    (2)          varuint 2, varUint8Array update
    messageAwareness (1)       varuint 1, varUint8Array awareness update
    messageAuth (2)            varuint 2, varuint 0 (permission denied), varString reason
    messageQueryAwareness (3)  varuint 3

The decoder is strict: a frame must be exactly one message (no trailing bytes), every
length prefix must fit in what is left of the frame and below :data:`MAX_FRAME`, varints
are at most 10 bytes (64 bits; yrs writes u64 client ids). Anything else raises
:class:`ProtocolError` — callers close the connection and write nothing.

The *peer envelope* multiplexes every document of a library over one connection between
two paired Saem devices (see :class:`Envelope`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from sync.errors import ProtocolError

MAX_FRAME: Final = 64 * 1024 * 1024  # largest frame we accept (a cold sync of a big note)
_MAX_VARINT_BYTES: Final = 10  # 64-bit values (yrs writes u64 client ids)

MESSAGE_SYNC: Final = 0
MESSAGE_AWARENESS: Final = 1
MESSAGE_AUTH: Final = 2
MESSAGE_QUERY_AWARENESS: Final = 3

SYNC_STEP1: Final = 0
SYNC_STEP2: Final = 1
SYNC_UPDATE: Final = 2


# -- lib0 encoding ---------------------------------------------------------------------------


def write_varuint(out: bytearray, value: int) -> None:
    if value < 0:
        raise ValueError("varuint must be >= 0")
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)


def write_var_bytes(out: bytearray, data: bytes) -> None:
    write_varuint(out, len(data))
    out += data


def write_var_string(out: bytearray, text: str) -> None:
    write_var_bytes(out, text.encode("utf-8"))


class Decoder:
    """Reads lib0 values from one frame, refusing anything that runs past its end."""

    def __init__(self, data: bytes) -> None:
        if len(data) > MAX_FRAME:
            raise ProtocolError(f"frame of {len(data):,} bytes is over the limit")
        self.data = memoryview(data)
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def varuint(self) -> int:
        value = 0
        shift = 0
        for _ in range(_MAX_VARINT_BYTES):
            if self.pos >= len(self.data):
                raise ProtocolError("truncated number")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise ProtocolError("number too long")

    def var_bytes(self) -> bytes:
        length = self.varuint()
        if length > self.remaining():
            raise ProtocolError(f"length prefix {length:,} runs past the end of the frame")
        chunk = bytes(self.data[self.pos : self.pos + length])
        self.pos += length
        return chunk

    def var_string(self) -> str:
        raw = self.var_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("text is not UTF-8") from exc

    def finish(self) -> None:
        if self.remaining():
            raise ProtocolError(f"{self.remaining()} unexpected trailing bytes")


# -- y-sync messages -------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncStep1:
    state_vector: bytes


@dataclass(frozen=True)
class SyncStep2:
    update: bytes


@dataclass(frozen=True)
class SyncUpdate:
    update: bytes


@dataclass(frozen=True)
class AwarenessMessage:
    """Raw awareness update (validated structurally, relayed as is, never persisted)."""

    payload: bytes


@dataclass(frozen=True)
class QueryAwareness:
    pass


@dataclass(frozen=True)
class AuthMessage:
    reason: str


YMessage = SyncStep1 | SyncStep2 | SyncUpdate | AwarenessMessage | QueryAwareness | AuthMessage


def encode_message(message: YMessage) -> bytes:
    out = bytearray()
    if isinstance(message, SyncStep1):
        write_varuint(out, MESSAGE_SYNC)
        write_varuint(out, SYNC_STEP1)
        write_var_bytes(out, message.state_vector)
    elif isinstance(message, SyncStep2):
        write_varuint(out, MESSAGE_SYNC)
        write_varuint(out, SYNC_STEP2)
        write_var_bytes(out, message.update)
    elif isinstance(message, SyncUpdate):
        write_varuint(out, MESSAGE_SYNC)
        write_varuint(out, SYNC_UPDATE)
        write_var_bytes(out, message.update)
    elif isinstance(message, AwarenessMessage):
        write_varuint(out, MESSAGE_AWARENESS)
        write_var_bytes(out, message.payload)
    elif isinstance(message, QueryAwareness):
        write_varuint(out, MESSAGE_QUERY_AWARENESS)
    else:
        write_varuint(out, MESSAGE_AUTH)
        write_varuint(out, 0)
        write_var_string(out, message.reason)
    return bytes(out)


def check_awareness(payload: bytes) -> None:
    """Validate an awareness update: count, then (client id, clock, JSON state) entries."""
    dec = Decoder(payload)
    count = dec.varuint()
    if count > 100_000:
        raise ProtocolError("too many awareness entries")
    for _ in range(count):
        dec.varuint()
        dec.varuint()
        state = dec.var_string()
        try:
            json.loads(state)
        except ValueError as exc:
            raise ProtocolError("awareness state is not JSON") from exc
    dec.finish()


def _read_message(dec: Decoder) -> YMessage:
    kind = dec.varuint()
    if kind == MESSAGE_SYNC:
        step = dec.varuint()
        payload = dec.var_bytes()
        if step == SYNC_STEP1:
            return SyncStep1(payload)
        if step == SYNC_STEP2:
            return SyncStep2(payload)
        if step == SYNC_UPDATE:
            return SyncUpdate(payload)
        raise ProtocolError(f"unknown sync step {step}")
    if kind == MESSAGE_AWARENESS:
        payload = dec.var_bytes()
        check_awareness(payload)
        return AwarenessMessage(payload)
    if kind == MESSAGE_QUERY_AWARENESS:
        return QueryAwareness()
    if kind == MESSAGE_AUTH:
        if dec.varuint() != 0:
            raise ProtocolError("unknown auth message")
        return AuthMessage(dec.var_string())
    raise ProtocolError(f"unknown message type {kind}")


def decode_message(frame: bytes) -> YMessage:
    """Decode exactly one y-websocket message; raises :class:`ProtocolError`."""
    if not isinstance(frame, (bytes, bytearray)):
        raise ProtocolError("text frame where a binary frame was expected")
    dec = Decoder(bytes(frame))
    message = _read_message(dec)
    dec.finish()
    return message


# -- peer envelope ---------------------------------------------------------------------------
#
# One binary frame = varuint kind, then:
#   DOC      (0): varString doc id, varUint8Array y-sync message (as above)
#   FLUSH    (1): varuint token  — "reply FLUSHED once you processed everything before this"
#   FLUSHED  (2): varuint token
#   BLOB_WANT(3): varString sha256 (64 hex), varuint offset (resume point)
#   BLOB_DATA(4): varString sha256, varuint offset, varuint total size, varUint8Array chunk
#   BLOB_NONE(5): varString sha256 — "I do not have it"
#   HELLO    (6): varuint version, varString library id (32 hex) — the first frame each way
#   RELAY_KEY(7): varString relay key ("saemkey1-…"), varuint n, n × varString relay URL —
#                 the library key for relay sync, handed to a paired device (version 2)

ENV_DOC: Final = 0
ENV_FLUSH: Final = 1
ENV_FLUSHED: Final = 2
ENV_BLOB_WANT: Final = 3
ENV_BLOB_DATA: Final = 4
ENV_BLOB_NONE: Final = 5
ENV_HELLO: Final = 6
ENV_RELAY_KEY: Final = 7
PEER_VERSION: Final = 2
MAX_RELAY_URLS: Final = 16

MAX_DOC_ID: Final = 200
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class DocFrame:
    doc_id: str
    message: YMessage


@dataclass(frozen=True)
class Flush:
    token: int


@dataclass(frozen=True)
class Flushed:
    token: int


@dataclass(frozen=True)
class BlobWant:
    sha256: str
    offset: int


@dataclass(frozen=True)
class BlobData:
    sha256: str
    offset: int
    total: int
    chunk: bytes


@dataclass(frozen=True)
class BlobNone:
    sha256: str


@dataclass(frozen=True)
class Hello:
    """Sent first by both sides of a peer connection, before any document data."""

    version: int
    library_id: str


@dataclass(frozen=True)
class RelayKeyOffer:
    """The library's relay key and relay URLs, sent over the mutual-TLS peer session."""

    key: str
    urls: tuple[str, ...]


Envelope = DocFrame | Flush | Flushed | BlobWant | BlobData | BlobNone | Hello | RelayKeyOffer


def _sha(dec: Decoder) -> str:
    sha = dec.var_string()
    if len(sha) != 64 or not set(sha) <= _HEX:
        raise ProtocolError("bad sha256")
    return sha


def encode_envelope(env: Envelope) -> bytes:
    out = bytearray()
    if isinstance(env, DocFrame):
        write_varuint(out, ENV_DOC)
        write_var_string(out, env.doc_id)
        write_var_bytes(out, encode_message(env.message))
    elif isinstance(env, Flush):
        write_varuint(out, ENV_FLUSH)
        write_varuint(out, env.token)
    elif isinstance(env, Flushed):
        write_varuint(out, ENV_FLUSHED)
        write_varuint(out, env.token)
    elif isinstance(env, BlobWant):
        write_varuint(out, ENV_BLOB_WANT)
        write_var_string(out, env.sha256)
        write_varuint(out, env.offset)
    elif isinstance(env, BlobData):
        write_varuint(out, ENV_BLOB_DATA)
        write_var_string(out, env.sha256)
        write_varuint(out, env.offset)
        write_varuint(out, env.total)
        write_var_bytes(out, env.chunk)
    elif isinstance(env, Hello):
        write_varuint(out, ENV_HELLO)
        write_varuint(out, env.version)
        write_var_string(out, env.library_id)
    elif isinstance(env, RelayKeyOffer):
        write_varuint(out, ENV_RELAY_KEY)
        write_var_string(out, env.key)
        write_varuint(out, len(env.urls))
        for url in env.urls:
            write_var_string(out, url)
    else:
        write_varuint(out, ENV_BLOB_NONE)
        write_var_string(out, env.sha256)
    return bytes(out)


def decode_envelope(frame: bytes) -> Envelope:
    """Decode one peer frame; raises :class:`ProtocolError`."""
    if not isinstance(frame, (bytes, bytearray)):
        raise ProtocolError("text frame where a binary frame was expected")
    dec = Decoder(bytes(frame))
    kind = dec.varuint()
    env: Envelope
    if kind == ENV_DOC:
        doc_id = dec.var_string()
        if not doc_id or len(doc_id) > MAX_DOC_ID:
            raise ProtocolError("bad document id")
        inner = Decoder(dec.var_bytes())
        message = _read_message(inner)
        inner.finish()
        env = DocFrame(doc_id, message)
    elif kind == ENV_FLUSH:
        env = Flush(dec.varuint())
    elif kind == ENV_FLUSHED:
        env = Flushed(dec.varuint())
    elif kind == ENV_BLOB_WANT:
        env = BlobWant(_sha(dec), dec.varuint())
    elif kind == ENV_BLOB_DATA:
        sha = _sha(dec)
        offset = dec.varuint()
        total = dec.varuint()
        chunk = dec.var_bytes()
        if offset + len(chunk) > total:
            raise ProtocolError("blob chunk past the announced size")
        env = BlobData(sha, offset, total, chunk)
    elif kind == ENV_BLOB_NONE:
        env = BlobNone(_sha(dec))
    elif kind == ENV_HELLO:
        version = dec.varuint()
        library_id = dec.var_string()
        if len(library_id) != 32 or not set(library_id) <= _HEX:
            raise ProtocolError("bad library id in hello")
        env = Hello(version, library_id)
    elif kind == ENV_RELAY_KEY:
        key = dec.var_string()
        count = dec.varuint()
        if len(key) > 200 or count > MAX_RELAY_URLS:
            raise ProtocolError("bad relay key offer")
        env = RelayKeyOffer(key, tuple(dec.var_string() for _ in range(count)))
    else:
        raise ProtocolError(f"unknown envelope type {kind}")
    dec.finish()
    return env
