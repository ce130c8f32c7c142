"""Durable outbox for messages that must survive a broker outage or a restart.

`Outbox` is the interface the MQTT client needs; `SqliteOutbox` is its reference implementation over
one SQLite file (WAL). `monitor.store` may implement the same Protocol in the service database.

Delivery is at-least-once: an entry leaves `pending()` only through `mark_sent` (called after the
broker's PUBACK) or `expire` (a nudge too old to be useful). Events and reports are never expired.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

_LOGGER = logging.getLogger(__name__)


class OutboxKind(StrEnum):
    NUDGE = "nudge"
    EVENT = "event"
    REPORT = "report"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    kind: OutboxKind
    created_ts: float  # data time the message was made (a nudge's threshold crossing)


class Outbox(Protocol):
    def enqueue(  # noqa: PLR0917  # one positional call site per kind reads best; keep it the contract
        self, topic: str, payload: bytes, qos: int, retain: bool, kind: OutboxKind, created_ts: float
    ) -> int:
        """Store a message durably (committed before returning); return its id."""
        ...

    def pending(self) -> Sequence[OutboxEntry]:
        """Messages not yet acknowledged by the broker, oldest first."""
        ...

    def mark_sent(self, entry_id: int, sent_ts: float) -> None:
        """The broker acknowledged the message; it will not be sent again. Unknown ids are ignored."""
        ...

    def expire(self, kind: OutboxKind, created_before: float, now_ts: float) -> Sequence[OutboxEntry]:
        """Take pending `kind` entries created before `created_before` out of the queue, recorded as
        expired at `now_ts`; return them. Only nudges are ever expired by the client."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS mqtt_outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    topic       TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    qos         INTEGER NOT NULL CHECK (qos IN (0, 1, 2)),
    retain      INTEGER NOT NULL CHECK (retain IN (0, 1)),
    kind        TEXT    NOT NULL CHECK (kind IN ('nudge', 'event', 'report')),
    created_ts  REAL    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'expired')),
    done_ts     REAL
);
CREATE INDEX IF NOT EXISTS mqtt_outbox_pending ON mqtt_outbox (status, id);
"""


class SqliteOutbox:
    """The reference `Outbox`: one table in a SQLite file, WAL, one connection, one thread.

    Every call commits before returning, so what `enqueue` accepted survives a crash one line later.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so each call is exactly one transaction.
        self._db = sqlite3.connect(self._path, isolation_level=None)
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            _LOGGER.warning("outbox %s: journal_mode is %s, not wal (network file system?)", self._path, mode)
        # NORMAL in WAL mode keeps every committed transaction across a process crash; only a power cut
        # may lose the last few, which for an outbox means a nudge re-sent or missed, never corruption.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    @property
    def path(self) -> Path:
        return self._path

    def close(self) -> None:
        self._db.close()

    def enqueue(  # noqa: PLR0917  # the Outbox Protocol's signature
        self, topic: str, payload: bytes, qos: int, retain: bool, kind: OutboxKind, created_ts: float
    ) -> int:
        cur = self._db.execute(
            "INSERT INTO mqtt_outbox (topic, payload, qos, retain, kind, created_ts) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (topic, payload, qos, int(retain), str(kind), created_ts),
        )
        row_id = cur.lastrowid
        assert row_id is not None  # an INSERT into a rowid table always sets it
        return row_id

    def pending(self) -> list[OutboxEntry]:
        rows = self._db.execute(
            "SELECT id, topic, payload, qos, retain, kind, created_ts FROM mqtt_outbox "
            "WHERE status = 'pending' ORDER BY id"
        ).fetchall()
        return [
            OutboxEntry(
                id=r[0],
                topic=r[1],
                payload=bytes(r[2]),
                qos=r[3],
                retain=bool(r[4]),
                kind=OutboxKind(r[5]),
                created_ts=r[6],
            )
            for r in rows
        ]

    def mark_sent(self, entry_id: int, sent_ts: float) -> None:
        self._db.execute(
            "UPDATE mqtt_outbox SET status = 'sent', done_ts = ? WHERE id = ? AND status = 'pending'",
            (sent_ts, entry_id),
        )

    def expire(self, kind: OutboxKind, created_before: float, now_ts: float) -> list[OutboxEntry]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            stale = [e for e in self.pending() if e.kind == kind and e.created_ts < created_before]
            self._db.executemany(
                "UPDATE mqtt_outbox SET status = 'expired', done_ts = ? WHERE id = ?",
                [(now_ts, e.id) for e in stale],
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return stale

    def status(self, entry_id: int) -> OutboxStatus | None:
        """Where one entry stands (for tests, diagnostics and the report's nudge outcomes)."""
        row = self._db.execute("SELECT status FROM mqtt_outbox WHERE id = ?", (entry_id,)).fetchone()
        return OutboxStatus(row[0]) if row else None

    def counts(self) -> dict[OutboxStatus, int]:
        rows = self._db.execute("SELECT status, COUNT(*) FROM mqtt_outbox GROUP BY status").fetchall()
        found = {OutboxStatus(s): n for s, n in rows}
        return {s: found.get(s, 0) for s in OutboxStatus}

    def purge(self, done_before: float) -> int:
        """Delete sent and expired entries finished before `done_before`; pending ones always stay."""
        cur = self._db.execute(
            "DELETE FROM mqtt_outbox WHERE status != 'pending' AND done_ts < ?", (done_before,)
        )
        return cur.rowcount
