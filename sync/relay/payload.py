"""What is inside a relay entry (after decryption), lib0-encoded like the sync protocol.

======== =================================================================================
kind     payload
======== =================================================================================
updates  CRDT updates: ``[(doc id, update bytes)]`` — what peer sync would send
snapshot one part of a compaction snapshot: snapshot id, part index, part count, the read
         cursors it covers ``{device tag: seq}``, ``[(doc id, encoded state)]``
blob     one chunk of a photo original: sha256, offset, total size, bytes
ack      the writer's read cursors ``{device tag: seq}``, when (unix seconds), and the
         device IDs it pairs (a device paired here vouches for those: see the engine)
want     photo originals the writer lacks: ``[sha256]`` (answered by whoever has them)
======== =================================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sync.errors import ProtocolError, RelayForgedError
from sync.protocol import Decoder, write_var_bytes, write_var_string, write_varuint

_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Snapshot:
    snap_id: str
    part: int
    parts: int
    covers: dict[str, int]
    docs: list[tuple[str, bytes]]


@dataclass(frozen=True)
class BlobChunk:
    sha256: str
    offset: int
    total: int
    chunk: bytes


@dataclass(frozen=True)
class Ack:
    cursors: dict[str, int]
    at: int
    paired: tuple[str, ...] = ()  # the device IDs the writer pairs (it vouches for them)


def _write_docs(out: bytearray, docs: list[tuple[str, bytes]]) -> None:
    write_varuint(out, len(docs))
    for doc_id, data in docs:
        write_var_string(out, doc_id)
        write_var_bytes(out, data)


def _read_docs(dec: Decoder) -> list[tuple[str, bytes]]:
    return [(dec.var_string(), dec.var_bytes()) for _ in range(dec.varuint())]


def _write_cursors(out: bytearray, cursors: dict[str, int]) -> None:
    write_varuint(out, len(cursors))
    for tag, seq in sorted(cursors.items()):
        write_var_string(out, tag)
        write_varuint(out, seq)


def _read_cursors(dec: Decoder) -> dict[str, int]:
    return {dec.var_string(): dec.varuint() for _ in range(dec.varuint())}


def encode_updates(updates: list[tuple[str, bytes]]) -> bytes:
    out = bytearray()
    _write_docs(out, updates)
    return bytes(out)


def encode_snapshot(snap: Snapshot) -> bytes:
    out = bytearray()
    write_var_string(out, snap.snap_id)
    write_varuint(out, snap.part)
    write_varuint(out, snap.parts)
    _write_cursors(out, snap.covers)
    _write_docs(out, snap.docs)
    return bytes(out)


def encode_blob(chunk: BlobChunk) -> bytes:
    out = bytearray()
    write_var_string(out, chunk.sha256)
    write_varuint(out, chunk.offset)
    write_varuint(out, chunk.total)
    write_var_bytes(out, chunk.chunk)
    return bytes(out)


def encode_ack(ack: Ack) -> bytes:
    out = bytearray()
    _write_cursors(out, ack.cursors)
    write_varuint(out, ack.at)
    write_varuint(out, len(ack.paired))
    for device in ack.paired:
        write_var_string(out, device)
    return bytes(out)


def encode_want(shas: list[str]) -> bytes:
    out = bytearray()
    write_varuint(out, len(shas))
    for sha in shas:
        write_var_string(out, sha)
    return bytes(out)


Decoded = list[tuple[str, bytes]] | Snapshot | BlobChunk | Ack | list[str]


def decode(kind: str, payload: bytes) -> Decoded:
    """Decode a verified payload; RelayForgedError if it is not well-formed."""
    try:
        dec = Decoder(payload)
        value: Decoded
        if kind == "updates":
            value = _read_docs(dec)
        elif kind == "snapshot":
            snap_id, part, parts = dec.var_string(), dec.varuint(), dec.varuint()
            value = Snapshot(snap_id, part, parts, _read_cursors(dec), _read_docs(dec))
            if not 0 <= part < parts:
                raise ProtocolError("snapshot part out of range")
        elif kind == "blob":
            value = BlobChunk(dec.var_string(), dec.varuint(), dec.varuint(), dec.var_bytes())
            if not _SHA.match(value.sha256) or value.offset + len(value.chunk) > value.total:
                raise ProtocolError("bad blob chunk header")
        elif kind == "ack":
            cursors, at = _read_cursors(dec), dec.varuint()
            value = Ack(cursors, at, tuple(dec.var_string() for _ in range(dec.varuint())))
        else:
            value = [dec.var_string() for _ in range(dec.varuint())]
            if not all(_SHA.match(s) for s in value):
                raise ProtocolError("bad sha256 in a want list")
        dec.finish()
    except ProtocolError as exc:
        raise RelayForgedError(f"A relay {kind} entry has a malformed payload; ignored.") from exc
    return value
