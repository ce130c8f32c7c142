"""`sitbreak demo`: a simulated office day through the real service, end to end, on one machine.

What runs is what runs on a Raspberry Pi, minus the radio: a private `dbus-daemon` with the BlueZ
emulator serving a simulated SitSense wearable (motion model: desk work, meetings, a lunch walk, the
device left on the desk for a while), unmodified Bleak finding and streaming from it, the pipeline,
the nudge policy, the SQLite store, and MQTT to a broker (`--mqtt-host`, else the machine's Mosquitto
started for the run, else the embedded one in `monitor.demo.broker`). A console "phone" subscribes
like any MQTT app, prints the nudges and answers some of them.

The wearable's clock runs `speed` times faster than wall time and the service maps device time onto a
simulated calendar day (the last weekday, from 08:30 local), so the policy's active hours and the
daily report see an ordinary working day. The daily report is timed by the data alone
(`DaemonOptions.reports_on_host_clock=False`): on a busy machine the service's data trails the sped-up
clock, and a report timed on that clock would go out before the day's data is in.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import sys
import time as time_module
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Literal, TextIO

from firmware_sim.bus import DBusDaemonMissingError, PrivateBus
from firmware_sim.motion import office_day
from monitor.config import Config, WearableSettings
from monitor.daemon import Daemon, DaemonOptions
from monitor.demo.broker import EmbeddedBroker
from monitor.demo.mosquitto import MosquittoProcess, MosquittoStartError, find_mosquitto
from monitor.demo.phone import ConsolePhone
from monitor.mqtt import MqttSettings
from monitor.reports import html as report_html
from monitor.reports import text as report_text
from monitor.reports.settings import ReportSettings
from monitor.reports.zone import resolve_zone
from monitor.store import Store, StoreSettings
from monitor.store.report_source import load_day_report

_LOGGER = logging.getLogger(__name__)

DEMO_WEARABLE = "thigh"
# The simulated working day starts here (local time) on the most recent weekday before today.
DAY_START = time(8, 30)
# The daily report is published this long before the simulated day's data ends, so the phone
# receives it while the demo is still running.
REPORT_BEFORE_END = timedelta(minutes=3)
# How often the progress line is refreshed (wall seconds).
PROGRESS_EVERY_S = 0.5
# After the day's data, how long the demo waits for the daily report to reach the phone (wall seconds).
REPORT_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class DemoOptions:
    speed: float = 400.0
    seed: int = 0
    state_dir: Path = Path("sitbreak-demo")
    mqtt_host: str | None = None
    mqtt_port: int = 1883
    quiet: bool = False
    # Where the demo looks for the machine's Mosquitto when no --mqtt-host is given; tests inject
    # one that finds none (the embedded broker) or a given binary.
    mosquitto_lookup: Callable[[], Path | None] = find_mosquitto


# Which broker a demo used: the user's (--mqtt-host), the machine's Mosquitto, or the embedded one.
BrokerKind = Literal["given", "mosquitto", "embedded"]


@dataclass(frozen=True, slots=True)
class DemoResult:
    day: date
    db_path: Path
    html_path: Path
    nudges: int
    answers: int
    reports: int
    report_text: str
    broker: BrokerKind


def demo_day(tz: tzinfo) -> date:
    """The most recent weekday strictly before today: a whole working day already in the past."""
    day = datetime.now(tz).date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


@dataclass
class _EmulatorProcess:
    process: subprocess.Popen[str]
    hello: dict[str, object]

    def stop(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


async def _start_emulator(bus_address: str, opts: DemoOptions) -> _EmulatorProcess:
    """The BlueZ emulator and the wearable in a child process: the other core streams the data."""
    cmd = [sys.executable, "-m", "monitor.demo.emulator", "--bus-address", bus_address]
    cmd += ["--speed", str(opts.speed), "--seed", str(opts.seed)]
    # Its own session: a Ctrl-C reaches only the demo, which ends the emulator by closing its stdin
    # (also what happens when the demo dies), instead of a KeyboardInterrupt traceback in the child.
    process = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout is not None
    line = await asyncio.to_thread(process.stdout.readline)
    if not line:
        process.wait()
        raise RuntimeError(f"the simulated wearable did not start (exit code {process.returncode})")
    return _EmulatorProcess(process, json.loads(line))


@dataclass(frozen=True, slots=True)
class DemoBroker:
    """The broker the service and the phone connect to, and the line telling the user which it is."""

    kind: BrokerKind
    host: str
    port: int
    line: str
    pid: int | None = None  # the Mosquitto child's


def _watch_hint(port: int) -> str:
    return f"watch it: mosquitto_sub -p {port} -t 'sitbreak/#' -v"


@asynccontextmanager
async def open_broker(opts: DemoOptions) -> AsyncIterator[DemoBroker]:
    """The demo's broker for the duration of the block, stopped at its end (also on errors, Ctrl-C).

    `--mqtt-host` if given; else the machine's Mosquitto (the broker production uses) as a child
    process on a free loopback port; else, or when that Mosquitto does not start, the embedded one.
    """
    if opts.mqtt_host is not None:
        host, port = opts.mqtt_host, opts.mqtt_port
        yield DemoBroker("given", host, port, f"MQTT broker {host}:{port}")
        return
    binary = opts.mosquitto_lookup()
    why_embedded = "no mosquitto found on this machine"
    if binary is not None:
        mosquitto = MosquittoProcess(binary)
        try:
            await mosquitto.start()
        except MosquittoStartError as exc:
            _LOGGER.warning("%s; the demo uses its embedded broker instead", exc)
            why_embedded = f"{binary} did not start"
        else:
            try:
                host, port = mosquitto.host, mosquitto.port
                line = f"MQTT broker: {binary} (pid {mosquitto.pid}) on {host}:{port} ({_watch_hint(port)})"
                yield DemoBroker("mosquitto", host, port, line, mosquitto.pid)
            finally:
                mosquitto.stop()
            return
    embedded = EmbeddedBroker()
    await embedded.start()
    try:
        host, port = embedded.host, embedded.port
        line = f"MQTT broker: embedded, {why_embedded}, on {host}:{port} ({_watch_hint(port)})"
        yield DemoBroker("embedded", host, port, line)
    finally:
        await embedded.stop()


def demo_daemon_options(state_dir: Path, clock: Callable[[], float]) -> DaemonOptions:
    """The service as the demo runs it: on the simulated clock, with the daily report timed by the
    data alone. The clock runs `speed` times faster than wall time from the wearable's start; the
    service's data trails it by whatever the machine cannot keep up with (minutes of data time on a
    busy machine), so the host-clock report timer would send the day's report before its data."""
    return DaemonOptions(config_path=None, state_dir=state_dir, clock=clock, reports_on_host_clock=False)


def demo_config(db_path: Path, host: str, port: int, day_end: datetime) -> Config:
    report_at = (day_end - REPORT_BEFORE_END).strftime("%H:%M")
    return Config(
        wearables=(WearableSettings(id=DEMO_WEARABLE),),
        mqtt=MqttSettings(host=host, port=port),
        store=StoreSettings(path=str(db_path)),
        report=ReportSettings(daily_at=report_at),
    )


async def run_live_demo(opts: DemoOptions, out: TextIO = sys.stdout) -> DemoResult:
    schedule = office_day()
    duration_s = sum(seg.duration_s for seg in schedule)
    tz = resolve_zone("")
    day = demo_day(tz)
    start = datetime.combine(day, DAY_START, tzinfo=tz)
    end = start + timedelta(seconds=duration_s)
    start_t = start.timestamp()

    state_dir = opts.state_dir
    if state_dir.exists():
        shutil.rmtree(state_dir)
    state_dir.mkdir(parents=True)
    db_path = state_dir / "sitbreak.db"

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    say(f"sitbreak demo: {day:%A %d %B %Y}, {start:%H:%M}-{end:%H:%M}, simulated at {opts.speed:g}x")
    with PrivateBus() as bus, bus.activated():
        say(f"  private D-Bus (dbus-daemon pid {bus.pid}) with the BlueZ emulator; Bleak talks to it")
        emulator = await _start_emulator(bus.address, opts)
        origin = float(str(emulator.hello["clock_origin_monotonic"]))

        def clock() -> float:
            return start_t + (time_module.monotonic() - origin) * opts.speed

        try:
            say(f"  simulated wearable {emulator.hello['name']} ({emulator.hello['address']}) on the thigh")
            async with open_broker(opts) as broker:
                say(f"  {broker.line}")
                config = demo_config(db_path, broker.host, broker.port, end)
                phone = ConsolePhone(broker.host, broker.port, config.mqtt.prefix, out)
                daemon = Daemon(config, demo_daemon_options(state_dir, clock))
                try:
                    await phone.start()
                    say("  phone subscribed; the service starts and looks for the wearable\n")
                    run = asyncio.create_task(daemon.run())
                    await _wait_for_day(
                        daemon, run, window=(start_t, end.timestamp()), clock=clock, opts=opts, out=out
                    )
                    await _wait_for_report(phone, day, run)
                    daemon.request_stop()
                    await run
                finally:
                    phone.stop()
        finally:
            emulator.stop()

    with Store(StoreSettings(path=str(db_path))) as store:
        report = load_day_report(
            store, DEMO_WEARABLE, day, tz, as_of=end.timestamp(), min_break_s=config.report.min_break_s
        )
    text = report_text.render_day(report)
    html_path = state_dir / f"report-{day.isoformat()}.html"
    html_path.write_text(report_html.render_day(report), encoding="utf-8")
    say("\n" + text)
    say(f"HTML report: {html_path.resolve()}")
    say(
        f"database:    {db_path.resolve()}  (try: {sitbreak_command()} report --db {db_path} "
        f"--format html --date {day})"
    )
    return DemoResult(
        day=day,
        db_path=db_path,
        html_path=html_path,
        nudges=len(phone.log.nudges),
        answers=len(phone.log.answers),
        reports=len(phone.log.reports),
        report_text=text,
        broker=broker.kind,
    )


def sitbreak_command() -> str:
    """How to run sitbreak from here: `sitbreak` only when that is on PATH; `make demo` runs it from
    .venv/bin, which a fresh shell does not have on its PATH."""
    beside = Path(sys.executable).parent / "sitbreak"
    on_path = shutil.which("sitbreak")
    if on_path is not None and beside.exists() and Path(on_path).resolve() == beside.resolve():
        return "sitbreak"
    if beside.exists():
        try:
            return str(beside.relative_to(Path.cwd()))
        except ValueError:
            return str(beside)
    return f"{sys.executable} -m monitor.cli"


# The service counts as behind when its data trails the wearable's clock by more than this (simulated
# seconds): the link batches up to 10 s of data and the pipeline holds a minute of it.
BEHIND_S = 300.0
# ... and by more than this much wall time: at 400x an idle machine's service trails by 5-6 simulated
# minutes now and then (under a wall second of D-Bus batches and pipeline passes), which is not falling
# behind; a busy machine's lag keeps growing past this.
BEHIND_WALL_S = 3.0


def progress_line(now: float, start_t: float, end_t: float, device_now: float, speed: float = 1.0) -> str:
    """'simulated time 11:42, 38 % of the day' plus a warning when the service falls behind."""
    done = min(1.0, max(0.0, (now - start_t) / (end_t - start_t)))
    line = f"simulated time {datetime.fromtimestamp(now).astimezone():%H:%M}, {done:.0%} of the day"
    lag = device_now - now
    if lag > max(BEHIND_S, BEHIND_WALL_S * speed):
        line += f"; the machine is busy: the service is {lag / 60:.0f} min of data behind the wearable"
    return line


async def _wait_for_day(
    daemon: Daemon,
    run: asyncio.Task[int],
    *,
    window: tuple[float, float],
    clock: Callable[[], float],
    opts: DemoOptions,
    out: TextIO,
) -> None:
    """Until the simulated day's data has been processed (or the service stops on its own)."""
    start_t, end_t = window
    warned = False
    while not run.done():
        await asyncio.sleep(PROGRESS_EVERY_S)
        now = max((s.data_now() for s in daemon.services if s.stream is not None), default=None)
        if now is None:
            continue
        if now >= end_t:
            return
        line = progress_line(now, start_t, end_t, min(clock(), end_t), opts.speed)
        if not opts.quiet and out.isatty():
            out.write(f"\r  {line}\x1b[K\r")
            out.flush()
        elif "busy" in line and not warned:
            warned = True  # once, not every half second, when the output is not a terminal
            _LOGGER.warning("demo: %s", line)
    run.result()  # the service stopped early: surface why


async def _wait_for_report(phone: ConsolePhone, day: date, run: asyncio.Task[int]) -> None:
    """Until the phone has the day's report (it goes out when the data passes its time, shortly
    before the day's data ends), so stopping does not race its delivery."""
    deadline = time_module.monotonic() + REPORT_WAIT_S
    while not any(r.get("date") == day.isoformat() for r in phone.log.reports):
        if run.done():
            run.result()
            return
        if time_module.monotonic() > deadline:
            _LOGGER.warning(
                "demo: the daily report for %s did not reach the phone in %g s", day, REPORT_WAIT_S
            )
            return
        await asyncio.sleep(0.05)


__all__ = [
    "DAY_START",
    "DEMO_WEARABLE",
    "BrokerKind",
    # Re-exported: the command turns it into a user error, and only monitor.demo imports firmware_sim.
    "DBusDaemonMissingError",
    "DemoBroker",
    "DemoOptions",
    "DemoResult",
    "demo_config",
    "demo_daemon_options",
    "demo_day",
    "open_broker",
    "run_live_demo",
]
