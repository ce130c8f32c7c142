"""Device time against arrival time: the check that keeps data off the future. Pure.

A sample cannot reach the host before it was taken, so no sample may be timed after the arrival of
the notification that carried it. The timeline maps a device clock to UTC once (at the first packet,
on its arrival) and keeps the mapping across reconnects; this module watches how the device's
times go on to compare with their arrivals (the host's UTC clock, `clockwatch`), and the timeline
acts on what it says:

- *Ahead*: a packet whose last sample would be timed more than `DEVICE_CLOCK_TOLERANCE_S` after its
  own arrival is re-timed on it at once (its last sample at its arrival). The device clock runs
  fast, its samples come faster than it declares, or its clock jumped forward. Samples that the new
  timing puts at or before data already handed on are dropped and counted: data time never goes
  back and never runs ahead of the arrival clock by more than the tolerance.
- *Behind*: when every packet for `CHECK_WINDOW_S` of arrivals came more than the tolerance after its
  time (the device clock runs slow, or jumped back), the mapping is re-anchored on the arrival of
  the packet that completes the window; the time skipped becomes a gap (unknown). One window,
  because packets are often late for a while (a busy radio, a device draining its buffer) and that
  is not the device's clock; a whole window of them always late is.
- *Drift*: within the tolerance the mapping follows the device clock gently. Every window the most
  prompt packet (the largest lead: delivery delay only ever makes a packet later) measures how far
  the mapping is off; beyond `SLEW_DEADBAND_S` it is corrected at `MAX_SLEW` (1000 ppm) of data
  time and never by more than a quarter sample period per packet, so the correction never shows as
  a gap or an overlap. A mapping that lives for weeks across reconnects stays within a fraction of a
  second of a crystal that drifts, and a normal device never trips the check.

The tolerance, 2 s: what separates a device's time from its arrival when nothing is wrong is
(1) delivery delay, which only makes packets later: a BLE connection interval (7.5 ms to 4 s; tens of
ms when streaming), link-layer retries up to the supervision timeout, and the host's own wake-up and
event loop (up to about a second on a busy Pi), and the mapping takes the first packet's delay as
zero, so a later prompt packet leads by at most that delay; (2) crystal drift, 20-50 ppm for a crystal
and up to 500 ppm for a calibrated RC oscillator: at most 15 ms over a 30 s window, and the slew
takes care of it beyond that. Two seconds is above both with a margin, it is the host clock-step
tolerance (`clockwatch.CLOCK_STEP_TOLERANCE_S`: a second or two of data time does not matter for
posture, labelled per second with a 5 s minimum sitting bout), and a clock that is wrong is caught
fast: 10x fast in a quarter of a second, 1 % fast in about 3 minutes, anything more than the
slew's 0.1 % eventually. A device clock is checked only against a real-time arrival clock: the link
turns the check off for a simulated host clock (see `WearableLink`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

# A packet's last sample more than this after its own arrival is re-timed on it; every packet more
# than this behind its arrival for a whole window re-anchors the mapping. See the module docstring.
DEVICE_CLOCK_TOLERANCE_S = 2.0
# Arrival seconds per measurement window (the slew's estimate, the "behind" verdict).
CHECK_WINDOW_S = 30.0
# The most prompt packet of a window this far off its arrival starts a slew (below: left alone).
SLEW_DEADBAND_S = 0.25
# The slew corrects at most this fraction of the data time it spans (1000 ppm, twice the worst
# crystal or calibrated RC oscillator), and at most this many sample periods per packet.
MAX_SLEW = 1e-3
SLEW_MAX_PERIODS = 0.25
# A fault episode ends after this long (arrival seconds) without a fault; the next one is logged again.
QUIET_S = 2 * CHECK_WINDOW_S


class ClockFaultKind(StrEnum):
    AHEAD = "ahead"  # timed after its arrival: the device runs fast or jumped forward
    BEHIND = "behind"  # timed well before its arrival for a whole window, or jumped back


@dataclass(frozen=True, slots=True)
class ClockFault:
    """One packet whose device time disagreed with its arrival beyond the tolerance.

    `error_s`: its last sample against its arrival before re-timing (+: after its arrival).
    `since_s`: arrival seconds since the mapping was last set (the first packet or a re-timing),
    so the error per second says how fast or slow the device runs; None when unknown."""

    kind: ClockFaultKind
    error_s: float
    since_s: float | None = None


class ArrivalCheck:
    """The timeline's side of the check: judges each packet's lead over its arrival and keeps the
    window and the slew. `judge` says how much to move the packet's times; the caller moves them."""

    def __init__(
        self, tolerance_s: float = DEVICE_CLOCK_TOLERANCE_S, window_s: float = CHECK_WINDOW_S
    ) -> None:
        self.tolerance_s = tolerance_s
        self.window_s = window_s
        self._anchored_at: float | None = None  # arrival when the mapping was last set
        self._window_start: float | None = None
        self._window_lead = -math.inf  # the most prompt packet's lead in this window
        self._behind_since: float | None = None  # first arrival of the current run of late packets
        self._slew = 0.0  # correction still to apply to the mapping, seconds (negative: earlier)

    def anchored(self, arrival: float) -> None:
        """The mapping was set on this arrival: measure afresh from here."""
        self._anchored_at = arrival
        self.restart(arrival)

    def restart(self, arrival: float | None = None) -> None:
        """Measure afresh (a new connection, a host clock step): the window, the late run and the slew."""
        self._window_start = arrival
        self._window_lead = -math.inf
        self._behind_since = None
        self._slew = 0.0

    def slew_step(self, span_s: float, spacing_s: float) -> float:
        """How much to move the mapping for a packet spanning `span_s` of data (the next bite of the
        slew, signed seconds)."""
        if self._slew == 0.0:
            return 0.0
        limit = min(MAX_SLEW * span_s, SLEW_MAX_PERIODS * spacing_s)
        step = max(-limit, min(limit, self._slew))
        self._slew -= step
        return step

    def judge(self, lead: float, arrival: float, *, windows: bool = True) -> tuple[float, ClockFault | None]:
        """A packet whose last sample is timed `lead` seconds after its `arrival`: the correction to
        add to its times (signed seconds; 0 when none) and the fault, if any. `windows`: measure the
        slew and the late runs too (device clocks); without, only the ceiling applies."""
        since = None if self._anchored_at is None else arrival - self._anchored_at
        if lead > self.tolerance_s:
            self.anchored(arrival)
            return -lead, ClockFault(ClockFaultKind.AHEAD, lead, since)
        if not windows:
            return 0.0, None
        if lead < -self.tolerance_s:
            if self._behind_since is None:
                self._behind_since = arrival
            elif arrival - self._behind_since >= self.window_s:
                self.anchored(arrival)
                return -lead, ClockFault(ClockFaultKind.BEHIND, lead, since)
        else:
            self._behind_since = None
        if self._window_start is None:
            self._window_start = arrival
        self._window_lead = max(self._window_lead, lead)
        if arrival - self._window_start >= self.window_s:
            off = self._window_lead
            self._slew = -off if abs(off) > SLEW_DEADBAND_S else 0.0
            self._window_start = arrival
            self._window_lead = -math.inf
        return 0.0, None

    def jumped_back(self, lag: float, span_s: float, arrival: float) -> ClockFault | None:
        """A packet older than data already used, on a format without sequence numbers, `lag`
        seconds after its time: a packet that came late or twice is at most a packet's span and the
        tolerance behind; more is a device clock that went back (a fault; the caller re-anchors)."""
        if lag <= self.tolerance_s + span_s:
            return None
        since = None if self._anchored_at is None else arrival - self._anchored_at
        return ClockFault(ClockFaultKind.BEHIND, -lag, since)


class ClockFaultLog:
    """The assembler's record of device clock faults: counted, the first of each episode logged,
    and the samples re-timing dropped (reported with the link's other tallies)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.faults = 0
        self.last: ClockFault | None = None
        self.dropped = 0  # samples dropped since the start
        self.pending_dropped = 0  # ... not yet reported
        self.next_report = 0.0  # monotonic time before which they are not (the tallies' interval)
        self._last_at: float | None = None  # arrival (host UTC) of the last fault

    def note(self, fault: ClockFault, arrival: float) -> bool:
        """Count a fault; True when it opens an episode (log it), False inside one."""
        opens = self._last_at is None or arrival - self._last_at > QUIET_S or arrival < self._last_at
        self.faults += 1
        self.last = fault
        self._last_at = arrival
        return opens

    def drop(self, samples: int) -> None:
        self.dropped += samples
        self.pending_dropped += samples

    def state(self, arrival: float) -> str:
        """ "off" (not checked), "ok", or the kind of the episode under way at `arrival`."""
        if not self.enabled:
            return "off"
        if self.last is None or self._last_at is None or not 0 <= arrival - self._last_at <= QUIET_S:
            return "ok"
        return self.last.kind.value
