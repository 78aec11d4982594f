"""Schema 1: what the user makes (items, notes, photos, tags, links) and the CRDT update log."""

VERSION = 1

SQL = """
CREATE TABLE items (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('note', 'photo')),
    title       TEXT NOT NULL DEFAULT '',
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX items_kind_updated ON items(kind, deleted, updated_at DESC);

CREATE TABLE notes (
    item_id      TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    body         TEXT NOT NULL DEFAULT '',
    source_path  TEXT UNIQUE,
    source_mtime REAL,
    source_hash  TEXT
);

CREATE TABLE photos (
    item_id       TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    sha256        TEXT NOT NULL UNIQUE,
    size          INTEGER NOT NULL,
    mime          TEXT NOT NULL,
    width         INTEGER,
    height        INTEGER,
    orientation   INTEGER,
    taken_at      TEXT,
    gps_lat       REAL,
    gps_lon       REAL,
    camera_make   TEXT,
    camera_model  TEXT,
    caption       TEXT NOT NULL DEFAULT '',
    original_name TEXT,
    source_path   TEXT
);
CREATE INDEX photos_taken_at ON photos(taken_at);

CREATE TABLE tags (
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    source  TEXT NOT NULL DEFAULT 'user',
    PRIMARY KEY (item_id, tag)
);
CREATE INDEX tags_tag ON tags(tag);

CREATE TABLE links (
    src_item_id    TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    ord            INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('wikilink', 'embed', 'markdown')),
    target         TEXT NOT NULL,
    heading        TEXT,
    alias          TEXT,
    dst_item_id    TEXT REFERENCES items(id) ON DELETE SET NULL,
    PRIMARY KEY (src_item_id, ord)
);
CREATE INDEX links_dst ON links(dst_item_id);
CREATE INDEX links_target ON links(target);

CREATE TABLE crdt_updates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id      TEXT NOT NULL,
    data        BLOB NOT NULL,
    origin      TEXT NOT NULL DEFAULT 'local',
    created_at  REAL NOT NULL
);
CREATE INDEX crdt_updates_doc ON crdt_updates(doc_id, id);

CREATE TABLE crdt_snapshots (
    doc_id      TEXT PRIMARY KEY,
    state       BLOB NOT NULL,
    upto_id     INTEGER NOT NULL,
    created_at  REAL NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
