"""`items_version`, the wikilink title cache's token, moves on every kind of item change."""

from __future__ import annotations

from pathlib import Path

from storage import items
from storage.notes import items_version
from storage.store import Store


def test_items_version_moves_on_add_touch_and_delete(tmp_path: Path) -> None:
    store = Store(tmp_path / "lib")
    db = store.db
    seen = [items_version(db)]
    assert seen[0] == (0, 0.0)
    with db.transaction():
        items.insert_item(db, "a" * 26, "note", "first")
    seen.append(items_version(db))
    with db.transaction():
        items.insert_item(db, "b" * 26, "photo", "photo")
    seen.append(items_version(db))
    with db.transaction():
        items.update_item(db, "a" * 26, title="renamed")
    seen.append(items_version(db))
    with db.transaction():
        items.update_item(db, "b" * 26, deleted=True)
    seen.append(items_version(db))
    assert len(set(seen)) == len(seen), seen
    assert items_version(db) == seen[-1]  # stable while nothing changes
    store.close()
