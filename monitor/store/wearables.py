"""Wearable names to the small integer ids the big tables store.

No cache: an id registered inside a transaction that later rolls back must not outlive it, and one
indexed lookup per block written costs microseconds.
"""

from __future__ import annotations

from monitor.store.db import Database


class WearableIds:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, name: str) -> int:
        """The id for `name`, registering it on first use (joins the caller's transaction)."""
        if not name:
            raise ValueError("wearable id must not be empty")
        with self._db.atomic() as conn:
            conn.execute("INSERT OR IGNORE INTO wearables (name) VALUES (?)", (name,))
            return int(conn.execute("SELECT id FROM wearables WHERE name = ?", (name,)).fetchone()[0])

    def find(self, name: str) -> int | None:
        """The id for `name` if it was ever stored; never registers."""
        row = self._db.query_one("SELECT id FROM wearables WHERE name = ?", (name,))
        return None if row is None else int(row[0])

    def names(self) -> list[str]:
        return [row[0] for row in self._db.query("SELECT name FROM wearables ORDER BY name")]
