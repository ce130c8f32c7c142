"""Freed heap goes back to the OS (glibc's malloc_trim), so a daily report's burst of allocation
does not stay resident in a service that runs for months."""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date
from pathlib import Path

import numpy as np
import pytest

from monitor.core.types import EpochBlock
from monitor.heap import one_malloc_arena, release_free_memory
from monitor.reports import html
from monitor.store import Store
from monitor.store.report_source import load_day_report

DAY_S = 86_400
DAY = date(2026, 11, 25)
T0 = 1_795_651_200  # 2026-11-25 00:00 UTC


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS")


def test_a_report_built_and_dropped_leaves_the_resident_set(tmp_path: Path) -> None:
    if not hasattr(ctypes.CDLL(None), "malloc_trim"):
        pytest.skip("this C library has no malloc_trim (not glibc)")
    rng = np.random.default_rng(0)
    with Store.open(tmp_path / "sitbreak.db") as store:
        # The report reads the day and the seven before it (the trend): ~700 000 epochs.
        for k in range(8):
            labels = np.repeat(rng.integers(1, 6, DAY_S // 600), 600).astype(np.uint8)
            store.epochs.write_block("w", EpochBlock(float(T0 - DAY_S * (7 - k)), labels))
        gc.collect()
        release_free_memory()
        base = _rss_mib()
        for _ in range(2):
            report = load_day_report(store, "w", DAY, UTC, as_of=T0 + DAY_S)
            assert html.render_day(report)
            del report
        gc.collect()
        held = _rss_mib()
        assert release_free_memory()
        after = _rss_mib()
    # Without the trim, malloc keeps most of what the reports freed (measured: +15-20 MiB).
    assert held - base > 5, f"nothing to give back ({base:.0f} -> {held:.0f} MiB)"
    assert after - base < 0.5 * (held - base), f"RSS {base:.0f} -> {held:.0f} -> {after:.0f} MiB"


def _worker_thread_report(folder: str) -> tuple[float, float, float]:
    """In a fresh interpreter (no thread has an arena yet), as in the daemon: one arena, reports built
    on a worker thread, trimmed there. RSS before, after the reports, after the trim."""
    assert one_malloc_arena()
    rng = np.random.default_rng(1)
    with Store.open(Path(folder) / "sitbreak.db") as store:
        for k in range(8):
            labels = np.repeat(rng.integers(1, 6, DAY_S // 600), 600).astype(np.uint8)
            store.epochs.write_block("w", EpochBlock(float(T0 - DAY_S * (7 - k)), labels))

        def build() -> None:
            report = load_day_report(store, "w", DAY, UTC, as_of=T0 + DAY_S)
            assert html.render_day(report)

        with ThreadPoolExecutor(1) as worker:
            worker.submit(release_free_memory).result()
            gc.collect()
            base = _rss_mib()
            for _ in range(2):
                worker.submit(build).result()
            gc.collect()
            held = _rss_mib()
            worker.submit(release_free_memory).result()
            return base, held, _rss_mib()


def test_a_report_built_in_a_worker_thread_is_given_back_too(tmp_path: Path) -> None:
    """The service builds reports in `asyncio.to_thread`'s worker; with one malloc arena for the
    process (`one_malloc_arena`, set by the daemon at start) the trim returns that memory too."""
    if not hasattr(ctypes.CDLL(None), "malloc_trim"):
        pytest.skip("this C library has no malloc_trim (not glibc)")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        base, held, after = pool.apply(_worker_thread_report, (str(tmp_path),))
    assert held - base > 5, f"nothing to give back ({base:.0f} -> {held:.0f} MiB)"
    assert after - base < 0.5 * (held - base), f"RSS {base:.0f} -> {held:.0f} -> {after:.0f} MiB"
