"""RateLimitedLog: one line per kind per interval, the rest counted and summarised."""

from __future__ import annotations

import logging

import pytest

from monitor.mqtt.ratelimit import RateLimitedLog


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_one_line_per_kind_per_interval_then_a_summary(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    log = RateLimitedLog(logging.getLogger("test.ratelimit"), interval_s=60.0, clock=clock)
    caplog.set_level(logging.WARNING, logger="test.ratelimit")
    assert log.log("not_json", "bad %s", "a") is True
    for i in range(99):
        clock.t += 0.5
        assert log.log("not_json", "bad %s", i) is False
    assert log.log("too_large", "big %d", 5000) is True  # another kind has its own budget
    clock.t += 11.0  # 60.5 s after the first line
    assert log.log("not_json", "bad %s", "z") is True
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "bad a",
        "big 5000",
        "bad z",
        "... and 99 more like the line above in the last 60 s",
    ]
    assert log.counts == {"not_json": 101, "too_large": 1}
