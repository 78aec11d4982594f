"""Power loss in the middle of a write: a torn tail of the WAL is detected and ignored.

We keep every commit in the WAL (no checkpoint), copy the database + WAL as a crash would
leave them, cut the WAL at random byte offsets (a torn last write), and open the copy:
SQLite's WAL frame checksums must reject the torn frames, so the library opens, passes
`PRAGMA integrity_check`, and holds exactly a prefix of the committed CRDT updates.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

from storage import crdt_log
from storage.store import Store


def _write_updates(root: Path, count: int) -> list[bytes]:
    store = Store(root)
    store.db.execute("PRAGMA wal_autocheckpoint = 0")
    written = []
    for i in range(count):
        data = os.urandom(200 + i * 37 % 900)
        with store.db.transaction():
            crdt_log.append_update(store.db, f"note:{i % 3}", data)
        written.append(data)
    # copy while the connection is open: closing would checkpoint and remove the WAL
    shutil.copytree(root, root.with_name("crash-image"))
    store.close()
    return written


def test_torn_wal_tail_is_ignored(tmp_path: Path) -> None:
    written = _write_updates(tmp_path / "lib", 40)
    image = tmp_path / "crash-image"
    wal = image / "library.db-wal"
    full = wal.read_bytes()
    assert len(full) > 4096
    rng = random.Random(3)
    for cut in sorted({len(full) - 1, len(full) - 100, *rng.sample(range(32, len(full)), 15)}):
        trial = tmp_path / f"trial-{cut}"
        shutil.copytree(image, trial)
        (trial / "library.db-wal").write_bytes(full[:cut])
        store = Store(trial)
        assert store.db.integrity_check() == ["ok"]
        present = [u.data for u in crdt_log.updates_since(store.db, 0, limit=1000)]
        assert present == written[: len(present)], f"cut at {cut}: not a prefix"
        store.close()


def test_corrupted_last_frame_is_ignored(tmp_path: Path) -> None:
    written = _write_updates(tmp_path / "lib", 10)
    wal = tmp_path / "crash-image" / "library.db-wal"
    data = bytearray(wal.read_bytes())
    data[-50] ^= 0xFF  # garbage in the last frame (e.g. a sector that was never written)
    wal.write_bytes(bytes(data))
    store = Store(tmp_path / "crash-image")
    assert store.db.integrity_check() == ["ok"]
    present = [u.data for u in crdt_log.updates_since(store.db, 0, limit=100)]
    assert present == written[: len(present)] and len(present) == len(written) - 1
    store.close()
