"""Filter-only searches ("tag:x", "before:2020") find matching items anywhere in a library,
not only among its newest 2,000 items."""

from __future__ import annotations

import time

from core.library import Library
from core.search.searcher import Searcher

OLD = time.mktime((2019, 3, 10, 12, 0, 0, 0, 0, -1))


def test_filter_only_queries_reach_old_items(library: Library) -> None:
    old = [
        library.notes.create(f"# Old {i}\n\nAn old note. #rare", created_at=OLD + i)
        for i in range(5)
    ]
    with library.db.transaction():
        for i in range(2_050):
            library.notes.create(f"# New {i}\n\nA recent note. #common")
    searcher = Searcher(library, dense=False)
    found = {h.item_id for h in searcher.search("tag:rare", limit=50).hits}
    assert found == set(old)
    found = {h.item_id for h in searcher.search("before:2020", limit=50).hits}
    assert found == set(old)
    found = {h.item_id for h in searcher.search("kind:note after:2019-03 before:2019-04").hits}
    assert found == set(old)
    assert searcher.search("before:2019-03", limit=50).hits == []
    recent = searcher.search("tag:common", limit=10).hits
    assert len(recent) == 10 and not {h.item_id for h in recent} & set(old)
