"""The whole service's CPU seconds per hour of 50 Hz data, and its memory, while streaming.

    python bench/service.py                 # 40 s of wall time at 120x (80 min of an office day)
    python bench/service.py --speed 300 --seconds 60 --json
    python bench/service.py --speed 1 --seconds 600 --warmup 30   # real time: ~12 minutes

CPU per data hour depends on the speed: costs that follow wall time (MQTT keep-alive, paho's
network thread, timers, the watchdog) are spread over more data at high speed. The default 120x
measures the per-sample cost; `--speed 1` measures what a Raspberry Pi actually spends.

What runs, each in its own process so only the service is measured:
- a private dbus-daemon (firmware_sim.bus.PrivateBus),
- the BlueZ emulator with one simulated SitSense thigh wearable living the office day
  (`python -m firmware_sim --bus-address ADDR --speed S`),
- Mosquitto on a free 127.0.0.1 port (the embedded demo broker, in this process, when Mosquitto is
  not installed),
- `sitbreak run --config FILE --state-dir DIR`: the real daemon (Bleak, pipeline, policy, SQLite,
  MQTT), exactly as systemd starts it.

The daemon's CPU (user + system, all threads) is read from /proc/PID/stat and its memory from
/proc/PID/status (VmRSS sampled, VmHWM the kernel's peak). Data progress is read from the daemon's
own database (read-only): the window opens once `--warmup` seconds of data are stored (start-up,
imports and the connection are excluded) and closes after `--seconds` of wall time.

The memory floor: a fresh interpreter that only imports `monitor.daemon` (numpy, scipy.signal,
Bleak, dbus-fast, paho), so the RSS can be split into imports and what streaming adds.

CPU baselines in the same run, on the same schedule and seed, in this process (no I/O): the pipeline alone
(a live PostureStream, as the service makes it, fed blocks of the link's `block_max_s`, 5 s: one pass
each, as in the service) and the pipeline with the bout tracker and the nudge policy (on the live
labels, as in the service). The ratios say how much the I/O edges (Bluetooth over D-Bus, SQLite,
MQTT, the event loop) cost on top of the pure core.

Targets (issue 12): <= 3 CPU s per data hour at `--speed 1`, <= 120 MiB resident.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from firmware_sim.bus import PrivateBus  # noqa: E402
from firmware_sim.motion import MotionConfig, MotionModel, office_day  # noqa: E402
from monitor.core.types import Placement, SampleBlock  # noqa: E402
from monitor.nudges import ExerciseLibrary, NudgePolicy, PolicySettings  # noqa: E402
from monitor.pipeline import BoutTracker, PostureStream  # noqa: E402
from monitor.reports.zone import resolve_zone  # noqa: E402
from monitor.wearables.settings import LinkSettings  # noqa: E402

HOUR_S = 3600.0
MIB = 1024 * 1024
RATE_HZ = 50.0
# Samples per SitSense notification at the default MTU: the block size the live pipeline sees.
# The link hands on a block per `link.block_max_s` (5 s) of data and each gets a pipeline pass.
BLOCK_SAMPLES = round(LinkSettings().block_max_s * RATE_HZ)
TARGET_CPU_S_PER_HOUR = 3.0
TARGET_RSS_MIB = 120.0
MOSQUITTO = "/usr/sbin/mosquitto"
# How often /proc and the database are sampled (wall seconds).
SAMPLE_EVERY_S = 1.0
START_TIMEOUT_S = 60.0
# A pass of the stream is at most about a minute of data: at 1x that is a minute of wall time.
STREAM_PASS_S = 60.0
PASS_TIMEOUT_S = 150.0
PASS_POLL_S = 0.02
STOP_TIMEOUT_S = 15.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

CONFIG = """\
timezone = "UTC"

[[wearables]]
id = "bench"
profile = "sitsense"
placement = "thigh"

[policy]
# Nudges all day, so the policy and MQTT do their real work whatever the hour of the run.
active_mon = "00:00-24:00"
active_tue = "00:00-24:00"
active_wed = "00:00-24:00"
active_thu = "00:00-24:00"
active_fri = "00:00-24:00"
active_sat = "00:00-24:00"
active_sun = "00:00-24:00"

[mqtt]
host = "127.0.0.1"
port = {port}

[link]
# Generous: a loaded machine must not turn a slow moment into a reconnect.
silence_timeout_s = 30.0
queue_size = 100000
{link}
"""


class Result(TypedDict):
    speed: float
    wall_s: float
    data_s: float
    epochs: int
    cpu_s: float
    cpu_s_per_data_hour: float
    cpu_user_s: float
    cpu_system_s: float
    cpu_other_threads_s: float
    rss_mib_max_sampled: float
    rss_mib_at_end: float
    vm_hwm_mib: float
    import_rss_mib: float
    pipeline_cpu_s_per_data_hour: float
    core_cpu_s_per_data_hour: float
    ratio_to_pipeline: float
    ratio_to_core: float
    target_cpu_ok: bool
    target_rss_ok: bool
    broker: str


# ---------------------------------------------------------------- /proc


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the ")" closing comm: state is field 3, utime field 14, stime field 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_split(pid: int) -> tuple[float, float, float]:
    """(user, system, other threads' user + system) seconds: where the CPU goes. The main thread
    runs the event loop (Bleak, the pipeline, SQLite writes); the others are paho's network thread,
    the report worker and asyncio's executor."""
    user = system = others = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        u, s = int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK
        user, system = user + u, system + s
        if task.name != str(pid):
            others += u + s
    return user, system, others


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MiB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024.0
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def import_rss_mib() -> float:
    """RSS of a fresh interpreter that has only imported the daemon: the floor under the service."""
    code = (
        "import monitor.daemon, pathlib; "
        "print(next(l.split()[1] for l in pathlib.Path('/proc/self/status').read_text().splitlines() "
        "if l.startswith('VmRSS:')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip()) / 1024.0


def stored_data(db: Path) -> tuple[int, float]:
    """(epochs stored, seconds of data from the first to the last stored epoch); (0, 0) before any."""
    if not db.exists():
        return 0, 0.0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            n, first, last = conn.execute("SELECT count(*), min(t), max(t) FROM epochs").fetchone()
    except sqlite3.Error:
        return 0, 0.0  # not created yet
    return (int(n), float(last - first + 1)) if n else (0, 0.0)


def next_pass(daemon: subprocess.Popen[bytes], db: Path) -> tuple[tuple[int, float], float, float]:
    """Wait until the daemon stores more epochs; then (stored_data, its CPU seconds, monotonic)."""
    before = stored_data(db)
    deadline = time.monotonic() + PASS_TIMEOUT_S
    while (now := stored_data(db)) == before:
        if daemon.poll() is not None:
            raise RuntimeError(f"sitbreak run exited with {daemon.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no epochs stored for {PASS_TIMEOUT_S} s")
        time.sleep(PASS_POLL_S)
    return now, cpu_seconds(daemon.pid), time.monotonic()


# ---------------------------------------------------------------- helpers


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def broker(folder: Path) -> Iterator[tuple[int, str]]:
    """Mosquitto when installed, else the embedded demo broker in a thread of this process."""
    port = free_port()
    if os.access(MOSQUITTO, os.X_OK):
        conf = folder / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for_port(port)
            yield port, "mosquitto"
        finally:
            stop_process(proc)
        return
    from monitor.demo.broker import EmbeddedBroker

    loop = asyncio.new_event_loop()
    embedded = EmbeddedBroker(port=port)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(embedded.start(), loop).result(10)
    try:
        yield port, "embedded"
    finally:
        asyncio.run_coroutine_threadsafe(embedded.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def wait_for_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {START_TIMEOUT_S} s")


def start_emulator(bus: PrivateBus, speed: float, seed: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "firmware_sim", "--bus-address", bus.address),
            *("--speed", str(speed), "--seed", str(seed), "--schedule", "office"),
        ],
        cwd=REPO,
        env={**os.environ, **bus.environ(), "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    for line in proc.stdout:  # its banner ends with "# Ctrl-C to stop"
        if b"Ctrl-C" in line or time.monotonic() > deadline:
            break
    if proc.poll() is not None:
        raise RuntimeError(f"the emulator exited with {proc.returncode}")
    return proc


# ---------------------------------------------------------------- baselines


def baselines(data_s: float, seed: int) -> tuple[float, float]:
    """CPU s per data hour of (pipeline alone, pipeline + bouts + policy) on the same schedule."""
    n = int(data_s * RATE_HZ)
    model = MotionModel(office_day(), MotionConfig(placement="thigh", rate_hz=RATE_HZ, seed=seed))
    n = min(n, model.n_samples)
    t0 = time.time()
    t = t0 + model.times(0, n)
    xyz = model.render(0, n)
    blocks = [
        SampleBlock(t[i : i + BLOCK_SAMPLES], xyz[i : i + BLOCK_SAMPLES], i // BLOCK_SAMPLES)
        for i in range(0, n, BLOCK_SAMPLES)
    ]
    hours = n / RATE_HZ / HOUR_S

    stream = PostureStream(Placement.THIGH, RATE_HZ, live=True)
    start = time.process_time()
    for block in blocks:
        stream.feed_live(block)
    pipeline = (time.process_time() - start) / hours

    stream = PostureStream(Placement.THIGH, RATE_HZ, live=True)
    tracker = BoutTracker()
    policy = NudgePolicy(
        PolicySettings(), ExerciseLibrary.default(), resolve_zone("UTC"), wearable_id="bench"
    )
    start = time.process_time()
    for block in blocks:
        out = stream.feed_live(block)
        if len(out.final):
            tracker.feed(out.final)
        if len(out.live):
            policy.feed(out.live)
    core = (time.process_time() - start) / hours
    return pipeline, core


# ---------------------------------------------------------------- the run


def run_bench(  # noqa: PLR0917 - the command line's options
    speed: float,
    seconds: float,
    warmup_s: float,
    seed: int,
    verbose: bool,
    profile: Path | None = None,
    block_max_s: float | None = None,
) -> Result:
    with tempfile.TemporaryDirectory(prefix="sitbreak-bench-") as tmp:
        folder = Path(tmp)
        state = folder / "state"
        state.mkdir()
        db = state / "sitbreak.db"
        with broker(folder) as (port, broker_kind), PrivateBus() as bus:
            config = folder / "sitbreak.toml"
            link = "" if block_max_s is None else f"block_max_s = {block_max_s}"
            config.write_text(CONFIG.format(port=port, link=link))
            emulator = start_emulator(bus, speed, seed)
            daemon: subprocess.Popen[bytes] | None = None
            try:
                # cProfile sees only the main thread (the event loop), which is where the work is.
                profiler = ("-m", "cProfile", "-o", str(profile)) if profile else ()
                daemon = subprocess.Popen(
                    [
                        sys.executable,
                        *profiler,
                        *("-m", "monitor.cli", "--log-level", "WARNING"),
                        *("run", "--config", str(config), "--state-dir", str(state)),
                    ],
                    cwd=REPO,
                    env={**os.environ, **bus.environ(), "PYTHONPATH": str(REPO)},
                    stdout=None if verbose else subprocess.DEVNULL,
                    stderr=None if verbose else subprocess.DEVNULL,
                )
                return measure(daemon, db, speed, seconds, warmup_s, seed, broker_kind)
            finally:
                if daemon is not None:
                    stop_process(daemon)
                stop_process(emulator, signal.SIGINT)


def measure(  # noqa: PLR0917 - one call site, all of them needed
    daemon: subprocess.Popen[bytes],
    db: Path,
    speed: float,
    seconds: float,
    warmup_s: float,
    seed: int,
    broker_kind: str,
) -> Result:
    pid = daemon.pid
    deadline = time.monotonic() + START_TIMEOUT_S + (warmup_s + STREAM_PASS_S) / speed
    while stored_data(db)[1] < warmup_s:
        if daemon.poll() is not None:
            raise RuntimeError(f"sitbreak run exited with {daemon.returncode} before streaming")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {warmup_s:g} s of data stored within {START_TIMEOUT_S} s")
        time.sleep(0.2)
    # The stream writes epochs in passes (a block of the link's each): both ends of the window sit
    # right after a pass is stored, so CPU and data are counted over the same work.
    (epochs0, data0), cpu0, wall0 = next_pass(daemon, db)
    split0 = cpu_split(pid)
    rss_max = 0.0
    while time.monotonic() - wall0 < seconds:
        time.sleep(SAMPLE_EVERY_S)
        if daemon.poll() is not None:
            raise RuntimeError(f"sitbreak run exited with {daemon.returncode} while measured")
        rss_max = max(rss_max, memory_mib(pid)[0])
    (epochs1, data1), cpu1, wall1 = next_pass(daemon, db)
    user, system, others = (b - a for a, b in zip(split0, cpu_split(pid), strict=True))
    cpu, wall = cpu1 - cpu0, wall1 - wall0
    rss, hwm = memory_mib(pid)
    data_s = data1 - data0
    per_hour = cpu / (data_s / HOUR_S) if data_s > 0 else float("inf")
    pipeline, core = baselines(max(data_s, 600.0), seed)
    return Result(
        speed=speed,
        wall_s=round(wall, 2),
        data_s=round(data_s, 1),
        epochs=epochs1 - epochs0,
        cpu_s=round(cpu, 3),
        cpu_s_per_data_hour=round(per_hour, 2),
        cpu_user_s=round(user, 3),
        cpu_system_s=round(system, 3),
        cpu_other_threads_s=round(others, 3),
        rss_mib_max_sampled=round(max(rss_max, rss), 1),
        rss_mib_at_end=round(rss, 1),
        vm_hwm_mib=round(hwm, 1),
        import_rss_mib=round(import_rss_mib(), 1),
        pipeline_cpu_s_per_data_hour=round(pipeline, 3),
        core_cpu_s_per_data_hour=round(core, 3),
        ratio_to_pipeline=round(per_hour / pipeline, 1) if pipeline else 0.0,
        ratio_to_core=round(per_hour / core, 1) if core else 0.0,
        target_cpu_ok=per_hour <= TARGET_CPU_S_PER_HOUR,
        target_rss_ok=hwm <= TARGET_RSS_MIB,
        broker=broker_kind,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--speed", type=float, default=120.0, help="device time per wall time (default: %(default)s)"
    )
    parser.add_argument(
        "--seconds", type=float, default=40.0, help="wall seconds measured (default: %(default)s)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=120.0,
        help="data seconds stored before measuring (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="motion model seed (default: %(default)s)")
    parser.add_argument(
        "--block-max-s", type=float, help="the daemon's link.block_max_s (default: the configured default)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the daemon's log")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="run the daemon under cProfile and write its stats to FILE (inflates the CPU figure; "
        "read with `python -m pstats FILE`)",
    )
    args = parser.parse_args(argv)
    r = run_bench(
        args.speed, args.seconds, args.warmup, args.seed, args.verbose, args.profile, args.block_max_s
    )
    if args.json:
        print(json.dumps(r))
        return 0
    print(
        f"sitbreak run, one SitSense thigh wearable at {RATE_HZ:g} Hz, "
        f"device time x{r['speed']:g} ({r['broker']})"
    )
    print(
        f"  measured          {r['wall_s']:.1f} s wall, {r['data_s']:.0f} s of data "
        f"({r['epochs']} epochs stored)"
    )
    kept_up = r["data_s"] / (r["wall_s"] * r["speed"]) if r["wall_s"] else 0.0
    print(f"  kept up           {100 * kept_up:.0f} % of the device's pace")
    cpu_mark = "ok" if r["target_cpu_ok"] else f"OVER the {TARGET_CPU_S_PER_HOUR:g} s target"
    print(
        f"  CPU               {r['cpu_s']:.2f} s = {r['cpu_s_per_data_hour']:.2f} CPU s "
        f"per data hour ({cpu_mark})"
    )
    print(
        f"    split         user {r['cpu_user_s']:.2f} s, system {r['cpu_system_s']:.2f} s; "
        f"threads beside the event loop {r['cpu_other_threads_s']:.2f} s"
    )
    rss_mark = "ok" if r["target_rss_ok"] else f"OVER the {TARGET_RSS_MIB:g} MiB target"
    print(
        f"  memory            RSS {r['rss_mib_at_end']:.1f} MiB at the end, "
        f"peak {r['vm_hwm_mib']:.1f} MiB ({rss_mark})"
    )
    print(f"  of which imports  {r['import_rss_mib']:.1f} MiB (python -c 'import monitor.daemon')")
    print(
        f"  baseline          pipeline alone {r['pipeline_cpu_s_per_data_hour']:.3f}, "
        f"+ bouts + policy {r['core_cpu_s_per_data_hour']:.3f} CPU s per data hour"
    )
    print(
        f"  ratio             service / pipeline {r['ratio_to_pipeline']:.1f}x, "
        f"service / core {r['ratio_to_core']:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
