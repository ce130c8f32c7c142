"""Throughput, memory and live cost of the posture pipeline (a benchmark: it prints numbers).

Builds a 24 h, 50 Hz thigh recording with the motion model (firmware_sim.motion.full_day) and measures:

- batch samples/s: `classify_recording` on the whole day, median of several runs;
- peak RSS for a 7-day recording processed in one-hour chunks, in a child process (and for 1 day, to
  show it does not grow with length); the day is rendered once and replayed with shifted timestamps;
- streaming CPU seconds per hour of data fed in 1 s chunks (50 samples per `feed`), default settings;
- acti-motus (the open Acti4 implementation) on the same 24 h when `actimotus` is importable
  (`pip install -e '.[bench]'`), and the ratio.

Examples:
  python bench/throughput.py
  python bench/throughput.py --json --runs 5
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make `bench`, `monitor`, `firmware_sim` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firmware_sim.motion import MotionConfig, MotionModel, full_day
from monitor.core.types import Placement, SampleBlock
from monitor.pipeline import PostureStream, classify_recording

RATE_HZ = 50.0
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY_S = 86_400
HOUR_SAMPLES = int(3600 * RATE_HZ)


def render_day(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    model = MotionModel(full_day(), MotionConfig(placement="thigh", rate_hz=RATE_HZ, seed=seed))
    n = int(DAY_S * RATE_HZ)
    chunks = [model.render(i, min(HOUR_SAMPLES, n - i)) for i in range(0, n, HOUR_SAMPLES)]
    xyz = np.concatenate(chunks)
    t = T0 + np.arange(n, dtype=np.float64) / RATE_HZ
    return t, xyz


def batch_rate(t: np.ndarray, xyz: np.ndarray, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        classify_recording(t, xyz, RATE_HZ, Placement.THIGH)
        times.append(time.perf_counter() - start)
    return float(t.shape[0] / median(times))


def stream_cpu_per_hour(t: np.ndarray, xyz: np.ndarray, hours: float = 2.0) -> float:
    n = int(hours * HOUR_SAMPLES)
    step = int(RATE_HZ)
    blocks = [SampleBlock(t[i : i + step], xyz[i : i + step]) for i in range(0, n, step)]
    stream = PostureStream(Placement.THIGH, RATE_HZ)
    start = time.process_time()
    for block in blocks:
        stream.feed(block)
    stream.flush()
    return (time.process_time() - start) / hours


def child_peak_rss(day_file: Path, days: int) -> None:
    """Run in a child: replay the day `days` times in one-hour chunks; print peak RSS in MiB."""
    xyz = np.load(day_file, mmap_mode="r")
    stream = PostureStream(Placement.THIGH, RATE_HZ)
    base = np.arange(HOUR_SAMPLES, dtype=np.float64) / RATE_HZ
    epochs = 0
    for day in range(days):
        for hour in range(24):
            lo = hour * HOUR_SAMPLES
            chunk = np.asarray(xyz[lo : lo + HOUR_SAMPLES])
            t = T0 + day * DAY_S + hour * 3600.0 + base[: chunk.shape[0]]
            epochs += len(stream.feed(SampleBlock(t, chunk)))
    epochs += len(stream.flush())
    print(json.dumps({"peak_rss_mib": _peak_rss_kib() / 1024.0, "epochs": epochs}))


def _peak_rss_kib() -> float:
    """This process's peak resident set. /proc's VmHWM starts afresh at exec; getrusage's maxrss can
    carry the parent's peak across fork + exec, so it is only the fallback."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss_mib(day_file: Path, days: int) -> float:
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from bench.throughput import child_peak_rss; child_peak_rss(Path(sys.argv[2]), int(sys.argv[3]))"
    )
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(
        [sys.executable, "-c", code, root, str(day_file), str(days)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["epochs"] != days * DAY_S:
        raise RuntimeError(f"child produced {result['epochs']} epochs for {days} days")
    return float(result["peak_rss_mib"])


def actimotus_rate(t: np.ndarray, xyz: np.ndarray) -> float | None:
    """acti-motus features + thigh activities on the same data, samples/s; None when not installed."""
    try:
        import pandas as pd
        from actimotus import Activities, Features
    except ImportError:
        return None
    import logging

    logging.getLogger("actimotus").setLevel(logging.ERROR)
    # acti-motus wants x up the thigh; our profile reads upright as -x: rotate 180 deg about y.
    frame = pd.DataFrame(
        {"acc_x": -xyz[:, 0], "acc_y": xyz[:, 1], "acc_z": -xyz[:, 2]},
        index=pd.to_datetime(t, unit="s", utc=True),
    )
    start = time.perf_counter()
    features = Features().compute(frame, sampling_frequency=RATE_HZ)
    Activities().compute(features)
    return float(t.shape[0] / (time.perf_counter() - start))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="throughput.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=3, help="batch runs to take the median of (default 3)")
    parser.add_argument("--no-actimotus", action="store_true", help="skip the acti-motus comparison")
    args = parser.parse_args(argv)

    def say(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    say("rendering a 24 h thigh recording with the motion model ...")
    t, xyz = render_day()
    say("batch ...")
    rate = batch_rate(t, xyz, args.runs)
    say("streaming in 1 s chunks ...")
    cpu_h = stream_cpu_per_hour(t, xyz)
    say("peak RSS (child processes) ...")
    with tempfile.TemporaryDirectory() as tmp:
        day_file = Path(tmp) / "day.npy"
        np.save(day_file, xyz)
        rss_1d = peak_rss_mib(day_file, 1)
        rss_7d = peak_rss_mib(day_file, 7)
    am = None
    if not args.no_actimotus:
        say("acti-motus on the same 24 h ...")
        am = actimotus_rate(t, xyz)
    result: dict[str, Any] = {
        "samples_per_s": rate,
        "actimotus_samples_per_s": am,
        "ratio_vs_actimotus": (rate / am) if am else None,
        "peak_rss_mib_7d": rss_7d,
        "peak_rss_mib_1d": rss_1d,
        "stream_cpu_s_per_hour": cpu_h,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"batch:      {rate / 1e6:8.2f} M samples/s (24 h at 50 Hz in {t.shape[0] / rate:.2f} s)")
    if am:
        print(f"acti-motus: {am / 1e6:8.2f} M samples/s  -> sitbreak is {rate / am:.1f}x faster")
    else:
        print("acti-motus: not installed (pip install -e '.[bench]')")
    print(f"peak RSS:   {rss_7d:8.1f} MiB for 7 days ({rss_1d:.1f} MiB for 1 day), one-hour chunks")
    print(f"streaming:  {cpu_h:8.3f} CPU-s per hour of data fed in 1 s chunks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
