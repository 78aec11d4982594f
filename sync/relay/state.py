"""What a device remembers about a relay room, what one round did, and small helpers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

ENTRY_BYTES = 512 * 1024  # plaintext per entry (a Yjs update per entry on the server)
MAX_REFUSED = 2_000  # fingerprints of refused elements remembered (not recorded twice)


@dataclass
class RelayState:
    """What this device remembers about one room (persisted by the store as JSON)."""

    room: str
    cursors: dict[str, int] = field(default_factory=dict)  # writer tag -> highest seq applied
    next_seq: int = 1
    written_seq: int = 0  # highest seq sent and flushed to the server
    content_seq: int = 0  # ... of those carrying content (updates, snapshot, blob)
    sent_upto: int = 0  # local log id whose updates are in the room
    started: bool = False  # the whole state was written once
    joined: bool = False  # the key came from another device: the room should have content
    blobs_sent: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # fingerprints, recorded once each
    last_sync: float | None = None
    last_error: str | None = None
    entries_in: int = 0
    entries_out: int = 0


@dataclass
class RelayReport:
    url: str
    entries_in: int = 0
    entries_out: int = 0
    updates_applied: int = 0
    blobs_in: int = 0
    blobs_out: int = 0
    refused: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    compacted: int = 0
    rewrote_state: bool = False
    error: str | None = None


def fingerprint(value: object) -> str:
    """A stable name for an array element (to record a refused one only once)."""
    canonical = sorted(value.items()) if isinstance(value, dict) else value
    return hashlib.sha256(repr(canonical).encode("utf-8", "replace")).hexdigest()[:24]


def batched(items: list[tuple[str, bytes]]) -> list[list[tuple[str, bytes]]]:
    batches: list[list[tuple[str, bytes]]] = []
    current: list[tuple[str, bytes]] = []
    size = 0
    for doc_id, data in items:
        if current and size + len(data) > ENTRY_BYTES:
            batches.append(current)
            current, size = [], 0
        current.append((doc_id, data))
        size += len(data) + len(doc_id) + 8
    if current:
        batches.append(current)
    return batches


def describe(report: RelayReport) -> str:
    """One sentence on what a round did (for the CLI and the status bar)."""
    parts = [
        f"{report.entries_in} entries read ({report.updates_applied} new updates applied)",
        f"{report.entries_out} written",
    ]
    if report.blobs_in or report.blobs_out:
        parts.append(f"{report.blobs_in} photos received, {report.blobs_out} sent")
    if report.refused:
        parts.append(f"{report.refused} refused (see `saem sync log`)")
    if report.compacted:
        parts.append(f"{report.compacted} compacted away")
    text = f"Relay {report.url}: " + ", ".join(parts)
    text += f"; {report.bytes_in:,} bytes in, {report.bytes_out:,} bytes out."
    if report.rewrote_state:
        text += " The room had lost entries of this device; its whole state was written again."
    return text
