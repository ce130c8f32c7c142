"""Device time against arrival, end to end: simulated wearables whose clock is wrong (firmware_sim's
``pace`` and ``jump_clock``) streaming through the BlueZ emulator and unmodified Bleak into a link on
the real clock, where the check is on.

Finding 7 of issue 11: a device whose samples come 10x faster than its declared rate was accepted,
and after 60 s the service stored epochs 464 s in the future. Every verdict here holds however busy
the machine is: a block is taken off the queue after its samples arrived, so "never after the
arrival plus the tolerance" is checked against the time it was taken (a slow machine only loosens
it), and a clock 10x fast or 60 s off is off by far more than any delay adds.
"""

from __future__ import annotations

import logging
import random
import time

import numpy as np
import pytest

from monitor.core.links import LinkEventKind
from monitor.core.types import SampleBlock
from monitor.wearables import sitsense_format as fmt
from monitor.wearables.devclock import DEVICE_CLOCK_TOLERANCE_S
from monitor.wearables.link import WearableLink
from monitor.wearables.profiles import StreamConfig, make_profile
from monitor.wearables.scanner import WearableTarget
from tests.ble_fixtures import AddWearable, run
from tests.wearables.linkrun import FAST, Collected, LinkRun

WARNING_TEXT = "its arrival"  # in the one WARNING a fault episode logs


def checked_link(address: str, profile: str = "sitsense", rate_hz: float = 50) -> WearableLink:
    """A link on the system clock, where the device clock check is on by default."""
    range_g = fmt.DEFAULT_RANGE_G if profile == "sitsense" else 8
    config = StreamConfig(rate_hz=rate_hz, range_g=range_g)
    return WearableLink(
        WearableTarget(address=address), make_profile(profile, config), FAST, rng=random.Random(0)
    )


async def stream_for(r: LinkRun, seconds: float) -> None:
    """Collect for `seconds` of wall time after the first samples."""
    await r.samples(1, timeout=15)
    until = time.monotonic() + seconds
    await r.until(lambda _c: time.monotonic() >= until, timeout=seconds + 10)


def assert_never_after_arrival(got: Collected) -> None:
    """Every block is timed no later than the host's UTC when it was taken off the queue (which is
    after its samples arrived) plus the tolerance, and data time never goes back."""
    utc_minus_mono = time.time() - time.monotonic()
    blocks = [(item, at) for item, at in zip(got.items, got.at, strict=True) if isinstance(item, SampleBlock)]
    assert blocks, "no data"
    for block, at in blocks:
        taken_utc = at + utc_minus_mono
        assert float(block.t[-1]) <= taken_utc + DEVICE_CLOCK_TOLERANCE_S, block.t[-1] - taken_utc
    assert np.all(np.diff(got.t()) > 0)


def warnings_about_the_device(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and WARNING_TEXT in r.getMessage()
    ]


@pytest.mark.parametrize("profile", ["sitsense", "polar"])
def test_a_device_ten_times_too_fast_is_retimed_on_arrival(
    add_wearable: AddWearable, caplog: pytest.LogCaptureFixture, profile: str
) -> None:
    """Finding 7: samples 10x faster than declared, and the device's stamps with them. 3 s of wall
    time are 30 s of the device's time: without the check, the last data is ~27 s in the future."""
    caplog.set_level(logging.INFO)
    options = {"model": "H10"} if profile == "polar" else {}
    wearable = add_wearable(profile, pace=10, **options)
    link = checked_link(wearable.address, profile)

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await stream_for(r, 3.0)
        return r

    got = run(main()).got
    assert_never_after_arrival(got)
    diag = link.diagnostics()
    assert diag["device_clock"] == "ahead"
    assert diag["device_clock_faults"] >= 1 and diag["retimed_samples"] > 0
    error = diag["device_clock_error_s"]
    assert error is not None and error > DEVICE_CLOCK_TOLERANCE_S
    (warning,) = warnings_about_the_device(caplog)  # logged once for the whole episode
    assert "ahead of its arrival" in warning and "re-timed on arrival" in warning
    # the drops are on record: HELD tallies with the count
    held = got.events(LinkEventKind.HELD)
    assert held and sum(e.count or 0 for e in held) <= diag["retimed_samples"]


def test_a_micro_bit_sending_faster_than_its_period_is_never_timed_ahead(
    add_wearable: AddWearable, caplog: pytest.LogCaptureFixture
) -> None:
    """No device clock: samples are timed on arrival at the read-back period (100 ms here), so five
    times as many samples would run data time ahead of the host by 2.5 s a second."""
    caplog.set_level(logging.INFO)
    wearable = add_wearable("microbit", pace=5)
    link = checked_link(wearable.address, "microbit", rate_hz=10)

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await stream_for(r, 3.0)
        return r

    got = run(main()).got
    assert_never_after_arrival(got)
    assert link.rate_hz == 10.0
    diag = link.diagnostics()
    assert diag["device_clock"] == "ahead" and diag["retimed_samples"] > 0
    (warning,) = warnings_about_the_device(caplog)
    assert "faster than the declared rate" in warning


@pytest.mark.parametrize(("profile", "jump_s"), [("sitsense", 60.0), ("polar", -60.0), ("sitsense", -60.0)])
def test_a_device_clock_that_jumps_is_re_anchored_and_data_goes_on(
    add_wearable: AddWearable, caplog: pytest.LogCaptureFixture, profile: str, jump_s: float
) -> None:
    """A clock set a minute forward would put the data a minute in the future (and a minute's gap
    before it); set back on a Polar (no sequence numbers) every later frame looked older than data
    already used and was dropped as out of order, for a minute. Now the data is re-timed on arrival
    and goes on without a gap worth the name."""
    caplog.set_level(logging.INFO)
    options = {"model": "H10"} if profile == "polar" else {}
    wearable = add_wearable(profile, **options)
    link = checked_link(wearable.address, profile)

    async def main() -> tuple[LinkRun, int]:
        async with LinkRun(link) as r:
            await stream_for(r, 1.0)
            before = r.got.samples()
            wearable.jump_clock(jump_s)
            await stream_for(r, 2.0)
        return r, before

    r, before = run(main())
    got = r.got
    assert_never_after_arrival(got)
    # data went on after the jump: 2 s at 50 Hz, less what the re-timing dropped
    assert got.samples() - before >= 50
    assert not got.events(LinkEventKind.OUT_OF_ORDER)
    assert all((g.seconds or 0.0) < 5.0 for g in got.events(LinkEventKind.GAP))
    diag = link.diagnostics()
    assert diag["device_clock_faults"] >= 1
    assert diag["device_clock"] == ("ahead" if jump_s > 0 else "behind")
    (warning,) = warnings_about_the_device(caplog)
    assert ("ahead of" if jump_s > 0 else "behind") in warning


def test_a_micro_bit_v1_reports_the_rate_it_really_runs_at(add_wearable: AddWearable) -> None:
    """A V1 board with the FXOS8700 rounds a 20 ms request to 80 ms (12.5 Hz) and reads that back:
    the link learns it, says it on CONNECTED and in its diagnostics, and the service builds its
    pipeline on it (tests/service/test_learned_rate.py)."""
    wearable = add_wearable("microbit", board="v1-fxos")
    link = checked_link(wearable.address, "microbit", rate_hz=50)
    assert link.rate_hz == 50.0  # the request, before the board has answered

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await r.samples(10, timeout=15)
        return r

    got = run(main()).got
    assert link.rate_hz == 12.5
    assert link.diagnostics()["rate_hz"] == 12.5
    (connected,) = got.events(LinkEventKind.CONNECTED)
    assert "12.5 Hz" in connected.detail
    assert link.diagnostics()["device_clock"] == "ok"
