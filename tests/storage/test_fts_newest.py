"""`fts_match(newest=N)`: BM25 over the newest N matching chunks only; the same results as
the unbounded query when fewer chunks match."""

from __future__ import annotations

from pathlib import Path

from storage import chunks, items
from storage.chunks import NewChunk
from storage.store import Store


def test_newest_bounds_the_ranked_matches(tmp_path: Path) -> None:
    store = Store(tmp_path / "lib")
    db = store.db
    with db.transaction():
        for i in range(60):
            item = f"{i:026d}"
            items.insert_item(db, item, "note", f"n{i}")
            # older chunks mention "harbour" more often: they would win on BM25
            text = "harbour " * (5 if i < 30 else 1) + "filler " * i  # no two scores tie
            chunks.replace_item_chunks(db, item, [NewChunk("body", text, 0, len(text))])
    full = chunks.fts_match(db, "chunks_fts", '"harbour"', limit=10)
    same = chunks.fts_match(db, "chunks_fts", '"harbour"', limit=10, newest=60)
    assert same == full
    assert {int(r[1]) for r in full} < set(range(30))  # the old, dense chunks rank first
    bounded = chunks.fts_match(db, "chunks_fts", '"harbour"', limit=10, newest=20)
    newest_ids = sorted(r[0] for r in chunks.fts_match(db, "chunks_fts", '"harbour"', limit=100))
    assert {r[0] for r in bounded} <= set(newest_ids[-20:])
    assert len(bounded) == 10
    scores = [r[2] for r in bounded]
    assert scores == sorted(scores, reverse=True)
    tri = chunks.fts_match(db, "chunks_tri", '"arbou"', limit=5, newest=20)
    assert len(tri) == 5 and {r[0] for r in tri} <= set(newest_ids[-20:])
    store.close()
