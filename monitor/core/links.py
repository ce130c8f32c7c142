"""What the link tells the rest of the service besides samples: link events and link states.

Events travel through the same queue as the sample blocks, in order, so the store records a gap
right where the data shows it. They are frozen and slotted: cheap to make, safe to share, and easy
to log, store and publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LinkState(StrEnum):
    """Where the link is; each change is logged once ("name - address: state (why)")."""

    IDLE = "idle"
    UNAVAILABLE = "unavailable"  # no system bus, no org.bluez, or no powered adapter
    SCANNING = "scanning"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    BACKOFF = "backoff"
    STOPPED = "stopped"
    # connected, but the data's time is at or before data already handed on or stored (the host clock
    # is behind): samples are dropped until the clock passes it
    HOLDING = "holding"


class LinkEventKind(StrEnum):
    CONNECTED = "connected"  # first stream since the link started
    LOST = "lost"  # the stream stopped (disconnect, silence, error)
    RECONNECTED = "reconnected"  # streaming again after a loss
    GAP = "gap"  # data time with no samples: becomes unknown in the pipeline
    MALFORMED = "malformed"  # packets dropped because they did not decode
    DUPLICATE = "duplicate"  # packets dropped because they repeated one already used
    OUT_OF_ORDER = "out_of_order"  # packets dropped because they were older than data already used
    BATTERY = "battery"  # battery level, %
    UNAVAILABLE = "unavailable"  # Bluetooth itself is not there (retried)
    CLOCK_STEP = "clock_step"  # the host clock stepped (seconds, signed); data is re-timed from here
    HELD = "held"  # samples dropped while their time was at or before data already used (count)


class GapReason(StrEnum):
    PACKETS_LOST = "packets_lost"  # sequence/timestamps jumped on a live link
    LINK_LOST = "link_lost"  # the time between a loss and the first data after reconnecting
    DEVICE_OVERFLOW = "device_overflow"  # the wearable itself reported dropping samples
    CONSUMER_SLOW = "consumer_slow"  # the queue was full; the oldest block was dropped here
    CLOCK_STEP = "clock_step"  # the host clock stepped forward: the time it skipped has no data


# Which field carries a kind's one number, for the store's single `value` column.
_SECONDS_KINDS = frozenset({LinkEventKind.GAP, LinkEventKind.CLOCK_STEP})
_COUNT_KINDS = frozenset(
    {LinkEventKind.MALFORMED, LinkEventKind.DUPLICATE, LinkEventKind.OUT_OF_ORDER, LinkEventKind.HELD}
)


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """One thing that happened to the link.

    t:        data time (UTC seconds) it refers to; for a gap, where the missing time starts.
    seconds:  GAP: missing time; CLOCK_STEP: the step, negative when the clock went back.
    count:    MALFORMED / DUPLICATE / OUT_OF_ORDER: packets since the last such event; HELD: samples
              dropped by one hold; GAP: packets lost, when sequence numbers tell.
    level:    BATTERY: percent.
    reason:   a word for machines (a `GapReason`, why a stream was lost); detail: words for people.
    """

    kind: LinkEventKind
    t: float
    seconds: float | None = None
    count: int | None = None
    level: int | None = None
    reason: str = ""
    detail: str = ""

    @property
    def value(self) -> float | None:
        """The event's one number (GAP seconds, packet counts, BATTERY percent), as the store keeps it."""
        return next((float(v) for v in (self.seconds, self.count, self.level) if v is not None), None)

    @property
    def text(self) -> str:
        """The event's words, as the store keeps them."""
        return self.detail or self.reason or str(self.kind)

    @classmethod
    def from_stored(cls, t: float, kind: LinkEventKind, value: float | None, text: str) -> LinkEvent:
        """The event as read back from the store's (value, text) columns."""
        if value is None:
            return cls(kind, t, detail=text)
        if kind in _SECONDS_KINDS:
            return cls(kind, t, seconds=value, detail=text)
        if kind in _COUNT_KINDS:
            return cls(kind, t, count=int(value), detail=text)
        return cls(kind, t, level=int(value), detail=text)
