"""EventLog on a real temporary library: sessions, validation, pruning, settings, panel CTR."""

from __future__ import annotations

import pytest

from core.errors import BadInputError, MalformedInputError, UnknownNameError
from core.events import SESSION_GAP, EventLog
from storage.errors import NotFoundError

T0 = 1_700_000_000.0


@pytest.fixture
def log(library):
    return EventLog(library)


def test_sessions_split_on_inactivity(library, log):
    a = library.notes.create("alpha", title="a")
    b = library.notes.create("beta", title="b")
    log.record("open", a, ts=T0)
    log.record("open", b, ts=T0 + 60)
    log.record("search", query="커피", ts=T0 + 120)
    log.record("open", a, ts=T0 + 120 + SESSION_GAP + 1)
    events = log.events()
    assert [e.kind for e in events] == ["open", "open", "search", "open"]
    assert events[0].session_id == events[1].session_id == events[2].session_id
    assert events[3].session_id != events[0].session_id
    assert len(log.session_events(events[0].session_id)) == 3
    assert log.current_session(now=T0 + 130 + SESSION_GAP) == events[3].session_id
    assert log.current_session(now=T0 + 120 + SESSION_GAP * 3) is None


def test_two_logs_on_one_library_agree_on_the_session(library):
    a = library.notes.create("alpha", title="a")
    first, second = EventLog(library), EventLog(library)
    first.record("open", a, ts=T0)
    second.record("dwell", a, data={"seconds": 12.5}, ts=T0 + 30)
    sessions = {e.session_id for e in first.events()}
    assert len(sessions) == 1


def test_recent_opens_newest_first_deduplicated(library, log):
    ids = [library.notes.create(f"n{i}", title=f"n{i}") for i in range(3)]
    for j, item in enumerate([ids[0], ids[1], ids[0], ids[2]]):
        log.record("open", item, ts=T0 + j)
    assert log.recent_opens(now=T0 + 10) == [ids[2], ids[0], ids[1]]
    assert log.recent_opens(now=T0 + SESSION_GAP + 100) == []


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [
        ("teleport", {"item_id": None}),
        ("open", {}),
        ("search", {"query": "   "}),
        ("dwell", {"data": {"seconds": -1}}),
        ("dwell", {"data": {}}),
        ("click", {"data": {"bad": object()}}),
    ],
)
def test_bad_events_are_refused_and_change_nothing(library, log, kind, kwargs):
    item = library.notes.create("x", title="x")
    if kind in ("dwell", "click"):
        kwargs = {"item_id": item, **kwargs}
    with pytest.raises(BadInputError):
        log.record(kind, **kwargs)
    assert log.events() == []


def test_unknown_item_is_refused(log):
    with pytest.raises(NotFoundError):
        log.record("open", "nope")
    assert log.events() == []


def test_deleted_item_keeps_history_readable(library, log):
    a = library.notes.create("alpha", title="a")
    log.record("open", a, ts=T0)
    library.notes.delete(a)
    assert log.item_events(a)[0].kind == "open"


def test_prune_older_than(library, log):
    a = library.notes.create("alpha", title="a")
    log.record("open", a, ts=T0)
    log.record("open", a, ts=T0 + 10 * 86_400)
    assert log.prune(5 * 86_400, now=T0 + 11 * 86_400) == 1
    assert [e.ts for e in log.events()] == [T0 + 10 * 86_400]
    with pytest.raises(MalformedInputError):
        log.prune(-1)


def test_sync_off_by_default_and_recording_switch(library, log):
    a = library.notes.create("alpha", title="a")
    assert log.sync_enabled is False
    log.set_sync_enabled(True)
    assert EventLog(library).sync_enabled is True
    log.set_recording_enabled(False)
    assert log.record("open", a) is None
    assert log.events() == []
    log.set_recording_enabled(True)
    assert log.record("open", a) is not None


def test_panel_stats_ctr(library, log):
    a, b, c = (library.notes.create(t, title=t) for t in ("a", "b", "c"))
    log.record(
        "impression",
        a,
        data={"panel": "related", "items": [b, c], "reasons": [["content"], ["walk"]]},
        ts=T0,
    )
    log.record(
        "impression", b, data={"panel": "related", "items": [a], "reasons": [["walk"]]}, ts=T0 + 5
    )
    log.record(
        "click",
        c,
        data={"from": "related", "source_item": a, "rank": 2, "reasons": ["walk"]},
        ts=T0 + 6,
    )
    log.record("click", c, query="c", ts=T0 + 7)  # a search click, not the panel
    stats = log.panel_stats()
    assert (stats.impressions, stats.items_shown, stats.clicks) == (2, 3, 1)
    assert stats.ctr == pytest.approx(0.5)
    assert stats.item_ctr == pytest.approx(1 / 3)
    assert stats.mean_click_rank == 2
    assert stats.by_reason == {"content": (1, 0), "walk": (2, 1)}


def test_import_history_assigns_sessions_in_one_go(library, log):
    a = library.notes.create("alpha", title="a")
    b = library.notes.create("beta", title="b")
    rows = [
        (T0 + 10, "open", b, None, None),
        (T0, "open", a, None, None),
        (T0 + 5 * SESSION_GAP, "open", a, None, {"x": 1}),
    ]
    assert log.import_history(rows) == 3
    events = log.events()
    assert [e.item_id for e in events] == [a, b, a]
    assert events[0].session_id == events[1].session_id != events[2].session_id
    assert events[2].data == {"x": 1}
    with pytest.raises(UnknownNameError):
        log.import_history([(T0, "open", a, None, None), (T0, "zap", a, None, None)])
    assert len(log.events()) == 3
