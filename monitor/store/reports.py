"""Which daily reports went out, so each local day is reported once: at its time, or as soon as the
service runs again after a restart, or after a night with the device switched off."""

from __future__ import annotations

from datetime import date

from monitor.store.db import Database, Migration, sql_migration
from monitor.store.wearables import WearableIds

REPORTS_MIGRATION: Migration = sql_migration(
    "0003_daily_reports",
    # `day` is the local date the report covers (ISO); `ts` when it was published (host clock).
    """CREATE TABLE daily_reports (
        wid INTEGER NOT NULL REFERENCES wearables(id),
        day TEXT NOT NULL,
        ts REAL NOT NULL,
        PRIMARY KEY (wid, day)
    ) WITHOUT ROWID""",
    # A database from before this table has its reports in the outbox (kept for the retention
    # period): the days they cover count as reported, so the upgrade does not send one again.
    """INSERT OR IGNORE INTO daily_reports (wid, day, ts)
       SELECT w.id, json_extract(p.body, '$.date'), p.created_ts
       FROM (
           SELECT CASE WHEN json_valid(CAST(payload AS TEXT)) THEN CAST(payload AS TEXT) END AS body,
                  created_ts
           FROM mqtt_outbox WHERE kind = 'report'
       ) AS p
       JOIN wearables AS w ON w.name = json_extract(p.body, '$.wearable')
       WHERE json_type(p.body, '$.date') = 'text'""",
)


class ReportTable:
    def __init__(self, db: Database, ids: WearableIds) -> None:
        self._db = db
        self._ids = ids

    def mark(self, wearable: str, day: date, ts: float) -> None:
        with self._db.atomic() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO daily_reports (wid, day, ts) VALUES (?, ?, ?)",
                (self._ids.get(wearable), day.isoformat(), ts),
            )

    def last_day(self, wearable: str) -> date | None:
        """The newest day whose report went out, or None before the first."""
        wid = self._ids.find(wearable)
        if wid is None:
            return None
        row = self._db.query_one("SELECT max(day) FROM daily_reports WHERE wid = ?", (wid,))
        return None if row is None or row[0] is None else date.fromisoformat(row[0])
