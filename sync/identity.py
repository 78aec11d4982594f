"""This device's identity: a key pair, a certificate and the device ID derived from it.

The device ID is the SHA-256 of the certificate (DER), written like Syncthing's: base32
(no padding) with one Luhn mod-32 check character after each 13 characters, in 8 groups
of 7 separated by dashes, e.g. ``MFZWI3D-BONSGYC-…``. The check characters catch typos
when a user pairs a device by typing its ID.

Files (in ``<library>/sync/``): ``device.key`` (PKCS#8 PEM, mode 0600) and ``device.crt``.
The certificate is issued by the public "Saem device CA" (see :mod:`sync.tls` for why);
trust never comes from that CA but from the device ID the user paired.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from sync.errors import BadDeviceIdError

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CA_SEED = hashlib.sha256(b"saem device ca v1 - public on purpose, see sync/tls.py").digest()
_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _luhn32(chars: str) -> str:
    factor, total, n = 1, 0, 32
    for ch in chars:
        addend = factor * _ALPHABET.index(ch)
        factor = 1 if factor == 2 else 2
        addend = addend // n + addend % n
        total += addend
    return _ALPHABET[(n - total % n) % n]


def device_id_from_cert(cert_der: bytes) -> str:
    """Syncthing-style device ID of a DER certificate."""
    raw = base64.b32encode(hashlib.sha256(cert_der).digest()).decode().rstrip("=")  # 52
    blocks = [raw[i : i + 13] for i in range(0, 52, 13)]
    checked = "".join(b + _luhn32(b) for b in blocks)  # 56
    return "-".join(checked[i : i + 7] for i in range(0, 56, 7))


def normalize_device_id(text: str) -> str:
    """Parse a typed device ID (any case, dashes/spaces optional); raises BadDeviceIdError."""
    compact = "".join(ch for ch in text.upper() if ch not in "- \t")
    compact = compact.replace("0", "O").replace("1", "I").replace("8", "B")
    if len(compact) != 56 or any(ch not in _ALPHABET for ch in compact):
        raise BadDeviceIdError(
            f"{text!r} is not a device ID (expected 56 letters/digits in 8 groups of 7; "
            "copy it from `saem sync id` on the other device)."
        )
    for i in range(4):
        block = compact[i * 14 : i * 14 + 13]
        if _luhn32(block) != compact[i * 14 + 13]:
            raise BadDeviceIdError(f"{text!r} has a typo (its check characters do not match).")
    return "-".join(compact[i : i + 7] for i in range(0, 56, 7))


def short_id(device_id: str) -> str:
    return device_id[:7]


def _ca_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(_CA_SEED)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def ca_certificate_pem() -> bytes:
    """The Saem device CA certificate (deterministic: Ed25519 signatures are)."""
    key = _ca_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Saem device CA"))
        .issuer_name(_name("Saem device CA"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(_EPOCH)
        .not_valid_after(_EPOCH + dt.timedelta(days=365 * 100))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class DeviceIdentity:
    key_path: Path
    cert_path: Path
    cert_der: bytes
    device_id: str


def load_or_create_identity(folder: Path, name: str = "saem") -> DeviceIdentity:
    """The identity stored in ``folder``; created (key 0600) on first use."""
    folder.mkdir(parents=True, exist_ok=True)
    key_path = folder / "device.key"
    cert_path = folder / "device.crt"
    if not (key_path.is_file() and cert_path.is_file()):
        key = ed25519.Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = key_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, key_path)
        now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"saem {name}"))
            .issuer_name(_name("Saem device CA"))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=365 * 50))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(_ca_key(), None)
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(key_path, 0o600)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    der = cert.public_bytes(serialization.Encoding.DER)
    return DeviceIdentity(key_path, cert_path, der, device_id_from_cert(der))
