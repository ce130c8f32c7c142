"""The daemon as systemd runs it: signals, reload, notify protocol, crash recovery, bad input, `state`.

Real parts only: the service runs as its own process (`sitbreak run`, or tests.service.daemon_proc for
the SIGKILL test, which needs a clock that follows the fast simulated device across a restart), finds
a simulated SitSense wearable through unmodified Bleak on the session's private D-Bus (BlueZ
emulator in this process), talks to a real Mosquitto and writes a real SQLite file, which the test
reads read-only. The wearable's motion model lives a schedule, so posture and the sitting timer are
known.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import signal
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firmware_sim.bluez import BlueZEmulator
from firmware_sim.device import PacketFault
from firmware_sim.motion import Activity, MotionConfig, Segment
from firmware_sim.source import motion_source
from firmware_sim.wearable import SimulatedWearable
from monitor.config import load_config
from monitor.core.types import PostureCode
from monitor.daemon import WATCHDOG_MAX_LAG_S, Daemon, DaemonOptions
from monitor.sdnotify import SystemdNotifier
from monitor.service.wearable import SNAPSHOT_EVERY_S
from monitor.wearables.settings import LinkSettings
from tests.ble_fixtures import AddWearable
from tests.mqtt_fixtures import Broker, Phone
from tests.service.procs import (
    CONNECT_TIMEOUT_S,
    STOP_SLACK_S,
    STOP_WITHIN_S,
    NotifySocket,
    ServiceProcess,
    config_text,
    db_query,
    last_state,
    payloads,
    retained,
    wait_for,
)

pytestmark = pytest.mark.timeout(180)

# Walk first: the pipeline learns the upright thigh from walking, then the wearer sits for hours.
# A restarted service should be streaming again well within this (scan, connect, first data).
STALE_TAKEOVER_S = 12.0
# A Wednesday morning for the simulated clock (policy active hours are all day anyway).
START_T = datetime(2026, 11, 25, 9, 0, tzinfo=UTC).timestamp()
WALK_THEN_SIT = [Segment(Activity.WALK, 90.0), Segment(Activity.SIT, 6 * 3600.0)]


def _wearable(
    add_wearable: AddWearable, speed: float, schedule: list[Segment] = WALK_THEN_SIT
) -> SimulatedWearable:
    source = motion_source(schedule, MotionConfig(placement="thigh", seed=3))
    return add_wearable(source=source, speed=speed)


def _simulated(
    config: Path,
    state_dir: Path,
    log_file: Path,
    wearable: SimulatedWearable,
    speed: float,
    *,
    env: dict[str, str] | None = None,
) -> ServiceProcess:
    """The daemon on a host clock that follows the wearable's (see tests.service.daemon_proc)."""
    origin = time.monotonic() - wearable.device_time_ms() / 1000.0 / speed
    return ServiceProcess.simulated(
        config, state_dir, log_file, start_t=START_T, origin=origin, speed=speed, env=env
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _epochs(db: Path, wearable: str) -> tuple[int, int | None]:
    rows = db_query(
        db,
        "SELECT count(*), max(e.t) FROM epochs e JOIN wearables w ON w.id = e.wid WHERE w.name = ?",
        (wearable,),
    )
    return (int(rows[0][0]), rows[0][1]) if rows else (0, None)


def _ts(state: dict[str, object]) -> float:
    return datetime.fromisoformat(str(state["ts"])).timestamp()


def test_sigterm_under_systemd_flushes_publishes_offline_and_exits_0(
    tmp_path: Path, bluez: BlueZEmulator, add_wearable: AddWearable, mosquitto: Broker
) -> None:
    """READY once the wearable is being searched for, WATCHDOG pings at half WATCHDOG_USEC, STATUS
    lines; SIGTERM: STOPPING, streaming stops, the last epochs and the open bout are in the store,
    retained `status` is `offline`, exit 0 within a few seconds."""
    # 10x: the pipeline's first epochs (30 s of data) come after 3 s. The daemon runs on a host clock
    # in step with the wearable (tests.service.daemon_proc: `sitbreak run`'s Daemon, signal handlers,
    # logging and exit code): on the real clock the link would re-time a wearable 10x too fast onto
    # its arrivals (issue 11, finding 7), and its first epochs would take 30 s.
    wearable = _wearable(add_wearable, speed=10.0)
    wid = "sigterm"
    config = _write(
        tmp_path / "sitbreak.toml",
        config_text(wearable=wid, address=wearable.address, mqtt_port=mosquitto.port),
    )
    state_dir = tmp_path / "state"
    db = state_dir / "sitbreak.db"
    notify = NotifySocket(tmp_path / "notify")
    phone = Phone(mosquitto.port, f"sitbreak/{wid}/#")
    proc = _simulated(
        config,
        state_dir,
        tmp_path / "service.log",
        wearable,
        10.0,
        env={"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "1000000"},
    )
    try:
        ready_at, _status = wait_for(
            "READY=1", lambda: next(iter(notify.fields("READY")), None), CONNECT_TIMEOUT_S, proc
        )
        # READY carries a STATUS line naming the wearable, sent once its link task is searching.
        assert any(wid in value for _, value in notify.fields("STATUS")), notify.messages()
        proc.wait_log(rf"{wid}: looking for")
        state_topic = f"sitbreak/{wid}/state"
        wait_for(
            "a connected state with stored epochs",
            lambda: (
                last_state(phone, state_topic, lambda s: s["link"] == "connected")
                and _epochs(db, wid)[0] >= 3
            ),
            CONNECT_TIMEOUT_S,
            proc,
        )
        # Half of WATCHDOG_USEC=1 s: a ping every 0.5 s while the loop is healthy.
        pings = wait_for("3 WATCHDOG=1 pings", lambda: len(notify.fields("WATCHDOG")) >= 3 or None, 10, proc)
        assert pings
        times = [at for at, _ in notify.fields("WATCHDOG")]
        assert min(b - a for a, b in itertools.pairwise(times)) > 0.3
        assert all(value == "1" for _, value in notify.fields("READY"))
        assert ready_at <= times[0]

        sent = time.monotonic()
        proc.signal(signal.SIGTERM)
        rc = proc.wait(STOP_WITHIN_S + STOP_SLACK_S)
        took = time.monotonic() - sent
        assert rc == 0, proc.log()
        assert took < STOP_WITHIN_S + STOP_SLACK_S
        assert notify.fields("STOPPING"), "no STOPPING=1"
        assert "INFO monitor.daemon: stopped" in proc.log()
        wait_for("the wearable to stop streaming", lambda: not wearable.streaming or None, 10)
        assert retained(mosquitto.port, f"sitbreak/{wid}/status").payload == b"offline"
        final = json.loads(retained(mosquitto.port, state_topic).payload)
        assert final["link"] == "lost"
        # Flushed: the epochs reach the data time of the final state (the 2 s window's tail included),
        # and the bout that was running is saved as open, to be resumed.
        _count, last_t = _epochs(db, wid)
        assert last_t is not None and last_t + 1 >= _ts(final) - 2.0, (last_t, final["ts"])
        open_bouts = db_query(db, "SELECT count(*) FROM open_bouts")
        assert open_bouts and open_bouts[0][0] == 1
        snapshots = db_query(db, "SELECT count(*) FROM policy_snapshots")
        assert snapshots and snapshots[0][0] >= 1
        # The link's own record of the stop (and any tallies it flushed) reached the store.
        kinds = [row[0] for row in db_query(db, "SELECT kind FROM link_events ORDER BY ts, id")]
        assert kinds[-1] == "lost", kinds
        # Journald-friendly: "LEVEL logger: message", no timestamps of our own.
        for line in proc.log().splitlines():
            if line.startswith(("INFO ", "WARNING ", "ERROR ")):
                assert not re.match(r"^\w+ \d{4}-\d\d-\d\d", line), line
    finally:
        proc.stop()
        phone.close()
        notify.close()


def test_sighup_keeps_the_running_config_when_broken_and_applies_a_valid_one(
    tmp_path: Path, bluez: BlueZEmulator, add_wearable: AddWearable, mosquitto: Broker
) -> None:
    # The reload reconnects: a clock that follows the 10x device keeps data time continuous.
    wearable = _wearable(add_wearable, speed=10.0)
    wid = "reload"
    good = config_text(wearable=wid, address=wearable.address, mqtt_port=mosquitto.port)
    config = _write(tmp_path / "sitbreak.toml", good)
    db = tmp_path / "state" / "sitbreak.db"
    phone = Phone(mosquitto.port, f"sitbreak/{wid}/#", "moved/#")
    proc = _simulated(config, tmp_path / "state", tmp_path / "service.log", wearable, 10.0)
    try:
        wait_for(
            "a connected state",
            lambda: last_state(phone, f"sitbreak/{wid}/state", lambda s: s["link"] == "connected"),
            CONNECT_TIMEOUT_S,
            proc,
        )
        # 1. A broken file: named, with the key and the rule, and the service carries on unchanged.
        _write(config, good.replace("[policy]\n", "[policy]\nnudge_after = 1\n"))
        mark = len(proc.log())
        proc.signal(signal.SIGHUP)
        line = proc.wait_log(r"ERROR monitor\.daemon: SIGHUP: .*", after=mark).group(0)
        assert str(config) in line and "nudge_after" in line and "keeping the running configuration" in line
        before = _epochs(db, wid)[0]
        wait_for(
            "more epochs after the rejected reload",
            lambda: _epochs(db, wid)[0] >= before + 3 or None,
            20,
            proc,
        )
        assert proc.returncode is None
        assert "applying the new configuration" not in proc.log()

        # 2. A file `load_config` accepts but `run` cannot use (no wearables): also kept out.
        _write(config, good.split("[[wearables]]")[0] + "[mqtt]\n" + good.split("[mqtt]\n")[1])
        mark = len(proc.log())
        proc.signal(signal.SIGHUP)
        line = proc.wait_log(r"ERROR monitor\.daemon: SIGHUP: .*", after=mark).group(0)
        assert "no [[wearables]] configured" in line and "keeping the running configuration" in line

        # 3. Valid but not startable (the MQTT CA file is missing): back to the running one.
        _write(
            config, good.replace("[mqtt]\n", f'[mqtt]\ntls = true\nca_file = "{tmp_path}/missing-ca.pem"\n')
        )
        mark = len(proc.log())
        proc.signal(signal.SIGHUP)
        proc.wait_log(r"ERROR monitor\.daemon: SIGHUP: going back to the running configuration", after=mark)
        assert "missing-ca.pem" in proc.log()[mark:]
        phone.clear()
        wait_for(
            "a connected state on the old configuration",
            lambda: last_state(phone, f"sitbreak/{wid}/state", lambda s: s["link"] == "connected"),
            CONNECT_TIMEOUT_S,
            proc,
        )
        assert proc.returncode is None

        # 4. A valid change (another MQTT prefix) is applied: the service comes back under it.
        _write(config, good.replace('prefix = "sitbreak"', 'prefix = "moved"'))
        mark = len(proc.log())
        proc.signal(signal.SIGHUP)
        proc.wait_log(r"INFO monitor\.daemon: SIGHUP: applying the new configuration from", after=mark)
        wait_for(
            "a connected state under the new prefix",
            lambda: last_state(phone, f"moved/{wid}/state", lambda s: s["link"] == "connected"),
            CONNECT_TIMEOUT_S,
            proc,
        )
        assert retained(mosquitto.port, f"sitbreak/{wid}/status").payload == b"offline"
        assert retained(mosquitto.port, f"moved/{wid}/status").payload == b"online"
        proc.signal(signal.SIGTERM)
        assert proc.wait(STOP_WITHIN_S + STOP_SLACK_S) == 0
    finally:
        proc.stop()
        phone.close()


def test_sigkill_then_restart_resumes_the_sitting_timer(
    tmp_path: Path, bluez: BlueZEmulator, add_wearable: AddWearable, private_mosquitto: Broker
) -> None:
    """SIGKILL mid-bout; on restart the sitting timer continues from the database (at most one
    snapshot interval, 60 s of data, plus the block it is saved on, is lost), the time the service
    was down is `unknown` with a `gap` link event, and no nudge id is used twice."""
    speed = 60.0
    wearable = _wearable(add_wearable, speed=speed)
    wid = "crash"
    policy = "nudge_after = 5.0\nescalate_after = 5.0\nmax_escalations = 3\n"
    config = _write(
        tmp_path / "sitbreak.toml",
        config_text(wearable=wid, address=wearable.address, mqtt_port=private_mosquitto.port, policy=policy),
    )
    state_dir, db = tmp_path / "state", tmp_path / "state" / "sitbreak.db"
    phone = Phone(private_mosquitto.port, f"sitbreak/{wid}/#")
    state_topic, nudge_topic = f"sitbreak/{wid}/state", f"sitbreak/{wid}/nudge"

    def start(n: int) -> ServiceProcess:
        return _simulated(config, state_dir, tmp_path / f"service{n}.log", wearable, speed)

    first = start(1)
    second: ServiceProcess | None = None
    try:
        # Sitting from 1:30; the first nudge at 6:30 of data. Kill once the timer is past 7 min.
        before = wait_for(
            "a sitting timer over 7 min",
            lambda: last_state(phone, state_topic, lambda s: s["sitting_timer_s"] >= 420),
            CONNECT_TIMEOUT_S + 30,
            first,
        )
        assert before["posture"] == "sit" and before["worn"] is True
        assert payloads(phone, nudge_topic), "no nudge before the kill"
        first.signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
        killed_at = before["sitting_timer_s"]
        # bluetoothd still holds the dead process's connection: the restarted service must clear it.
        assert wearable.connected
        time.sleep(2.0)  # two minutes of data while nothing runs
        phone.clear()
        second = start(2)
        resumed = wait_for(
            "a connected state after the restart",
            lambda: last_state(
                phone, state_topic, lambda s: s["link"] == "connected" and s["posture"] == "sit"
            ),
            CONNECT_TIMEOUT_S,
            second,
        )
        second.wait_log(r"resumed the sitting timer at \d+ min")
        # Snapshots are saved every 60 s of data, checked as blocks arrive: at most that much of the
        # timer (plus one block) is lost, and the downtime itself never counts as sitting.
        lost_max = SNAPSHOT_EVERY_S + LinkSettings().block_max_s + 1
        assert resumed["sitting_timer_s"] >= killed_at - lost_max
        wait_for("a prompt after the restart", lambda: payloads(phone, nudge_topic) or None, 30, second)
        second.signal(signal.SIGTERM)
        assert second.wait(STOP_WITHIN_S + STOP_SLACK_S) == 0

        gaps = db_query(
            db, "SELECT ts, value, detail FROM link_events WHERE kind = 'gap' AND detail = 'restart'"
        )
        assert len(gaps) == 1, gaps
        gap_end, gap_s = gaps[0][0], gaps[0][1]
        assert gap_s >= 60, f"downtime of {gap_s} s; 2 wall s at {speed:g}x is 120 s of data"
        unknown = db_query(
            db,
            "SELECT count(*) FROM epochs WHERE label = ? AND t >= ? AND t < ?",
            (int(PostureCode.UNKNOWN), gap_end - gap_s, gap_end),
        )
        assert unknown[0][0] == gap_s
        # Nudge ids: unique in the store, and every message the phone saw under one id is one nudge.
        ids = [row[0] for row in db_query(db, "SELECT id FROM nudges")]
        assert len(ids) == len(set(ids)) >= 2
        prompts = [
            json.loads(r[0]).get("nudge_id")
            for r in db_query(db, "SELECT detail FROM policy_events WHERE kind IN ('nudge', 'escalation')")
        ]
        assert Counter(prompts).most_common(1)[0][1] == 1, prompts
    finally:
        first.stop()
        if second is not None:
            second.stop()
        phone.close()


def test_bad_packets_and_commands_do_not_crash_and_state_follows_the_link(
    tmp_path: Path, bluez: BlueZEmulator, add_wearable: AddWearable, mosquitto: Broker
) -> None:
    """Malformed, truncated, oversized and duplicated packets and garbage on `cmd` are counted and
    logged, the service keeps streaming, and a valid command still works. `state` follows the link:
    lost while the wearable is out of range, connected again after, with posture, worn and timer."""
    wearable = _wearable(add_wearable, speed=10.0)
    wid = "badinput"
    config = _write(
        tmp_path / "sitbreak.toml",
        config_text(wearable=wid, address=wearable.address, mqtt_port=mosquitto.port),
    )
    db = tmp_path / "state" / "sitbreak.db"
    phone = Phone(mosquitto.port, f"sitbreak/{wid}/#")
    # Out of range and back reconnects: a clock that follows the 10x device keeps data time continuous.
    proc = _simulated(config, tmp_path / "state", tmp_path / "service.log", wearable, 10.0)
    state_topic, cmd_topic = f"sitbreak/{wid}/state", f"sitbreak/{wid}/cmd"
    try:
        sitting = wait_for(
            "a sitting state",
            lambda: last_state(
                phone, state_topic, lambda s: s["link"] == "connected" and s["posture"] == "sit"
            ),
            CONNECT_TIMEOUT_S + 20,
            proc,
        )
        assert sitting["worn"] is True and sitting["sitting_timer_s"] > 0
        later = wait_for(
            "the sitting timer to advance",
            lambda: last_state(
                phone, state_topic, lambda s: s["sitting_timer_s"] > sitting["sitting_timer_s"] + 30
            ),
            30,
            proc,
        )
        assert _ts(later) > _ts(sitting)

        for fault in (
            PacketFault.MALFORMED,
            PacketFault.TRUNCATED,
            PacketFault.OVERSIZED,
            PacketFault.DUPLICATED,
        ):
            wearable.inject(fault, 5)
        for payload in (
            b"\xff\xfe\x00",
            b"{",
            b"[]",
            b'{"action": "explode"}',
            b'{"action": "snooze", "minutes": -5}',
            b'{"action": "pause", "until": "not a time"}',
            b'{"action": "ack", "nudge": ' + b"9" * 5000 + b"}",
        ):
            phone.send(cmd_topic, payload)
        wait_for(
            "malformed packets in the store",
            lambda: (
                (db_query(db, "SELECT count(*) FROM link_events WHERE kind = 'malformed'") or [[0]])[0][0]
                or None
            ),
            20,
            proc,
        )
        proc.wait_log(r"WARNING monitor\.mqtt\.client: .*(command|cmd)", timeout=20)
        # Still streaming, and a valid command is still applied.
        count = _epochs(db, wid)[0]
        wait_for("epochs after the bad input", lambda: _epochs(db, wid)[0] > count + 5 or None, 20, proc)
        phone.send(cmd_topic, json.dumps({"action": "pause", "minutes": 30}))
        wait_for(
            "the pause applied",
            lambda: db_query(db, "SELECT count(*) FROM policy_events WHERE kind = 'paused'")[0][0] or None,
            20,
            proc,
        )
        assert "Traceback" not in proc.log()

        # Out of range: `state` says the link is lost and nothing is known about posture.
        phone.clear()
        wearable.go_out_of_range()
        lost = wait_for(
            "a lost state", lambda: last_state(phone, state_topic, lambda s: s["link"] == "lost"), 30, proc
        )
        assert lost["posture"] == "no_data" and lost["worn"] is False
        wearable.come_back()
        back = wait_for(
            "a connected state again",
            lambda: last_state(
                phone, state_topic, lambda s: s["link"] == "connected" and s["posture"] == "sit"
            ),
            CONNECT_TIMEOUT_S,
            proc,
        )
        assert back["worn"] is True
        assert proc.returncode is None
        proc.signal(signal.SIGTERM)
        assert proc.wait(STOP_WITHIN_S + STOP_SLACK_S) == 0
    finally:
        proc.stop()
        phone.close()


def test_restart_after_sigkill_takes_over_the_connection_bluez_still_holds(
    tmp_path: Path, bluez: BlueZEmulator, add_wearable: AddWearable, mosquitto: Broker
) -> None:
    """systemd restarts a crashed service (Restart=on-failure); the wearable must come back without
    anyone touching it."""
    speed = 10.0
    wearable = _wearable(add_wearable, speed=speed)
    wid = "stale"
    config = _write(
        tmp_path / "sitbreak.toml",
        config_text(wearable=wid, address=wearable.address, mqtt_port=mosquitto.port),
    )
    state_dir = tmp_path / "state"
    phone = Phone(mosquitto.port, f"sitbreak/{wid}/state")
    first = _simulated(config, state_dir, tmp_path / "service1.log", wearable, speed)
    second: ServiceProcess | None = None
    try:
        wait_for(
            "streaming",
            lambda: last_state(phone, f"sitbreak/{wid}/state", lambda s: s["link"] == "connected"),
            CONNECT_TIMEOUT_S,
            first,
        )
        first.signal(signal.SIGKILL)
        first.wait(10)
        assert wearable.connected, "the emulator dropped the link itself: this test no longer applies"
        phone.clear()
        second = _simulated(config, state_dir, tmp_path / "service2.log", wearable, speed)
        wait_for(
            "a connected state after the restart",
            lambda: last_state(phone, f"sitbreak/{wid}/state", lambda s: s["link"] == "connected"),
            STALE_TAKEOVER_S,
            second,
        )
    finally:
        first.stop()
        if second is not None:
            second.stop()
        phone.close()


@pytest.mark.usefixtures("bluez")
def test_watchdog_ping_is_withheld_after_the_loop_stalls(
    tmp_path: Path,
    add_wearable: AddWearable,
    mosquitto: Broker,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """In process (the stall is a callback that blocks the loop): pings at half WATCHDOG_USEC while
    healthy; the tick that runs late by WATCHDOG_MAX_LAG_S or more sends none and says why, and pings
    resume after. systemd, which would have restarted us meanwhile, is not told all is well."""
    wearable = _wearable(add_wearable, speed=1.0)
    path = _write(
        tmp_path / "sitbreak.toml",
        config_text(wearable="watchdog", address=wearable.address, mqtt_port=mosquitto.port),
    )
    notify = NotifySocket(tmp_path / "notify")
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    caplog.set_level(logging.INFO)
    notifier = SystemdNotifier(str(notify.path))
    daemon = Daemon(load_config(path), DaemonOptions(path, tmp_path / "state"), notifier=notifier)
    stall_s = WATCHDOG_MAX_LAG_S + 1.0

    async def main() -> tuple[int, float, float]:
        run = asyncio.create_task(daemon.run())
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while len(notify.fields("WATCHDOG")) < 2:
            assert time.monotonic() < deadline, "no watchdog pings"
            await asyncio.sleep(0.05)
        stalled = time.monotonic()
        time.sleep(stall_s)  # a stuck callback: nothing else runs on the loop meanwhile
        resumed = time.monotonic()
        while not [at for at, _ in notify.fields("WATCHDOG") if at > resumed]:
            assert time.monotonic() < resumed + 10, "pings did not resume"
            await asyncio.sleep(0.05)
        daemon.request_stop()
        return await run, stalled, resumed

    try:
        rc, stalled, resumed = asyncio.run(main())
    finally:
        notifier.close()
        notify.close()
    assert rc == 0
    pings = [at for at, _ in notify.fields("WATCHDOG")]
    # The first tick after the stall is the late one: no ping from it, a warning instead.
    after = [at for at in pings if at > stalled]
    assert after and after[0] - resumed >= 0.4, (after[:3], resumed)
    assert any("event loop ran" in r.getMessage() and "withholding" in r.getMessage() for r in caplog.records)
