"""The reconnect backoff is a pure function: doubling, capped, with bleak-retry-connector's floor."""

from __future__ import annotations

import itertools

import pytest
from bleak.exc import BleakDeviceNotFoundError, BleakError

from monitor.wearables.backoff import backoff_delay
from monitor.wearables.settings import LinkSettings

S = LinkSettings(backoff_min_s=0.5, backoff_max_s=60.0)


def test_doubles_from_min_to_max():
    delays = [backoff_delay(a, S) for a in range(10)]
    assert delays[:5] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert delays[-1] == 60.0
    assert all(b >= a for a, b in itertools.pairwise(delays))


def test_huge_attempt_counts_stay_capped():
    assert backoff_delay(10_000, S) == 60.0


def test_error_floor_from_bleak_retry_connector():
    # an adapter that lost the device (or ran out of slots) needs 4 s before it can try again
    assert backoff_delay(0, S, BleakDeviceNotFoundError("AA:BB", "gone")) == 4.0
    assert backoff_delay(0, S, BleakError("le-connection-abort-by-local")) == 0.5


@pytest.mark.parametrize(("jitter", "expected"), [(-1.0, 3.6), (0.0, 4.0), (1.0, 4.4)])
def test_jitter_spreads_ten_percent(jitter, expected):
    assert backoff_delay(3, S, jitter=jitter) == pytest.approx(expected)


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="attempt=-1"):
        backoff_delay(-1, S)
    with pytest.raises(ValueError, match="jitter=2"):
        backoff_delay(0, S, jitter=2)
    with pytest.raises(ValueError, match="backoff_max_s=1"):
        LinkSettings(backoff_min_s=5, backoff_max_s=1)
