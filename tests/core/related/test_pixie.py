"""Pixie random walks on small hand-made graphs and on a real library's graph."""

from __future__ import annotations

import pytest

from core.events import EventLog
from core.related.pixie import GraphBuilder, build_library_graph

T0 = 1_700_000_000.0


def _two_clusters() -> GraphBuilder:
    b = GraphBuilder()
    b.add_context("session", "s1", ["a", "b", "c"])
    b.add_context("session", "s2", ["a", "b"])
    b.add_context("session", "s3", ["x", "y", "z"])
    b.add_context("link", "c|x", ["c", "x"])
    b.add_items(["lonely"])
    return b


def test_walk_ranks_close_items_first_and_excludes_seed():
    graph = _two_clusters().build()
    result = graph.walk({"a": 1.0}, walkers=2000, steps=8, seed=1, explain=True)
    assert "a" not in result.scores
    ranked = sorted(result.scores, key=lambda k: -result.scores[k])
    assert ranked[0] == "b"  # co-opened in two sessions
    assert ranked.index("c") < ranked.index("y")  # one hop beats three hops
    assert "lonely" not in result.scores
    assert sum(result.scores.values()) == pytest.approx(1.0)
    assert result.via["x"].get("link", 0) > 0


def test_walk_is_deterministic_for_a_seed():
    graph = _two_clusters().build()
    assert graph.walk(["a"], seed=3).scores == graph.walk(["a"], seed=3).scores


def test_unknown_or_isolated_seed_gives_nothing():
    graph = _two_clusters().build()
    assert graph.walk(["nope"]).scores == {}
    assert graph.walk(["lonely"]).scores == {}
    assert graph.walk({}).scores == {}


def test_multi_seed_boost_prefers_items_near_both_seeds():
    b = GraphBuilder()
    b.add_context("session", "s1", ["p", "shared"])
    b.add_context("session", "s2", ["q", "shared"])
    b.add_context("session", "s3", ["p", "only_p"])
    b.add_context("session", "s4", ["q", "only_q"])
    result = b.build().walk({"p": 1.0, "q": 1.0}, walkers=4000, seed=0)
    assert result.scores["shared"] > result.scores["only_p"]
    assert result.scores["shared"] > result.scores["only_q"]


def test_big_contexts_pull_less_than_small_ones():
    b = GraphBuilder()
    b.add_context("tag", "everything", ["a", *[f"n{i}" for i in range(50)]])
    b.add_context("tag", "pair", ["a", "friend"])
    result = b.build().walk(["a"], seed=0)
    assert result.scores["friend"] > max(result.scores[f"n{i}"] for i in range(50)) * 5


def test_unknown_context_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        GraphBuilder().add_context("weather", "x", ["a", "b"])


def test_library_graph_from_events_links_tags_and_skips_deleted(library):
    a = library.notes.create("alpha [[beta]] #coffee", title="alpha")
    b = library.notes.create("beta", title="beta")
    c = library.notes.create("gamma #coffee", title="gamma")
    d = library.notes.create("delta", title="delta")
    gone = library.notes.create("gone", title="gone")
    library.notes.resolve_pending_links()
    log = EventLog(library)
    for j, item in enumerate([d, gone, b]):
        log.record("open", item, ts=T0 + j)
    log.record("open", d, ts=T0 + 40_000)
    log.record("open", d, ts=T0 + 200_000)  # another day: d is a returning favourite
    library.notes.delete(gone)
    lg = build_library_graph(library.db, now=T0 + 200_001)
    graph = lg.graph
    assert gone not in graph.index  # deleted items drop out of the graph, events or not
    assert graph.degree(a) >= 2  # link + tag
    walk = graph.walk([a], seed=0, explain=True)
    assert {b, c} <= set(walk.scores)
    assert walk.via[b].get("link", 0) > 0 and walk.via[c].get("tag", 0) > 0
    assert d in graph.walk([b], seed=0).scores  # opened together
    assert lg.preference == {d: 1.0}
    assert gone not in lg.recent and set(lg.recent) == {a, b, c, d}
    assert lg.n_sessions == 3


def test_neighbours_name_the_strongest_direct_tie():
    graph = _two_clusters().build()
    assert graph.neighbours("c") == {"a": "session", "b": "session", "x": "link"}
    assert "y" not in graph.neighbours("a")
    assert graph.neighbours("nope") == {}
