"""Never half alive: the service as systemd sees it when one of its parts breaks.

Issue 11: a fault probe found the service running with half of itself dead while the watchdog was
still fed: a command that raised ended phone control for good (finding 1), the first failed commit
on a full disk ended the data path for good (finding 2), and SIGHUP with a `nan` file ended the
service (finding 3). Each test here breaks one part of a real running service (its own process,
the BlueZ emulator, a real Mosquitto, SQLite; a real full filesystem for the storage fault) and
reads what systemd would see: the exit code, STATUS lines and watchdog pings on a stand-in notify
socket, and what the phone gets.

Faults in handlers are injected by tests.service.fault_proc, which wraps one real handler (the
policy, the store, the block handler, the link task, the report build) and runs the daemon
unchanged otherwise. Everything waits on what the service delivers (log lines, messages, rows),
never on a guess of how long something takes.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from firmware_sim.bluez import BlueZEmulator
from firmware_sim.motion import Activity, MotionConfig, Segment
from firmware_sim.source import motion_source
from firmware_sim.wearable import SimulatedWearable
from tests.ble_fixtures import AddWearable
from tests.diskfull import small_disk
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
    wait_for,
)

pytestmark = pytest.mark.timeout(240)

START_T = datetime(2026, 11, 25, 9, 0, tzinfo=UTC).timestamp()
WALK_THEN_SIT = [Segment(Activity.WALK, 90.0), Segment(Activity.SIT, 6 * 3600.0)]
# systemd's WatchdogSec=1 s: a ping every 0.5 s while the service is healthy.
WATCHDOG_ENV = {"WATCHDOG_USEC": "1000000"}


def _wearable(add_wearable: AddWearable, speed: float) -> SimulatedWearable:
    return add_wearable(
        source=motion_source(WALK_THEN_SIT, MotionConfig(placement="thigh", seed=3)), speed=speed
    )


def _start(
    tmp_path: Path,
    wearable: SimulatedWearable,
    speed: float,
    config: Path,
    notify: NotifySocket,
    *,
    faults: str = "",
    state_dir: Path | None = None,
) -> ServiceProcess:
    """The daemon on a host clock that follows the wearable's (tests.service.daemon_proc), with
    `faults` injected (tests.service.fault_proc) and systemd's notify socket and watchdog."""
    origin = time.monotonic() - wearable.device_time_ms() / 1000.0 / speed
    argv = [
        sys.executable,
        "-m",
        "tests.service.fault_proc",
        str(config),
        str(state_dir or tmp_path / "state"),
    ]
    argv += [repr(START_T), repr(origin), repr(speed)]
    env = {**WATCHDOG_ENV, "NOTIFY_SOCKET": str(notify.path), "SITBREAK_TEST_FAULTS": faults}
    return ServiceProcess(argv, tmp_path / "service.log", env)


def _config(tmp_path: Path, wearable: SimulatedWearable, broker: Broker, wid: str, extra: str = "") -> Path:
    path = tmp_path / "sitbreak.toml"
    text = config_text(wearable=wid, address=wearable.address, mqtt_port=broker.port, policy=extra)
    path.write_text(text, encoding="utf-8")
    return path


def _epochs(db: Path) -> int:
    rows = db_query(db, "SELECT count(*) FROM epochs")
    return int(rows[0][0]) if rows else 0


def _pings_after(notify: NotifySocket, at: float) -> int:
    return sum(1 for t, _ in notify.fields("WATCHDOG") if t > at)


def _status(notify: NotifySocket) -> str:
    statuses = notify.fields("STATUS")
    return statuses[-1][1] if statuses else ""


def _events(phone: Phone, wid: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in payloads(phone, f"sitbreak/{wid}/event") if e.get("kind") == kind]


def test_commands_and_blocks_that_make_a_handler_raise_are_dropped_and_the_service_keeps_phone_control(
    tmp_path: Path, bluez: BlueZEmulator, add_wearable: AddWearable, mosquitto: Broker
) -> None:
    """Finding 1: one command whose handling raised ended the command task; later commands were
    logged as received and never applied, while the watchdog was still fed. Here the policy raises
    on one command, the store on another, and the data handler on one sample block: each is logged
    with its traceback, counted (STATUS says so) and dropped; a valid command after them is applied,
    the data keeps being stored, and the watchdog pings go on."""
    wid = "isolate"
    wearable = _wearable(add_wearable, 10.0)
    config = _config(tmp_path, wearable, mosquitto, wid)
    db = tmp_path / "state" / "sitbreak.db"
    notify = NotifySocket(tmp_path / "notify")
    phone = Phone(mosquitto.port, f"sitbreak/{wid}/#")
    proc = _start(
        tmp_path, wearable, 10.0, config, notify, faults="policy:boom-policy,store:boom-store,block:3"
    )
    cmd = f"sitbreak/{wid}/cmd"
    try:
        wait_for(
            "a connected state and stored epochs",
            lambda: (
                last_state(phone, f"sitbreak/{wid}/state", lambda s: s["link"] == "connected") and _epochs(db)
            ),
            CONNECT_TIMEOUT_S,
            proc,
        )
        proc.wait_log(r"sample block 3 breaks its handler")
        phone.send(cmd, json.dumps({"action": "pause", "minutes": 5, "reason": "boom-policy"}))
        proc.wait_log(r"the command pause failed and was dropped: RuntimeError: injected: the policy fails")
        phone.send(cmd, json.dumps({"action": "pause", "minutes": 5, "reason": "boom-store"}))
        proc.wait_log(r"the command pause failed and was dropped: ValueError: injected: the store refuses")
        phone.send(cmd, json.dumps({"action": "pause", "minutes": 30, "reason": "meeting"}))
        paused = wait_for(
            "the valid pause applied and published",
            lambda: [e for e in _events(phone, wid, "paused") if "meeting" in str(e.get("detail"))],
            20,
            proc,
        )
        assert len(paused) == 1
        assert db_query(db, "SELECT count(*) FROM policy_events WHERE kind = 'paused'")[0][0] == 1
        # Neither failed command left half of itself: no stored decision, no message.
        assert len(_events(phone, wid, "paused")) == 1
        count = _epochs(db)
        wait_for("epochs after the faults", lambda: _epochs(db) > count + 10 or None, 20, proc)
        mark = time.monotonic()
        wait_for("watchdog pings after the faults", lambda: _pings_after(notify, mark) >= 3 or None, 10, proc)
        wait_for(
            "STATUS counting the errors", lambda: "3 errors (see the journal)" in _status(notify), 40, proc
        )
        log = proc.log()
        assert log.count("Traceback") == 3, log  # once per fault, each with its traceback
        proc.signal(signal.SIGTERM)
        assert proc.wait(STOP_WITHIN_S + STOP_SLACK_S) == 0
    finally:
        proc.stop()
        phone.close()
        notify.close()


def test_a_task_that_keeps_failing_ends_the_process_with_exit_code_1(
    tmp_path: Path, bluez: BlueZEmulator, add_wearable: AddWearable, mosquitto: Broker
) -> None:
    """A task that fails is restarted with a backoff; one that keeps failing ends the process with
    exit code 1 and says why in STATUS, so that systemd (Restart=on-failure) starts it afresh,
    instead of the process living on without it (and with watchdog pings)."""
    wid = "fatal"
    wearable = _wearable(add_wearable, 10.0)
    config = _config(tmp_path, wearable, mosquitto, wid)
    notify = NotifySocket(tmp_path / "notify")
    phone = Phone(mosquitto.port, f"sitbreak/{wid}/status")
    proc = _start(tmp_path, wearable, 10.0, config, notify, faults="link,fast")
    try:
        rc = proc.wait(CONNECT_TIMEOUT_S)
        log = proc.log()
        assert rc == 1, log
        assert f"{wid} link: the task failed: OSError: injected" in log
        assert log.count("Traceback") == 1, log  # the first failure with its traceback, then one line each
        assert f"{wid} link: starting it again in" in log
        assert f"CRITICAL monitor.daemon: {wid} link failed 6 times in 10 min" in log
        assert "stopped after a failure (exit code 1)" in log
        assert _status(notify).startswith(f"failed: {wid} link failed 6 times")
        assert notify.fields("STOPPING"), "no STOPPING=1"
        # A clean stop all the same: the phone is told the service is offline.
        wait_for("retained offline", lambda: [m for m in phone.messages() if m.payload == b"offline"], 10)
    finally:
        proc.stop()
        phone.close()
        notify.close()


def test_a_report_stuck_in_its_worker_withholds_the_watchdog_ping_until_it_finishes(
    tmp_path: Path, bluez: BlueZEmulator, add_wearable: AddWearable, mosquitto: Broker
) -> None:
    """Waiting for input is fine; one piece of work that runs far longer than it ever takes is
    stuck. While the daily report's build hangs (here 8 s, counted stuck after 2 s) the watchdog
    ping is withheld and STATUS says what is stuck; systemd would restart the service. Pings
    resume when it finishes."""
    wid = "stall"
    speed = 60.0
    wearable = _wearable(add_wearable, speed)
    config = _config(tmp_path, wearable, mosquitto, wid)
    text = config.read_text().replace("[mqtt]\n", '[report]\ndaily_at = "09:03"\n\n[mqtt]\n')
    config.write_text(text, encoding="utf-8")
    notify = NotifySocket(tmp_path / "notify")
    proc = _start(tmp_path, wearable, speed, config, notify, faults="report:8,fast")
    try:
        proc.wait_log(r"injected: the report build hangs", timeout=CONNECT_TIMEOUT_S + 10)
        line = proc.wait_log(r"withholding the watchdog ping: .*", timeout=15).group(0)
        assert f"{wid} daily report stuck for" in line
        withheld_at = time.monotonic()
        wait_for("STATUS naming what is stuck", lambda: "stuck: " in _status(notify), 10, proc)
        assert f"{wid} daily report stuck" in _status(notify)
        proc.wait_log(r"daily report for \d{4}-\d\d-\d\d published", timeout=20)
        done = time.monotonic()
        pings = [t for t, _ in notify.fields("WATCHDOG") if t > withheld_at]
        assert not [t for t in pings if t < done - 1.0], "pinged while the report was stuck"
        wait_for("pings again after the report", lambda: _pings_after(notify, done) >= 2 or None, 10, proc)
        proc.signal(signal.SIGTERM)
        assert proc.wait(STOP_WITHIN_S + STOP_SLACK_S) == 0
    finally:
        proc.stop()
        notify.close()


def test_a_full_disk_keeps_the_service_streaming_and_nudging_and_the_data_is_written_when_space_returns(
    tmp_path: Path, bluez: BlueZEmulator, add_wearable: AddWearable, mosquitto: Broker
) -> None:
    """Finding 2: the first failed commit (`database or disk is full`) ended the data path for good,
    nothing was stored after space was freed, and the process lived on. Here the state directory is
    a small tmpfs, filled while the service streams: the problem is reported (STATUS, `state`, a
    `problem` event), the service goes on streaming and the nudge due meanwhile reaches the phone;
    when space is freed the data that waited is written, in order, with no hole."""
    wid = "diskfull"
    speed = 60.0
    wearable = _wearable(add_wearable, speed)
    config = _config(tmp_path, wearable, mosquitto, wid, "nudge_after = 6.0\n")
    notify = NotifySocket(tmp_path / "notify")
    phone = Phone(mosquitto.port, f"sitbreak/{wid}/#")
    state_topic = f"sitbreak/{wid}/state"
    with small_disk(tmp_path / "disk", 8192) as disk:
        db = disk.path / "sitbreak.db"
        proc = _start(tmp_path, wearable, speed, config, notify, state_dir=disk.path)
        try:
            wait_for("stored epochs", lambda: _epochs(db) >= 60 or None, CONNECT_TIMEOUT_S, proc)
            disk.fill()
            full = wait_for("a problem event", lambda: _events(phone, wid, "problem"), 30, proc)
            assert full[0]["reason"] == "storage" and full[0]["detail"]["problem"] == "the disk is full"
            proc.wait_log(rf"{wid}: cannot write to the database \(the disk is full")
            wait_for(
                "STATUS naming the full disk",
                lambda: "storage: the disk is full" in _status(notify),
                40,
                proc,
            )
            stored = _epochs(db)
            # Still streaming: `state` moves on with data waiting, and the nudge comes.
            waiting = wait_for(
                "a state with data waiting",
                lambda: last_state(phone, state_topic, lambda s: s["problem"] and s["waiting_s"] >= 120),
                30,
                proc,
            )
            assert waiting["problem"] == "storage: the disk is full" and waiting["link"] == "connected"
            nudge = wait_for(
                "a nudge during the fault", lambda: payloads(phone, f"sitbreak/{wid}/nudge"), 30, proc
            )
            assert _epochs(db) == stored, "written although the disk is full?"
            mark = time.monotonic()
            wait_for(
                "watchdog pings during the fault", lambda: _pings_after(notify, mark) >= 3 or None, 10, proc
            )

            disk.free()
            cleared = wait_for(
                "a problem_cleared event", lambda: _events(phone, wid, "problem_cleared"), 60, proc
            )
            assert cleared[0]["detail"]["written_s"] >= 120 and cleared[0]["detail"]["dropped_s"] == 0
            ok = wait_for("a state without a problem", lambda: last_state(phone, state_topic), 5)
            wait_for("STATUS without the problem", lambda: "storage" not in _status(notify), 40, proc)
            proc.signal(signal.SIGTERM)
            assert proc.wait(STOP_WITHIN_S + STOP_SLACK_S) == 0
        finally:
            proc.stop()
            phone.close()
            notify.close()
        assert ok is not None
        # Everything that waited is stored, in order: one contiguous run of epochs from the first to
        # the last, and nothing but the walk and the sitting in it.
        first, last, count = db_query(db, "SELECT min(t), max(t), count(*) FROM epochs")[0]
        assert count == last - first + 1 and count > stored + 120
        unknown = db_query(db, "SELECT count(*) FROM epochs WHERE label = 6 AND t > ?", (first + 180,))[0][0]
        assert unknown <= 10, f"{unknown} s unknown"
        ids = [row[0] for row in db_query(db, "SELECT id FROM nudges")]
        assert nudge[0]["id"] in ids, "the nudge sent from memory was stored with its decision"
        gaps = db_query(db, "SELECT count(*) FROM link_events WHERE kind = 'gap' AND detail = 'storage'")
        assert gaps[0][0] == 0, "nothing was dropped"


def test_sighup_with_nan_in_the_config_keeps_the_running_configuration(
    tmp_path: Path, bluez: BlueZEmulator, add_wearable: AddWearable, mosquitto: Broker
) -> None:
    """Finding 3: `nan` passed validation, and SIGHUP with such a file killed the running service
    (measured on the commit before the loader refused it: the reload started the policy with
    nudge_after = nan, ValueError, exit 1). Now every float refuses it, and a reload with any
    configuration error keeps what runs; so does a file the checks accept but a part of the service
    cannot start with (here nudge_after = 29, refused by an injected fault)."""
    wid = "nanreload"
    wearable = _wearable(add_wearable, 10.0)
    config = _config(tmp_path, wearable, mosquitto, wid)
    good = config.read_text()
    db = tmp_path / "state" / "sitbreak.db"
    notify = NotifySocket(tmp_path / "notify")
    proc = _start(tmp_path, wearable, 10.0, config, notify, faults="nudge-after:29")
    try:
        wait_for("stored epochs", lambda: _epochs(db) or None, CONNECT_TIMEOUT_S, proc)
        for bad in ("nudge_after = nan", "break_min = inf", "nudge_after = -nan"):
            config.write_text(good.replace("[policy]\n", f"[policy]\n{bad}\n"), encoding="utf-8")
            mark = len(proc.log())
            proc.signal(signal.SIGHUP)
            line = proc.wait_log(r"ERROR monitor\.daemon: SIGHUP: .*", after=mark).group(0)
            assert "keeping the running configuration" in line and bad.split()[0] in line, line
            assert "must be a finite number" in line or "finite" in line, line
        assert "Traceback" not in proc.log()
        assert "applying the new configuration" not in proc.log()
        config.write_text(good.replace("[policy]\n", "[policy]\nnudge_after = 29\n"), encoding="utf-8")
        mark = len(proc.log())
        proc.signal(signal.SIGHUP)
        proc.wait_log(r"SIGHUP: cannot start with .*\n.*\n.*", after=mark)
        proc.wait_log(r"ERROR monitor\.daemon: SIGHUP: going back to the running configuration", after=mark)
        count = _epochs(db)
        wait_for("epochs after the rejected reloads", lambda: _epochs(db) > count + 5 or None, 30, proc)
        assert proc.returncode is None
        proc.signal(signal.SIGTERM)
        assert proc.wait(STOP_WITHIN_S + STOP_SLACK_S) == 0
    finally:
        proc.stop()
        notify.close()
