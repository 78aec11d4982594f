"""`Library.warm_up_search`: the app loads the search embedders in the background once a
library opens, so the first search does not pay the load (real packaged e5)."""

from __future__ import annotations

from pathlib import Path

from core.indexing.embedders import packaged_embedder
from core.library import Library
from storage import vectors as vector_store


def test_warm_up_loads_the_embedder_that_serves_search(library_path: Path) -> None:
    lib = Library(library_path)
    try:
        lib.notes.create("# Espresso\n\nWe pulled a double espresso shot this morning.")
        lib.notes.create("# 김치찌개\n\n묵은지를 넣고 김치찌개를 끓였다.")
        assert lib.indexer_with("e5").run().failed == 0  # `saem index --embedder e5`
    finally:
        lib.close()
    e5 = packaged_embedder("e5").model_id
    lib = Library(library_path)  # a new app session: nothing loaded yet
    try:
        assert vector_store.serving_model(lib.db) == e5
        assert "builtin:e5" not in lib.models.loaded().values()
        thread = lib.warm_up_search()
        thread.join(timeout=600)
        assert not thread.is_alive()
        assert "builtin:e5" in lib.models.loaded().values()
        with lib.models.lease_embedder(e5) as embedder:
            assert embedder is not None and embedder.is_loaded  # session + tokenizer in memory
        assert lib.search.search("커피", method="dense").embedders == [e5]
    finally:
        lib.close()
