"""Closed bouts, and the one bout per wearable still running when the daemon last saved."""

from __future__ import annotations

from collections.abc import Iterable

from monitor.core.types import Bout, Posture
from monitor.store.db import Database
from monitor.store.wearables import WearableIds


class BoutTable:
    def __init__(self, db: Database, ids: WearableIds) -> None:
        self._db = db
        self._ids = ids

    def add(self, wearable: str, bouts: Iterable[Bout]) -> int:
        """Store closed bouts in one transaction. A stored open bout they supersede is cleared."""
        rows = [(b.start, b.end, str(b.label)) for b in bouts]
        if not rows:
            return 0
        with self._db.atomic() as conn:
            wid = self._ids.get(wearable)
            conn.executemany(
                "INSERT OR REPLACE INTO bouts (wid, start_t, end_t, label) VALUES (?, ?, ?, ?)",
                [(wid, *row) for row in rows],
            )
            conn.execute(
                "DELETE FROM open_bouts WHERE wid = ? AND start_t <= ?", (wid, max(r[0] for r in rows))
            )
        return len(rows)

    def set_open(self, wearable: str, bout: Bout | None) -> None:
        """Remember the running bout (or that none is running) so a restart can pick it up."""
        with self._db.atomic() as conn:
            wid = self._ids.get(wearable)
            if bout is None:
                conn.execute("DELETE FROM open_bouts WHERE wid = ?", (wid,))
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO open_bouts (wid, start_t, end_t, label) VALUES (?, ?, ?, ?)",
                    (wid, bout.start, bout.end, str(bout.label)),
                )

    def open_bout(self, wearable: str) -> Bout | None:
        wid = self._ids.find(wearable)
        if wid is None:
            return None
        row = self._db.query_one("SELECT start_t, end_t, label FROM open_bouts WHERE wid = ?", (wid,))
        return None if row is None else Bout(row[0], row[1], Posture(row[2]))

    def between(self, wearable: str, start: float, end: float) -> list[Bout]:
        """Closed bouts overlapping [start, end), in time order."""
        wid = self._ids.find(wearable)
        if wid is None:
            return []
        rows = self._db.query(
            "SELECT start_t, end_t, label FROM bouts WHERE wid = ? AND end_t > ? AND start_t < ? "
            "ORDER BY start_t",
            (wid, start, end),
        )
        return [Bout(r[0], r[1], Posture(r[2])) for r in rows]

    def prune(self, before: float) -> int:
        return self._db.execute("DELETE FROM bouts WHERE end_t < ?", (before,))
