"""Device identity: key file mode, stable IDs, typo detection, mutual TLS on loopback."""

from __future__ import annotations

import socket
import ssl
import stat
import threading

import pytest

from sync.errors import BadDeviceIdError, UnpairedDeviceError
from sync.identity import load_or_create_identity, normalize_device_id
from sync.tls import client_context, peer_device_id, server_context


def test_identity_is_created_once_with_private_key_0600(tmp_path):
    first = load_or_create_identity(tmp_path)
    assert stat.S_IMODE(first.key_path.stat().st_mode) == 0o600
    again = load_or_create_identity(tmp_path)
    assert again.device_id == first.device_id
    groups = first.device_id.split("-")
    assert len(groups) == 8 and all(len(g) == 7 for g in groups)


def test_device_id_parsing_accepts_loose_forms_and_catches_typos(tmp_path):
    device_id = load_or_create_identity(tmp_path).device_id
    assert normalize_device_id(device_id.lower().replace("-", " ")) == device_id
    typo = device_id[:-1] + ("A" if device_id[-1] != "A" else "B")
    with pytest.raises(BadDeviceIdError):
        normalize_device_id(typo)
    with pytest.raises(BadDeviceIdError):
        normalize_device_id("hello")


def test_mutual_tls_reveals_both_device_ids(tmp_path):
    a = load_or_create_identity(tmp_path / "a")
    b = load_or_create_identity(tmp_path / "b")
    listener = socket.create_server(("127.0.0.1", 0))
    seen: dict[str, str] = {}

    def serve() -> None:
        conn, _ = listener.accept()
        with server_context(a).wrap_socket(conn, server_side=True) as tls:
            seen["server"] = peer_device_id(tls)
            tls.sendall(b"k")

    thread = threading.Thread(target=serve)
    thread.start()
    raw = socket.create_connection(listener.getsockname())
    with client_context(b).wrap_socket(raw) as tls:
        assert peer_device_id(tls) == a.device_id
        tls.recv(1)
    thread.join(10)
    assert seen["server"] == b.device_id


def test_server_requires_a_client_certificate(tmp_path):
    a = load_or_create_identity(tmp_path / "a")
    listener = socket.create_server(("127.0.0.1", 0))
    errors: list[Exception] = []

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            server_context(a).wrap_socket(conn, server_side=True).recv(1)
        except (ssl.SSLError, OSError) as exc:
            errors.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    anonymous = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    anonymous.check_hostname = False
    anonymous.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(listener.getsockname())
    with pytest.raises((ssl.SSLError, OSError)), anonymous.wrap_socket(raw) as tls:
        tls.sendall(b"x")
        tls.recv(1)
    thread.join(10)
    assert errors
    with pytest.raises(UnpairedDeviceError):
        peer_device_id(None)
