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


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """One thing that happened to the link.

    t:        data time (UTC seconds) it refers to; for a gap, where the missing time starts.
    wearable: the wearable's address.
    seconds:  GAP: missing time; CLOCK_STEP: the step, negative when the clock went back.
    count:    MALFORMED / DUPLICATE / OUT_OF_ORDER: packets since the last such event; HELD: samples
              dropped by one hold. level: BATTERY: percent. detail: words for the log and the store.
    """

    kind: LinkEventKind
    t: float
    wearable: str
    seconds: float | None = None
    count: int | None = None
    level: int | None = None
    reason: str = ""
    detail: str = ""
