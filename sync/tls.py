"""Mutual TLS between Saem devices; trust is the paired device ID, not a CA.

Python's ``ssl`` module cannot accept "any certificate" while still *requesting* a client
certificate (there is no verify callback). So every device certificate is issued by the
*Saem device CA*, whose private key is public on purpose (derived from a constant in
:mod:`sync.identity`): anyone can make a certificate that passes the TLS layer, exactly
as with Syncthing's self-signed certificates. What TLS does give us is proof that the
other side holds the private key of the certificate it presented. After the handshake,
and before any document data is read or sent, each side hashes the peer's certificate
into its device ID and checks it against the paired list (:func:`peer_device_id`).
"""

from __future__ import annotations

import ssl

from sync.errors import UnpairedDeviceError
from sync.identity import DeviceIdentity, ca_certificate_pem, device_id_from_cert


def _context(purpose: int, identity: DeviceIdentity) -> ssl.SSLContext:
    ctx = ssl.SSLContext(purpose)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(identity.cert_path, identity.key_path)
    ctx.load_verify_locations(cadata=ca_certificate_pem().decode())
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def server_context(identity: DeviceIdentity) -> ssl.SSLContext:
    """Server side: requires a client certificate (mutual TLS)."""
    return _context(ssl.PROTOCOL_TLS_SERVER, identity)


def client_context(identity: DeviceIdentity) -> ssl.SSLContext:
    ctx = _context(ssl.PROTOCOL_TLS_CLIENT, identity)
    ctx.check_hostname = False  # devices have no host names; the device ID is checked
    return ctx


def peer_device_id(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str:
    """The device ID of the other end of a TLS connection."""
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise UnpairedDeviceError("The other device presented no certificate; refused.")
    return device_id_from_cert(der)
