"""A stock JavaScript Yjs client (npm `yjs` + `y-websocket` + `ws`) edits a Saem note live."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.sync.conftest import JS_DIR, ServeProcess, node_available, wait_until

pytestmark = pytest.mark.skipif(not node_available(), reason="run `make setup` (npm ci) first")


def test_js_client_and_saem_edit_the_same_note(tmp_path, serve_processes):
    from core.library import Library
    from core.peers.service import SyncService

    path = tmp_path / "lib"
    lib = Library(path)
    note_id = lib.notes.create("# Shared\n\nstart\n")
    token = SyncService(lib).local_token()
    lib.close()

    server = ServeProcess(path, local=True).start()
    serve_processes.append(server)
    url = f"ws://127.0.0.1:{server.local_port}"
    js = subprocess.Popen(
        [
            "node",
            "edit_note.mjs",
            url,
            f"note:{note_id}",
            token,
            "from JS 한국어 #fromjs\n",
            "Saem says hi",
            "30000",
        ],
        cwd=JS_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert js.stdout is not None
        synced = json.loads(js.stdout.readline())
        assert synced == {"event": "synced", "body": "# Shared\n\nstart\n"}
        assert json.loads(js.stdout.readline())["event"] == "edited"

        # The JS edit is persisted and materialized by the serving process.
        with Library(path) as reader:
            body = wait_until(lambda: "from JS" in (b := reader.notes.get(note_id).body) and b)
            assert body == "# Shared\n\nstart\nfrom JS 한국어 #fromjs\n"
            assert wait_until(lambda: "fromjs" in reader.notes.get(note_id).tags)

        # A Saem edit (another process: this test) reaches the JS document.
        with Library(path) as editor:
            editor.notes.edit(note_id, body + "Saem says hi\n")
        seen = json.loads(js.stdout.readline())
        assert seen["event"] == "seen", seen
        assert seen["body"] == "# Shared\n\nstart\nfrom JS 한국어 #fromjs\nSaem says hi\n"
        assert js.wait(20) == 0
    finally:
        if js.poll() is None:
            js.kill()
    server.stop()
    with Library(path) as final:
        assert final.notes.get(note_id).body == seen["body"]
        assert final.db.integrity_check() == ["ok"]


def test_local_room_refuses_wrong_token_and_unknown_note(tmp_path, serve_processes):
    import asyncio

    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    from core.library import Library
    from core.peers.service import SyncService

    path = tmp_path / "lib"
    with Library(path) as lib:
        note_id = lib.notes.create("x")
        token = SyncService(lib).local_token()
    server = ServeProcess(path, local=True).start()
    serve_processes.append(server)

    async def status(url: str) -> int:
        try:
            async with connect(url, proxy=None):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    base = f"ws://127.0.0.1:{server.local_port}"
    assert asyncio.run(status(f"{base}/note:{note_id}?token=wrong")) == 401
    assert asyncio.run(status(f"{base}/note:{'0' * 32}?token={token}")) == 404
    assert asyncio.run(status(f"{base}/library?token={token}")) == 404
    assert asyncio.run(status(f"{base}/note:{note_id}?token={token}")) == 101
