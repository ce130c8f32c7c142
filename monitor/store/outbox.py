"""The MQTT outbox inside the service database: `monitor.mqtt.outbox.Outbox` over the store's
connection, so that a nudge, the epochs around it and its outcome commit to one file.

The table is created by a named migration like every other; this is the only implementation of
the Protocol.
"""

from __future__ import annotations

from monitor.core.outbox import OutboxEntry, OutboxKind, OutboxStatus
from monitor.store.db import Database, Migration, sql_migration

OUTBOX_MIGRATION: Migration = sql_migration(
    "0002_mqtt_outbox",
    """CREATE TABLE mqtt_outbox (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        topic       TEXT    NOT NULL,
        payload     BLOB    NOT NULL,
        qos         INTEGER NOT NULL CHECK (qos IN (0, 1, 2)),
        retain      INTEGER NOT NULL CHECK (retain IN (0, 1)),
        kind        TEXT    NOT NULL CHECK (kind IN ('nudge', 'event', 'report')),
        created_ts  REAL    NOT NULL,
        status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'expired')),
        done_ts     REAL
    )""",
    "CREATE INDEX mqtt_outbox_pending ON mqtt_outbox (status, id)",
)

_COLUMNS = "id, topic, payload, qos, retain, kind, created_ts"


def _entry(row: tuple[int, str, bytes, int, int, str, float]) -> OutboxEntry:
    return OutboxEntry(
        id=row[0],
        topic=row[1],
        payload=bytes(row[2]),
        qos=row[3],
        retain=bool(row[4]),
        kind=OutboxKind(row[5]),
        created_ts=row[6],
    )


class StoreOutbox:
    """At-least-once queue: an entry leaves `pending()` only via `mark_sent` or `expire`.

    Every call is one committed transaction (or joins the caller's `atomic()`), so what `enqueue`
    accepted survives a crash on the next line.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def enqueue(  # noqa: PLR0917  # the Outbox Protocol's signature
        self, topic: str, payload: bytes, qos: int, retain: bool, kind: OutboxKind, created_ts: float
    ) -> int:
        with self._db.atomic() as conn:
            cur = conn.execute(
                "INSERT INTO mqtt_outbox (topic, payload, qos, retain, kind, created_ts) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (topic, payload, qos, int(retain), str(OutboxKind(kind)), created_ts),
            )
            row_id = cur.lastrowid
        if row_id is None:  # pragma: no cover - an INSERT into a rowid table always sets it
            raise RuntimeError("SQLite returned no rowid for an outbox insert")
        return row_id

    def pending(self) -> list[OutboxEntry]:
        rows = self._db.query(f"SELECT {_COLUMNS} FROM mqtt_outbox WHERE status = 'pending' ORDER BY id")
        return [_entry(r) for r in rows]

    def mark_sent(self, entry_id: int, sent_ts: float) -> None:
        self._db.execute(
            "UPDATE mqtt_outbox SET status = 'sent', done_ts = ? WHERE id = ? AND status = 'pending'",
            (sent_ts, entry_id),
        )

    def expire(self, kind: OutboxKind, created_before: float, now_ts: float) -> list[OutboxEntry]:
        with self._db.atomic() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM mqtt_outbox WHERE status = 'pending' AND kind = ? "
                "AND created_ts < ? ORDER BY id",
                (str(OutboxKind(kind)), created_before),
            ).fetchall()
            conn.executemany(
                "UPDATE mqtt_outbox SET status = 'expired', done_ts = ? WHERE id = ?",
                [(now_ts, r[0]) for r in rows],
            )
        return [_entry(r) for r in rows]

    def status(self, entry_id: int) -> OutboxStatus | None:
        row = self._db.query_one("SELECT status FROM mqtt_outbox WHERE id = ?", (entry_id,))
        return OutboxStatus(row[0]) if row else None

    def counts(self) -> dict[OutboxStatus, int]:
        found = {
            OutboxStatus(s): n
            for s, n in self._db.query("SELECT status, count(*) FROM mqtt_outbox GROUP BY status")
        }
        return {s: found.get(s, 0) for s in OutboxStatus}

    def purge(self, done_before: float) -> int:
        """Delete sent and expired entries finished before `done_before`; pending ones always stay."""
        return self._db.execute(
            "DELETE FROM mqtt_outbox WHERE status != 'pending' AND done_ts < ?", (done_before,)
        )
