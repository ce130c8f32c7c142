"""The daemon on a simulated clock, for benches that measure in data time (crash_loss, nudge_latency).

`sitbreak run` maps device time onto the host's clock. tests/service/daemon_proc.py runs the same
daemon on a clock that follows a `firmware_sim.device.SpeedSchedule` from a monotonic origin, the
line the simulated wearable's own clock follows; so a bench reads the data time of any wall instant
off the schedule (`data_time`), exactly as the device and the service see it, and latencies and
losses come out in data time whatever the speed or the machine's load.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from firmware_sim.device import SpeedSchedule

REPO = Path(__file__).resolve().parent.parent
# Data time 0 of the simulated day (a Tuesday, in the configured zone UTC).
START_T = datetime(2026, 11, 24, 8, 0, tzinfo=UTC).timestamp()
ALL_DAY = "\n".join(f'active_{d} = "00:00-24:00"' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
STOP_TIMEOUT_S = 15.0


class SimulatedDaemon:
    """`python -m tests.service.daemon_proc` (the real Daemon on the simulated clock), logging to a
    file; stopped by PID."""

    def __init__(  # noqa: PLR0917 - one call shape, all of them needed
        self,
        config: Path,
        state: Path,
        schedule: SpeedSchedule,
        origin: float,
        bus_env: dict[str, str],
        log: Path,
    ) -> None:
        argv = [sys.executable, "-m", "tests.service.daemon_proc", str(config), str(state)]
        argv += [repr(START_T), repr(origin), schedule.to_json()]
        env = {**os.environ, **bus_env, "PYTHONPATH": str(REPO)}
        self._log = log.open("ab")
        self.proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, and wait for it to be gone."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(STOP_TIMEOUT_S)
        self._log.close()

    def stop(self) -> int | None:
        """SIGTERM (a clean stop: the pipeline flushes), SIGKILL if it hangs; the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT_S)
        self._log.close()
        return self.proc.returncode


def data_time(schedule: SpeedSchedule, origin: float, mono: float | None = None) -> float:
    """Data time (Unix seconds) at monotonic instant `mono` (default: now)."""
    return START_T + schedule.data_s((time.monotonic() if mono is None else mono) - origin)


def read_db(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Read the service's database as an outside reader (read-only); [] before it exists."""
    if not db.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            return list(conn.execute(sql, params).fetchall())
    except sqlite3.Error:
        return []


def stored_end(db: Path) -> float | None:
    """End (data time) of the last epoch the store holds."""
    rows = read_db(db, "SELECT max(t) FROM epochs")
    if not rows or rows[0][0] is None:
        return None
    value = rows[0][0]
    assert isinstance(value, int | float)
    return float(value) + 1.0
