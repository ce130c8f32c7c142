"""The daemon alone in a process, on a simulated clock, so a test can SIGKILL it and start it again.

usage: python -m tests.service.daemon_proc CONFIG STATE_DIR START_T ORIGIN_MONO SPEED [TIMELINE_FILE]

`sitbreak run` maps device time onto the host's real clock. With a wearable running `SPEED` times
faster than real time, a restart would map the device's clock onto a real time far *behind* the data
already stored. Here the host clock is `START_T + data_s(time.monotonic() - ORIGIN_MONO)`, the same
line the simulated device's clock follows (CLOCK_MONOTONIC is system-wide), so data time stays
continuous across kills, as it does for a real wearable at 1x. SPEED is a number (a constant speed)
or a `firmware_sim.device.SpeedSchedule` as JSON (`SpeedSchedule.to_json()`: fast nights, slower
days). TIMELINE_FILE: a `firmware_sim.simclock.SharedTimeline` the test slows the whole simulation
with; the clock then reads it instead of CLOCK_MONOTONIC (ORIGIN_MONO is a point on it). Everything else
is `sitbreak run`: the same Daemon, signal handlers, logging format and exit code.

For investigating memory (off by default): SITBREAK_MEMLOG_DIR=DIR makes the process append a line
every SITBREAK_MEMLOG_EVERY_S wall seconds (default 1) to DIR/mem-PID.log: data time, RSS split into
anonymous and file-backed (/proc/self/smaps_rollup), glibc's mallinfo2 (heap size, in use, free,
mmapped, trimmable top), SQLite's memory in use, Python's allocated blocks, gc counts and objects,
threads and modules imported. SITBREAK_MEMLOG_TRACE=N also runs tracemalloc and logs the N sources
that grew most since the first line (slow: for short runs).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import os
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from firmware_sim.device import SpeedSchedule
from firmware_sim.simclock import SharedTimeline
from monitor.config import load_config
from monitor.daemon import Daemon, DaemonOptions
from monitor.heap import one_malloc_arena
from monitor.logsetup import configure_logging


def parse_speed(text: str) -> SpeedSchedule:
    """A constant speed ("200") or a schedule's JSON."""
    if text.lstrip().startswith("{"):
        return SpeedSchedule.from_json(text)
    return SpeedSchedule(speed=float(text))


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _smaps_kib() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        text = Path("/proc/self/smaps_rollup").read_text()
    except OSError:
        return out
    for line in text.splitlines()[1:]:
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            out[key] = int(value.split()[0])
    return out


def _mem_logger(directory: Path, clock: Callable[[], float], every_s: float, trace: int) -> None:
    """The memory log (module doc), from a daemon thread."""
    libc = ctypes.CDLL(None)
    mallinfo2 = getattr(libc, "mallinfo2", None)
    if mallinfo2 is not None:
        mallinfo2.restype = _MallInfo2
    sqlite_used = None
    try:
        sqlite_used = ctypes.CDLL("libsqlite3.so.0").sqlite3_memory_used
        sqlite_used.restype = ctypes.c_int64
    except OSError:
        pass
    path = directory / f"mem-{os.getpid()}.log"
    first = tracemalloc.take_snapshot() if trace else None
    mib = 1024.0 * 1024.0
    while True:
        smaps = _smaps_kib()
        parts = [
            f"wall={time.monotonic():.1f}",
            f"data_h={(clock() % 1e9) / 3600.0:.3f}",
            f"rss={smaps.get('Rss', 0) / 1024:.1f}",
            f"anon={smaps.get('Anonymous', 0) / 1024:.1f}",
            f"file={(smaps.get('Rss', 0) - smaps.get('Anonymous', 0)) / 1024:.1f}",
        ]
        if mallinfo2 is not None:
            info = mallinfo2()
            parts += [
                f"heap={info.arena / mib:.1f}",
                f"inuse={info.uordblks / mib:.1f}",
                f"free={info.fordblks / mib:.1f}",
                f"mmap={info.hblkhd / mib:.1f}",
                f"top={info.keepcost / mib:.1f}",
            ]
        if sqlite_used is not None:
            parts.append(f"sqlite={sqlite_used() / mib:.1f}")
        parts += [
            f"blocks={sys.getallocatedblocks()}",
            f"gc={gc.get_count()}",
            f"objs={len(gc.get_objects())}",
            f"threads={threading.active_count()}",
            f"modules={len(sys.modules)}",
        ]
        lines = ["  ".join(parts)]
        if first is not None:
            stats = tracemalloc.take_snapshot().compare_to(first, "lineno")
            lines += [f"    {stat}" for stat in stats[:trace]]
        with path.open("a", encoding="utf-8") as log:
            log.write("\n".join(lines) + "\n")
        time.sleep(every_s)


def _start_mem_logger(clock: Callable[[], float]) -> None:
    directory = os.environ.get("SITBREAK_MEMLOG_DIR")
    if not directory:
        return
    trace = int(os.environ.get("SITBREAK_MEMLOG_TRACE", "0"))
    # As the daemon does before its threads start (monitor.heap): this thread must not get an arena.
    one_malloc_arena()
    if trace:
        tracemalloc.start(1)
    every_s = float(os.environ.get("SITBREAK_MEMLOG_EVERY_S", "1"))
    args = (Path(directory), clock, every_s, trace)
    threading.Thread(target=_mem_logger, args=args, name="memlog", daemon=True).start()


def main(argv: list[str]) -> int:
    config_path, state_dir = Path(argv[0]), Path(argv[1])
    start_t, origin, schedule = float(argv[2]), float(argv[3]), parse_speed(argv[4])
    timeline = SharedTimeline(argv[5]).now if len(argv) > 5 else time.monotonic

    def clock() -> float:
        return start_t + schedule.data_s(timeline() - origin)

    configure_logging("INFO", sys.stdout)
    daemon = Daemon(load_config(config_path), DaemonOptions(config_path, state_dir, clock))
    _start_mem_logger(clock)
    return asyncio.run(daemon.run())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
