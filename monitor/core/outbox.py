"""Messages waiting for the broker: what the MQTT edge hands over and the store keeps.

Delivery is at-least-once: an entry leaves the pending queue only when the broker acknowledged it, or
when a nudge went stale (older than its useful life). Events and reports are never expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
