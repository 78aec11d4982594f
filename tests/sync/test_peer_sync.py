"""Two and three peers over real mutual-TLS WebSockets on 127.0.0.1 (in one event loop)."""

from __future__ import annotations

import asyncio

import pytest

from core.peers.service import SyncService
from storage import crdt_log
from sync.client import run_peer
from sync.errors import UnpairedDeviceError
from sync.server import SyncServer
from sync.session import Hub
from tests.sync.conftest import library_state, paired_libraries, until


async def _serve(service: SyncService) -> SyncServer:
    server = SyncServer(service, service.identity, host="127.0.0.1", port=0)
    await server.start()
    return server


def test_one_round_syncs_both_ways_and_records_status(tmp_path):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    na = a.notes.create("# From A\n\n가나다 #a\n")
    nb = b.notes.create("# From B\n\nlinks to [[From A]]\n")

    async def main() -> None:
        server = await _serve(sa)
        try:
            report = await run_peer(sb, sb.identity, "127.0.0.1", server.port, timeout=30)
            assert report.error is None and report.pulled and report.pushed
            again = await run_peer(sb, sb.identity, "127.0.0.1", server.port, timeout=30)
            assert again.updates_in == 0 and again.updates_out == 0
        finally:
            await server.stop()

    asyncio.run(main())
    assert library_state(a) == library_state(b)
    assert b.notes.get(na).tags == ["a"] and a.notes.get(nb).links[0].dst_item_id == na
    status = sb.status()[0]
    assert status.pending == 0 and status.bytes_in > 0 and status.last_seen
    assert sa.status()[0].pending == 0


def test_live_session_forwards_edits_after_they_are_persisted(tmp_path):
    a, b, c = paired_libraries(tmp_path, ["a", "b", "c"])
    sa, sb, sc = SyncService(a), SyncService(b), SyncService(c)
    note = a.notes.create("start\n")

    async def main() -> None:
        server = await _serve(sa)
        hub_b, hub_c = Hub(sb), Hub(sc)
        live_b = asyncio.create_task(
            run_peer(
                sb, sb.identity, "127.0.0.1", server.port, one_round=False, timeout=None, hub=hub_b
            )
        )
        live_c = asyncio.create_task(
            run_peer(
                sc, sc.identity, "127.0.0.1", server.port, one_round=False, timeout=None, hub=hub_c
            )
        )
        try:
            await until(lambda: _body(c, note) == "start\n")
            b.notes.edit(note, "start\nfrom b\n")  # b → a (persisted) → c
            hub_b.notify()
            await until(lambda: _body(c, note) == "start\nfrom b\n")
            assert _body(a, note) == "start\nfrom b\n"
        finally:
            live_b.cancel()
            live_c.cancel()
            await asyncio.gather(live_b, live_c, return_exceptions=True)
            await server.stop()

    asyncio.run(main())
    assert library_state(a) == library_state(b) == library_state(c)


def test_photos_move_by_sha256_on_demand(tmp_path):
    from PIL import Image
    from skimage import data

    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    for name, image in [("coffee", data.coffee()), ("chelsea", data.chelsea())]:
        Image.fromarray(image).save(tmp_path / f"{name}.jpg", quality=90)
        a.photos.add(tmp_path / f"{name}.jpg")

    async def main() -> None:
        server = await _serve(sa)
        try:
            report = await run_peer(sb, sb.identity, "127.0.0.1", server.port, timeout=30)
            assert report.blobs_in == 2, report
        finally:
            await server.stop()

    asyncio.run(main())
    assert library_state(a) == library_state(b)
    for item in b.list_items("photo"):
        photo = b.photos.get(item.id)
        assert b.store.blobs.verify(photo.meta.sha256) and photo.thumb_path.is_file()


def test_client_refuses_a_server_with_another_device_id(tmp_path):
    a, b, c = paired_libraries(tmp_path, ["a", "b", "c"])
    sa, sb, sc = SyncService(a), SyncService(b), SyncService(c)
    b.notes.create("secret")

    async def main() -> None:
        server = await _serve(sa)
        try:
            with pytest.raises(UnpairedDeviceError):
                await run_peer(
                    sb, sb.identity, "127.0.0.1", server.port, expected_device=sc.device_id
                )
        finally:
            await server.stop()

    asyncio.run(main())
    assert a.list_items() == []


def _body(lib: object, note: str) -> str | None:
    row = lib.db.query_one("SELECT body FROM notes WHERE item_id = ?", (note,))  # type: ignore[attr-defined]
    return None if row is None else row[0]


def test_interrupted_photo_download_resumes_from_the_partial_file(tmp_path):
    from PIL import Image
    from skimage import data

    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    path = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)  # ~ 700 kB: several chunks
    photo_id, _ = a.photos.add(path)
    sha = a.photos.get(photo_id).meta.sha256
    blob = path.read_bytes()
    half = len(blob) // 2
    sb.blobs.write(sha, 0, len(blob), blob[:half])  # what a killed earlier transfer left

    async def main() -> int:
        server = await _serve(sa)
        try:
            report = await run_peer(sb, sb.identity, "127.0.0.1", server.port, timeout=30)
            assert report.blobs_in == 1 and report.error is None
            return report.bytes_in
        finally:
            await server.stop()

    received = asyncio.run(main())
    assert b.store.blobs.verify(sha)
    assert received < len(blob) - half + 50_000  # only the missing half travelled
    assert sb.blobs.partial(sha) == 0


def test_serving_node_compacts_the_log_now_and_then(tmp_path):
    from sync.node import SyncNode

    (a,) = paired_libraries(tmp_path, ["a"])
    sa = SyncService(a)
    note = a.notes.create("v")
    for i in range(40):
        a.notes.edit(note, f"v{i}")

    async def main() -> None:
        node = SyncNode(
            sa,
            sa.identity,
            host="127.0.0.1",
            port=0,
            discover=False,
            redial_seconds=0.05,
            maintenance=sa.compact,
            maintenance_seconds=0.1,
        )
        task = asyncio.create_task(node.run())
        await until(lambda: crdt_log.update_count(a.db) < 5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    a.docs.forget()
    assert a.notes.get(note).body == "v39" == a.docs.note(note).text


def test_device_removed_while_connected_is_cut_off(tmp_path):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    note = a.notes.create("start\n")

    async def main() -> None:
        server = await _serve(sa)
        hub_b = Hub(sb)
        live_b = asyncio.create_task(
            run_peer(
                sb, sb.identity, "127.0.0.1", server.port, one_round=False, timeout=None, hub=hub_b
            )
        )
        try:
            await until(lambda: _body(b, note) == "start\n")
            sa.unpair(sb.device_id)  # the user removes b on a while b is connected
            report = await asyncio.wait_for(live_b, 15)
            assert report.error  # b's session ended because a closed it
            b.notes.edit(note, "start\nafter removal\n")
            hub_b.notify()
            await asyncio.sleep(0.5)
            assert _body(a, note) == "start\n"  # nothing from b lands any more
            with pytest.raises(UnpairedDeviceError):  # and b cannot come back
                result = await run_peer(sb, sb.identity, "127.0.0.1", server.port, timeout=10)
                if result.error:
                    raise UnpairedDeviceError(result.error)
        finally:
            live_b.cancel()
            await asyncio.gather(live_b, return_exceptions=True)
            await server.stop()

    asyncio.run(main())
