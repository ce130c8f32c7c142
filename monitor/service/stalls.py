"""What of one wearable's work is stuck, for the watchdog (`Supervisor.watch`).

Waiting is not stuck: a link scanning for a device that is off, a data loop waiting for samples, a
command loop waiting for the phone. Stuck is one piece of work that has run far longer than it ever
takes: a daily report being built (a Pi takes about a second), a connection attempt (each of its
steps has a timeout of seconds). The handlers of samples and commands run on the event loop without
awaiting, so one stuck there stops the loop, which the daemon's own lag check sees.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.core.links import LinkState

# Loop seconds.
REPORT_STALL_S = 600.0
CONNECT_STALL_S = 600.0


def stall_check(
    wearable: str,
    building_since: Callable[[], float | None],
    link_state: Callable[[], LinkState],
) -> Callable[[float], str | None]:
    """`check(loop_time)`: what is stuck, in words, or None."""
    connecting: list[float] = []  # loop time the link was first seen connecting, this attempt

    def stalled(now: float) -> str | None:
        building = building_since()
        if building is not None and now - building > REPORT_STALL_S:
            return f"{wearable} daily report stuck for {now - building:.0f} s"
        if link_state() is not LinkState.CONNECTING:
            connecting.clear()
            return None
        if not connecting:
            connecting.append(now)
        if now - connecting[0] > CONNECT_STALL_S:
            return f"{wearable} link stuck connecting for {now - connecting[0]:.0f} s"
        return None

    return stalled
