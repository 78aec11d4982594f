"""Transactions, typed errors for read-only and full disks, the blob store and the CRDT log."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from storage import crdt_log
from storage.blobs import BlobStore
from storage.db import Database
from storage.errors import (
    DiskFullError,
    LibraryBusyError,
    LibraryCorruptError,
    LibraryReadOnlyError,
    StorageError,
)
from storage.store import STALE_TEMP_SECONDS, Store


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    db.execute("CREATE TABLE t(x)")
    with pytest.raises(RuntimeError), db.transaction():
        db.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("boom")
    assert db.scalar("SELECT COUNT(*) FROM t") == 0


def test_nested_transaction_is_a_savepoint(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    db.execute("CREATE TABLE t(x)")
    with db.transaction():
        db.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ValueError), db.transaction():
            db.execute("INSERT INTO t VALUES (2)")
            raise ValueError
    assert [r[0] for r in db.query("SELECT x FROM t")] == [1]


def test_disk_full_is_a_clear_error_and_rolls_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "lib")
    db = store.db
    pages = db.scalar("PRAGMA page_count")
    db.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(DiskFullError), db.transaction():
        for i in range(2000):
            crdt_log.append_update(db, "note:x", os.urandom(2000), "local")
            assert i < 1999
    assert crdt_log.update_count(db) == 0
    assert db.integrity_check() == ["ok"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    Store(root).close()
    root.chmod(0o500)
    try:
        with pytest.raises(LibraryReadOnlyError):
            Store(root)
    finally:
        root.chmod(0o700)


def test_read_only_database_file_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    Store(root).close()
    ro = Database(root / "library.db", readonly=True)
    with pytest.raises(LibraryReadOnlyError), ro.transaction():
        ro.execute("INSERT INTO settings VALUES ('a', 'b')")
    assert ro.integrity_check() == ["ok"]


def test_a_file_that_is_not_a_database_is_corrupt(tmp_path: Path) -> None:
    bad = tmp_path / "library.db"
    bad.write_bytes(b"this is a text file, not SQLite" * 200)
    with pytest.raises(LibraryCorruptError):
        Database(bad).execute("SELECT * FROM sqlite_master")


def test_a_held_write_lock_is_busy(tmp_path: Path) -> None:
    first = Database(tmp_path / "x.db")
    first.execute("CREATE TABLE t(x)")
    second = Database(tmp_path / "x.db")
    second.execute("PRAGMA busy_timeout = 0")  # fail at once instead of after 10 s
    with first.transaction():
        first.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(LibraryBusyError), second.transaction():
            second.execute("INSERT INTO t VALUES (2)")
    assert first.scalar("SELECT COUNT(*) FROM t") == 1


def test_other_sqlite_errors_stay_plain_storage_errors(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    with pytest.raises(StorageError) as err:
        db.execute("SELECT * FROM no_such_table")
    assert type(err.value) is StorageError


def test_blob_store_is_content_addressed_and_atomic(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    data = b"photo bytes" * 1000
    sha = blobs.put_bytes(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert blobs.path(sha) == tmp_path / "blobs" / sha[:2] / sha
    assert blobs.verify(sha)
    assert blobs.put_bytes(data) == sha
    assert list(blobs.iter_hashes()) == [sha]
    assert blobs.temp_files() == []


def test_opening_removes_only_stale_temp_blobs(tmp_path: Path) -> None:
    """A crashed writer's temp file goes; one another process is writing right now stays."""
    root = tmp_path / "lib"
    Store(root).close()
    folder = root / "blobs" / "ab"
    folder.mkdir(parents=True)
    stale, in_flight = folder / ".tmp-crashed", folder / ".tmp-writing"
    stale.write_bytes(b"half a photo")
    in_flight.write_bytes(b"a photo being copied")
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    Store(root).close()
    assert not stale.exists()
    assert in_flight.read_bytes() == b"a photo being copied"


def test_crdt_snapshot_replaces_compacted_updates(tmp_path: Path) -> None:
    from sync.docs import NoteDoc

    store = Store(tmp_path / "lib")
    doc = NoteDoc()
    with store.db.transaction():
        for text in ("a", "ab", "abc 커피"):
            crdt_log.append_update(store.db, "note:1", doc.set_text(text))
    upto = crdt_log.last_update_id(store.db)
    with store.db.transaction():
        crdt_log.write_snapshot(store.db, "note:1", doc.encode_state(), upto)
    snapshot, covered = crdt_log.snapshot_of(store.db, "note:1")
    rest = [u.data for u in crdt_log.updates_after(store.db, "note:1", covered)]
    assert rest == []
    assert NoteDoc(snapshot, rest).text == "abc 커피"
