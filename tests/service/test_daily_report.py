"""The daily report goes out at its local time whether or not data is coming in, once per day,
and one that fell due while the service was down goes out when it starts again.

Real parts: `sitbreak run` in its own process (tests.service.daemon_proc, on a host clock shifted so
the report time is a few wall seconds away and running at real speed), the BlueZ emulator with no
wearable in range (the service keeps searching: no data at all), a real Mosquitto, SQLite.
"""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firmware_sim.bluez import BlueZEmulator
from tests.mqtt_fixtures import Broker, Phone
from tests.service.procs import (
    CONNECT_TIMEOUT_S,
    STOP_SLACK_S,
    STOP_WITHIN_S,
    ServiceProcess,
    config_text,
    db_query,
    payloads,
    wait_for,
)

pytestmark = pytest.mark.timeout(180)

WID = "rep"
TOPIC = f"sitbreak/{WID}/report/daily"
REPORT_AT = "21:30"
# Host clock at start: this many seconds before the report time.
LEAD_S = 4.0
REPORT_T = datetime(2026, 11, 25, 21, 30, tzinfo=UTC).timestamp()
# A restart after the report: the next day's report time passes while the service is down.
NEXT_REPORT_T = REPORT_T + 24 * 3600.0


def _config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "sitbreak.toml"
    text = config_text(wearable=WID, address="F0:00:00:00:0F:FF", mqtt_port=port)
    path.write_text(text.replace("[mqtt]\n", f'[report]\ndaily_at = "{REPORT_AT}"\n\n[mqtt]\n'), "utf-8")
    return path


def _service(tmp_path: Path, config: Path, name: str, start_t: float) -> ServiceProcess:
    return ServiceProcess.simulated(
        config,
        tmp_path / "state",
        tmp_path / f"{name}.log",
        start_t=start_t,
        origin=time.monotonic(),
        speed=1.0,
    )


def _stop(proc: ServiceProcess) -> None:
    proc.signal(signal.SIGTERM)
    assert proc.wait(STOP_WITHIN_S + STOP_SLACK_S) == 0, proc.log()[-4000:]
    proc.stop()  # closes its log file


def test_report_at_its_time_without_data_once_and_caught_up_after_a_restart(
    tmp_path: Path, fresh_bluez: BlueZEmulator, private_mosquitto: Broker
) -> None:
    config = _config(tmp_path, private_mosquitto.port)
    phone = Phone(private_mosquitto.port, TOPIC, client_id="rep-phone", persistent=True)
    db = tmp_path / "state" / "sitbreak.db"
    procs: list[ServiceProcess] = []
    try:
        first = _service(tmp_path, config, "first", REPORT_T - LEAD_S)
        procs.append(first)
        first.wait_log("looking for", CONNECT_TIMEOUT_S)
        # No wearable, no data: the report still goes out, on the host clock, at its time.
        got = wait_for("the daily report", lambda: payloads(phone, TOPIC), 30.0, first)
        assert [r["date"] for r in got] == ["2026-11-25"]
        assert datetime.fromisoformat(got[0]["ts"]).timestamp() >= REPORT_T
        assert not db_query(db, "SELECT count(*) FROM epochs")[0][0]
        _stop(first)

        # Started again the same evening: that day's report is not sent twice.
        again = _service(tmp_path, config, "again", REPORT_T + 60.0)
        procs.append(again)
        again.wait_log("looking for", CONNECT_TIMEOUT_S)
        time.sleep(3.0)
        _stop(again)
        assert len(payloads(phone, TOPIC)) == 1, payloads(phone, TOPIC)

        # Down across the next day's report time (a Pi switched off overnight): sent at start.
        late = _service(tmp_path, config, "late", NEXT_REPORT_T + 3600.0)
        procs.append(late)
        got = wait_for("the missed report", lambda: payloads(phone, TOPIC)[1:], 30.0, late)
        assert [r["date"] for r in got] == ["2026-11-26"]
        _stop(late)
        days = db_query(db, "SELECT day FROM daily_reports ORDER BY day")
        assert [d for (d,) in days] == ["2026-11-25", "2026-11-26"]
    finally:
        for proc in procs:
            proc.stop()
        phone.close()
