"""The status bar during progressive embedding: searchable at once, and how far the background
upgrade to e5 is (real packaged models, a tiny library)."""

from __future__ import annotations

import pytest

from desktop.gui.status_bar import index_text, read_state

pytestmark = pytest.mark.gui


def test_status_bar_says_how_far_the_upgrade_is(library) -> None:
    for body in ("# 커피\n\n아침 커피 한 잔.", "# Tea\n\nGreen tea at noon.", "# 빵\n\n식빵 굽기."):
        library.notes.create(body)
    library.indexer_with("e5").run(upgrade=False)  # `saem index --embedder e5 --fast-only`
    state = read_state(library)
    assert (state.stage, state.meaning, index_text(state)) == ("idle", "", "Index up to date")
    library.indexer.run(limit=1)  # the upgrade has begun: one note has e5 vectors
    state = read_state(library)
    assert state.stage == "upgrading" and state.pending == 2
    assert state.meaning.startswith("meaning: e5 1 / 3 chunks (33%)")
    assert state.meaning.endswith("rest on USE-m3")
    assert index_text(state) == f"Index up to date · {state.meaning}"
    library.indexer.run()
    state = read_state(library)
    assert (state.stage, state.meaning, index_text(state)) == ("idle", "", "Index up to date")
