"""Nudges the policy decided on, and what became of each."""

from __future__ import annotations

from collections import defaultdict

from monitor.core.records import NudgeHistory, NudgeLevel, NudgeOutcome, NudgeRecord, OutcomeRecord
from monitor.store.db import Database
from monitor.store.wearables import WearableIds


class NudgeTable:
    def __init__(self, db: Database, ids: WearableIds) -> None:
        self._db = db
        self._ids = ids

    def record(self, nudge: NudgeRecord) -> None:
        """Store a nudge once; recording the same id again changes nothing (restarts replay)."""
        with self._db.atomic() as conn:
            wid = self._ids.get(nudge.wearable)
            conn.execute(
                "INSERT OR IGNORE INTO nudges (id, wid, ts, level, sitting_s, exercise) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (nudge.id, wid, nudge.ts, str(nudge.level), nudge.sitting_s, nudge.exercise),
            )

    def exists(self, nudge_id: str) -> bool:
        return self._db.query_one("SELECT 1 FROM nudges WHERE id = ?", (nudge_id,)) is not None

    def mark_sent(self, nudge_id: str, ts: float) -> None:
        """The broker acknowledged the nudge (the outbox's PUBACK)."""
        self.add_outcome(OutcomeRecord(nudge_id, ts, NudgeOutcome.SENT))

    def add_outcome(self, outcome: OutcomeRecord) -> None:
        """Attach an outcome to a recorded nudge (KeyError if the nudge is unknown)."""
        with self._db.atomic() as conn:
            if conn.execute("SELECT 1 FROM nudges WHERE id = ?", (outcome.nudge_id,)).fetchone() is None:
                raise KeyError(f"no nudge with id {outcome.nudge_id!r}")
            conn.execute(
                "INSERT OR IGNORE INTO nudge_outcomes (nudge_id, ts, outcome, delay_s) VALUES (?, ?, ?, ?)",
                (outcome.nudge_id, outcome.ts, str(outcome.outcome), outcome.delay_s),
            )

    def history(self, wearable: str, start: float, end: float) -> list[NudgeHistory]:
        """Nudges decided in [start, end) with all their outcomes, in time order."""
        wid = self._ids.find(wearable)
        if wid is None:
            return []
        nudges = self._db.query(
            "SELECT id, ts, level, sitting_s, exercise FROM nudges WHERE wid = ? AND ts >= ? AND ts < ? "
            "ORDER BY ts, id",
            (wid, start, end),
        )
        outcomes: dict[str, list[OutcomeRecord]] = defaultdict(list)
        for nudge_id, ts, outcome, delay in self._db.query(
            "SELECT o.nudge_id, o.ts, o.outcome, o.delay_s FROM nudge_outcomes o "
            "JOIN nudges n ON n.id = o.nudge_id WHERE n.wid = ? AND n.ts >= ? AND n.ts < ? ORDER BY o.ts",
            (wid, start, end),
        ):
            outcomes[nudge_id].append(OutcomeRecord(nudge_id, ts, NudgeOutcome(outcome), delay))
        return [
            NudgeHistory(
                NudgeRecord(nid, wearable, ts, NudgeLevel(level), sitting, exercise),
                tuple(outcomes.get(nid, ())),
            )
            for nid, ts, level, sitting, exercise in nudges
        ]

    def prune(self, before: float) -> int:
        # Outcomes go with their nudge (ON DELETE CASCADE).
        return self._db.execute("DELETE FROM nudges WHERE ts < ?", (before,))
