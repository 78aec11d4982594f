"""Typed sync errors, each with a sentence a user can read."""

from __future__ import annotations


class SyncError(Exception):
    """Base class of every error raised by the sync layer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


class UnknownDocumentError(SyncError):
    """An update or request names a document this library does not have or cannot hold."""


class MalformedUpdateError(SyncError):
    """The bytes of a CRDT update could not be decoded; nothing was written."""


class UnpairedDeviceError(SyncError):
    """A device that the user did not pair tried to connect (or we reached one)."""


class BadDeviceIdError(SyncError):
    """A device ID typed by the user is not well-formed."""


class PeerUnreachableError(SyncError):
    """The peer could not be reached or dropped the connection."""


class BlobTransferError(SyncError):
    """A photo blob arrived corrupted (wrong sha256) or could not be written."""


class LibraryMismatchError(SyncError):
    """A paired device presented a different library than the one it is bound to."""


class ProtocolError(SyncError):
    """A frame that is not a well-formed message."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"A peer sent a malformed sync message ({detail}); it was refused.")
        self.detail = detail


class TextFrameError(SyncError):
    """A peer sent a text WebSocket frame where only binary frames are valid."""


class PeerVersionError(SyncError):
    """The other device speaks another version of the peer protocol."""


class BadAddressError(SyncError):
    """A ``host:port`` typed by the user (or stored for a peer) is not well-formed."""


class NoPeerAddressError(SyncError):
    """A paired device has no known address to dial."""


class SyncServerError(SyncError):
    """The sync server could not start (no port bound, local listener without a token)."""


class RelayError(SyncError):
    """The relay (a stock Yjs server used as an encrypted mailbox) could not be used."""


class RelayUnreachableError(RelayError):
    """The relay server could not be reached or dropped the connection."""


class RelayKeyError(RelayError):
    """The library's relay key or a one-time invite code is missing, malformed or wrong."""


class RelayEntryError(RelayError):
    """An entry in the relay room was refused; nothing from it was written.

    ``kind`` names the reason for the sync log: ``relay-garbage`` (not an entry at all),
    ``relay-tampered`` (fails authentication: wrong key or changed bytes), ``relay-forged``
    (signature or certificate does not match the device it claims), ``relay-unpaired``
    (signed by a device this library did not pair), ``relay-replayed`` (an entry already
    applied, written again)."""

    kind = "relay-garbage"


class RelayTamperedError(RelayEntryError):
    kind = "relay-tampered"


class RelayForgedError(RelayEntryError):
    kind = "relay-forged"


class RelayUnpairedError(RelayEntryError):
    kind = "relay-unpaired"


class RelayReplayError(RelayEntryError):
    kind = "relay-replayed"


class SyncIncompleteError(PeerUnreachableError):
    """A sync round stopped before it finished; ``report`` says what had been transferred."""

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class PendingLimitError(SyncError):
    """A document holds more updates waiting for missing history than allowed; refused."""
