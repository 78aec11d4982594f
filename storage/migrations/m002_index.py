"""Schema 2: derived data for search (chunks + FTS5, vectors, OCR lines) and the job queue."""

VERSION = 2

SQL = """
CREATE TABLE chunks (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id   TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    source    TEXT NOT NULL CHECK (source IN ('title', 'body', 'ocr', 'caption', 'tags', 'chat')),
    ord       INTEGER NOT NULL,
    text      TEXT NOT NULL,
    start     INTEGER NOT NULL DEFAULT 0,
    end       INTEGER NOT NULL DEFAULT 0,
    heading   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX chunks_item ON chunks(item_id, source, ord);

-- Words (unicode61, diacritics folded) for English-style BM25 ranking.
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
-- Trigrams find Korean words inside agglutinated forms (커피 in 커피를).
CREATE VIRTUAL TABLE chunks_tri USING fts5(
    text, content='chunks', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
    INSERT INTO chunks_tri(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO chunks_tri(chunks_tri, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER chunks_au AFTER UPDATE OF text ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO chunks_tri(chunks_tri, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
    INSERT INTO chunks_tri(rowid, text) VALUES (new.id, new.text);
END;

CREATE TABLE vectors (
    owner_kind  TEXT NOT NULL CHECK (owner_kind IN ('chunk', 'photo')),
    owner_id    TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    dim         INTEGER NOT NULL,
    data        BLOB NOT NULL,
    item_id     TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    PRIMARY KEY (owner_kind, owner_id, model_id)
);
CREATE INDEX vectors_model ON vectors(model_id, owner_kind);
CREATE INDEX vectors_item ON vectors(item_id);

CREATE TABLE ocr_lines (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id     TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    block       INTEGER NOT NULL,
    line        INTEGER NOT NULL,
    text        TEXT NOT NULL,
    confidence  REAL NOT NULL,
    x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
    engine      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ocr_lines_item ON ocr_lines(item_id, block, line);

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    item_id     TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  REAL NOT NULL DEFAULT 0,
    error       TEXT,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    UNIQUE (kind, item_id)
);
CREATE INDEX jobs_state ON jobs(state, not_before, id);
"""
