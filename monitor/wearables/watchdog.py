"""Silence watchdog: a connected link that stops notifying is torn down.

Bleak learns about a lost link from BlueZ's PropertiesChanged(Connected=False). When bluetoothd
itself dies, nobody sends that signal and the client believes it is connected forever. The only
sign is silence, so the link feeds this watchdog on every notification and the watchdog fires when
nothing arrived for `timeout_s`.

Like habluetooth's scanner watchdog it runs on `loop.call_at` against the loop's monotonic clock
(immune to wall-clock steps) and costs one float store per notification: the timer is only re-armed
when it fires early, never on the hot path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class SilenceWatchdog:
    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout_s: float, on_silence: Callable[[float], None]
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s={timeout_s} must be > 0")
        self._loop = loop
        self.timeout_s = timeout_s
        self._on_silence = on_silence
        self._handle: asyncio.TimerHandle | None = None
        self.last_feed = 0.0
        self.fired = 0

    @property
    def armed(self) -> bool:
        return self._handle is not None

    def start(self) -> None:
        """Arm from now: the link counts as silent if nothing arrives within `timeout_s`."""
        self.stop()
        self.last_feed = self._loop.time()
        self._handle = self._loop.call_at(self.last_feed + self.timeout_s, self._check)

    def feed(self, now: float) -> None:
        """Something arrived at `now` (loop time). The hot path: one store, no timer work."""
        self.last_feed = now

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        silent_for = self._loop.time() - self.last_feed
        if silent_for < self.timeout_s:
            self._handle = self._loop.call_at(self.last_feed + self.timeout_s, self._check)
            return
        self._handle = None
        self.fired += 1
        self._on_silence(silent_for)
