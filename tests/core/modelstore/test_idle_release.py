"""Idle models are released (issue 18, memory): `release_idle` unloads what no work is using,
services take their models from the manager on each use (so nothing keeps a released one
alive), and a released model loads again on the next use. Real packaged models (USE-m3, the
EfficientNet + NanoDet tagger); no test depends on how much time passes."""

from __future__ import annotations

import threading
from pathlib import Path

from core.indexing.indexer import Indexer
from core.library import Library
from tests.fixtures.vault import _photo

HOUR = 3600.0


def test_release_idle_unloads_only_what_is_idle(library: Library) -> None:
    models = library.models
    embedder = models.get("text-embedding")
    assert models.loaded() == {"text-embedding": "builtin:usem3"}
    assert models.release_idle(HOUR) == []  # used just now
    with models.lease("text-embedding") as leased:
        assert leased is embedder
        assert models.release_idle(0) == []  # in use: kept
    with models.busy():
        assert models.release_idle(0) == []  # an answer being written keeps everything
    assert models.release_idle(0) == ["text-embedding"]
    assert models.loaded() == {}
    again = models.get("text-embedding")  # loads again on the next use
    assert again is not embedder and again.embed_queries(["커피"]).shape == (1, 512)


def test_lease_embedder_finds_the_model_of_the_stored_vectors(library: Library) -> None:
    models = library.models
    model_id = models.get("text-embedding").model_id
    with models.lease_embedder(model_id) as embedder:
        assert embedder is not None and embedder.model_id == model_id
        assert models.release_idle(0) == []
    with models.lease_embedder("no-such-model-1") as missing:
        assert missing is None
    assert models.release_idle(0) == ["text-embedding"]


def test_indexer_and_search_keep_no_model_after_their_work(
    library: Library, tmp_path: Path
) -> None:
    library.notes.create("# 커피 일기\n\n아침마다 커피를 한 잔 마신다. 오늘은 라떼.")
    _photo(tmp_path / "p.jpg", (120, 80, 40))
    library.photos.add(tmp_path / "p.jpg")
    report = library.indexer.run()
    assert report.failed == 0 and report.vectors > 0, report.errors
    assert {"text-embedding", "image-tags"} <= set(library.models.loaded())
    assert set(library.models.release_idle(0)) >= {"text-embedding", "image-tags"}
    assert library.models.loaded() == {}
    hits = library.search.search("커피 한 잔").hits  # meaning search loads the embedder again
    assert hits and "meaning" in hits[0].reasons
    # the one whose vectors the library has: the default, USE-m3
    assert library.models.release_idle(0) == ["text-embedding"]
    library.notes.create("# 두 번째\n\n아메리카노")
    assert library.indexer.run().vectors > 0  # the indexer takes a fresh one from the manager


def test_release_waits_for_an_indexing_run(library: Library) -> None:
    """A release while the indexer works leaves its models alone (leased for the run)."""
    for i in range(3):
        library.notes.create(f"# note {i}\n\n커피 {i}")
    library.indexer_with("e5")  # progressive: the fast model, then the upgrade to e5
    released: list[list[str]] = []
    ready = threading.Event()

    def progress(done: int, total: int, stage: str) -> None:
        if done and not ready.is_set():
            ready.set()
            released.append(library.models.release_idle(0))  # mid-run, from another caller

    indexer = Indexer(library, batch_size=1)
    report = indexer.run(progress=progress)
    assert ready.is_set() and released == [[]]
    assert report.failed == 0 and report.vectors > 0
    # the run used the fast model, then e5 for the progressive upgrade: both from the manager
    assert sorted(library.models.release_idle(0)) == ["text-embedding", "text-embedding:e5"]


def test_library_release_idle_also_drops_the_place_table(library: Library) -> None:
    from core.photos import places

    seoul = places.place_name(37.5665, 126.9780)
    assert seoul is not None
    assert library.release_idle(HOUR) == []  # looked up just now
    assert "places" in library.release_idle(0)
    assert library.release_idle(0) == []  # nothing left to release
    assert places.place_name(37.5665, 126.9780) == seoul  # loads again on the next lookup
