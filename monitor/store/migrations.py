"""The schema, as named steps. Never edit a released step: add a new one.

Times are data time. Epoch times are INTEGER seconds (epochs are aligned to whole seconds); event
times are REAL seconds since the Unix epoch, UTC. Wearables get a small integer id so that the
epochs table, the one that grows by 86 400 rows a day, stores three integers per row.
"""

from __future__ import annotations

from monitor.store.db import Migration, sql_migration

MIGRATIONS: tuple[Migration, ...] = (
    sql_migration(
        "0001_core",
        """CREATE TABLE wearables (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        )""",
        # WITHOUT ROWID: the (wearable, t) key is the row; no second b-tree, ~10 bytes a row.
        """CREATE TABLE epochs (
            wid INTEGER NOT NULL REFERENCES wearables(id),
            t INTEGER NOT NULL,
            label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 6),
            PRIMARY KEY (wid, t)
        ) WITHOUT ROWID""",
        """CREATE TABLE bouts (
            wid INTEGER NOT NULL REFERENCES wearables(id),
            start_t REAL NOT NULL,
            end_t REAL NOT NULL CHECK (end_t >= start_t),
            label TEXT NOT NULL,
            PRIMARY KEY (wid, start_t)
        )""",
        # The bout still running when the daemon last saved, one per wearable.
        """CREATE TABLE open_bouts (
            wid INTEGER PRIMARY KEY REFERENCES wearables(id),
            start_t REAL NOT NULL,
            end_t REAL NOT NULL,
            label TEXT NOT NULL
        )""",
        """CREATE TABLE nudges (
            id TEXT PRIMARY KEY,
            wid INTEGER NOT NULL REFERENCES wearables(id),
            ts REAL NOT NULL,
            level TEXT NOT NULL,
            sitting_s REAL NOT NULL,
            exercise TEXT
        )""",
        "CREATE INDEX nudges_by_time ON nudges (wid, ts)",
        """CREATE TABLE nudge_outcomes (
            nudge_id TEXT NOT NULL REFERENCES nudges(id) ON DELETE CASCADE,
            ts REAL NOT NULL,
            outcome TEXT NOT NULL,
            delay_s REAL,
            PRIMARY KEY (nudge_id, outcome, ts)
        )""",
        """CREATE TABLE policy_events (
            id INTEGER PRIMARY KEY,
            wid INTEGER NOT NULL REFERENCES wearables(id),
            ts REAL NOT NULL,
            kind TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX policy_events_by_time ON policy_events (wid, ts)",
        """CREATE TABLE link_events (
            id INTEGER PRIMARY KEY,
            wid INTEGER NOT NULL REFERENCES wearables(id),
            ts REAL NOT NULL,
            kind TEXT NOT NULL,
            value REAL,
            detail TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX link_events_by_time ON link_events (wid, ts)",
        """CREATE TABLE calibration (
            wid INTEGER PRIMARY KEY REFERENCES wearables(id),
            ts REAL NOT NULL,
            x REAL NOT NULL,
            y REAL NOT NULL,
            z REAL NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        )""",
        """CREATE TABLE policy_snapshots (
            wid INTEGER PRIMARY KEY REFERENCES wearables(id),
            ts REAL NOT NULL,
            state TEXT NOT NULL
        )""",
    ),
)
