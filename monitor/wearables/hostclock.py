"""What the host can say about its own wall clock, for log lines that name the likely cause.

A Raspberry Pi has no real-time clock: at boot fake-hwclock restores the last saved time (an hour to
days behind after a power cut), and systemd-timesyncd or chrony step it when NTP answers, seconds to
minutes later, or never when offline. `clockwatch` measures steps (wall clock against the boot-time
clock); this module only tells whether the kernel considers the clock synchronised, so a warning
can say "not synchronised yet" rather than guess. Nothing here decides how data is timed.

The kernel's own flag (adjtimex, TIME_ERROR while unsynchronised) works with timesyncd and chrony
alike, but `ProtectClock=yes` in the unit denies even the read-only call (EPERM), so the file
systemd-timesyncd keeps, /run/systemd/timesync/synchronized, is the fallback under systemd.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

# adjtimex(2) returns the clock state; TIME_ERROR means "not synchronised" (STA_UNSYNC).
TIME_ERROR = 5
# struct timex is 208 bytes on 64-bit Linux and smaller on 32-bit; a zeroed buffer this big with
# modes = 0 (its first field) is a read-only query on every architecture.
_TIMEX_BYTES = 512
# systemd-timesyncd creates this file on its first synchronisation (systemd >= 239).
TIMESYNC_DIR = Path("/run/systemd/timesync")
TIMESYNC_FLAG = TIMESYNC_DIR / "synchronized"


def _adjtimex_state() -> int | None:
    """The kernel's clock state, or None where the call is unavailable or refused."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        buf = ctypes.create_string_buffer(_TIMEX_BYTES)
        state = int(libc.adjtimex(buf))
    except (OSError, AttributeError) as exc:
        _LOGGER.debug("adjtimex unavailable: %s", exc)
        return None
    if state < 0:  # EPERM under ProtectClock= / a seccomp filter
        _LOGGER.debug("adjtimex refused (errno %d)", ctypes.get_errno())
        return None
    return state


def clock_synchronised() -> bool | None:
    """True when the system clock is known to be synchronised, False when known not to be, None when
    the host cannot tell (sandboxed without systemd-timesyncd, or not Linux)."""
    state = _adjtimex_state()
    if state is not None:
        return state != TIME_ERROR
    return timesyncd_synchronised()


def timesyncd_synchronised(timesync_dir: Path = TIMESYNC_DIR) -> bool | None:
    """What systemd-timesyncd's flag file says; None when timesyncd is not running here."""
    try:
        if (timesync_dir / TIMESYNC_FLAG.name).exists():
            return True
        if timesync_dir.is_dir():
            return False  # timesyncd runs but has not synchronised yet
    except OSError:
        pass
    return None


def step_cause(step_s: float, synchronised: bool | None) -> str:
    """Words for the likely cause of a host clock step of `step_s` seconds."""
    if step_s > 0:
        if synchronised:
            return "NTP sync after boot? the clock is synchronised now; a Pi has no real-time clock"
        return "NTP sync after boot, or set by hand?"
    if synchronised:
        return "NTP corrected a clock that was ahead"
    return "set back by hand or by a wrong time source?"


def behind_cause(synchronised: bool | None) -> str:
    """Words for the likely cause of data timed before data already stored, at start."""
    if synchronised is False:
        return "the system clock is not synchronised yet (no real-time clock; NTP has not answered)"
    if synchronised:
        return "the system clock is synchronised, so the stored data was recorded while it was ahead"
    return "the system clock is probably not synchronised yet (no real-time clock, NTP not synced?)"
