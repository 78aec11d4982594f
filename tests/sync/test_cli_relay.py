"""`saem sync relay …` end to end (click runner) against the stock Yjs server on 127.0.0.1."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from desktop.cli.main import cli
from tests.sync.relay_support import RelayServer, relay_server_available

pytestmark = pytest.mark.skipif(
    not relay_server_available(), reason="run `make setup` (npm ci in tests/sync/js) first"
)


def _saem(library, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--library", str(library), "sync", *args])


def test_add_invite_join_now_status(tmp_path):
    from core.library import Library

    relay = RelayServer(tmp_path / "relay-db").start()
    try:
        a, b = tmp_path / "a", tmp_path / "b"
        assert "No relay configured" in _saem(a, "relay", "status").output
        bad = _saem(a, "relay", "add", "ftp://nope")
        assert bad.exit_code == 1
        added = _saem(a, "relay", "add", relay.url)
        assert added.exit_code == 0 and "library key" in added.output
        with Library(a) as lib:
            note = lib.notes.create("# 릴레이 노트\n\nthrough the relay\n")
        invite = _saem(a, "relay", "invite")
        assert invite.exit_code == 0, invite.output
        code = invite.output.splitlines()[0].strip()
        joined = _saem(b, "relay", "join", code, "--name", "desktop")
        assert joined.exit_code == 0 and "desktop" in joined.output
        now_a = _saem(a, "relay", "now")
        assert now_a.exit_code == 0 and "written" in now_a.output
        now_b = _saem(b, "relay", "now")
        assert now_b.exit_code == 0 and "new updates applied" in now_b.output
        with Library(b) as lib:
            assert lib.notes.get(note).title == "릴레이 노트"
        status = _saem(b, "relay", "status").output
        assert relay.url in status and "Last sync: relay" in status
        overall = _saem(b, "status").output
        assert f"relay {relay.url}" in overall and "Last sync (relay" in overall
        assert _saem(b, "relay", "remove", relay.url).exit_code == 0
        assert "No relay configured" in _saem(b, "relay", "status").output
    finally:
        relay.kill9()
