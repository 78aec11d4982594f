"""The update captured for a local change: one transaction or several, never merge_updates
(which lost map entries under the convergence fuzz; README "Known limits" says it is unused)."""

from __future__ import annotations

import re
from pathlib import Path

from pycrdt import Doc, Map

from sync.docs import ITEMS, LibraryDoc

REPO = Path(__file__).resolve().parents[2]


def test_several_transactions_in_one_local_change_give_one_complete_update():
    lib = LibraryDoc()
    lib.put_item("a", {"kind": "note", "title": "first"})
    base = lib.encode_state()
    with lib._local_change() as capture:
        for i in range(5):  # five separate transactions inside one captured change
            with lib.doc.transaction():
                lib.items[f"n{i}"] = Map({"kind": "note", "title": f"t{i}", "tags": ["x"]})
        with lib.doc.transaction():
            lib.items["a"]["title"] = "renamed"
    replica = Doc()
    items = replica.get(ITEMS, type=Map)
    replica.apply_update(base)
    replica.apply_update(capture.update)
    assert items.to_py() == lib.items.to_py()
    assert len(items) == 6 and items["a"]["title"] == "renamed"


def test_no_code_uses_merge_updates_as_the_readme_says():
    pattern = re.compile(r"\bmerge_updates\s*\(|import[^\n]*\bmerge_updates\b")
    users = [
        str(path.relative_to(REPO))
        for folder in ("sync", "core", "storage", "desktop")
        for path in (REPO / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert users == []
    assert "`merge_updates`" in (REPO / "README.md").read_text(encoding="utf-8")
