"""Tags and links (wikilinks, embeds, Markdown links) of items."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class LinkRow:
    kind: str  # wikilink | embed | markdown
    target: str
    heading: str | None = None
    alias: str | None = None
    dst_item_id: str | None = None


def set_tags(db: Database, item_id: str, tags: Iterable[str], source: str = "user") -> None:
    """Replace the tags of one source (user tags vs machine tags) for an item."""
    db.execute("DELETE FROM tags WHERE item_id = ? AND source = ?", (item_id, source))
    db.executemany(
        "INSERT OR IGNORE INTO tags(item_id, tag, source) VALUES (?, ?, ?)",
        [(item_id, t, source) for t in dict.fromkeys(tags)],
    )


def tags_of(db: Database, item_id: str) -> list[str]:
    return [
        r[0] for r in db.query("SELECT tag FROM tags WHERE item_id = ? ORDER BY tag", (item_id,))
    ]


def tag_counts(db: Database) -> list[tuple[str, int]]:
    rows = db.query(
        "SELECT t.tag, COUNT(*) FROM tags t JOIN items i ON i.id = t.item_id"
        " WHERE i.deleted = 0 GROUP BY t.tag ORDER BY COUNT(*) DESC, t.tag"
    )
    return [(r[0], int(r[1])) for r in rows]


def items_with_tag(db: Database, tag: str) -> list[str]:
    rows = db.query(
        "SELECT t.item_id FROM tags t JOIN items i ON i.id = t.item_id"
        " WHERE i.deleted = 0 AND t.tag = ?",
        (tag,),
    )
    return [r[0] for r in rows]


def set_links(db: Database, item_id: str, links: Iterable[LinkRow]) -> None:
    db.execute("DELETE FROM links WHERE src_item_id = ?", (item_id,))
    db.executemany(
        "INSERT INTO links(src_item_id, ord, kind, target, heading, alias, dst_item_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (item_id, i, ln.kind, ln.target, ln.heading, ln.alias, ln.dst_item_id)
            for i, ln in enumerate(links)
        ],
    )


def links_of(db: Database, item_id: str) -> list[LinkRow]:
    rows = db.query(
        "SELECT kind, target, heading, alias, dst_item_id FROM links WHERE src_item_id = ?"
        " ORDER BY ord",
        (item_id,),
    )
    return [LinkRow(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def backlinks_of(db: Database, item_id: str) -> list[str]:
    rows = db.query(
        "SELECT DISTINCT l.src_item_id FROM links l JOIN items i ON i.id = l.src_item_id"
        " WHERE l.dst_item_id = ? AND i.deleted = 0",
        (item_id,),
    )
    return [r[0] for r in rows]


def unresolved_links(db: Database) -> list[tuple[str, int, str]]:
    """(source item id, ord, target) of wikilinks whose target was not found yet."""
    rows = db.query(
        "SELECT src_item_id, ord, target FROM links WHERE dst_item_id IS NULL AND kind = 'wikilink'"
    )
    return [(r[0], r[1], r[2]) for r in rows]


def resolve_link(db: Database, src_item_id: str, ord_: int, dst_item_id: str) -> None:
    db.execute(
        "UPDATE links SET dst_item_id = ? WHERE src_item_id = ? AND ord = ?",
        (dst_item_id, src_item_id, ord_),
    )
