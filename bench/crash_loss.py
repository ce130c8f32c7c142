"""Data a SIGKILL loses: what the wearable had sampled against what the store holds, at random points
of a simulated office day.

    python bench/crash_loss.py                  # 12 kills over an office day (~7 min)
    python bench/crash_loss.py --kills 30 --json

What runs: a private dbus-daemon and the BlueZ emulator (in this process) with one simulated SitSense
thigh wearable living `firmware_sim.motion.office_day()`; the daemon is `sitbreak run` in its own
process on a clock that follows the device's (tests/service/daemon_proc.py), MQTT off, default
`[link]` and `[pipeline]` settings. One `SpeedSchedule` drives both: FAST (200x) between kills and
real time (1x) for LEAD_S of data before each kill and TAIL_S after it, so the service meets each kill
exactly as it runs on a Pi (the link's blocks are timed on the wall clock) whatever the machine's
load, while the hours between cost only seconds.

At each kill point (seeded random, one in each of `--kills` equal parts of the day after the first
ten minutes) the daemon gets SIGKILL. The loss is the data time the device had reached at that
instant (both parties read it off the same schedule) minus the end of the last epoch in the store;
then the daemon starts again and the day goes on. A kill whose window found the service not yet
streaming (it was still starting after the previous kill) is reported and left out.

What is lost is what had not reached a pipeline pass: the notifications the link was gathering into
its current block (`link.block_max_s`), the samples not yet in a packet, and the last windows (an
epoch is labelled once the samples to 1.5 s past its start are in). Everything that reached a pass is
stored at once: live labels, and the epochs non-wear still holds (a still device) as if worn.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from bench.simservice import ALL_DAY, START_T, SimulatedDaemon, data_time, stored_end  # noqa: E402
from firmware_sim.bluez import BlueZEmulator  # noqa: E402
from firmware_sim.bus import PrivateBus  # noqa: E402
from firmware_sim.device import SpeedSchedule  # noqa: E402
from firmware_sim.motion import MotionConfig, Segment, office_day  # noqa: E402
from firmware_sim.source import motion_source  # noqa: E402
from firmware_sim.wearable import Profile, SimulatedWearable  # noqa: E402

TARGET_S = 15.0
FAST = 200.0
# Real time before a kill (the service settles into its 1x rhythm within two blocks) and after it
# (the restart begins there).
LEAD_S = 15.0
TAIL_S = 5.0
# The first kill no earlier than this into the day (the service's first connection and the first
# walk, which teaches the upright reference).
FIRST_S = 600.0
WID = "crash"

CONFIG = """\
timezone = "UTC"

[[wearables]]
id = "{wid}"
profile = "sitsense"
placement = "thigh"
address = "{address}"

[policy]
{active}

[mqtt]
enabled = false

[link]
# A restart at FAST speed takes a few wall seconds: do not let a slow start turn into a long backoff.
backoff_max_s = 2.0
"""


@dataclass(frozen=True, slots=True)
class Kill:
    at_s: float  # data time of the kill, seconds into the day
    activity: str  # what the wearer was doing (the schedule's segment)
    loss_s: float | None  # device time reached minus the end of the stored epochs; None: not streaming


def kill_points(kills: int, day_s: float, seed: int) -> list[float]:
    """One random point in each of `kills` equal parts of [FIRST_S, day_s - LEAD_S)."""
    rng = np.random.default_rng(seed)
    edges = np.linspace(FIRST_S, day_s - LEAD_S - TAIL_S, kills + 1)
    return [float(rng.uniform(a + LEAD_S, b)) for a, b in itertools.pairwise(edges)]


def speed_schedule(points: Sequence[float]) -> SpeedSchedule:
    """FAST, but real time from LEAD_S before each point to TAIL_S after it."""
    phases: list[tuple[float, float]] = []
    done = 0.0
    for at in sorted(points):
        start = at - LEAD_S
        if start > done:
            phases.append((start - done, FAST))
        phases.append((at + TAIL_S - max(done, start), 1.0))
        done = at + TAIL_S
    return SpeedSchedule(tuple(phases), FAST)


def activity_at(schedule: Sequence[Segment], at_s: float) -> str:
    t = 0.0
    for seg in schedule:
        t += seg.duration_s
        if at_s < t:
            return str(seg.activity)
    return "end"


def run(
    emulator: BlueZEmulator,
    bus_env: dict[str, str],
    folder: Path,
    points: Sequence[float],
    *,
    seed: int = 0,
    progress: bool = False,
) -> list[Kill]:
    """Kill the daemon at each of `points` (data seconds into the office day); the loss of each."""
    day = office_day()
    schedule = speed_schedule(points)
    wearable = SimulatedWearable(
        Profile.SITSENSE,
        source=motion_source(day, MotionConfig(placement="thigh", seed=seed)),
        speed=schedule,
    )
    emulator.add(wearable)
    origin = wearable.clock.origin
    config = folder / "sitbreak.toml"
    config.write_text(CONFIG.format(wid=WID, address=wearable.address, active=ALL_DAY), encoding="utf-8")
    state = folder / "state"
    db = state / "sitbreak.db"
    starts = 0

    def start() -> SimulatedDaemon:
        nonlocal starts
        starts += 1
        return SimulatedDaemon(config, state, schedule, origin, bus_env, folder / f"daemon{starts}.log")

    kills: list[Kill] = []
    daemon = start()
    try:
        for at in points:
            wall_at = origin + schedule.wall_s(at)
            while (wait := wall_at - time.monotonic()) > 0:
                if not daemon.alive():
                    raise RuntimeError(f"the daemon exited with {daemon.proc.returncode}; see {folder}")
                time.sleep(min(wait, 0.05))
            reached = data_time(schedule, origin)
            daemon.kill()
            end = stored_end(db)
            streaming = end is not None and end > START_T + at - LEAD_S
            loss = reached - end if streaming and end is not None else None
            kills.append(Kill(round(at, 1), activity_at(day, at), None if loss is None else round(loss, 2)))
            if progress:
                shown = "not streaming yet" if loss is None else f"{loss:.1f} s lost"
                print(f"kill {len(kills)}/{len(points)} at {at / 3600:.2f} h ({kills[-1].activity}): {shown}")
            daemon = start()
    finally:
        daemon.stop()
        emulator.remove(wearable)
    return kills


def summary(kills: Sequence[Kill]) -> dict[str, object]:
    losses = sorted(k.loss_s for k in kills if k.loss_s is not None)
    if not losses:
        return {"kills": len(kills), "measured": 0}
    return {
        "kills": len(kills),
        "measured": len(losses),
        "loss_min_s": losses[0],
        "loss_p50_s": round(statistics.median(losses), 2),
        "loss_max_s": losses[-1],
        "loss_mean_s": round(statistics.fmean(losses), 2),
        "target_s": TARGET_S,
        "meets_target": losses[-1] <= TARGET_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=12, help="kills over the day (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="kill points and motion (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.kills < 1:
        parser.error("--kills must be at least 1")
    day_s = sum(seg.duration_s for seg in office_day())
    points = kill_points(args.kills, day_s, args.seed)
    with (
        tempfile.TemporaryDirectory(prefix="sitbreak-crash-") as tmp,
        PrivateBus() as bus,
        BlueZEmulator(bus.address, connect_timeout_s=2.0, adv_interval_s=0.05) as emulator,
    ):
        kills = run(emulator, bus.environ(), Path(tmp), points, seed=args.seed, progress=not args.json)
    result = summary(kills)
    if args.json:
        print(json.dumps({**result, "each": [asdict(k) for k in kills]}))
        return 0 if result.get("meets_target") else 1
    if not result.get("measured"):
        print("no kill found the service streaming")
        return 1
    print(
        f"{result['measured']} of {result['kills']} kills measured: data lost min {result['loss_min_s']} s, "
        f"median {result['loss_p50_s']} s, max {result['loss_max_s']} s (target <= {TARGET_S:g} s)"
    )
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
