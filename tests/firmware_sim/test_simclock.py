"""A shared timeline: every party's clock slows and speeds up together, without a jump."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from firmware_sim.device import DeviceClock, SpeedSchedule
from firmware_sim.simclock import SharedTimeline


def test_two_parties_read_one_time_line_that_slows_without_a_jump(tmp_path: Path) -> None:
    writer = SharedTimeline.create(tmp_path / "timeline")
    reader = SharedTimeline(tmp_path / "timeline")
    start = time.monotonic()
    assert reader.now() == pytest.approx(time.monotonic(), abs=0.01)  # rate 1: the monotonic clock
    before = reader.now()
    writer.set_rate(0.1)
    after = reader.now()
    assert 0 <= after - before < 0.01  # no jump at the change
    time.sleep(0.2)
    assert reader.now() - after == pytest.approx(0.02, abs=0.006)
    assert reader.rate == 0.1
    # Ten times slower: a point 0.01 ahead on the time line is 0.1 s of wall time away.
    assert reader.wall_delay_s(reader.now() + 0.01) == pytest.approx(0.1, abs=0.01)
    writer.set_rate(1.0)
    assert reader.now() < time.monotonic() - 0.15  # the slow stretch is never made up
    assert time.monotonic() - start < 5
    with pytest.raises(ValueError, match="rate="):
        writer.set_rate(0.0)
    reader.close()
    writer.close()


def test_a_device_clock_on_a_shared_timeline_follows_it(tmp_path: Path) -> None:
    shared = SharedTimeline.create(tmp_path / "timeline")
    clock = DeviceClock(SpeedSchedule(speed=100.0), timeline=shared)
    assert clock.speed == 100.0
    shared.set_rate(0.5)
    assert clock.speed == 50.0
    t0 = clock.now_ms()
    # 500 device ms at an effective 50x are 10 wall ms away.
    assert clock.wall_delay_s(t0 + 500.0) == pytest.approx(0.01, abs=0.003)
    time.sleep(0.1)
    assert clock.now_ms() - t0 == pytest.approx(5000.0, rel=0.15)
    shared.close()
