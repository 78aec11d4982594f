"""`saem sync …` commands end to end (click runner; `serve` as a real subprocess)."""

from __future__ import annotations

from click.testing import CliRunner

from desktop.cli.main import cli
from tests.sync.conftest import ServeProcess


def _saem(library, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--library", str(library), "sync", *args])


def test_id_pair_devices_status_unpair(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    id_a = _saem(a, "id").output.strip()
    id_b = _saem(b, "id").output.strip()
    assert len(id_a.split("-")) == 8 and id_a != id_b
    assert _saem(a, "id").output.strip() == id_a  # stable
    result = _saem(a, "pair", id_b.lower(), "--name", "phone", "--address", "127.0.0.1:9")
    assert result.exit_code == 0 and "phone" in result.output
    assert id_b in _saem(a, "devices").output
    status = _saem(a, "status").output
    assert "phone" in status and "pending 0" in status and "last seen never" in status
    typo = _saem(a, "pair", id_b[:-1] + ("A" if id_b[-1] != "A" else "B"))
    assert typo.exit_code == 1 and "typo" in typo.output
    own = _saem(a, "pair", id_a)
    assert own.exit_code == 1 and "own ID" in own.output
    unreachable = _saem(a, "now", "phone", "--timeout", "5")
    assert unreachable.exit_code == 1 and "Cannot reach" in unreachable.output
    assert _saem(a, "unpair", "phone").exit_code == 0
    assert "No paired devices" in _saem(a, "devices").output


def test_now_syncs_with_a_serving_peer_and_reports(tmp_path, serve_processes):
    from core.library import Library

    a, b = tmp_path / "a", tmp_path / "b"
    id_a = _saem(a, "id").output.strip()
    id_b = _saem(b, "id").output.strip()
    _saem(a, "pair", id_b, "--name", "b")
    with Library(a) as lib:
        note = lib.notes.create("# 서버 노트\n")
    server = ServeProcess(a).start()
    serve_processes.append(server)
    refused = _saem(b, "now", f"127.0.0.1:{server.port}")
    assert refused.exit_code == 1 and "not paired" in refused.output  # b has not paired a
    _saem(b, "pair", id_a, "--name", "a", "--address", f"127.0.0.1:{server.port}")
    result = _saem(b, "now", "a")
    assert result.exit_code == 0, result.output
    assert "Synced with" in result.output
    with Library(b) as lib:
        assert lib.notes.get(note).title == "서버 노트"
    assert "last seen never" not in _saem(b, "status").output
    server.stop()
