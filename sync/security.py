"""Every refusal is logged twice: a WARNING on the ``saem.sync.security`` logger and a durable
record through :meth:`Replica.security_event` (the ``sync_log`` table, ``saem sync log``).

Kinds of records (``kind`` column):

``tls``           a connection that did not complete mutual TLS 1.3 (replayed handshake, no or
                  foreign certificate, timeout, closed mid-handshake)
``unpaired``      TLS was fine but the device is not paired (HTTP 403 before the WebSocket)
``removed``       a device unpaired while connected was cut off
``library``       a paired device presented another library than the one it is bound to
``malformed``     a frame that is not a well-formed sync message, an unknown document, an
                  undecodable update (closed 1007/1008, nothing written)
``wrong-device``  we dialed an address and found another device than the one paired there
``token``         the local Yjs listener got a missing or wrong token
``room``          a room for a note this library does not have
``blob``          a photo chunk that failed its sha256 check
``bound``         (not a refusal) a paired device was bound to its library on first sync
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from sync.errors import (
    BlobTransferError,
    LibraryMismatchError,
    MalformedUpdateError,
    ProtocolError,
    SyncError,
    UnknownDocumentError,
    UnpairedDeviceError,
)

log = logging.getLogger("saem.sync.security")


class Auditor(Protocol):
    def security_event(
        self, kind: str, reason: str, device_id: str | None, address: str | None
    ) -> None: ...


def kind_of(exc: BaseException) -> str:
    if isinstance(exc, LibraryMismatchError):
        return "library"
    if isinstance(exc, UnpairedDeviceError):
        return "unpaired"
    if isinstance(exc, BlobTransferError):
        return "blob"
    if isinstance(exc, (MalformedUpdateError, UnknownDocumentError)):
        return "malformed"
    if isinstance(exc, ProtocolError):
        return "malformed"
    return "malformed" if isinstance(exc, SyncError) else "error"


def format_address(peer: Any) -> str | None:
    """``host:port`` of a socket address tuple (None when unknown)."""
    if isinstance(peer, (tuple, list)) and len(peer) >= 2:
        host = str(peer[0])
        return f"[{host}]:{peer[1]}" if ":" in host else f"{host}:{peer[1]}"
    return None


def audit(
    replica: Auditor,
    kind: str,
    reason: str,
    *,
    device_id: str | None = None,
    address: str | None = None,
    level: int = logging.WARNING,
) -> None:
    """Log a refusal and record it durably; a failing record never takes the server down."""
    who = " ".join(p for p in (device_id and f"device {device_id}", address) if p) or "unknown"
    log.log(level, "sync security: %s from %s: %s", kind, who, reason)
    try:
        replica.security_event(kind, reason, device_id, address)
    except Exception:  # the log must not turn a refusal into a crash
        log.exception("sync security: could not record the %s event durably", kind)
