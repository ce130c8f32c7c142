"""The demo's simulated wearable, in a process of its own so it runs on the other CPU core.

`python -m monitor.demo.emulator --bus-address ADDR --speed S` serves org.bluez on the given bus with
one simulated SitSense wearable living `office_day()`, prints one JSON line (name, address, and the
monotonic time at which the device clock read zero, so the parent can map device time to a calendar
day; CLOCK_MONOTONIC is shared by all processes) and runs until its standard input closes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from firmware_sim.bluez import BlueZEmulator
from firmware_sim.motion import MotionConfig, office_day
from firmware_sim.source import motion_source
from firmware_sim.wearable import Profile, SimulatedWearable

DRAIN_PCT_PER_H = 0.2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.demo.emulator", description=__doc__)
    parser.add_argument("--bus-address", required=True)
    parser.add_argument("--speed", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    source = motion_source(office_day(), MotionConfig(placement="thigh", seed=args.seed))
    # A battery that lasts (0.2 %/device hour): a demo slowed down by a busy machine must not find
    # the wearable switched off before the simulated day is over.
    wearable = SimulatedWearable(
        Profile.SITSENSE, source=source, speed=args.speed, seed=args.seed, drain_pct_per_h=DRAIN_PCT_PER_H
    )
    with BlueZEmulator(args.bus_address) as emulator:
        emulator.add(wearable)
        origin = time.monotonic() - wearable.clock.now_ms() / 1000.0 / args.speed
        hello = {"name": wearable.name, "address": wearable.address, "clock_origin_monotonic": origin}
        sys.stdout.write(json.dumps(hello) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # the parent closes our stdin when the day is over
    return 0


if __name__ == "__main__":
    sys.exit(main())
