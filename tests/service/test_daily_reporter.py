"""The daily report off the event loop: built in a worker thread, marked in the store in the same
transaction as its outbox message, once per day, only the latest due day caught up, none before the
first data, and a stop waits for a report in flight. Real parts: SQLite, the MQTT link's outbox
(the link is not connected: messages wait in the outbox, as they would for a broker that is down)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from monitor.core.outbox import OutboxKind
from monitor.core.types import EpochBlock, Placement, Posture
from monitor.mqtt import DailyReportPayload, MqttLink, MqttSettings
from monitor.reports.settings import ReportSettings
from monitor.service.daily_reporter import BuiltReport, DailyReporter
from monitor.store import Store

W = "w1"
DAY = date(2026, 11, 24)
REPORT_AT = "21:30"


def at(day: date, hour: int, minute: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp()


def _store(tmp_path: Path, first_day: date, days: int) -> Store:
    store = Store.open(tmp_path / "sitbreak.db")
    for k in range(days):
        labels = np.full(3600, Posture.SIT.code, dtype=np.uint8)
        store.epochs.write_block(W, EpochBlock(at(first_day + timedelta(days=k), 9), labels))
    return store


def _reporter(store: Store, tmp_path: Path, mqtt: MqttLink | None = None) -> DailyReporter:
    return DailyReporter(
        W,
        Placement.THIGH,
        store,
        UTC,
        ReportSettings(daily_at=REPORT_AT),
        mqtt=mqtt,
        report_dir=tmp_path / "reports",
    )


def _reports_in_outbox(store: Store) -> list[str]:
    return [e.topic for e in store.outbox.pending() if e.kind is OutboxKind.REPORT]


def test_built_in_a_worker_thread_while_the_loop_runs_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built_on: list[str] = []
    real_build = DailyReporter.build

    def slow_build(self: DailyReporter, day: date, now: float) -> BuiltReport:
        built_on.append(threading.current_thread().name)
        time.sleep(0.5)  # a Raspberry Pi's second of reading and rendering, shortened
        return real_build(self, day, now)

    monkeypatch.setattr(DailyReporter, "build", slow_build)

    async def scenario() -> int:
        with _store(tmp_path, DAY, 1) as store:
            mqtt = MqttLink(MqttSettings(discovery=False), W, store.outbox)
            reporter = _reporter(store, tmp_path, mqtt)
            reporter.start(at(DAY, 12))
            started = time.monotonic()
            reporter.check(at(DAY, 21, 30))
            assert time.monotonic() - started < 0.1, "check() returns at once"
            ticks = 0
            while store.reports.last_day(W) is None:
                await asyncio.sleep(0.01)
                ticks += 1
            await reporter.wait()
            assert _reports_in_outbox(store) == [f"sitbreak/{W}/report/daily"]
            return ticks

    ticks = asyncio.run(scenario())
    assert ticks >= 20, "the event loop kept running while the report was built"
    assert built_on and built_on[0] != threading.main_thread().name
    assert (tmp_path / "reports" / f"{W}-{DAY.isoformat()}.html").is_file()


def test_marked_in_the_same_transaction_as_its_outbox_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        with _store(tmp_path, DAY, 1) as store:
            mqtt = MqttLink(MqttSettings(discovery=False), W, store.outbox)
            reporter = _reporter(store, tmp_path, mqtt)
            reporter.start(at(DAY, 12))

            def publish_then_fail(payload: DailyReportPayload, ts: float) -> int:
                mqtt_publish(payload, ts)  # queued in the outbox, inside the transaction ...
                raise OSError("disk I/O error")  # ... which then fails

            mqtt_publish = mqtt.publish_report
            monkeypatch.setattr(mqtt, "publish_report", publish_then_fail)
            reporter.check(at(DAY, 21, 30))
            await reporter.wait()
            # Neither half stayed: no message without its mark, no mark without its message.
            assert _reports_in_outbox(store) == []
            assert store.reports.last_day(W) is None

    caplog.set_level(logging.ERROR, logger="monitor.service.daily_reporter")
    asyncio.run(scenario())
    assert "the daily report failed" in caplog.text


def test_once_per_day_only_the_latest_due_day_and_none_before_the_first_data(tmp_path: Path) -> None:
    async def scenario() -> list[date]:
        with _store(tmp_path, DAY, 3) as store:
            reporter = _reporter(store, tmp_path)
            # Started two evenings after the first data, nothing reported yet: only the latest day.
            now = at(DAY + timedelta(days=2), 22)
            reporter.start(now)
            reporter.check(now)
            await reporter.wait()
            reporter.check(now + 60)  # the next block: nothing new is due
            await reporter.wait()
            reporter.check(at(DAY + timedelta(days=3), 21, 29))
            await reporter.wait()
            reporter.check(at(DAY + timedelta(days=3), 21, 30))
            await reporter.wait()
            rows = store.db.query("SELECT day FROM daily_reports ORDER BY day")
            return [date.fromisoformat(d) for (d,) in rows]

    assert asyncio.run(scenario()) == [DAY + timedelta(days=2), DAY + timedelta(days=3)]


def test_a_first_run_reports_from_the_day_it_starts(tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        with Store.open(tmp_path / "sitbreak.db") as store:
            reporter = _reporter(store, tmp_path)
            reporter.start(at(DAY, 23))  # a fresh database, after today's report time
            reporter.check(at(DAY, 23))
            await reporter.wait()
            reporter.check(at(DAY + timedelta(days=1), 21, 30))
            await reporter.wait()
            return [d for (d,) in store.db.query("SELECT day FROM daily_reports")]

    assert asyncio.run(scenario()) == [(DAY + timedelta(days=1)).isoformat()]


def test_a_stop_waits_for_the_report_in_flight_even_when_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_build = DailyReporter.build

    def slow_build(self: DailyReporter, day: date, now: float) -> BuiltReport:
        time.sleep(0.3)
        return real_build(self, day, now)

    monkeypatch.setattr(DailyReporter, "build", slow_build)

    async def scenario() -> date | None:
        with _store(tmp_path, DAY, 1) as store:
            reporter = _reporter(store, tmp_path)
            reporter.start(at(DAY, 12))
            reporter.check(at(DAY, 21, 30))
            waiting = asyncio.create_task(reporter.wait())
            await asyncio.sleep(0.05)
            waiting.cancel()  # a stop interrupted: the report still completes
            await reporter.wait()
            return store.reports.last_day(W)

    assert asyncio.run(scenario()) == DAY


def test_a_report_file_that_cannot_be_written_does_not_hold_back_the_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "reports").write_text("a file where the folder should be")

    async def scenario() -> list[str]:
        with _store(tmp_path, DAY, 1) as store:
            mqtt = MqttLink(MqttSettings(discovery=False), W, store.outbox)
            reporter = _reporter(store, tmp_path, mqtt)
            reporter.start(at(DAY, 12))
            reporter.check(at(DAY, 21, 30))
            await reporter.wait()
            assert store.reports.last_day(W) == DAY
            return _reports_in_outbox(store)

    caplog.set_level(logging.ERROR, logger="monitor.service.daily_reporter")
    assert asyncio.run(scenario()) == [f"sitbreak/{W}/report/daily"]
    assert "cannot write" in caplog.text
