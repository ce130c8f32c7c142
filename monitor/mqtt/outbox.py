"""Durable outbox for messages that must survive a broker outage or a restart.

`Outbox` is the interface the MQTT client needs; `monitor.store.outbox.StoreOutbox` implements it as
a table of the service database, so a nudge and the epochs around it commit to one file. The entries
themselves are core records (`monitor.core.outbox`): neither edge imports the other.

Delivery is at-least-once: an entry leaves `pending()` only through `mark_sent` (called after the
broker's PUBACK) or `expire` (a nudge too old to be useful). Events and reports are never expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from monitor.core.outbox import OutboxEntry, OutboxKind


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
