"""The link end to end: unmodified Bleak and bleak-retry-connector over a real dbus-daemon, with the
firmware_sim BlueZ emulator playing bluetoothd and the simulated wearables playing the radio."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner

from firmware_sim import vendors
from firmware_sim.source import WaveSource
from monitor.core.links import GapReason, LinkEventKind, LinkState
from monitor.wearables import sitsense_format as fmt
from monitor.wearables.link import WearableLink
from monitor.wearables.profiles import StreamConfig, make_profile
from monitor.wearables.scanner import WearableTarget
from tests.ble_fixtures import AddWearable, run
from tests.wearables.linkrun import FAST, LinkRun

P = 0.02  # 50 Hz
# The wearables here mostly run many times faster than real time against the real clock: a device
# clock the link's check would rightly re-time (tests/wearables/test_device_clock_e2e.py tests it).
CHECK_DEVICE_CLOCK = False


def sitsense_link(target: WearableTarget, **settings: Any) -> WearableLink:
    profile = make_profile("sitsense", StreamConfig(rate_hz=50, range_g=fmt.DEFAULT_RANGE_G))
    return WearableLink(
        target,
        profile,
        replace(FAST, **settings),
        rng=random.Random(0),
        device_clock_check=CHECK_DEVICE_CLOCK,
    )


def sent_g(wearable) -> tuple[np.ndarray, list[int]]:
    """Every sample the firmware framed (before faults), and each packet's first sample index."""
    packets = wearable.sent()
    return (
        np.concatenate([fmt.decode_packet(p.payload).g() for p in packets]),
        [p.first_index for p in packets],
    )


def test_ten_minute_stream_decodes_to_exactly_the_samples_sent(add_wearable: AddWearable) -> None:
    """Found by name; 10 min of 50 Hz device time at 100x: every sample, in order, no gap."""
    wearable = add_wearable(source=WaveSource(), speed=100)
    link = sitsense_link(WearableTarget(name=wearable.name))

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await r.samples(600 * 50, timeout=40)
        return r

    r = run(main())
    got = r.got
    expected, _ = sent_g(wearable)
    xyz = got.xyz()
    assert len(xyz) >= 600 * 50
    assert np.array_equal(xyz, expected[: len(xyz)])
    np.testing.assert_allclose(np.diff(got.t()), P, atol=1e-6)
    assert got.kinds()[0] is LinkEventKind.CONNECTED
    assert not got.events(LinkEventKind.GAP) and not got.events(LinkEventKind.MALFORMED)
    # A clean stop ends with LOST (stopped): packets in flight during teardown start no new stream.
    streaming_kinds = (LinkEventKind.CONNECTED, LinkEventKind.RECONNECTED, LinkEventKind.LOST)
    assert [k for k in got.kinds() if k in streaming_kinds] == [LinkEventKind.CONNECTED, LinkEventKind.LOST]
    diag = link.diagnostics()
    assert diag["wearable"] == wearable.address
    assert diag["gaps"] == 0 and diag["duplicates"] == 0 and diag["malformed"] == {}
    assert diag["battery"] == 100
    assert link.state is LinkState.STOPPED


def test_found_by_service_uuid_among_other_devices(add_wearable: AddWearable) -> None:
    add_wearable("microbit")  # a decoy that does not advertise the SitSense service
    wearable = add_wearable(speed=20)
    link = sitsense_link(WearableTarget(service_uuid=fmt.SERVICE_UUID.upper()))

    async def main() -> None:
        async with LinkRun(link) as r:
            await r.samples(200)

    run(main())
    assert link.diagnostics()["wearable"] == wearable.address
    assert link.diagnostics()["name"] == wearable.name


def test_link_drop_resumes_within_two_seconds_with_the_gap_recorded(add_wearable: AddWearable) -> None:
    wearable = add_wearable(source=WaveSource())
    link = sitsense_link(WearableTarget(address=wearable.address))
    dropped_at = 0.0

    async def main() -> LinkRun:
        nonlocal dropped_at
        async with LinkRun(link) as r:
            await r.samples(50)
            dropped_at = time.monotonic()
            wearable.drop_link()  # the device is back (advertising) at once
            await r.until(lambda c: LinkEventKind.RECONNECTED in c.kinds() and c.samples() > 0, timeout=10)
            n = len(r.got.items)
            await r.until(lambda c: any(isinstance(i, type(c.blocks()[0])) for i in c.items[n:]), timeout=5)
        return r

    got = run(main()).got
    kinds = got.kinds()
    assert kinds.index(LinkEventKind.LOST) < kinds.index(LinkEventKind.RECONNECTED)
    lost = got.events(LinkEventKind.LOST)[0]
    assert lost.reason == "disconnected"
    reconnected_at = got.at[got.index(LinkEventKind.RECONNECTED)]
    assert reconnected_at - dropped_at < 2.0
    (gap,) = got.events(LinkEventKind.GAP)
    assert gap.reason == GapReason.LINK_LOST and gap.seconds is not None
    # the gap is exactly the device time the firmware did not stream, and the samples show it
    _, first_indices = sent_g(wearable)
    packets = wearable.sent()
    jump = next(
        k for k in range(1, len(packets)) if first_indices[k] != first_indices[k - 1] + packets[k - 1].count
    )
    missing = (first_indices[jump] - first_indices[jump - 1] - packets[jump - 1].count) * P
    assert gap.seconds == pytest.approx(missing, abs=1e-6)
    t = got.t()
    assert np.max(np.diff(t)) == pytest.approx(missing + P, abs=1e-6)
    assert link.diagnostics()["losses"] == 1 and link.diagnostics()["connects"] == 2


def test_out_of_range_then_back(add_wearable: AddWearable) -> None:
    wearable = add_wearable()
    link = sitsense_link(WearableTarget(name=wearable.name))
    away_s = 2.0
    back_at = 0.0

    async def main() -> LinkRun:
        nonlocal back_at
        async with LinkRun(link) as r:
            await r.samples(50)
            wearable.go_out_of_range(away_s)
            back_at = time.monotonic() + away_s
            await r.until(lambda c: LinkEventKind.RECONNECTED in c.kinds(), timeout=15)
        return r

    got = run(main()).got
    assert got.at[got.index(LinkEventKind.RECONNECTED)] - back_at < 2.0
    (gap,) = got.events(LinkEventKind.GAP)
    assert gap.seconds is not None and gap.seconds >= away_s - 0.1
    assert link.diagnostics()["losses"] == 1


def test_bleak_is_not_told_when_bluetoothd_dies(fresh_bluez, add_wearable: AddWearable) -> None:
    """Canary for the silence watchdog: if Bleak ever notices a dead bluetoothd by itself, this fails
    and the watchdog's reason to exist should be revisited."""
    wearable = add_wearable(emulator=fresh_bluez)

    async def main() -> bool:
        device = await BleakScanner.find_device_by_address(wearable.address, timeout=5)
        assert device is not None
        client = BleakClient(device)
        await client.connect()
        fresh_bluez.crash()
        await asyncio.sleep(1.0)
        still_connected = client.is_connected
        with contextlib.suppress(Exception):
            await client.disconnect()
        return still_connected

    assert run(main()) is True


def test_bluetoothd_crash_is_caught_by_the_silence_watchdog(
    fresh_bluez, add_wearable: AddWearable, caplog: pytest.LogCaptureFixture
) -> None:
    wearable = add_wearable(emulator=fresh_bluez, speed=5)
    link = sitsense_link(WearableTarget(address=wearable.address), silence_timeout_s=1.0)
    caplog.set_level(logging.DEBUG, logger="monitor.wearables.link")
    caplog.set_level(logging.DEBUG, logger="monitor.wearables.streamstart")  # the teardown's

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await r.samples(100)
            fresh_bluez.crash()  # no signal reaches Bleak: only silence tells
            await asyncio.sleep(0.3)
            fresh_bluez.restart()
            await r.until(lambda c: LinkEventKind.RECONNECTED in c.kinds(), timeout=15)
            n = r.got.samples()
            await r.until(lambda c: c.samples() > n + 50, timeout=10)
        return r

    got = run(main()).got
    lost, stopped = got.events(LinkEventKind.LOST)
    assert (lost.reason, stopped.reason) == ("silent", "stopped")
    diag = link.diagnostics()
    assert diag["silence_timeouts"] == 1
    assert diag["connects"] == 2
    assert fresh_bluez.crashes == 1
    # disconnecting from a dead bluetoothd raised inside Bleak; the link shrugged it off
    assert "disconnect failed (ignored)" in caplog.text


def test_connect_failures_back_off_then_connect(
    add_wearable: AddWearable, caplog: pytest.LogCaptureFixture
) -> None:
    wearable = add_wearable()
    wearable.fail_next_connects(3, "Software caused connection abort")
    link = sitsense_link(WearableTarget(address=wearable.address))
    caplog.set_level(logging.INFO, logger="monitor.wearables.link")

    async def main() -> None:
        async with LinkRun(link) as r:
            await r.samples(20, timeout=20)

    run(main())
    delays = [float(m) for m in re.findall(r"retrying in ([0-9.]+) s", caplog.text)]
    assert len(delays) == 3
    assert delays == sorted(delays) and delays[-1] > delays[0]
    assert "Software caused connection abort" in caplog.text
    diag = link.diagnostics()
    assert diag["connect_failures"] == 3 and diag["connects"] == 1


def test_every_bad_packet_kind_is_counted_and_dropped(add_wearable: AddWearable) -> None:
    """Faults on six consecutive packets p1..p6; p7 onwards clean."""
    wearable = add_wearable(source=WaveSource(), speed=5)
    link = sitsense_link(WearableTarget(address=wearable.address))

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await r.samples(20)
            for kind in ("truncated", "oversized", "malformed", "duplicated", "lost", "reordered"):
                wearable.inject(kind)
            await r.until(lambda _c: link.diagnostics()["out_of_order"] == 1, timeout=10)
            n = r.got.samples()
            await r.until(lambda c: c.samples() > n + 100, timeout=10)
        return r

    got = run(main()).got
    diag = link.diagnostics()
    assert diag["malformed"] == {"truncated": 1, "oversized": 1, "wrong_type": 1}
    assert diag["duplicates"] == 1 and diag["out_of_order"] == 1
    assert sum(e.count or 0 for e in got.events(LinkEventKind.MALFORMED)) == 3
    assert sum(e.count or 0 for e in got.events(LinkEventKind.DUPLICATE)) == 1
    assert sum(e.count or 0 for e in got.events(LinkEventKind.OUT_OF_ORDER)) == 1
    # p1..p3 (malformed) and p5 (lost) and p6 (late, dropped) are missing: two gaps, five packets
    gaps = got.events(LinkEventKind.GAP)
    assert [g.count for g in gaps] == [3, 2]
    per_packet = fmt.samples_per_packet(247) * P
    assert sum(g.seconds or 0 for g in gaps) == pytest.approx(5 * per_packet, abs=1e-6)
    # what was kept is exactly what was sent, minus the dropped packets
    kept = {round(float(t), 6) for t in got.t()}
    assert len(kept) == got.samples()  # no duplicated sample
    assert link.state is LinkState.STOPPED


def test_no_system_bus_is_one_clear_unavailable_state(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/sitbreak/system_bus_socket")
    caplog.set_level(logging.INFO, logger="monitor.wearables.link")
    link = sitsense_link(WearableTarget(name="SitSense-*"), backoff_max_s=0.1)

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await r.until(lambda c: LinkEventKind.UNAVAILABLE in c.kinds(), timeout=5)
            await asyncio.sleep(0.6)  # several retries
        return r

    got = run(main()).got
    assert got.kinds().count(LinkEventKind.UNAVAILABLE) == 1
    unavailable = [r for r in caplog.records if "unavailable (" in r.getMessage()]
    assert len(unavailable) == 1
    assert unavailable[0].levelno == logging.WARNING
    assert "no D-Bus system bus" in unavailable[0].getMessage()
    assert "bluetoothd" in unavailable[0].getMessage()


def test_no_bluez_then_bluez_starts(fresh_bluez, add_wearable: AddWearable) -> None:
    wearable = add_wearable(emulator=fresh_bluez, speed=5)
    fresh_bluez.crash()  # bluetoothd not running when the service starts
    link = sitsense_link(WearableTarget(address=wearable.address), backoff_max_s=0.2)

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await r.until(lambda c: LinkEventKind.UNAVAILABLE in c.kinds(), timeout=5)
            assert link.state is LinkState.UNAVAILABLE
            fresh_bluez.restart()
            await r.samples(50, timeout=10)
        return r

    got = run(main()).got
    assert got.kinds()[:2] == [LinkEventKind.UNAVAILABLE, LinkEventKind.CONNECTED]
    assert "org.bluez" in (got.events(LinkEventKind.UNAVAILABLE)[0].detail)


class Vendor(NamedTuple):
    sim: str  # simulator profile
    options: dict[str, Any]
    ours: str  # our profile
    speed: float
    quantum: float  # resolution of the format, g
    rate: float  # the rate the device ends up streaming at


VENDORS = {
    # 1024 per g, truncated toward zero by the driver: up to one 2/1024 g step off
    "microbit": Vendor("microbit", {}, "microbit", 1, 4 / 1024, 50.0),
    # a V1.5 board: the FXOS8700 driver turns the 20 ms asked for into 80 ms, read back and used
    "microbit-v1-fxos": Vendor("microbit", {"board": "v1-fxos"}, "microbit", 1, 4 / 1024, 12.5),
    "thingy52": Vendor("thingy", {}, "thingy52", 1, 1 / 1024, 50.0),
    # Verity Sense: delta frames in G x FACTOR (0.000244), only 52 Hz on offer
    "polar-sense": Vendor("polar", {"model": "Sense"}, "polar", 5, 2.44e-4, 52.0),
    "polar-sense-mg": Vendor("polar", {"model": "Sense", "frame_type": 0x81}, "polar", 5, 1e-3, 52.0),
    "polar-h10": Vendor("polar", {"model": "H10"}, "polar", 5, 1e-3, 50.0),  # raw int16 mG frames
    # a 23-byte MTU: the settings reply comes in two "more" packets, one sample per frame
    "polar-h10-mtu23": Vendor("polar", {"model": "H10", "mtu": 23}, "polar", 2, 1e-3, 50.0),
}


@pytest.mark.parametrize("vendor", VENDORS.values(), ids=VENDORS.keys())
def test_vendor_profiles_stream_through_the_emulator(add_wearable: AddWearable, vendor: Vendor) -> None:
    source = WaveSource(amplitude_g=0.5)
    wearable = add_wearable(vendor.sim, source=source, speed=vendor.speed, **vendor.options)
    profile = make_profile(vendor.ours, StreamConfig(rate_hz=50, range_g=8))
    link = WearableLink(
        WearableTarget(address=wearable.address),
        profile,
        FAST,
        rng=random.Random(0),
        device_clock_check=CHECK_DEVICE_CLOCK,
    )

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await r.samples(int(1.5 * vendor.rate))
        return r

    got = run(main()).got
    assert profile.rate_hz == vendor.rate
    xyz = got.xyz()
    # every sample the firmware sent arrived, in order, and decodes to the generated signal
    packets = wearable.sent()
    truth = np.concatenate([source.samples(p.rate_hz, p.first_index, p.count) for p in packets])
    np.testing.assert_allclose(xyz, truth[: len(xyz)], atol=vendor.quantum / 2 + 1e-6)
    steps = np.diff(got.t())
    assert np.all(steps > 0)
    assert np.median(steps) == pytest.approx(1 / vendor.rate, rel=0.02)
    assert not got.events(LinkEventKind.MALFORMED) and not got.events(LinkEventKind.GAP)


def vendor_link(address: str, profile_name: str, rate_hz: float = 50) -> WearableLink:
    profile = make_profile(profile_name, StreamConfig(rate_hz=rate_hz, range_g=8))
    return WearableLink(
        WearableTarget(address=address),
        profile,
        FAST,
        rng=random.Random(0),
        device_clock_check=CHECK_DEVICE_CLOCK,
    )


def test_thingy_config_is_read_kept_and_written_once(add_wearable: AddWearable) -> None:
    """The wearer's other motion settings survive sitbreak's connects, and only the first connect
    writes (each write is a flash write on the Thingy, m_motion.c:219)."""
    wearable = add_wearable("thingy", speed=2, config=(2000, 1000, 800, 10, 0))

    async def connect_once() -> None:
        async with LinkRun(vendor_link(wearable.address, "thingy52")) as r:
            await r.samples(10)

    run(connect_once())
    run(connect_once())
    thingy = wearable.firmware
    assert isinstance(thingy, vendors.ThingyFirmware)
    assert wearable.on_device(lambda _: (thingy.config, thingy.flash_writes)) == ((2000, 1000, 800, 50, 0), 1)


def test_polar_that_stops_its_stream_is_started_again(add_wearable: AddWearable) -> None:
    """The sensor's "online measurement stopped" on the control point ends the session at once
    (not after the silence watchdog) and the link starts the stream again."""
    wearable = add_wearable("polar", speed=5, model="H10")
    polar = wearable.firmware
    assert isinstance(polar, vendors.PolarFirmware)
    link = vendor_link(wearable.address, "polar")

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await r.samples(50)
            wearable.on_device(lambda _: polar.stop_measurement_from_device())
            await r.until(lambda c: LinkEventKind.RECONNECTED in c.kinds(), timeout=10)
            before = r.got.samples()
            await r.samples(before + 50)
        return r

    got = run(main()).got
    assert [e.reason for e in got.events(LinkEventKind.LOST)] == ["device_stopped", "stopped"]
    assert link.diagnostics()["silence_timeouts"] == 0


@pytest.mark.parametrize(
    ("sim", "options", "ours", "words"),
    [
        ("polar", {"model": "Sense", "refuse_settings": 13}, "polar", "take the sensor off its charger"),
        ("microbit", {"accelerometer_service": False}, "microbit", "e95dca4b"),
    ],
    ids=["polar-on-charger", "microbit-without-service"],
)
def test_vendor_start_failures_are_named(
    add_wearable: AddWearable, sim: str, options: dict[str, Any], ours: str, words: str
) -> None:
    wearable = add_wearable(sim, **options)
    link = vendor_link(wearable.address, ours)

    async def main() -> str:
        async with LinkRun(link):
            deadline = time.monotonic() + 10
            while not link.diagnostics()["last_error"] and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return str(link.diagnostics()["last_error"])

    assert words in run(main()).lower()


def test_polar_that_wants_a_bond_is_paired_once_and_streams(
    bluez: Any, add_wearable: AddWearable, caplog: pytest.LogCaptureFixture
) -> None:
    """The control point answers ATT 0x05 until the host has paired (bluetoothd: NotPermitted "Not
    paired"): the link pairs through Bleak, repeats the write and streams; the bond is kept, so the
    next connection starts without pairing."""
    wearable = add_wearable("polar", speed=5, model="H10", bonding_required=True)
    link = vendor_link(wearable.address, "polar")
    caplog.set_level(logging.INFO, logger="monitor.wearables")

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await r.samples(50)
            wearable.drop_link()
            await r.until(lambda c: LinkEventKind.RECONNECTED in c.kinds(), timeout=10)
        return r

    run(main())
    props = bluez.device_properties(wearable)
    assert props["Paired"] and props["Bonded"]
    assert caplog.text.count("refused until the link is encrypted") == 1  # paired once, not again
    assert "paired (BlueZ keeps the bond)" in caplog.text
    assert link.diagnostics()["connects"] == 2


def test_polar_whose_pairing_fails_says_how_to_pair_by_hand(add_wearable: AddWearable) -> None:
    wearable = add_wearable("polar", model="H10", bonding_required=True)
    wearable.refuse_pairing()
    link = vendor_link(wearable.address, "polar")

    async def main() -> str:
        async with LinkRun(link):
            deadline = time.monotonic() + 10
            while not link.diagnostics()["last_error"] and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return str(link.diagnostics()["last_error"])

    error = run(main())
    assert error.startswith("PairingError: polar: ")
    assert "pairing failed: [org.bluez.Error.AuthenticationFailed] Authentication Failed" in error
    assert f"bluetoothctl pair {wearable.address}" in error and '"Pairing once"' in error
    assert not wearable.on_device(lambda fw: fw.streaming)


def test_slow_consumer_loses_oldest_blocks_as_recorded_gaps_never_the_stream(
    add_wearable: AddWearable,
) -> None:
    wearable = add_wearable(speed=50)
    link = sitsense_link(WearableTarget(address=wearable.address), queue_size=4, block_max_s=1.0)

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await r.samples(1)
            await asyncio.sleep(2.0)  # the consumer stalls while ~100 s of data arrive
            r.drain()
            n = r.got.samples()
            await r.samples(n + 200)
        return r

    got = run(main()).got
    slow = [g for g in got.events(LinkEventKind.GAP) if g.reason == GapReason.CONSUMER_SLOW]
    assert slow, got.kinds()
    diag = link.diagnostics()
    assert diag["dropped_blocks"] > 0
    assert diag["gaps"] == 0  # nothing was lost on the radio side
    # kept samples plus the reported holes tile the streamed time exactly (notifications are decoded
    # in batches, so the very first blocks may be among those dropped: the time starts at the earlier
    # of the first kept sample and the first hole)
    t = got.t()
    holes = sum(g.seconds or 0 for g in slow)
    start = min(float(t[0]), *(g.t for g in slow))
    assert got.samples() * P + holes == pytest.approx(t[-1] - start + P, abs=1e-4)
    for gap in slow:
        assert gap.seconds is not None
        after = t[t >= gap.t + gap.seconds - 1e-6]
        assert after.size and after[0] == pytest.approx(gap.t + gap.seconds, abs=1e-6)


def test_acquire_notify_and_battery_events(add_wearable: AddWearable) -> None:
    """Data through the AcquireNotify socket; battery level as events when it changes."""
    wearable = add_wearable(source=WaveSource(), speed=10, battery_pct=80)
    link = sitsense_link(WearableTarget(address=wearable.address), acquire_notify=True)

    async def main() -> LinkRun:
        async with LinkRun(link) as r:
            await r.samples(100)
            wearable.set_battery(35)
            await r.until(lambda c: [e.level for e in c.events(LinkEventKind.BATTERY)] == [80, 35], timeout=5)
            n = r.got.samples()
            await r.samples(n + 100)
        return r

    got = run(main()).got
    expected, _ = sent_g(wearable)
    xyz = got.xyz()
    assert np.array_equal(xyz, expected[: len(xyz)])
    assert link.diagnostics()["battery"] == 35


def test_two_links_share_one_scan(add_wearable: AddWearable, caplog: pytest.LogCaptureFixture) -> None:
    """bluetoothd allows one discovery per D-Bus client: a link looking for an absent wearable must
    not keep another from finding its own."""
    away, here = add_wearable(speed=10), add_wearable(speed=10)
    away.go_out_of_range()
    links = [sitsense_link(WearableTarget(address=w.address)) for w in (away, here)]
    caplog.set_level(logging.INFO, logger="monitor.wearables.link")

    async def main() -> LinkRun:
        async with LinkRun(links[0]) as a, LinkRun(links[1]) as b:
            await asyncio.sleep(0.3)  # the first link is already scanning in vain
            await b.samples(200, timeout=10)
            assert a.link.state is LinkState.SCANNING
        return b

    b = run(main())
    assert b.link.diagnostics()["wearable"] == here.address
    assert b.got.kinds()[0] is LinkEventKind.CONNECTED
    assert "InProgress" not in caplog.text
    assert links[0].diagnostics()["connects"] == 0
