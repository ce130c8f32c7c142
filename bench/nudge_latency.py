"""Latency of what the phone sees, through the whole service: from a change in the wearable's samples
to the MQTT message. Targets (issue 12): `state` shows a posture change within 10 s (p95), a nudge
arrives within 15 s of the threshold crossing in the samples' time (p95).

    python bench/nudge_latency.py                 # 4 sit/stand/walk cycles (~10 min)
    python bench/nudge_latency.py --cycles 8 --json

What runs: a private Mosquitto, a private dbus-daemon and the BlueZ emulator (in this process) with
one simulated SitSense thigh wearable, and `sitbreak run` in its own process on a clock that follows
the device's (tests/service/daemon_proc.py via bench/simservice.py): default `[link]` and
`[pipeline]` settings, `nudge_after` 5 min, active all day. A phone (paho, QoS 1) subscribes to
`state` and `nudge` and stamps each message with the monotonic clock as it arrives.

The wearer walks, then repeats: sit (nudge_after + 1 min), stand (1 min), walk (100 s). Each cycle has
four events in the samples' time, known exactly from the schedule: the sit begins (state: `sit`),
the sitting timer crosses `nudge_after` (a nudge), the stand begins (`stand`), the walk begins
(`move`). One `SpeedSchedule` drives the device and the service: FAST between events and real time
(1x) from LEAD_S before each event to TAIL_S after it, so every event is met exactly as on a Pi (the
link's blocks are timed on the wall clock) whatever the machine's load, while the sitting between
costs only seconds. Both parties read data time off the same schedule, so an arrival's data time is
exact: latency = data time at arrival - data time of the event in the samples.

Also reported for state changes: the data time the message was made at (`ts` in the payload, whole
seconds) minus the event: the part of the latency spent in the data path (blocks, windows,
confirmation), without the wall time of the processing and MQTT. (A nudge's `ts` is its crossing.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from bench.simservice import ALL_DAY, START_T, SimulatedDaemon, data_time  # noqa: E402
from firmware_sim.bluez import BlueZEmulator  # noqa: E402
from firmware_sim.bus import PrivateBus  # noqa: E402
from firmware_sim.device import SpeedSchedule  # noqa: E402
from firmware_sim.motion import Activity, MotionConfig, Segment  # noqa: E402
from firmware_sim.source import motion_source  # noqa: E402
from firmware_sim.wearable import Profile, SimulatedWearable  # noqa: E402
from monitor.demo.mosquitto import MosquittoProcess, MosquittoStartError, find_mosquitto  # noqa: E402

TARGET_STATE_P95_S = 10.0
TARGET_NUDGE_P95_S = 15.0
WID = "latency"
NUDGE_AFTER_MIN = 5.0
FIRST_WALK_S = 180.0  # connection, and the walk that teaches the upright reference
SIT_S = NUDGE_AFTER_MIN * 60 + 60
STAND_S = 60.0
WALK_S = 100.0
FAST = 100.0
LEAD_S = 10.0  # real time before an event: the service settles into its 1x rhythm of blocks
TAIL_S = 30.0  # and after it: every message of interest arrives in it (a later one is reported late)

CONFIG = """\
timezone = "UTC"

[[wearables]]
id = "{wid}"
profile = "sitsense"
placement = "thigh"
address = "{address}"

[policy]
nudge_after = {nudge_after}
{active}

[mqtt]
host = "127.0.0.1"
port = {port}
client_id = "sitbreak-bench-{wid}"
discovery = false

[link]
{link}
"""


@dataclass(frozen=True, slots=True)
class Event:
    at: float  # data time (Unix seconds) of the change in the samples
    kind: str  # "sit", "stand", "move" (a state change) or "nudge"


@dataclass(frozen=True, slots=True)
class Seen:
    kind: str
    latency_s: float | None  # data time at arrival minus the event; None: not seen in its window
    made_s: float | None  # the message's own `ts` minus the event


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): an observed value, honest for small N."""
    ranked = sorted(values)
    k = max(0, min(len(ranked) - 1, round(q / 100 * len(ranked) + 0.5) - 1))
    return ranked[k]


def summary(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "n": len(values),
        "p50_s": round(percentile(values, 50), 2),
        "p95_s": round(percentile(values, 95), 2),
        "max_s": round(max(values), 2),
        "mean_s": round(statistics.fmean(values), 2),
    }


def schedule_of(cycles: int) -> tuple[list[Segment], list[Event]]:
    segments = [Segment(Activity.WALK, FIRST_WALK_S)]
    events: list[Event] = []
    t = FIRST_WALK_S
    for _ in range(cycles):
        segments += [
            Segment(Activity.SIT, SIT_S),
            Segment(Activity.STAND, STAND_S),
            Segment(Activity.WALK, WALK_S),
        ]
        events += [
            Event(START_T + t, "sit"),
            Event(START_T + t + NUDGE_AFTER_MIN * 60, "nudge"),
            Event(START_T + t + SIT_S, "stand"),
            Event(START_T + t + SIT_S + STAND_S, "move"),
        ]
        t += SIT_S + STAND_S + WALK_S
    segments.append(Segment(Activity.WALK, 120.0))
    return segments, events


def speed_schedule(events: Sequence[Event]) -> SpeedSchedule:
    """FAST, but real time from LEAD_S before each event to TAIL_S after it."""
    phases: list[tuple[float, float]] = []
    done = 0.0
    for event in events:
        at = event.at - START_T
        start = at - LEAD_S
        if start > done:
            phases.append((start - done, FAST))
        phases.append((at + TAIL_S - max(done, start), 1.0))
        done = at + TAIL_S
    return SpeedSchedule(tuple(phases), FAST)


@contextlib.contextmanager
def private_broker() -> Iterator[int]:
    """Mosquitto on a free 127.0.0.1 port, started as the demo starts it (`monitor.demo.mosquitto`,
    the machine's binary), stopped by PID."""
    override = os.environ.get("SITBREAK_MOSQUITTO")  # a binary, as the tests take it
    binary = Path(override) if override else find_mosquitto()
    if binary is None:
        sys.exit("bench: needs mosquitto (apt-get install mosquitto)")
    broker = MosquittoProcess(binary)
    try:
        asyncio.run(broker.start())
    except MosquittoStartError as exc:
        sys.exit(f"bench: {exc}")
    try:
        yield broker.port
    finally:
        broker.stop()


class Phone:
    """Records (monotonic arrival, topic, payload) of every message on `sitbreak/WID/#`."""

    def __init__(self, port: int) -> None:
        self.got: list[tuple[float, str, dict[str, object]]] = []
        self._lock = threading.Lock()
        ready = threading.Event()
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"bench-phone-{os.getpid()}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.on_connect = lambda c, *_: c.subscribe(f"sitbreak/{WID}/#", qos=1)
        self.client.on_subscribe = lambda *_: ready.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, 30)
        self.client.loop_start()
        if not ready.wait(10):
            sys.exit("bench: the phone client could not subscribe")

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        now = time.monotonic()
        with contextlib.suppress(ValueError):
            payload = json.loads(msg.payload)
            if isinstance(payload, dict):
                with self._lock:
                    self.got.append((now, msg.topic.rsplit("/", 1)[-1], payload))

    def messages(self) -> list[tuple[float, str, dict[str, object]]]:
        with self._lock:
            return list(self.got)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _ts(value: object) -> float:
    return datetime.fromisoformat(str(value)).timestamp()


def judge(
    events: Sequence[Event],
    got: Sequence[tuple[float, str, dict[str, object]]],
    schedule: SpeedSchedule,
    origin: float,
) -> list[Seen]:
    """For each event, the first message after it that shows it (a state with the new posture, or a
    nudge), with its arrival in data time."""
    seen: list[Seen] = []
    for event in events:
        first = None
        for mono, topic, payload in got:
            arrived = data_time(schedule, origin, mono)
            if arrived < event.at or arrived > event.at + TAIL_S:
                continue
            if event.kind == "nudge" and topic == "nudge":
                first = (arrived, payload)
                break
            if event.kind != "nudge" and topic == "state" and payload.get("posture") == event.kind:
                first = (arrived, payload)
                break
        if first is None:
            seen.append(Seen(event.kind, None, None))
            continue
        arrived, payload = first
        made = _ts(payload["ts"]) - event.at if "ts" in payload else None
        seen.append(Seen(event.kind, round(arrived - event.at, 2), None if made is None else round(made, 2)))
    return seen


def run(
    cycles: int, seed: int, folder: Path, *, progress: bool, block_max_s: float | None = None
) -> list[Seen]:
    segments, events = schedule_of(cycles)
    schedule = speed_schedule(events)
    with (
        private_broker() as port,
        PrivateBus() as bus,
        BlueZEmulator(bus.address, connect_timeout_s=2.0, adv_interval_s=0.05) as emulator,
    ):
        wearable = SimulatedWearable(
            Profile.SITSENSE,
            source=motion_source(segments, MotionConfig(placement="thigh", seed=seed)),
            speed=schedule,
        )
        emulator.add(wearable)
        origin = wearable.clock.origin
        config = folder / "sitbreak.toml"
        text = CONFIG.format(
            wid=WID,
            address=wearable.address,
            port=port,
            nudge_after=NUDGE_AFTER_MIN,
            active=ALL_DAY,
            link="" if block_max_s is None else f"block_max_s = {block_max_s}",
        )
        config.write_text(text, encoding="utf-8")
        phone = Phone(port)
        daemon = SimulatedDaemon(
            config, folder / "state", schedule, origin, bus.environ(), folder / "daemon.log"
        )
        try:
            end = events[-1].at + TAIL_S
            shown = 0
            while data_time(schedule, origin) < end:
                if not daemon.alive():
                    raise RuntimeError(f"the daemon exited with {daemon.proc.returncode}; see {folder}")
                passed = sum(1 for e in events if e.at + TAIL_S < data_time(schedule, origin))
                if progress and passed > shown:
                    shown = passed
                    print(f"\r{shown}/{len(events)} events", end="", file=sys.stderr, flush=True)
                time.sleep(0.1)
            if progress:
                print(file=sys.stderr)
        finally:
            daemon.stop()
            phone.close()
            emulator.remove(wearable)
    return judge(events, phone.messages(), schedule, origin)


def result_of(seen: Sequence[Seen]) -> dict[str, object]:
    state = [s.latency_s for s in seen if s.kind != "nudge" and s.latency_s is not None]
    nudge = [s.latency_s for s in seen if s.kind == "nudge" and s.latency_s is not None]
    missed = [s.kind for s in seen if s.latency_s is None]
    out: dict[str, object] = {
        "state_change": summary(state),
        "nudge": summary(nudge),
        "state_change_made": summary([s.made_s for s in seen if s.kind != "nudge" and s.made_s is not None]),
        "missed": missed,
        "target_state_p95_s": TARGET_STATE_P95_S,
        "target_nudge_p95_s": TARGET_NUDGE_P95_S,
    }
    ok = bool(state) and bool(nudge) and not missed
    ok = ok and percentile(state, 95) <= TARGET_STATE_P95_S and percentile(nudge, 95) <= TARGET_NUDGE_P95_S
    out["meets_target"] = ok
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=4, help="sit/stand/walk cycles (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="motion seed (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--block-max-s", type=float, help="the daemon's link.block_max_s (default: its default)"
    )
    args = parser.parse_args(argv)
    if args.cycles < 1:
        parser.error("--cycles must be at least 1")
    with tempfile.TemporaryDirectory(prefix="sitbreak-latency-") as tmp:
        seen = run(args.cycles, args.seed, Path(tmp), progress=not args.json, block_max_s=args.block_max_s)
    result = result_of(seen)
    if args.json:
        print(json.dumps({**result, "each": [[s.kind, s.latency_s, s.made_s] for s in seen]}))
        return 0 if result["meets_target"] else 1
    for key, label in (("state_change", "state change"), ("nudge", "nudge")):
        s = result[key]
        assert isinstance(s, dict)
        if not s:
            print(f"{label:<13} none seen")
            continue
        line = f"{label:<13} n={s['n']:<3} p50 {s['p50_s']:5.1f} s   p95 {s['p95_s']:5.1f} s"
        line += f"   max {s['max_s']:5.1f} s"
        made = result.get(f"{key}_made")
        if isinstance(made, dict) and made:
            line += (
                f"   (made at p50 {made['p50_s']:.1f} s, p95 {made['p95_s']:.1f} s of data after the change)"
            )
        print(line)
    if result["missed"]:
        print(f"not seen within {TAIL_S:g} s: {result['missed']}")
    verdict = "meets" if result["meets_target"] else "MISSES"
    print(
        f"{verdict} the targets: state p95 <= {TARGET_STATE_P95_S:g} s, "
        f"nudge p95 <= {TARGET_NUDGE_P95_S:g} s (from the change in the samples to the message at the phone)"
    )
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
