"""How long to wait before the next reconnect attempt: a pure function of the attempt and the error."""

from __future__ import annotations

from bleak_retry_connector import calculate_backoff_time

from monitor.wearables.settings import LinkSettings

BACKOFF_FACTOR = 2.0  # doubling: a wearable left at home costs one attempt a minute, not a busy loop
JITTER_FRACTION = 0.1  # ±10 % so several links on one adapter do not retry in lockstep


def backoff_delay(
    attempt: int, settings: LinkSettings, error: BaseException | None = None, jitter: float = 0.0
) -> float:
    """Seconds to wait before attempt `attempt + 1` (attempt 0 = the first retry).

    Doubles from `backoff_min_s` up to `backoff_max_s`. bleak-retry-connector's
    `calculate_backoff_time(error)` is a floor, so an adapter out of connection slots gets the time
    its controller needs. `jitter` in [-1, 1] (the caller draws it) spreads the delay by ±10 %.
    """
    if attempt < 0:
        raise ValueError(f"attempt={attempt} must be >= 0")
    if not -1.0 <= jitter <= 1.0:
        raise ValueError(f"jitter={jitter} must be within [-1, 1]")
    # cap the exponent: 2**64 s is already far past any backoff_max_s
    delay = min(settings.backoff_max_s, settings.backoff_min_s * BACKOFF_FACTOR ** min(attempt, 64))
    if isinstance(error, Exception):
        delay = max(delay, calculate_backoff_time(error))
    return max(0.0, delay * (1.0 + JITTER_FRACTION * jitter))
