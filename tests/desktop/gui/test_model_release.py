"""The window gives idle models back (issue 18, memory): after indexing, the status poll
releases the models no work is using, and search loads the embedder again when needed."""

from __future__ import annotations

import pytest

import desktop.gui.status_bar as status_bar

pytestmark = pytest.mark.gui


def test_status_poll_releases_idle_models(qtbot, window, library, settle, monkeypatch):
    library.notes.create("# 커피 일기\n\n아침마다 커피를 한 잔 마신다. 오늘은 라떼.")
    report = library.indexer.run()
    assert report.vectors > 0
    assert "text-embedding" in library.models.loaded()
    window.status.poll()
    settle(window)
    assert "text-embedding" in library.models.loaded()  # used a moment ago: kept
    monkeypatch.setattr(status_bar, "MODEL_IDLE_S", 0.0)
    window.status.poll()
    qtbot.waitUntil(lambda: library.models.loaded() == {}, timeout=10_000)
    hits = library.search.search("커피 한 잔").hits
    assert hits and "meaning" in hits[0].reasons
    assert window.presenter.history == []
