"""Cost of keeping and reporting a day: the store's write CPU per hour of live epochs, database size
per day, and the time to read and render a daily and a weekly report.

The service commits each block of epochs the pipeline emits in one transaction (a block per minute of
data, one per 10 s while a nudge is coming due). Writing a week of synthetic office days the same way
measures what that costs on this machine; a Raspberry Pi 4 is ~3-4x slower.

    python bench/store_reports.py               # 8 days, 10 s commits (the busiest the service gets)
    python bench/store_reports.py --days 30 --flush 1 --json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from monitor.core.types import Placement
from monitor.reports import html, payload, text
from monitor.reports.days import day_bounds
from monitor.store import Store
from monitor.store.report_source import load_day_report, load_week_report

TZ = ZoneInfo("Europe/Copenhagen")


def synthetic_day(n: int, rng: np.random.Generator) -> np.ndarray:
    """Alternating bouts of plausible lengths; the content barely matters for store cost."""
    out = np.empty(n, dtype=np.uint8)
    i = 0
    while i < n:
        label = int(rng.choice([0, 0, 2, 3, 4, 5]))
        length = int(rng.integers(5, 1800))
        out[i : i + length] = label
        i += length
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--flush", type=float, default=10.0, help="seconds of data per commit")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    last = date(2026, 11, 24)
    days = [last - timedelta(days=k) for k in range(args.days - 1, -1, -1)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sitbreak.db"
        store = Store.open(path)
        step = max(1, round(args.flush))
        seconds = 0
        cpu0 = time.process_time()
        for day in days:
            start, end = day_bounds(day, TZ)
            labels = synthetic_day(end - start, rng)
            for k in range(0, labels.size, step):  # one transaction per block, as the service writes
                with store.atomic():
                    store.epochs.write("thigh", start + k, labels[k : k + step])
            seconds += labels.size
        write_cpu = time.process_time() - cpu0
        store.db.query_one("PRAGMA wal_checkpoint(TRUNCATE)")  # all pages into the main file
        size = path.stat().st_size

        t = time.perf_counter()
        day_report = load_day_report(store, "thigh", last, TZ, as_of=0.0, placement=Placement.THIGH)
        load_day_s = time.perf_counter() - t
        t = time.perf_counter()
        renders = (text.render_day(day_report), payload.dumps(payload.daily_json(day_report)))
        page = html.render_day(day_report)
        render_day_s = time.perf_counter() - t
        t = time.perf_counter()
        week = load_week_report(store, "thigh", last, TZ, as_of=0.0)
        html.render_week(week)
        week_s = time.perf_counter() - t
        t = time.perf_counter()
        store.prune(day_bounds(last, TZ)[1] + 89 * 86_400)
        prune_s = time.perf_counter() - t
        store.close()

    hours = seconds / 3600
    numbers = {
        "days": args.days,
        "commit_every_s": args.flush,
        "write_cpu_s_per_hour": round(write_cpu / hours, 3),
        "db_mb_per_day": round(size / args.days / 1e6, 2),
        "db_mb_for_90_days": round(size / args.days * 90 / 1e6, 1),
        "daily_report_load_s": round(load_day_s, 3),
        "daily_report_render_s": round(render_day_s, 3),
        "html_kb": round(len(page.encode()) / 1000, 1),
        "text_and_json_kb": round(sum(len(r.encode()) for r in renders) / 1000, 1),
        "weekly_report_s": round(week_s, 3),
        "prune_one_day_s": round(prune_s, 3),
    }
    if args.json:
        print(json.dumps(numbers))
        return
    for key, value in numbers.items():
        print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
