"""One wearable's daily report: due at `report.daily_at` local time, built off the event loop, sent
once per day.

Guarantees (docs/design.md, "Daily report schedule"):
- the report for a local day goes out when data time or the host clock passes its report time,
  whichever comes first (`check` is called with both);
- the store marks the day sent in the same transaction as the report's outbox message, so a restart
  never sends a day twice, and a report that fell due while the service was down goes out at start;
- only the latest due day is caught up, and none for days before the first data (a fresh database
  starts from the day the service first runs);
- after a report, freed heap goes back to the OS (`malloc_trim`, from the worker thread; the daemon
  keeps one malloc arena for all threads so that this works there, see `monitor.heap`).

Building a report reads eight days of epochs (~700 000 rows) and renders HTML: about a second of work
on a Raspberry Pi. It runs in a worker thread (`asyncio.to_thread`) on a connection of its own to the
database (WAL lets it read beside the service's writes; on the shared connection its read would hold
the store's lock and make the event loop's next write wait for it). Only the short transaction that
marks the day and queues the message runs on the loop.

Storage faults: while the service's writes wait in memory (`StoreWriter`), no report is started (it
would miss the data waiting); it goes out once they are written. A fault that begins after the
report was built lets the report go to the phone from memory, and its day's mark waits with the
other writes.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import date, tzinfo
from functools import partial
from pathlib import Path

from monitor.core.timefmt import iso_time
from monitor.core.types import Placement
from monitor.heap import release_free_memory
from monitor.mqtt import DailyReportPayload, MqttLink
from monitor.reports import html as report_html
from monitor.reports.payload import daily_json
from monitor.reports.schedule import ReportSchedule, last_reported
from monitor.reports.settings import ReportSettings
from monitor.service.outbox import ResilientOutbox
from monitor.service.writer import StoreWriter, WriteUnit
from monitor.store import Store
from monitor.store.report_source import load_day_report

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BuiltReport:
    """A day's report ready to send: the `report/daily` message and the HTML file written (if any)."""

    day: date
    payload: DailyReportPayload
    path: Path | None


class DailyReporter:
    """Decides when a day's report is due and sends it; call from the event loop thread."""

    def __init__(
        self,
        wearable: str,
        placement: Placement,
        store: Store,
        tz: tzinfo,
        settings: ReportSettings,
        *,
        mqtt: MqttLink | None,
        report_dir: Path | None,
        writer: StoreWriter | None = None,
    ) -> None:
        """`writer`: the service's (the report's mark waits with its other writes during a storage
        fault); a tool or test without one gets its own."""
        self.wearable = wearable
        self.placement = placement
        self.store = store
        self.tz = tz
        self.settings = settings
        self.schedule = ReportSchedule.daily_at(settings.daily_at, tz)
        self.mqtt = mqtt
        self.report_dir = report_dir
        self._reported: date | None = None
        # The next time `check` has anything to decide; -inf: at the first check (catch-up at start).
        self.next_check = -math.inf
        self._running: asyncio.Task[None] | None = None
        # Loop time the report being built started, for the watchdog's stall check.
        self.building_since: float | None = None
        hold = mqtt.sends_after if mqtt is not None else None
        self.writer = writer or StoreWriter(wearable, store, ResilientOutbox(store.outbox), hold=hold)

    def start(self, now: float) -> None:
        """Read which day was reported last (see `monitor.reports.schedule.last_reported`)."""
        recorded = self.store.reports.last_day(self.wearable)
        first = self.store.epochs.first_t(self.wearable) if recorded is None else None
        self._reported = last_reported(self.schedule, recorded, first, now)

    def check(self, now: float) -> None:
        """Called with data time as blocks arrive and with the host clock by a timer: whichever
        passes the report time first starts the report. Returns at once; the report is built in a
        worker thread. While one is being built, nothing else starts (the next check decides)."""
        if now < self.next_check or self._running is not None or self.writer.waiting:
            return
        day = self.schedule.due_date(now)
        self.next_check = self.schedule.next_time(now)
        if self._reported is not None and day <= self._reported:
            return
        task = asyncio.get_running_loop().create_task(self._send(day, now))
        self._running = task
        task.add_done_callback(self._sent)

    async def wait(self) -> None:
        """Wait for the report being built, if any, to be marked and queued (for a clean stop).
        Never raises what the report raised (that is logged); cancelling the caller leaves the
        report running to its end."""
        if self._running is not None:
            await asyncio.wait({self._running})

    async def _send(self, day: date, now: float) -> None:
        self.building_since = asyncio.get_running_loop().time()
        try:
            built = await asyncio.to_thread(self._build, day, now)
        except Exception:  # a database that cannot be read: the next report time tries again
            _LOGGER.exception("%s: cannot build the daily report for %s", self.wearable, day)
            return
        finally:
            self.building_since = None

        def mark(store: Store) -> None:
            store.reports.mark(self.wearable, day, now)

        publish = partial(self.mqtt.publish_report, built.payload, now) if self.mqtt is not None else None
        self.writer.submit(WriteUnit(f"the daily report for {day}", mark, publish))
        self._reported = day
        where = f" and written to {built.path}" if built.path else ""
        _LOGGER.info("%s: daily report for %s published%s", self.wearable, day, where)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._running = None
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("%s: the daily report failed", self.wearable, exc_info=task.exception())

    # ------------------------------------------------------------------ worker thread

    def _build(self, day: date, now: float) -> BuiltReport:
        built = self.build(day, now)
        # The report's ~20 MiB of rows are freed by now, but malloc would keep them resident.
        release_free_memory()
        return built

    def build(self, day: date, now: float) -> BuiltReport:
        """The report for local `day` as of data time `now`, with its HTML file written. Blocking:
        runs in a worker thread (its own database connection, see the module doc)."""
        with Store(self.store.settings, check=False) as reader:
            report = load_day_report(
                reader,
                self.wearable,
                day,
                self.tz,
                as_of=now,
                placement=self.placement,
                min_break_s=self.settings.min_break_s,
            )
        payload = DailyReportPayload(
            ts=iso_time(now, self.tz),
            wearable=self.wearable,
            date=day.isoformat(),
            summary=dict(daily_json(report)),
        )
        path: Path | None = None
        if self.report_dir is not None:
            path = self.report_dir / f"{self.wearable}-{day.isoformat()}.html"
            try:
                self.report_dir.mkdir(parents=True, exist_ok=True)
                path.write_text(report_html.render_day(report), encoding="utf-8")
            except OSError as err:
                # The phone still gets its report; the file is the lesser half of it.
                _LOGGER.error("%s: cannot write %s: %s", self.wearable, path, err.strerror or err)
                path = None
        return BuiltReport(day, payload, path)
