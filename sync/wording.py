"""Words for what a sync session did and why a connection ended (never an exception repr)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sync.session import SessionReport

CLOSE_INVALID = 1007  # close codes of sync sessions (re-exported by sync.session)
CLOSE_POLICY = 1008


def count_of(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def size_of(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def describe_close(exc: BaseException) -> str:
    """Why a connection ended, in words (never a bare exception repr)."""
    from websockets.exceptions import ConnectionClosed

    if isinstance(exc, ConnectionClosed):
        close = exc.rcvd
        if close is None:
            return (
                "the other device dropped the connection without closing it (it quit or "
                "crashed, or the network went away)"
            )
        reason = f": {close.reason}" if close.reason else ""
        if close.code in (1000, 1001):
            return f"the other device ended the session{reason}"
        if close.code in (CLOSE_INVALID, CLOSE_POLICY):
            return f"the other device refused this session{reason}"
        return f"the other device closed the connection (code {close.code}{reason})"
    if isinstance(exc, (ConnectionError, EOFError)):
        return f"the network connection failed ({type(exc).__name__})"
    return getattr(exc, "user_message", None) or f"an unexpected {type(exc).__name__}"


def describe_transfer(r: SessionReport) -> str:
    """What a peer session (a ``SessionReport``) moved, in words."""
    got = f"{count_of(r.updates_in, 'new update')} and {count_of(r.blobs_in, 'photo')}"
    sent = f"{count_of(r.docs_out, 'document')} and {count_of(r.updates_out, 'live update')}"
    return (
        f"Received {got}; sent {sent} ({size_of(r.bytes_in)} in, {size_of(r.bytes_out)} out)"
        + ("; every document had arrived" if r.pulled else "")
        + ("; the other device had stored everything sent" if r.pushed else "")
        + (f"; {count_of(r.blobs_missing, 'photo')} still to come" if r.blobs_missing else "")
        + "."
    )
