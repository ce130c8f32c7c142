"""The MQTT outbox as the service gives it to its MQTT link: the store's table, and memory while the
table cannot be written.

Normally every message is a row of the store's outbox table, written in the same transaction as the
decision it reports (`monitor.service.writer`), and leaves it on the broker's PUBACK. During a
storage fault (the disk full, an I/O error, a read-only mount) the phone must still get its nudges:

- Messages made then are kept in memory (`in_memory()`, negative ids) and sent at once; they leave
  memory on PUBACK, and are re-sent from memory after a reconnect like stored ones. They are never
  written to the table afterwards: it is a delivery queue, and the decisions themselves are stored
  with their records when the store takes writes again. A process that ends during the fault loses
  the undelivered ones, like the rest of the data waiting in memory. At most `MEMORY_MAX` wait; beyond
  that the oldest is dropped (counted, logged).
- A PUBACK or an expiry that cannot be recorded in the table is remembered: the entry is no longer
  pending here (not sent again), and the record is written with the next successful write
  (`write_marks`). If the process ends first the entry is sent again after the restart, with the same
  id (delivery is at least once anyway).
- Reading the pending rows may fail too (an I/O error): then only the memory entries are pending.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from monitor.core.outbox import OutboxEntry, OutboxKind
from monitor.store import storage_problem
from monitor.store.outbox import StoreOutbox

_LOGGER = logging.getLogger(__name__)

# Messages waiting in memory during a storage fault: a day of an unusually busy wearer's events and
# nudges is a few hundred; a flapping link could make more, and they must not grow without bound.
MEMORY_MAX = 2000


class ResilientOutbox:
    """`monitor.mqtt.outbox.Outbox` over the store's table, falling back to memory (module doc)."""

    def __init__(self, table: StoreOutbox) -> None:
        self.table = table
        self._memory: dict[int, OutboxEntry] = {}
        self._next_id = -1
        self._in_memory = False
        self._acked: dict[int, float] = {}  # stored entry -> acknowledged at; not recorded yet
        self._expired: set[int] = set()  # stored entries expired; not recorded yet
        self._expire_again: tuple[OutboxKind, float, float] | None = None
        self.dropped = 0

    @contextlib.contextmanager
    def in_memory(self) -> Iterator[None]:
        """Messages queued inside are kept in memory, not in the table."""
        outer, self._in_memory = self._in_memory, True
        try:
            yield
        finally:
            self._in_memory = outer

    @property
    def in_memory_count(self) -> int:
        return len(self._memory)

    # ------------------------------------------------------------------ the Outbox protocol

    def enqueue(  # noqa: PLR0917  # the Outbox Protocol's signature
        self, topic: str, payload: bytes, qos: int, retain: bool, kind: OutboxKind, created_ts: float
    ) -> int:
        if not self._in_memory:
            return self.table.enqueue(topic, payload, qos, retain, kind, created_ts)
        entry_id = self._next_id
        self._next_id -= 1
        self._memory[entry_id] = OutboxEntry(entry_id, topic, payload, qos, retain, kind, created_ts)
        while len(self._memory) > MEMORY_MAX:
            oldest = next(iter(self._memory))
            dropped = self._memory.pop(oldest)
            self.dropped += 1
            _LOGGER.warning(
                "outbox: %d messages wait in memory while the store cannot be written; the oldest "
                "(%s on %s) is dropped",
                MEMORY_MAX,
                dropped.kind,
                dropped.topic,
            )
        return entry_id

    def pending(self) -> list[OutboxEntry]:
        try:
            stored = [
                e for e in self.table.pending() if e.id not in self._acked and e.id not in self._expired
            ]
        except Exception as exc:
            if storage_problem(exc) is None:
                raise
            stored = []
        return stored + list(self._memory.values())

    def mark_sent(self, entry_id: int, sent_ts: float) -> None:
        if entry_id < 0:
            self._memory.pop(entry_id, None)
            return
        try:
            self.table.mark_sent(entry_id, sent_ts)
        except Exception as exc:
            if storage_problem(exc) is None:
                raise
            self._acked[entry_id] = sent_ts

    def expire(self, kind: OutboxKind, created_before: float, now_ts: float) -> list[OutboxEntry]:
        gone = [e for e in self._memory.values() if e.kind is kind and e.created_ts < created_before]
        for entry in gone:
            del self._memory[entry.id]
        try:
            stored = self.table.expire(kind, created_before, now_ts)
        except Exception as exc:
            if storage_problem(exc) is None:
                raise
            stored = [
                e for e in self.pending() if e.id > 0 and e.kind is kind and e.created_ts < created_before
            ]
            self._expired.update(e.id for e in stored)
            self._expire_again = (kind, created_before, now_ts)
        return gone + stored

    # ------------------------------------------------------------------ after a storage fault

    def write_marks(self) -> None:
        """Record the PUBACKs and expiries that could not be recorded (the store takes writes again).
        Raises what the store raises; what is not recorded yet stays remembered."""
        for entry_id, sent_ts in list(self._acked.items()):
            self.table.mark_sent(entry_id, sent_ts)
            del self._acked[entry_id]
        if self._expire_again is not None:
            self.table.expire(*self._expire_again)
            self._expire_again = None
            self._expired.clear()

    @property
    def marks_waiting(self) -> bool:
        return bool(self._acked) or self._expire_again is not None
