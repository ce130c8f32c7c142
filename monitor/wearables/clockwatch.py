"""The host clock as the link sees it: the arrival mapping (loop time -> UTC) and its steps.

    watch = ClockWatch(time.time, loop_clock=loop.time)
    step = watch.sync()                        # at each connection
    if arrival >= watch.next_check:            # as notifications are handled, about once a second
        step = watch.check()
    arrival_utc = arrival + watch.mono_to_utc

Arrival times are taken on the event loop's clock (monotonic: never stepped, and it stops during a
suspend) and mapped to UTC with the wall clock as it was at the last check. A check reads the loop
clock itself, next to the wall clock: the pair is the mapping, so both must be read at the same
moment. (A notification's arrival time is not "now" when it is handled: the link decodes them in
batches up to `block_max_s` later, and pairing an old arrival time with the wall clock read now
once timed every later arrival, and a device clock anchored on it, that much late.) A step is measured as a
change of (wall clock - CLOCK_BOOTTIME): NTP slews both alike, only a step changes the difference,
and the boot-time clock runs on through a suspend, so waking up is not a step. `check` returns a step
beyond `CLOCK_STEP_TOLERANCE_S` (signed seconds); what it means for the data is the assembler's
business (`PacketAssembler.clock_stepped`), the likely cause is `hostclock`'s.

Both clocks are injectable, so every rule is tested without sleeping or stepping the real clock.
A wall clock that is not the system clock (the demo's and the tests' simulated clocks, running many
times faster than the monotonic one) has no steps: detection is off for it unless asked for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

# The host clock is checked for steps this often (loop seconds) while data flows: a step is noticed
# within a second, at the cost of two clock reads per second.
CLOCK_CHECK_EVERY_S = 1.0
# A change of (wall - boot-time clock) beyond this is a step. NTP slews small errors (both clocks alike);
# timesyncd and chrony step only for larger ones, and a second or two of data time does not matter
# for posture. Smaller changes add up until they pass it, then count in full.
CLOCK_STEP_TOLERANCE_S = 2.0
# Steps are measured against CLOCK_BOOTTIME (Linux): never stepped, and it runs on through a suspend.
_BOOT_CLOCK = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def since_boot() -> float:
    """CLOCK_BOOTTIME where there is one (Linux), else the monotonic clock."""
    return time.clock_gettime(_BOOT_CLOCK)


class ClockWatch:
    """One per link; see the module docstring."""

    def __init__(
        self,
        wall_clock: Callable[[], float] = time.time,
        *,
        detect_steps: bool | None = None,
        boot_clock: Callable[[], float] = since_boot,
        loop_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`detect_steps`: None means on for the system clock (`time.time`) and off for any other.
        `loop_clock`: the clock arrivals are stamped with (the link passes its loop's `time`)."""
        self.wall_clock = wall_clock
        self.loop_clock = loop_clock
        self.detect_steps = wall_clock is time.time if detect_steps is None else detect_steps
        self._boot_clock = boot_clock
        self.mono_to_utc = 0.0  # add to a loop time to get host UTC
        self.next_check = math.inf  # loop time of the next check (never while detection is off)
        self.checked_utc = 0.0  # the wall clock at the last sync or check
        self.steps = 0
        self._ref: float | None = None  # wall - boot-time clock at the last step (or the first check)

    def sync(self) -> float | None:
        """At each connection: the arrival mapping, checked for a step since the last check.
        Returns the step, or None."""
        if not self.detect_steps:
            now = self.loop_clock()
            self.checked_utc = self.wall_clock()
            self.mono_to_utc = self.checked_utc - now
            return None
        return self.check()

    def check(self) -> float | None:
        """Re-map arrivals (the loop clock and the wall clock read together, now) and measure the
        step since the last one, if any beyond `CLOCK_STEP_TOLERANCE_S` (signed seconds; None when
        there is none)."""
        now = self.loop_clock()
        wall = self.wall_clock()
        self.checked_utc = wall
        self.next_check = now + CLOCK_CHECK_EVERY_S
        # Arrival times follow the wall clock as it is now (the loop's clock stops during a suspend).
        self.mono_to_utc = wall - now
        # Steps are measured against the boot-time clock: like the monotonic clock it is slewed with
        # the wall clock and never stepped, and unlike it, it runs on through a suspend, so a laptop
        # waking up is not mistaken for a step (a wearable's own clock ran on meanwhile too).
        offset = wall - self._boot_clock()
        if self._ref is None:
            self._ref = offset
            return None
        step = offset - self._ref
        if abs(step) <= CLOCK_STEP_TOLERANCE_S:
            return None
        self._ref = offset
        self.steps += 1
        return step
