"""Chunks (searchable pieces of items), their FTS5 tables, and OCR lines — derived data.

Derived rows of one item are always replaced together: :func:`replace_item_chunks` deletes the
item's old chunks (the triggers of schema 2 keep ``chunks_fts`` and ``chunks_tri`` in step) and
their vectors, then inserts the new ones. Callers run it inside ``db.transaction()``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Database
from storage.errors import SearchExpressionError, StorageError

FTS_TABLES = ("chunks_fts", "chunks_tri")


@dataclass(frozen=True)
class NewChunk:
    source: str  # title | body | ocr | caption | tags | chat
    text: str
    start: int = 0
    end: int = 0
    heading: str = ""


@dataclass(frozen=True)
class ChunkRow:
    id: int
    item_id: str
    source: str
    ord: int
    text: str
    start: int
    end: int
    heading: str


@dataclass(frozen=True)
class OcrLineRow:
    block: int
    line: int
    text: str
    confidence: float
    box: tuple[float, float, float, float]
    engine: str = ""


def _row(r: sqlite3.Row) -> ChunkRow:
    return ChunkRow(
        r["id"], r["item_id"], r["source"], r["ord"], r["text"], r["start"], r["end"], r["heading"]
    )


def replace_item_chunks(db: Database, item_id: str, chunks: Sequence[NewChunk]) -> list[int]:
    """Replace every chunk of an item (and their vectors). Returns the new chunk ids in order."""
    old = [str(r[0]) for r in db.query("SELECT id FROM chunks WHERE item_id = ?", (item_id,))]
    if old:
        db.execute("DELETE FROM vectors WHERE owner_kind = 'chunk' AND item_id = ?", (item_id,))
    db.execute("DELETE FROM chunks WHERE item_id = ?", (item_id,))
    ids: list[int] = []
    for ord_, chunk in enumerate(chunks):
        cur = db.execute(
            "INSERT INTO chunks(item_id, source, ord, text, start, end, heading)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (item_id, chunk.source, ord_, chunk.text, chunk.start, chunk.end, chunk.heading),
        )
        ids.append(int(cur.lastrowid or 0))
    return ids


def delete_item_chunks(db: Database, item_id: str) -> None:
    db.execute("DELETE FROM vectors WHERE item_id = ?", (item_id,))
    db.execute("DELETE FROM chunks WHERE item_id = ?", (item_id,))


def chunks_of(db: Database, item_id: str) -> list[ChunkRow]:
    rows = db.query("SELECT * FROM chunks WHERE item_id = ? ORDER BY ord", (item_id,))
    return [_row(r) for r in rows]


def get_chunks(db: Database, chunk_ids: Sequence[int]) -> dict[int, ChunkRow]:
    out: dict[int, ChunkRow] = {}
    ids = list(dict.fromkeys(int(i) for i in chunk_ids))
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" for _ in part)
        for r in db.query(f"SELECT * FROM chunks WHERE id IN ({marks})", part):
            out[int(r["id"])] = _row(r)
    return out


def count_chunks(db: Database) -> int:
    return int(db.scalar("SELECT COUNT(*) FROM chunks"))


def chunks_without_vectors(db: Database, item_id: str, model_id: str) -> list[ChunkRow]:
    rows = db.query(
        "SELECT c.* FROM chunks c WHERE c.item_id = ? AND NOT EXISTS ("
        " SELECT 1 FROM vectors v WHERE v.owner_kind = 'chunk' AND v.model_id = ?"
        " AND v.owner_id = CAST(c.id AS TEXT)) ORDER BY c.ord",
        (item_id, model_id),
    )
    return [_row(r) for r in rows]


def items_with_chunks(db: Database) -> list[str]:
    return [r[0] for r in db.query("SELECT DISTINCT item_id FROM chunks")]


def fts_match(
    db: Database, table: str, match: str, *, limit: int = 200, newest: int | None = None
) -> list[tuple[int, str, float]]:
    """(chunk id, item id, bm25 score — higher is better) for an FTS5 MATCH expression.

    ``match`` must be a valid FTS5 expression built by
    the caller from quoted terms; a malformed one raises :class:`StorageError`.
    ``newest``: rank only the newest that many matching chunks (highest ids). FTS5 computes
    BM25 for every match before it can sort, so a word in a third of 374k chunks took
    150–330 ms; walking the doclist newest-first stops after ``newest`` rows. Results are
    identical whenever fewer chunks match.
    """
    if table not in FTS_TABLES:
        raise ValueError(f"unknown FTS table {table}")
    # FTS5 sorts by its own rank (bm25) and stops at LIMIT before any join: much faster than
    # joining every match first. Deleted items are dropped afterwards by the caller's filters.
    matches = f"SELECT rowid, rank FROM {table} WHERE {table} MATCH ?"
    params: tuple[object, ...] = (match, limit)
    if newest is not None:
        matches = f"SELECT rowid, rank FROM ({matches} ORDER BY rowid DESC LIMIT ?)"
        params = (match, int(newest), limit)
    sql = (
        f"SELECT t.rowid, c.item_id, -t.rank FROM ({matches} ORDER BY rank LIMIT ?) t"
        " JOIN chunks c ON c.id = t.rowid ORDER BY t.rank"
    )
    try:
        rows = db.query(sql, params)
    except StorageError as exc:
        raise SearchExpressionError(f"The search expression could not be run ({exc}).") from exc
    return [(int(r[0]), r[1], float(r[2])) for r in rows]


def like_match(
    db: Database, needles: Sequence[str], *, limit: int = 200
) -> list[tuple[int, str, float]]:
    """Chunks containing every needle as a substring (for 1–2 character Korean words that the
    trigram index cannot look up). Score = number of occurrences; a scan, so callers cap it."""
    if not needles:
        return []
    where = " AND ".join("c.text LIKE ? ESCAPE '\\'" for _ in needles)
    params: list[object] = []
    for needle in needles:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{escaped}%")
    params.append(limit)
    rows = db.query(
        "SELECT c.id, c.item_id, c.text FROM chunks c JOIN items i ON i.id = c.item_id"
        f" WHERE i.deleted = 0 AND {where} LIMIT ?",
        params,
    )
    return [
        (int(r[0]), r[1], float(sum(r[2].count(n) for n in needles)) / (1 + len(r[2]) / 500))
        for r in rows
    ]


# -- OCR lines -------------------------------------------------------------------------------


def replace_ocr_lines(db: Database, item_id: str, lines: Sequence[OcrLineRow]) -> None:
    db.execute("DELETE FROM ocr_lines WHERE item_id = ?", (item_id,))
    db.executemany(
        "INSERT INTO ocr_lines(item_id, block, line, text, confidence, x0, y0, x1, y1, engine)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                item_id,
                ln.block,
                ln.line,
                ln.text,
                float(ln.confidence),
                *map(float, ln.box),
                ln.engine,
            )
            for ln in lines
        ],
    )


def set_ocr_engine(db: Database, item_id: str, engine: str) -> None:
    """Record which OCR engine (id + version) read the photo (inside the caller's transaction)."""
    db.execute(
        "INSERT INTO photo_ocr(item_id, engine, read_at) VALUES (?, ?, ?)"
        " ON CONFLICT(item_id) DO UPDATE SET engine = excluded.engine, read_at = excluded.read_at",
        (item_id, engine, time.time()),
    )


def ocr_engine_of(db: Database, item_id: str) -> str | None:
    value = db.scalar("SELECT engine FROM photo_ocr WHERE item_id = ?", (item_id,))
    return None if value is None else str(value)


def photos_with_stale_ocr(db: Database, engine: str, queued_kind: str = "index") -> list[str]:
    """Live photos read by another OCR engine or version than ``engine``, or with no record
    (read before schema 5, never read, or read while no OCR engine was installed), leaving out
    those that already wait in the job queue as ``queued_kind`` (a new photo's first read)."""
    rows = db.query(
        "SELECT p.item_id FROM photos p JOIN items i ON i.id = p.item_id"
        " LEFT JOIN photo_ocr o ON o.item_id = p.item_id"
        " WHERE i.deleted = 0 AND (o.engine IS NULL OR o.engine != ?)"
        " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.item_id = p.item_id AND j.kind = ?"
        " AND j.state IN ('pending', 'running')) ORDER BY p.item_id",
        (engine, queued_kind),
    )
    return [str(r[0]) for r in rows]


def ocr_lines_of(db: Database, item_id: str) -> list[OcrLineRow]:
    rows = db.query(
        "SELECT block, line, text, confidence, x0, y0, x1, y1, engine FROM ocr_lines"
        " WHERE item_id = ? ORDER BY block, line, id",
        (item_id,),
    )
    return [OcrLineRow(r[0], r[1], r[2], r[3], (r[4], r[5], r[6], r[7]), r[8]) for r in rows]


def tags_by_source(db: Database, item_id: str, source: str) -> list[str]:
    """Tags of one item from one source ('user' or 'auto' machine tags)."""
    rows = db.query(
        "SELECT tag FROM tags WHERE item_id = ? AND source = ? ORDER BY tag", (item_id, source)
    )
    return [r[0] for r in rows]


# -- facts used by search filters and results ------------------------------------------------


@dataclass(frozen=True)
class ItemFacts:
    id: str
    kind: str
    title: str
    created_at: float
    updated_at: float
    taken_at: str | None
    lat: float | None
    lon: float | None
    sha256: str | None


def item_facts(db: Database, item_ids: Sequence[str]) -> dict[str, ItemFacts]:
    """Facts of live items (deleted ones are left out)."""
    out: dict[str, ItemFacts] = {}
    ids = list(dict.fromkeys(item_ids))
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" for _ in part)
        rows = db.query(
            "SELECT i.id, i.kind, i.title, i.created_at, i.updated_at, p.taken_at, p.gps_lat,"
            " p.gps_lon, p.sha256 FROM items i LEFT JOIN photos p ON p.item_id = i.id"
            f" WHERE i.deleted = 0 AND i.id IN ({marks})",
            part,
        )
        for r in rows:
            out[r[0]] = ItemFacts(*r)
    return out


def items_with_all_tags(db: Database, tag_list: Sequence[str]) -> set[str]:
    result: set[str] | None = None
    for tag in tag_list:
        found = {r[0] for r in db.query("SELECT item_id FROM tags WHERE tag = ?", (tag,))}
        result = found if result is None else result & found
    return result or set()


def recent_items(
    db: Database,
    kinds: Sequence[str],
    limit: int,
    *,
    tags: Sequence[str] = (),
    after: str | None = None,
    before: str | None = None,
    box: tuple[float, float, float, float] | None = None,
) -> list[str]:
    """Live items, most recent first (for filter-only searches).

    The filters narrow the SQL itself, so "tag:x" or "before:2021" in a 100k-item library
    looks at every tagged or dated item, not only the newest ``limit`` items. ``after`` /
    ``before`` compare ISO prefixes of the photo's time, else the local creation time (as
    the search's own filter does); ``box`` = (lat min, lat max, lon min, lon max)."""
    local = "strftime('%Y-%m-%dT%H:%M:%S', i.created_at, 'unixepoch', 'localtime')"
    when = f"COALESCE(p.taken_at, {local})"
    sql = "SELECT i.id FROM items i LEFT JOIN photos p ON p.item_id = i.id WHERE i.deleted = 0"
    params: list[object] = []
    if kinds:
        sql += f" AND i.kind IN ({', '.join('?' for _ in kinds)})"
        params += list(kinds)
    for tag in tags:
        sql += " AND i.id IN (SELECT item_id FROM tags WHERE tag = ?)"
        params.append(tag)
    if after:
        sql += f" AND substr({when}, 1, ?) >= ?"
        params += [len(after), after]
    if before:
        sql += f" AND substr({when}, 1, ?) < ?"
        params += [len(before), before]
    if box is not None:
        sql += " AND p.gps_lat BETWEEN ? AND ? AND p.gps_lon BETWEEN ? AND ?"
        params += list(box)
    sql += f" ORDER BY {when} DESC LIMIT ?"
    params.append(limit)
    return [r[0] for r in db.query(sql, params)]


def _vocabulary(db: Database) -> None:
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab"
        " USING fts5vocab(main, chunks_fts, row)"
    )


def prefix_completions(db: Database, prefix: str, limit: int) -> list[str]:
    """Up to ``limit`` terms of the unicode61 index that start with ``prefix`` (in index
    order; ``prefix`` as the index stores it: lower case).

    An FTS5 prefix query (``"가"*``) first merges the doclists of every matching term into
    one — 150 ms for a one-syllable prefix at 100k chunks — before it can stop early; the
    same terms written out (``"가" OR "가게" OR …``) are walked lazily. Listing terms does
    not read their doclists, so this costs well under a millisecond."""
    _vocabulary(db)
    rows = db.query(
        "SELECT term FROM temp.chunks_vocab WHERE term >= ? AND term < ? LIMIT ?",
        (prefix, prefix + "\U0010ffff", int(limit)),
    )
    return [r[0] for r in rows]


def term_doc_counts(db: Database, terms: Sequence[tuple[str, bool]]) -> list[int]:
    """How many chunks contain each (term, is_prefix) of the unicode61 index (approximate for
    prefixes: the counts of the matching terms are summed). Reads FTS5's vocabulary table."""
    _vocabulary(db)
    out = []
    for term, prefix in terms:
        if prefix:
            value = db.scalar(
                "SELECT COALESCE(SUM(doc), 0) FROM temp.chunks_vocab WHERE term >= ? AND term < ?",
                (term, term + "\U0010ffff"),
            )
        else:
            value = db.scalar("SELECT doc FROM temp.chunks_vocab WHERE term = ?", (term,))
        out.append(int(value or 0))
    return out
