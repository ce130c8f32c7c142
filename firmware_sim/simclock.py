"""A simulation's shared time line, across processes: a clock that runs like the monotonic clock
until a test slows it down.

Every party to a simulation (the simulated device in the test's process, the service under test in
its own) evaluates one `SpeedSchedule` from one origin, so they agree on the data time at every
instant. A `SharedTimeline` is the clock that schedule is read on, with one knob: its rate. At 1
the schedule runs as written, at 0.1 ten times slower, for every party at once. A test that sees
the service fall behind the device (a loaded machine, a slow reconnect) lowers the rate until the
service has caught up, so that a slow minute of the machine costs wall time, not data.

(Not to be confused with `SimulatedWearable(pace=p)`: that is one device's own time being wrong
against the simulation's; a shared timeline slows the simulation, host included, as a whole.)

The state (an anchor on the monotonic clock, the time line's value there, the rate) lives in a small
file that every party maps into memory: the test writes it, the others read it at each clock
reading. A sequence number around each change (a seqlock) keeps a reader from using half of one.

    shared = SharedTimeline.create(path)  # the test: rate 1, reads as the monotonic clock
    shared.set_rate(0.1)                  # ... later: ten times slower from now on, for everyone
    SharedTimeline(path).now()            # any party: seconds on the shared time line
"""

from __future__ import annotations

import mmap
import os
import struct
import time
from pathlib import Path

# seq (even when stable), anchor on the monotonic clock, time line value at the anchor, rate.
_FORMAT = "<Qddd"
_SIZE = struct.calcsize(_FORMAT)
MIN_RATE = 1e-3


class SharedTimeline:
    """The shared time line (module doc). `now()` replaces `time.monotonic()` for its parties."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        fd = os.open(self.path, os.O_RDWR)
        try:
            self._map = mmap.mmap(fd, _SIZE)
        finally:
            os.close(fd)

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> SharedTimeline:
        """A new shared timeline file at rate 1, reading as the monotonic clock."""
        now = time.monotonic()
        Path(path).write_bytes(struct.pack(_FORMAT, 0, now, now, 1.0))
        return cls(path)

    def _read(self) -> tuple[float, float, float]:
        while True:
            before, anchor, value, rate = struct.unpack_from(_FORMAT, self._map)
            after = struct.unpack_from("<Q", self._map)[0]
            if before == after and not before & 1:
                return anchor, value, rate

    @property
    def rate(self) -> float:
        """Seconds of the time line per monotonic second, now."""
        return self._read()[2]

    def now(self, mono: float | None = None) -> float:
        """The time line at monotonic instant `mono` (default: now)."""
        anchor, value, rate = self._read()
        return value + ((time.monotonic() if mono is None else mono) - anchor) * rate

    def wall_delay_s(self, timeline_s: float) -> float:
        """Monotonic seconds until the time line reads `timeline_s`, at the current rate (0 when past)."""
        anchor, value, rate = self._read()
        now = value + (time.monotonic() - anchor) * rate
        return max(0.0, (timeline_s - now) / rate)

    def set_rate(self, rate: float) -> None:
        """From now on the time line runs at `rate` (writer only: one party changes the rate)."""
        if not rate >= MIN_RATE:
            raise ValueError(f"rate={rate!r} must be at least {MIN_RATE}")
        now = time.monotonic()
        value = self.now(now)
        seq = struct.unpack_from("<Q", self._map)[0]
        struct.pack_into("<Q", self._map, 0, seq + 1)
        struct.pack_into("<ddd", self._map, 8, now, value, rate)
        struct.pack_into("<Q", self._map, 0, seq + 2)

    def close(self) -> None:
        self._map.close()
