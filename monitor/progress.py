"""A one-line progress bar on stderr for long offline work, shown only on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

# Redraw at most this often: more is flicker and wasted writes on a slow terminal.
_REDRAW_S = 0.2
_WIDTH = 30


class Progress:
    """`update(done)` with done out of `total` (bytes, samples, ...); `close()` clears the line.

    Disabled (every call a no-op) when `enabled` is false or the stream is not a terminal, so logs and
    pipes never see carriage returns.
    """

    def __init__(self, total: int, label: str, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = max(total, 1)
        self.label = label
        self.enabled = enabled and self.stream.isatty()
        self._last = -float("inf")
        self._started = time.monotonic()
        self._drawn = False

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()  # UI pacing only; no result depends on it
        if now - self._last < _REDRAW_S:
            return
        self._last = now
        frac = min(max(done / self.total, 0.0), 1.0)
        filled = round(frac * _WIDTH)
        elapsed = now - self._started
        eta = f", {elapsed / frac - elapsed:.0f} s left" if 0.02 < frac < 1.0 else ""
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {100 * frac:3.0f} %{eta}   ")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * (len(self.label) + _WIDTH + 30) + "\r")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
