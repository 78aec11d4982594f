"""y-sync encoding: round trips, agreement with pycrdt's encoder, strict refusal of bad frames."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text, create_sync_message, create_update_message

from sync.protocol import (
    MAX_FRAME,
    AwarenessMessage,
    BlobData,
    BlobNone,
    BlobWant,
    Decoder,
    DocFrame,
    Flush,
    Flushed,
    ProtocolError,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_envelope,
    decode_message,
    encode_envelope,
    encode_message,
    write_var_bytes,
    write_var_string,
    write_varuint,
)


def _doc(text: str) -> Doc:
    doc = Doc()
    doc.get("body", type=Text).insert(0, text)
    return doc


@given(st.integers(min_value=0, max_value=2**53 - 1))
def test_varuint_round_trip(value: int) -> None:
    out = bytearray()
    write_varuint(out, value)
    dec = Decoder(bytes(out))
    assert dec.varuint() == value
    dec.finish()


def test_messages_match_pycrdt_encoder() -> None:
    doc = _doc("안녕 hello")
    assert decode_message(create_sync_message(doc)) == SyncStep1(doc.get_state())
    update = doc.get_update()
    assert decode_message(create_update_message(update)) == SyncUpdate(update)
    assert encode_message(SyncUpdate(update)) == create_update_message(update)


@pytest.mark.parametrize(
    "message",
    [
        SyncStep1(b"\x00"),
        SyncStep2(b"\x00\x00"),
        SyncUpdate(b"abc"),
        QueryAwareness(),
        AwarenessMessage(b"\x01\x05\x02\x02{}"),
    ],
)
def test_message_round_trip(message: object) -> None:
    assert decode_message(encode_message(message)) == message  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "env",
    [
        DocFrame("note:" + "a" * 32, SyncUpdate(b"xyz")),
        Flush(7),
        Flushed(2**40),
        BlobWant("f" * 64, 123),
        BlobData("0" * 64, 10, 20, b"0123456789"),
        BlobNone("1" * 64),
    ],
)
def test_envelope_round_trip(env: object) -> None:
    assert decode_envelope(encode_envelope(env)) == env  # type: ignore[arg-type]


def _huge_prefix() -> bytes:
    out = bytearray([0, 2])
    write_varuint(out, 2**50)
    return bytes(out) + b"x"


BAD_MESSAGES = [
    b"",
    b"\x00",  # sync without step
    b"\x00\x00",  # step1 without payload
    b"\x00\x00\x05ab",  # truncated payload
    b"\x00\x07\x00",  # unknown step
    b"\x09",  # unknown message type
    _huge_prefix(),
    b"\x00\x02\x01x\x00",  # trailing byte
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",  # varint too long
    b"\x01\x03\x01\x01\x01",  # awareness truncated
    b"\x01\x06\x01\x01\x01\x02{x",  # awareness state not JSON
]


@pytest.mark.parametrize("frame", BAD_MESSAGES)
def test_bad_messages_raise_protocol_error(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_message(frame)


def test_bad_envelopes_raise_protocol_error() -> None:
    good = encode_envelope(DocFrame("library", SyncUpdate(b"u")))
    for cut in range(len(good)):
        with pytest.raises(ProtocolError):
            decode_envelope(good[:cut])
    out = bytearray([4])
    write_var_string(out, "a" * 64)
    write_varuint(out, 5)
    write_varuint(out, 6)
    write_var_bytes(out, b"xx")  # chunk past the announced total
    with pytest.raises(ProtocolError):
        decode_envelope(bytes(out))
    with pytest.raises(ProtocolError):
        decode_envelope(bytes([3]) + bytes([4]) + b"nope" + b"\x00")  # bad sha256
    with pytest.raises(ProtocolError):
        decode_envelope("text frame")  # type: ignore[arg-type]
    with pytest.raises(ProtocolError):
        Decoder(b"\x00" * (MAX_FRAME + 1))


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_garbage_never_crashes(frame: bytes) -> None:
    for decode in (decode_message, decode_envelope):
        try:
            decode(frame)
        except ProtocolError:
            pass
