"""Policy decisions and link happenings, kept so reports and people can explain a day."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.store.db import Database
from monitor.store.wearables import WearableIds
from monitor.wearables.events import LinkEventKind


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A link event as stored; `kind` is the link's own vocabulary (monitor.wearables.events).

    value: GAP seconds without data; MALFORMED / DUPLICATE / OUT_OF_ORDER packets dropped since the
    last report; BATTERY percent."""

    ts: float
    kind: LinkEventKind
    value: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PolicyEventRecord:
    """One decision of the nudge policy, with its reason and bout context (JSON-able `detail`)."""

    ts: float
    kind: str
    reason: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


class LinkEventTable:
    def __init__(self, db: Database, ids: WearableIds) -> None:
        self._db = db
        self._ids = ids

    def add(self, wearable: str, event: LinkEvent) -> None:
        with self._db.atomic() as conn:
            conn.execute(
                "INSERT INTO link_events (wid, ts, kind, value, detail) VALUES (?, ?, ?, ?, ?)",
                (self._ids.get(wearable), event.ts, str(event.kind), event.value, event.detail),
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
        return [LinkEvent(r[0], LinkEventKind(r[1]), r[2], r[3]) for r in rows]

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
