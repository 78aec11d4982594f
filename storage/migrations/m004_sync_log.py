"""Schema 4: the sync security log (refused connections and sessions).

Kept apart from ``events`` on purpose: activity events drive recommendation sessions and can
be pruned or synced at the user's choice; security records must not mix into either.
"""

VERSION = 4

SQL = """
CREATE TABLE sync_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ts          REAL NOT NULL,
    kind        TEXT NOT NULL,
    device_id   TEXT,
    address     TEXT,
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sync_log_ts ON sync_log(ts);
"""
