"""The Devices dialog's relay section and the status bar's "which path synced last"."""

from __future__ import annotations

import pytest

from tests.sync.relay_support import RelayServer, relay_server_available

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not relay_server_available(), reason="run `make setup` (npm ci) first"),
]


def test_relay_section_adds_a_relay_syncs_and_creates_an_invite(qtbot, window, library, tmp_path):
    from desktop.gui.dialogs.dialogs import DevicesDialog
    from desktop.gui.status_bar import read_state

    relay = RelayServer(tmp_path / "relay-db").start()
    try:
        dialog = DevicesDialog(library, window.ops, window)
        qtbot.addWidget(dialog)
        dialog.open()
        section = dialog.relay
        qtbot.waitUntil(lambda: "No relay yet" in section.state.text(), timeout=20_000)
        section.url.setText("http://not-a-relay")
        section.add()
        qtbot.waitUntil(lambda: bool(section.message.text()), timeout=10_000)
        assert "Relay added" not in section.message.text()
        section.url.setText(relay.url)
        section.add()
        qtbot.waitUntil(lambda: relay.url in section.state.text(), timeout=20_000)
        section.sync_now()
        qtbot.waitUntil(lambda: "Last sync (relay)" in section.state.text(), timeout=30_000)
        section.invite()
        qtbot.waitUntil(lambda: section.code.text().startswith(relay.url + "#"), timeout=30_000)
        assert not section.qr.pixmap().isNull()
        dialog.close()
        assert "last via relay" in read_state(library).sync
    finally:
        relay.kill9()
