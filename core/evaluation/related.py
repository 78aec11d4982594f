"""Offline evaluation of the Related panel: leave-one-out next-open prediction.

A *world* is a set of topics (ordered lists of items: a Wikipedia article's paragraphs, or a
demo note followed by the photos it embeds) and links between topics (an article mentioning
another's title; a note's wikilinks). A simulated user browses it, session by session:

* start in one of a few favourite topics (long-term interest) or a popular one;
* mostly read on within the topic (the next paragraph, sometimes another one), sometimes follow
  a link to a mentioned topic, sometimes jump elsewhere; stop with a fixed probability.

The simulator sees only the world (titles, paragraph order, mentions) — never the recommender's
graph, vectors or scores. Sessions from one seed become the history (logged as real events in
the library); sessions from other seeds are held out. For every step of a held-out session the
recommender gets the item just opened and the session so far, and must rank the item opened
next: HitRate@5 and MRR@10 for each source alone and for the blend.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.events import EventLog
from core.related.recommender import SOURCES, Recommender
from storage.ids import NoteId

if TYPE_CHECKING:
    from core.library import Library

DAY = 86_400.0


@dataclass
class World:
    topics: list[list[str]]  # item ids in reading order
    links: dict[int, list[int]] = field(default_factory=dict)  # topic → linked topics
    titles: list[str] = field(default_factory=list)

    def topic_of(self) -> dict[str, int]:
        return {item: t for t, items in enumerate(self.topics) for item in items}


# -- libraries -----------------------------------------------------------------------------------


def read_korquad(corpus: Path) -> list[tuple[str, list[str]]]:
    """Articles as (title, paragraphs) in corpus order; paragraphs grouped by their title."""
    articles: dict[str, list[str]] = {}
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            articles.setdefault(row["title"], []).append(row["text"])
    return list(articles.items())


def _display(title: str) -> str:
    return title.replace("_", " ")


def _mention(title: str) -> str:
    """What a mention of the article looks like in running text (no disambiguation)."""
    return re.sub(r"\s*\(.*\)$", "", _display(title)).strip()


def build_korquad_library(
    library: Library, corpus: Path, *, progress: Callable[[int, int, str], None] | None = None
) -> World:
    """Paragraphs → notes titled "<article> (n)"; a paragraph that mentions another article's
    title links to that article's first paragraph with a wikilink."""
    articles = read_korquad(corpus)
    mentions = {t: _mention(t) for t, _ in articles}
    world = World(topics=[], titles=[_display(t) for t, _ in articles])
    total = sum(len(p) for _, p in articles)
    done = 0
    for a, (title, paragraphs) in enumerate(articles):
        ids: list[str] = []
        linked: list[int] = []
        for n, text in enumerate(paragraphs, 1):
            body = text
            for b, (other, _) in enumerate(articles):
                name = mentions[other]
                if b != a and len(name) >= 2 and name in body:
                    target = f"{_display(other)} (1)"
                    body = body.replace(name, f"[[{target}|{name}]]", 1)
                    if b not in linked:
                        linked.append(b)
            ids.append(library.notes.create(body, title=f"{_display(title)} ({n})"))
            done += 1
            if progress:
                progress(done, total, title)
        world.topics.append(ids)
        if linked:
            world.links[a] = linked
    library.notes.resolve_pending_links()
    return world


def build_demo_world(library: Library) -> World:
    """The built-in demo library: each note followed by the photos it embeds; wikilinks."""
    from core.demo import ensure_demo_library

    ensure_demo_library(library)
    notes = [i for i in library.list_items("note")]
    notes.sort(key=lambda i: i.title)
    index: dict[str, int] = {n.id: t for t, n in enumerate(notes)}
    world = World(topics=[], titles=[n.title for n in notes])
    for t, item in enumerate(notes):
        note = library.notes.get(NoteId(item.id))
        photos = [ln.dst_item_id for ln in note.links if ln.dst_item_id and ln.kind == "embed"]
        world.topics.append([item.id, *dict.fromkeys(p for p in photos if p not in index)])
        targets = [index[ln.dst_item_id] for ln in note.links if ln.dst_item_id in index]
        if targets:
            world.links[t] = list(dict.fromkeys(targets))
    return world


# -- the simulated user --------------------------------------------------------------------------


@dataclass(frozen=True)
class UserModel:
    favourites: int = 12
    p_favourite_start: float = 0.6
    p_stay: float = 0.65  # read on within the topic
    p_link: float = 0.2  # follow a link to a mentioned topic (else jump)
    p_next_paragraph: float = 0.7  # when staying: the next one, else another one
    p_stop: float = 0.22
    min_len: int = 2
    max_len: int = 12


def generate_sessions(
    world: World,
    n: int,
    *,
    seed: int,
    start: float,
    span_days: float,
    user: UserModel = UserModel(),
    favourites_seed: int = 0,
) -> list[list[tuple[float, str]]]:
    """``n`` browsing sessions (lists of (ts, item id)), deterministic for a seed."""
    fav_rng = random.Random(favourites_seed)  # the same user across history and test
    n_topics = len(world.topics)
    popularity = [1.0 / (1 + r) ** 0.8 for r in range(n_topics)]
    order = list(range(n_topics))
    fav_rng.shuffle(order)
    pop = [0.0] * n_topics
    for rank, t in enumerate(order):
        pop[t] = popularity[rank]
    favourites = fav_rng.sample(range(n_topics), min(user.favourites, n_topics))
    rng = random.Random(seed)
    sessions = []
    times = sorted(rng.uniform(start, start + span_days * DAY) for _ in range(n))
    for session_start in times:
        if rng.random() < user.p_favourite_start:
            topic = rng.choice(favourites)
        else:
            topic = rng.choices(range(n_topics), weights=pop)[0]
        items = world.topics[topic]
        pos = 0 if rng.random() < 0.6 else rng.randrange(len(items))
        path = [(topic, pos)]
        while len(path) < user.max_len:
            if len(path) >= user.min_len and rng.random() < user.p_stop:
                break
            topic, pos = path[-1]
            items = world.topics[topic]
            seen = {p for t, p in path if t == topic}
            r = rng.random()
            if r < user.p_stay and len(seen) < len(items):
                if pos + 1 < len(items) and rng.random() < user.p_next_paragraph:
                    nxt = pos + 1
                else:
                    nxt = rng.choice([p for p in range(len(items)) if p not in seen])
                path.append((topic, nxt))
            elif r < user.p_stay + user.p_link and world.links.get(topic):
                path.append((rng.choice(world.links[topic]), 0))
            else:
                other = (
                    rng.choice(favourites)
                    if rng.random() < 0.5
                    else rng.choices(range(n_topics), weights=pop)[0]
                )
                path.append(
                    (other, 0 if rng.random() < 0.6 else rng.randrange(len(world.topics[other])))
                )
        ts = session_start
        session = []
        for t, p in path:
            session.append((ts, world.topics[t][p]))
            ts += rng.uniform(20, 400)
        sessions.append(session)
    return sessions


def log_history(library: Library, sessions: Sequence[Sequence[tuple[float, str]]]) -> int:
    events: list[tuple[float, str, str | None, str | None, dict[str, Any] | None]] = [
        (ts, "open", item, None, None) for s in sessions for ts, item in s
    ]
    return EventLog(library).import_history(events)


# -- metrics -------------------------------------------------------------------------------------


@dataclass
class Score:
    name: str
    predictions: int = 0
    hits5: int = 0
    rr: float = 0.0
    covered: int = 0  # predictions with a non-empty list

    @property
    def hit_rate(self) -> float:
        return self.hits5 / self.predictions if self.predictions else 0.0

    @property
    def mrr(self) -> float:
        return self.rr / self.predictions if self.predictions else 0.0


def evaluate(
    recommender: Recommender,
    sessions: Sequence[Sequence[tuple[float, str]]],
    configs: dict[str, Sequence[str]],
    *,
    k: int = 10,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Score]:
    """Leave-one-out next-open prediction over held-out sessions."""
    scores = {name: Score(name) for name in configs}
    steps = [(s, t) for s in sessions for t in range(len(s) - 1)]
    for n, (session, t) in enumerate(steps, 1):
        current = session[t][1]
        target = session[t + 1][1]
        history = [item for _, item in reversed(session[:t])]
        for name, sources in configs.items():
            recs = recommender.related(
                current, limit=k, session_items=history, sources=tuple(sources)
            )
            ids = [r.item_id for r in recs]
            score = scores[name]
            score.predictions += 1
            score.covered += bool(ids)
            if target in ids:
                rank = ids.index(target) + 1
                score.hits5 += rank <= 5
                score.rr += 1.0 / rank
        if progress:
            progress(n, len(steps), "")
    return scores


DEFAULT_CONFIGS: dict[str, tuple[str, ...]] = {
    "recent (baseline)": ("recent",),
    "content neighbours": ("content",),
    "intent walk": ("walk",),
    "intent keywords": ("keywords",),
    "blend": SOURCES,
    "blend without keywords": ("content", "walk", "recent"),
    "blend without walk": ("content", "keywords", "recent"),
}


def revisit_share(sessions: Sequence[Sequence[tuple[float, str]]]) -> float:
    """Share of next-opens that re-open an item seen earlier in the session (unpredictable by
    design: the panel excludes what was just seen)."""
    total = again = 0
    for s in sessions:
        for t in range(len(s) - 1):
            total += 1
            again += s[t + 1][1] in {i for _, i in s[: t + 1]}
    return again / total if total else 0.0


def table(rows: Sequence[tuple[str, str, Score]]) -> str:
    lines = ["| library | source | HitRate@5 | MRR@10 | predictions |", "|---|---|---|---|---|"]
    for library, label, s in rows:
        lines.append(f"| {library} | {label} | {s.hit_rate:.3f} | {s.mrr:.3f} | {s.predictions} |")
    return "\n".join(lines)
