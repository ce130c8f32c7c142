"""Policy decisions and link happenings, kept so reports and people can explain a day."""

from __future__ import annotations

import json

from monitor.core.links import LinkEvent, LinkEventKind
from monitor.core.records import PolicyEventRecord
from monitor.store.db import Database
from monitor.store.wearables import WearableIds


class LinkEventTable:
    def __init__(self, db: Database, ids: WearableIds) -> None:
        self._db = db
        self._ids = ids

    def add(self, wearable: str, event: LinkEvent) -> None:
        with self._db.atomic() as conn:
            conn.execute(
                "INSERT INTO link_events (wid, ts, kind, value, detail) VALUES (?, ?, ?, ?, ?)",
                (self._ids.get(wearable), event.t, str(event.kind), event.value, event.text),
            )

    def between(self, wearable: str, start: float, end: float) -> list[LinkEvent]:
        wid = self._ids.find(wearable)
        if wid is None:
            return []
        rows = self._db.query(
            "SELECT ts, kind, value, detail FROM link_events WHERE wid = ? AND ts >= ? AND ts < ? "
            "ORDER BY ts, id",
            (wid, start, end),
        )
        return [LinkEvent.from_stored(r[0], LinkEventKind(r[1]), r[2], r[3]) for r in rows]

    def prune(self, before: float) -> int:
        return self._db.execute("DELETE FROM link_events WHERE ts < ?", (before,))


class PolicyEventTable:
    def __init__(self, db: Database, ids: WearableIds) -> None:
        self._db = db
        self._ids = ids

    def add(self, wearable: str, event: PolicyEventRecord) -> None:
        detail = json.dumps(dict(event.detail), sort_keys=True)
        with self._db.atomic() as conn:
            conn.execute(
                "INSERT INTO policy_events (wid, ts, kind, reason, detail) VALUES (?, ?, ?, ?, ?)",
                (self._ids.get(wearable), event.ts, event.kind, event.reason, detail),
            )

    def between(self, wearable: str, start: float, end: float) -> list[PolicyEventRecord]:
        wid = self._ids.find(wearable)
        if wid is None:
            return []
        rows = self._db.query(
            "SELECT ts, kind, reason, detail FROM policy_events WHERE wid = ? AND ts >= ? AND ts < ? "
            "ORDER BY ts, id",
            (wid, start, end),
        )
        return [PolicyEventRecord(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def prune(self, before: float) -> int:
        return self._db.execute("DELETE FROM policy_events WHERE ts < ?", (before,))
