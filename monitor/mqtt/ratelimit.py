"""Rate-limited warnings: a misbehaving sender must not flood the journal."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable


class RateLimitedLog:
    """Log at most one line per `kind` per `interval_s`; the next line says how many were held back.

    Counts of every occurrence (logged or not) are kept in `counts` for diagnostics and tests.
    """

    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float,
        level: int = logging.WARNING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval_s = interval_s
        self._level = level
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()

    def log(self, kind: str, msg: str, *args: object) -> bool:
        """Count one `kind` occurrence; log `msg % args` unless one was logged recently. True if logged."""
        self.counts[kind] += 1
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._interval_s:
            self._suppressed[kind] += 1
            return False
        held = self._suppressed.pop(kind, 0)
        self._last[kind] = now
        self._logger.log(self._level, msg, *args)
        if held and last is not None:
            self._logger.log(
                self._level, "... and %d more like the line above in the last %.0f s", held, now - last
            )
        return True
