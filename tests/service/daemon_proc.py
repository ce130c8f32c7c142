"""The daemon alone in a process, on a simulated clock, so a test can SIGKILL it and start it again.

usage: python -m tests.service.daemon_proc CONFIG STATE_DIR START_T ORIGIN_MONO SPEED [TIMELINE_FILE]

`sitbreak run` maps device time onto the host's real clock. With a wearable running `SPEED` times
faster than real time, a restart would map the device's clock onto a real time far *behind* the data
already stored. Here the host clock is `START_T + data_s(time.monotonic() - ORIGIN_MONO)`, the same
line the simulated device's clock follows (CLOCK_MONOTONIC is system-wide), so data time stays
continuous across kills, as it does for a real wearable at 1x. SPEED is a number (a constant speed)
or a `firmware_sim.device.SpeedSchedule` as JSON (`SpeedSchedule.to_json()`: fast nights, slower
days). TIMELINE_FILE: a `firmware_sim.simclock.SharedTimeline` the test slows the whole simulation
with; the clock then reads it instead of CLOCK_MONOTONIC (ORIGIN_MONO is a point on it). Everything else
is `sitbreak run`: the same Daemon, signal handlers, logging format and exit code.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from firmware_sim.device import SpeedSchedule
from firmware_sim.simclock import SharedTimeline
from monitor.config import load_config
from monitor.daemon import Daemon, DaemonOptions
from monitor.logsetup import configure_logging


def parse_speed(text: str) -> SpeedSchedule:
    """A constant speed ("200") or a schedule's JSON."""
    if text.lstrip().startswith("{"):
        return SpeedSchedule.from_json(text)
    return SpeedSchedule(speed=float(text))


def main(argv: list[str]) -> int:
    config_path, state_dir = Path(argv[0]), Path(argv[1])
    start_t, origin, schedule = float(argv[2]), float(argv[3]), parse_speed(argv[4])
    timeline = SharedTimeline(argv[5]).now if len(argv) > 5 else time.monotonic

    def clock() -> float:
        return start_t + schedule.data_s(timeline() - origin)

    configure_logging("INFO", sys.stdout)
    daemon = Daemon(load_config(config_path), DaemonOptions(config_path, state_dir, clock))
    return asyncio.run(daemon.run())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
