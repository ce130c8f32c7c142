"""The host clock watcher with made-up clocks: the arrival mapping and step detection, no sleeping."""

from __future__ import annotations

import math
import time

import pytest

from monitor.wearables.clockwatch import CLOCK_CHECK_EVERY_S, CLOCK_STEP_TOLERANCE_S, ClockWatch

T0 = 1_700_000_000.0


class Host:
    """A wall clock and a boot-time clock that run together (as NTP slewing keeps them) unless a
    test steps the wall clock or suspends the machine."""

    def __init__(self) -> None:
        self.wall = T0
        self.boot = 500.0
        self.loop = 0.0  # the event loop's clock: stops during a suspend

    def run(self, seconds: float) -> None:
        self.wall += seconds
        self.boot += seconds
        self.loop += seconds

    def watch(self, detect_steps: bool = True) -> ClockWatch:
        return ClockWatch(
            lambda: self.wall,
            detect_steps=detect_steps,
            boot_clock=lambda: self.boot,
            loop_clock=lambda: self.loop,
        )


def test_a_check_reads_the_loop_clock_and_the_wall_clock_together() -> None:
    """The mapping is the pair of clocks read at one moment, whatever arrival made the check due
    (the link decodes arrivals in batches, seconds after they came)."""
    host = Host()
    watch = host.watch()
    watch.sync()
    host.run(4.0)  # a batch waited 4 s; its first arrival (loop 1.0) made the check due
    assert watch.check() is None
    assert watch.mono_to_utc == host.wall - host.loop == T0 - 0.0
    assert 1.0 + watch.mono_to_utc == T0 + 1.0  # that arrival is timed when it came, not 3 s later
    assert watch.checked_utc == host.wall
    assert watch.next_check == host.loop + CLOCK_CHECK_EVERY_S


def test_the_arrival_mapping_follows_the_wall_clock_at_each_check() -> None:
    host = Host()
    watch = host.watch()
    host.loop = 10.0
    assert watch.sync() is None  # the first look is the reference, not a step
    assert watch.mono_to_utc == T0 - 10.0
    assert watch.next_check == 10.0 + CLOCK_CHECK_EVERY_S
    host.run(5.0)
    host.loop = 15.0
    assert watch.check() is None
    assert 15.0 + watch.mono_to_utc == host.wall


def test_a_change_within_the_tolerance_is_no_step() -> None:
    host = Host()
    watch = host.watch()
    host.loop = 0.0
    watch.sync()
    host.wall += CLOCK_STEP_TOLERANCE_S  # at the tolerance: still jitter
    host.loop = 1.0
    assert watch.check() is None
    assert watch.steps == 0


def test_a_change_beyond_the_tolerance_is_a_step_of_its_full_size() -> None:
    host = Host()
    watch = host.watch()
    host.loop = 0.0
    watch.sync()
    host.wall += 3600.0
    host.loop = 1.0
    assert watch.check() == pytest.approx(3600.0)
    assert watch.steps == 1
    host.loop = 2.0
    assert watch.check() is None  # measured from the step on: counted once
    host.wall -= 20.0
    host.loop = 3.0
    assert watch.check() == pytest.approx(-20.0)  # backward: negative
    assert watch.steps == 2


def test_small_changes_add_up_until_they_pass_the_tolerance_then_count_in_full() -> None:
    host = Host()
    watch = host.watch()
    host.loop = 0.0
    watch.sync()
    for k in range(1, 3):
        host.wall += 0.9
        host.loop = float(k)
        assert watch.check() is None
    host.wall += 0.9
    host.loop = 3.0
    assert watch.check() == pytest.approx(2.7)


def test_a_suspend_is_not_a_step() -> None:
    """Wall and boot-time clocks run on through a suspend (the loop's clock does not)."""
    host = Host()
    watch = host.watch()
    host.loop = 100.0
    watch.sync()
    host.wall += 7200.0  # two hours asleep: wall and boot-time clocks ran on,
    host.boot += 7200.0  # the loop's clock stood still
    host.loop = 100.5
    assert watch.check() is None
    assert 100.5 + watch.mono_to_utc == host.wall


def test_steps_are_found_at_a_connection_too() -> None:
    host = Host()
    watch = host.watch()
    host.loop = 0.0
    watch.sync()
    host.wall += 60.0
    host.loop = 30.0
    assert watch.sync() == pytest.approx(60.0)


def test_without_detection_only_connections_map_arrivals() -> None:
    """A simulated clock (the demo's, many times faster than the monotonic one) has no steps: it is
    read at each connection only, and never checked while data flows."""
    host = Host()
    watch = host.watch(detect_steps=False)
    host.loop = 10.0
    assert watch.sync() is None
    assert watch.mono_to_utc == T0 - 10.0
    assert watch.next_check == math.inf
    host.wall += 3600.0
    host.loop = 20.0
    assert watch.sync() is None
    assert watch.mono_to_utc == T0 + 3600.0 - 20.0 and watch.steps == 0


def test_detection_is_on_for_the_system_clock_and_off_for_any_other() -> None:
    assert ClockWatch(time.time).detect_steps is True
    assert ClockWatch(lambda: T0).detect_steps is False  # e.g. the demo's simulated clock
    assert ClockWatch(lambda: 0.0, detect_steps=True).detect_steps is True
    assert ClockWatch(time.time, detect_steps=False).detect_steps is False
