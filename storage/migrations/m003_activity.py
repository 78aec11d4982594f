"""Schema 3: activity events (for recommendations), chats and messages, model registry, peers."""

VERSION = 3

SQL = """
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ts          REAL NOT NULL,
    session_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    item_id     TEXT REFERENCES items(id) ON DELETE SET NULL,
    query       TEXT,
    data        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_ts ON events(ts);
CREATE INDEX events_item ON events(item_id, ts);
CREATE INDEX events_session ON events(session_id, ts);

CREATE TABLE chats (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL DEFAULT '',
    photo_item_id TEXT REFERENCES items(id) ON DELETE SET NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    ord         INTEGER NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content     TEXT NOT NULL,
    sources     TEXT NOT NULL DEFAULT '[]',
    created_at  REAL NOT NULL,
    UNIQUE (chat_id, ord)
);

CREATE TABLE models (
    id          TEXT PRIMARY KEY,
    task        TEXT NOT NULL,
    name        TEXT NOT NULL,
    runtime     TEXT NOT NULL,
    files       TEXT NOT NULL DEFAULT '[]',
    size        INTEGER NOT NULL DEFAULT 0,
    sha256      TEXT NOT NULL DEFAULT '',
    licence     TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    dim         INTEGER,
    meta        TEXT NOT NULL DEFAULT '{}',
    active      INTEGER NOT NULL DEFAULT 0,
    added_at    REAL NOT NULL
);
CREATE INDEX models_task ON models(task, active);

CREATE TABLE peers (
    device_id   TEXT PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    address     TEXT,
    paired_at   REAL NOT NULL,
    last_seen   REAL,
    bytes_in    INTEGER NOT NULL DEFAULT 0,
    bytes_out   INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT '{}'
);
"""
