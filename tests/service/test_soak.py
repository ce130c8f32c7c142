"""Soak: hours of a simulated office day through the service while everything around it fails.

Real parts: the daemon in its own process (tests.service.daemon_proc: `sitbreak run` on a clock that
follows the fast device, so a SIGKILL and restart keep data time continuous), the BlueZ emulator with
a simulated SitSense thigh wearable, a real Mosquitto that is stopped and restarted, SQLite.

Faults, at fixed points of *data* time (so the plan is the same on a fast or a loaded machine):
packet faults (malformed, truncated, oversized, duplicated, reordered) and malformed commands twice,
a link drop, a bluetoothd crash and restart, a SIGKILL of the service and a restart, the broker
down across the daily report time, and a quick broker restart.

What must hold at the end:
- the same bouts and totals as an undisturbed run. The undisturbed run is the pipeline offline on
  the same rendered samples (the service runs the same code; tests/pipeline shows chunking does not
  change labels). Tolerance: the seconds the disturbed run lost are `unknown` in the store; every
  class total may differ by those plus 60 s per disruption (filters and the 2 s windows warm up again
  after each gap), and every undisturbed bout of 5 min or more must carry its label on >= 95 % of the
  seconds the service knew;
- no lost report or event: the phone (a persistent MQTT session) received the daily report that was
  due while the broker was down, and every policy decision in the store arrived on `event`;
- no nudge id used for two different nudges;
- memory that does not grow: RSS of the long-running service process, sampled every 0.5 s, is no
  higher in the last third of its life than in the first third plus 8 MiB.

Length: the issue asks for three days. At the ~100-300x the emulator sustains on a 2-core CI
machine, three days would take 15-45 minutes; this covers the first 4 h 07 min of the office day
(walk, 52 min and 45 min sitting bouts, lunch walk), crossing local midnight and the report time,
in ~1.5-3 minutes. The fault plan exercises every kind the issue lists; more days repeat the same
paths. Longer runs: SITBREAK_SOAK_SEGMENTS=43 plays the whole 8 h day.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from firmware_sim.bluez import BlueZEmulator
from firmware_sim.device import PacketFault
from firmware_sim.motion import MotionConfig, MotionModel, office_day
from firmware_sim.source import motion_source
from firmware_sim.wearable import SimulatedWearable
from monitor.pipeline import Placement, classify_recording, find_bouts
from monitor.pipeline.types import PostureCode
from tests.ble_fixtures import AddWearable
from tests.mqtt_fixtures import Broker, Phone
from tests.service.procs import (
    STOP_SLACK_S,
    STOP_WITHIN_S,
    ServiceProcess,
    config_text,
    db_query,
    payloads,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

WID = "soak"
SEED = 5
RATE_HZ = 50.0
SPEED = 200.0
# Segments of office_day() played: 25 = through the walk after lunch, 4 h 07 min.
SEGMENTS = int(os.environ.get("SITBREAK_SOAK_SEGMENTS", "25"))
# 21:00 UTC: the run crosses local midnight (day rollover) and the report time.
START_T = datetime(2026, 11, 24, 21, 0, tzinfo=UTC).timestamp()
REPORT_AT = "23:40"
REPORT_OFFSET_S = 2 * 3600 + 40 * 60
H = 3600.0
# Wall seconds a fault lasts (the service is down, bluetoothd is gone, ...).
DOWN_WALL_S = 1.5
WARMUP_PER_DISRUPTION_S = 60
MIN_BOUT_S = 300
# Each fault costs wall seconds (the watchdog's 4 s, a reconnect, a process start), which at SPEED
# are many minutes of data: about a quarter of the run is expected to be lost, and each outage must
# end within OUTAGE_WALL_S of wall time (the service came back by itself).
MAX_LOST_SHARE = 0.35
OUTAGE_WALL_S = 12.0
MIN_BOUT_AGREEMENT = 0.95
RSS_GROWTH_MIB = 8.0
RSS_EVERY_S = 0.5
MIN_RSS_SAMPLES = 20
# Wall-clock bound on the data reaching a milestone; generous for a loaded machine.
MILESTONE_TIMEOUT_S = 240.0
BAD_COMMANDS = (
    b"\xff\xfe\x00",
    b"{",
    b"[1, 2]",
    b'{"action": "explode"}',
    b'{"action": "snooze", "minutes": "soon"}',
    b'{"action": "pause", "until": 12}',
    b"{" + b'"x": 1, ' * 400 + b'"action": "ack"}',
)


def _last_epoch(db: Path) -> float | None:
    rows = db_query(db, "SELECT max(t) FROM epochs")
    return float(rows[0][0]) if rows and rows[0][0] is not None else None


def _runs(mask: np.ndarray, t0: int) -> list[tuple[float, int]]:
    """(start offset in h, length in s) of each run of True, for failure messages."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return [
        (round((t0 + a - START_T) / H, 3), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def _rss_mib(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return None


class Soak:
    """The moving parts of one soak run and the helpers that drive them."""

    def __init__(
        self, tmp: Path, emulator: BlueZEmulator, wearable: SimulatedWearable, broker: Broker
    ) -> None:
        self.tmp = tmp
        self.emulator = emulator
        self.wearable = wearable
        self.broker = broker
        self.config = tmp / "sitbreak.toml"
        self.config.write_text(
            config_text(
                wearable=WID,
                address=wearable.address,
                mqtt_port=broker.port,
                # Bleak is not told when bluetoothd dies; the silence watchdog notices. Each wall
                # second is SPEED seconds of data, so it must notice quickly here.
                silence_s=4.0,
            ).replace("[mqtt]\n", f'[report]\ndaily_at = "{REPORT_AT}"\n\n[mqtt]\n'),
            encoding="utf-8",
        )
        self.state = tmp / "state"
        self.db = self.state / "sitbreak.db"
        self.origin = time.monotonic() - wearable.device_time_ms() / 1000.0 / SPEED
        self.services: list[ServiceProcess] = []
        self.rss: dict[int, list[float]] = {}
        self.end_s = 0.0
        # What the phone received, collected after the clean stop.
        self.events: list[dict[str, Any]] = []
        self.nudges: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []

    @property
    def service(self) -> ServiceProcess:
        return self.services[-1]

    def start_service(self) -> ServiceProcess:
        n = len(self.services) + 1
        proc = ServiceProcess.simulated(
            self.config,
            self.state,
            self.tmp / f"service{n}.log",
            start_t=START_T,
            origin=self.origin,
            speed=SPEED,
        )
        self.services.append(proc)
        self.rss[proc.pid] = []
        return proc

    def sample(self) -> None:
        rss = _rss_mib(self.service.pid)
        if rss is not None and self.service.returncode is None:
            self.rss[self.service.pid].append(rss)

    def until_data(self, offset_s: float, also: Callable[[], None] | None = None) -> None:
        """Wait until the store holds data up to START_T + offset_s, sampling memory meanwhile."""
        deadline = time.monotonic() + MILESTONE_TIMEOUT_S
        next_sample = 0.0
        while True:
            last = _last_epoch(self.db)
            if last is not None and last >= START_T + offset_s:
                return
            if self.service.returncode is not None:
                raise AssertionError(
                    f"service exited ({self.service.returncode})\n{self.service.log()[-4000:]}"
                )
            if time.monotonic() > deadline:
                have = "nothing" if last is None else f"{(last - START_T) / H:.2f} h"
                raise AssertionError(
                    f"data did not reach {offset_s / H:.2f} h within {MILESTONE_TIMEOUT_S} s (have {have})\n"
                    f"{self.service.log()[-4000:]}"
                )
            if time.monotonic() >= next_sample:
                self.sample()
                if also is not None:
                    also()
                next_sample = time.monotonic() + RSS_EVERY_S
            time.sleep(0.1)

    def bad_input(self, phone: Phone) -> None:
        for fault in PacketFault:
            if fault is not PacketFault.LOST:
                self.wearable.inject(fault, 3)
        for payload in BAD_COMMANDS:
            phone.send(f"sitbreak/{WID}/cmd", payload)

    def close(self) -> None:
        for proc in self.services:
            proc.stop()


@pytest.fixture
def soak(
    tmp_path: Path, fresh_bluez: BlueZEmulator, add_wearable: AddWearable, private_mosquitto: Broker
) -> Iterator[tuple[Soak, list[tuple[float, str]]]]:
    schedule = office_day()[:SEGMENTS]
    source = motion_source(schedule, MotionConfig(placement="thigh", seed=SEED))
    wearable = add_wearable(source=source, speed=SPEED, emulator=fresh_bluez)
    run = Soak(tmp_path, fresh_bluez, wearable, private_mosquitto)
    end_s = sum(seg.duration_s for seg in schedule) - 120.0
    phone = Phone(private_mosquitto.port, f"sitbreak/{WID}/#", client_id="soak-phone", persistent=True)
    disruptions: list[tuple[float, str]] = []

    def mark(what: str) -> None:
        last = _last_epoch(run.db)
        disruptions.append(((last or START_T) - START_T, what))

    try:
        run.start_service()
        run.until_data(0.3 * H)
        mark("bad packets and commands")
        run.bad_input(phone)

        run.until_data(0.6 * H)
        mark("link drop")
        wearable.drop_link()

        run.until_data(1.0 * H)
        mark("bluetoothd crash")
        fresh_bluez.crash()
        time.sleep(DOWN_WALL_S)
        fresh_bluez.restart()

        run.until_data(1.5 * H)
        mark("SIGKILL")
        run.service.signal(signal.SIGKILL)
        run.service.wait(10)
        # bluetoothd keeps the dead process's connection; the restarted service clears it itself.
        time.sleep(DOWN_WALL_S)
        run.start_service()

        run.until_data(REPORT_OFFSET_S - 10 * 60)
        mark("broker down across the report time")
        private_mosquitto.stop()
        run.until_data(REPORT_OFFSET_S + 10 * 60)
        private_mosquitto.start()

        run.until_data(3.2 * H)
        mark("broker restart")
        private_mosquitto.restart()

        run.until_data(3.5 * H)
        mark("bad packets and commands")
        run.bad_input(phone)

        run.until_data(end_s)
        # Let the outbox drain to the phone before the clean stop.
        deadline = time.monotonic() + 20
        while (
            time.monotonic() < deadline
            and db_query(run.db, "SELECT count(*) FROM mqtt_outbox WHERE status = 'pending'")[0][0]
        ):
            time.sleep(0.2)
        run.service.signal(signal.SIGTERM)
        assert run.service.wait(STOP_WITHIN_S + STOP_SLACK_S) == 0, run.service.log()[-4000:]
        time.sleep(1.0)  # the last events reach the phone
        run.events = payloads(phone, f"sitbreak/{WID}/event")
        run.nudges = payloads(phone, f"sitbreak/{WID}/nudge")
        run.reports = payloads(phone, f"sitbreak/{WID}/report/daily")
        run.end_s = end_s
        yield run, disruptions
    finally:
        run.close()
        phone.close()


def test_soak(soak: tuple[Soak, list[tuple[float, str]]]) -> None:
    run, disruptions = soak
    db = run.db
    end_t = int(START_T + run.end_s)
    first = db_query(db, "SELECT min(t) FROM epochs")[0][0]
    rows = db_query(db, "SELECT t, label FROM epochs WHERE t >= ? AND t < ? ORDER BY t", (first, end_t))
    live = np.full(end_t - first, PostureCode.UNKNOWN, dtype=np.uint8)
    for t, label in rows:
        live[t - first] = label

    # The undisturbed run: the same samples through the pipeline in one go.
    schedule = office_day()[:SEGMENTS]
    model = MotionModel(schedule, MotionConfig(placement="thigh", rate_hz=RATE_HZ, seed=SEED))
    n = model.n_samples
    offline = classify_recording(START_T + model.times(0, n), model.render(0, n), RATE_HZ, Placement.THIGH)
    a = int(first - offline.t0)
    reference = offline.labels[a : a + len(live)]
    assert len(reference) == len(live)

    unknown = live == PostureCode.UNKNOWN
    lost_s = int(np.count_nonzero(unknown & (reference != PostureCode.UNKNOWN)))
    # The run lost time (each fault costs a reconnect of a few wall seconds, minutes of data at
    # this speed) but not most of it.
    assert lost_s <= MAX_LOST_SHARE * len(live), (
        f"{lost_s} s of {len(live)} unknown: {_runs(unknown, first)}; faults {disruptions}"
    )
    longest = max((n for _, n in _runs(unknown, first)), default=0)
    assert longest <= OUTAGE_WALL_S * SPEED, f"an outage of {longest} s: {_runs(unknown, first)}"
    allowance = lost_s + WARMUP_PER_DISRUPTION_S * len(disruptions)
    for code in (PostureCode.SIT, PostureCode.STAND, PostureCode.MOVE):
        got, want = int(np.count_nonzero(live == code)), int(np.count_nonzero(reference == code))
        assert abs(got - want) <= allowance, (
            f"{code.name}: {got} s live, {want} s undisturbed (allow {allowance})"
        )
    # Every undisturbed bout of 5 min or more carries its label wherever the service had data.
    for bout in find_bouts(offline):
        if bout.end - bout.start < MIN_BOUT_S or bout.start < first or bout.end > end_t:
            continue
        i, j = int(bout.start - first), int(bout.end - first)
        known = ~unknown[i:j]
        if np.count_nonzero(known) < MIN_BOUT_S / 2:
            continue  # mostly lost to a fault
        share = float(np.mean(live[i:j][known] == PostureCode[bout.label.name]))
        assert share >= MIN_BOUT_AGREEMENT, f"{bout}: {share:.1%} agree"

    # No lost report: the one due while the broker was down reached the phone.
    report_day = datetime.fromtimestamp(START_T + REPORT_OFFSET_S, UTC).date().isoformat()
    reports = [r for r in run.reports if r.get("date") == report_day]
    assert reports, f"no daily report for {report_day} on the phone; got {run.reports}"

    # No lost event: every policy decision in the store arrived on `event`.
    stored = Counter((kind, int(ts)) for ts, kind in db_query(db, "SELECT p.ts, p.kind FROM policy_events p"))
    received: Counter[tuple[str, int]] = Counter()
    for event in run.events:
        kind = str(event.get("kind"))
        if not kind.startswith("link_"):
            received[(kind, int(datetime.fromisoformat(event["ts"]).timestamp()))] = 1
    missing = stored - received
    assert not missing, f"events stored but never published: {sorted(missing)[:10]}"
    assert sum(stored.values()) > 10

    # Nudge ids: unique in the store; every message under one id is the same nudge.
    ids = [row[0] for row in db_query(db, "SELECT id FROM nudges")]
    assert len(ids) == len(set(ids)) >= 2
    seen: dict[str, tuple[object, object]] = {}
    for nudge in run.nudges:
        key = (nudge.get("ts"), nudge.get("level"))
        assert seen.setdefault(str(nudge["id"]), key) == key, f"two nudges share id {nudge['id']}"

    # The malformed input was counted, and nothing crashed.
    malformed = db_query(db, "SELECT count(*) FROM link_events WHERE kind = 'malformed'")[0][0]
    assert malformed >= 1
    for proc in run.services:
        assert "Traceback" not in proc.log(), proc.log()[-4000:]

    # Memory: the longest-lived process's RSS does not climb.
    samples = max(run.rss.values(), key=len)
    assert len(samples) >= MIN_RSS_SAMPLES, f"only {len(samples)} RSS samples"
    third = len(samples) // 3
    early, late = float(np.median(samples[:third])), float(np.median(samples[-third:]))
    assert late <= early + RSS_GROWTH_MIB, f"RSS grew from {early:.1f} to {late:.1f} MiB"
    assert json.dumps(disruptions)  # the plan ran to the end
    assert [what for _, what in disruptions][-1] == "bad packets and commands"
