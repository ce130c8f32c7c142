"""The doctor's judgement with made-up data: rate estimators, checks and advice. No Bluetooth."""

from __future__ import annotations

import numpy as np
import pytest
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakCharacteristicNotFoundError,
    BleakDBusError,
)

from monitor.wearables import sitsense_format as fmt
from monitor.wearables.diagnose import (
    RATE_TOLERANCE,
    Stage,
    Status,
    StreamStats,
    advise,
    arrival_rate,
    battery_check,
    device_clock_rate,
    gravity_check,
    measure,
    packets_check,
    rate_check,
    signal_check,
    stream_check,
)
from monitor.wearables.doctor import DoctorRequest, Heard, Service, choose, pick_profile, service_name
from monitor.wearables.profiles import (
    DecodedPacket,
    MicrobitProfile,
    PolarProfile,
    ProfileName,
    SitSenseProfile,
    StreamConfig,
)
from monitor.wearables.settings import LinkSettings
from monitor.wearables.streamstart import PairingError, pairing_fix

RNG = np.random.default_rng(7)


def arrivals(
    rate: float, seconds: float, per_packet: int = 1, delay_s: float = 0.0
) -> list[tuple[float, int]]:
    """Packets sent on time at `rate`, each arriving up to `delay_s` late (uniform)."""
    n = int(seconds * rate / per_packet)
    sent = (np.arange(n) + 1) * per_packet / rate
    late = RNG.uniform(0, delay_s, n) if delay_s else np.zeros(n)
    return [(float(t), per_packet) for t in np.sort(sent + late)]


def packet(n: int, t_first: float | None = None, t_last: float | None = None) -> DecodedPacket:
    return DecodedPacket(xyz=np.zeros((n, 3), np.float32), t_first=t_first, t_last=t_last)


# ------------------------------------------------------------------ rates


def test_arrival_rate_of_a_punctual_stream() -> None:
    assert arrival_rate(arrivals(50, 3)) == pytest.approx(50, rel=1e-9)


def test_arrival_rate_ignores_delays_a_busy_host_adds() -> None:
    """Up to 200 ms late at random, plus a 1.5 s stall the backlog then arrives after in a burst:
    the lower hull still finds 50 Hz, where a straight fit through all arrivals would not."""
    stream = arrivals(50, 10, delay_s=0.2)
    stalled = [(max(t, 5.0) if 3.5 <= t < 5.0 else t, n) for t, n in stream]
    assert arrival_rate(stalled) == pytest.approx(50, rel=0.005)
    x = np.cumsum([n for _, n in stalled])
    y = np.array([t for t, _ in stalled])
    ols = 1 / np.polyfit(x, y, 1)[0]
    assert abs(ols / 50 - 1) > 0.005  # what the hull is for


def test_arrival_rate_with_notifications_bunched_into_connection_events() -> None:
    """BLE delivers in connection events (30 ms here): a sample waits for the next event."""
    events = 0.03
    stream = [(np.ceil(t / events) * events, n) for t, n in arrivals(50, 5)]
    assert arrival_rate(stream) == pytest.approx(50, rel=0.01)


def test_arrival_rate_needs_three_packets_over_a_second() -> None:
    assert arrival_rate(arrivals(50, 0.5)) is None
    assert arrival_rate([(0.0, 1), (2.0, 1)]) is None


def test_arrival_rate_sees_lost_notifications_as_a_lower_rate() -> None:
    kept = [a for a in arrivals(50, 10) if RNG.random() < 0.5]
    rate = arrival_rate(kept)
    assert rate is not None and rate < 50 * (1 - 3 * RATE_TOLERANCE)


def test_device_clock_rate_from_first_sample_times_with_a_loss_and_a_repeat() -> None:
    """SitSense-like: 39 samples a packet at 25 Hz; packet 3 lost, packet 5 repeated."""
    times = [k * 39 / 25 for k in range(10)]
    packets = [packet(39, t_first=t) for k, t in enumerate(times) if k != 3]
    packets.insert(5, packets[4])
    assert device_clock_rate(packets) == pytest.approx(25.0)


def test_device_clock_rate_from_last_sample_times() -> None:
    """Polar-like: the timestamp is the last sample's; the later packet's samples span the gap."""
    packets = [packet(36, t_last=(k + 1) * 36 / 52) for k in range(6)]
    assert device_clock_rate(packets) == pytest.approx(52.0)
    assert device_clock_rate(packets[:1]) is None


# ------------------------------------------------------------------ measure, through the assembler


def test_measure_counts_malformed_and_lost_packets_as_the_service_does() -> None:
    profile = SitSenseProfile(StreamConfig(rate_hz=50, range_g=4))
    counts = np.zeros((39, 3), np.int16)
    counts[:, 2] = fmt.g_to_counts(np.ones((1, 3)), 4)[0, 2]
    frames = [fmt.encode_packet(k, k * 39 * 20, 50, 4, counts) for k in range(8)]
    received = [(0.1 + 0.78 * k, f) for k, f in enumerate(frames) if k != 4]  # packet 4 lost
    received.append((6.0, b"\x00\x01"))  # one that is not a packet at all
    stats = measure(profile, received, LinkSettings(), started_at=0.0, ended_at=6.5)
    assert stats.packets == 8 and stats.samples == 7 * 39
    assert stats.rate_hz == pytest.approx(50.0) and stats.rate_from == "device clock"
    assert stats.malformed == {"truncated": 1}
    assert stats.gaps == 1 and stats.lost_packets == 1 and stats.gap_s == pytest.approx(39 / 50, abs=0.03)
    assert stats.gravity_g == pytest.approx(1.0, abs=1e-3) and not stats.moved
    assert stats.packet_interval_s == pytest.approx(0.78)


# ------------------------------------------------------------------ checks


def stats(**values: object) -> StreamStats:
    base: dict[str, object] = {"listened_s": 10.0, "packets": 500, "samples": 500, "packet_interval_s": 0.02}
    return StreamStats(**(base | values))  # type: ignore[arg-type]


def test_rate_check_within_and_beyond_the_tolerance() -> None:
    micro = MicrobitProfile(StreamConfig(rate_hz=50))
    assert rate_check(stats(rate_hz=49.0, rate_from="arrival times"), micro).status is Status.OK
    slow = rate_check(stats(rate_hz=30.0, rate_from="arrival times"), micro)
    assert slow.status is Status.FAIL and slow.fix.startswith("notifications are being lost")
    fast = rate_check(stats(rate_hz=80.0, rate_from="arrival times"), micro)
    assert fast.fix.startswith("the wearable streams faster than it says: flash the MakeCode")
    sitsense = SitSenseProfile(StreamConfig(rate_hz=50))
    own = rate_check(stats(rate_hz=25.0, rate_from="device clock"), sitsense)
    assert own.detail == "25.0 Hz measured from the device clock, 50 Hz expected"
    assert own.fix.startswith("its firmware keeps a rate of its own")
    unmeasured = rate_check(stats(rate_hz=None, packets=1), sitsense)
    assert unmeasured.status is Status.WARN and "--seconds 30" in unmeasured.fix


def test_gravity_check() -> None:
    assert gravity_check(stats(gravity_g=0.97, spread_g=0.004)).status is Status.OK
    moved = gravity_check(stats(gravity_g=1.2, spread_g=0.4))
    assert moved.status is Status.WARN and "lay it still" in moved.fix
    halved = gravity_check(stats(gravity_g=0.5, spread_g=0.004))
    assert halved.status is Status.FAIL and "--profile" in halved.fix
    assert "zeros" in gravity_check(stats(gravity_g=0.0, spread_g=0.0)).fix
    assert gravity_check(stats(gravity_g=None)).status is Status.SKIPPED


def test_packets_check() -> None:
    polar = PolarProfile()
    bad = packets_check(stats(malformed={"wrong_type": 3}), polar)
    assert bad.status is Status.FAIL and bad.detail == "3 of 500 packets could not be read (wrong_type: 3)"
    assert "H10 and Verity Sense" in bad.fix
    some = packets_check(stats(gaps=1, gap_s=0.1, lost_packets=1), polar)
    assert some.status is Status.WARN and "1 packet and 0.1 s of data lost in 1 gap" in some.detail
    many = packets_check(stats(gaps=4, gap_s=1.0, lost_packets=5), polar)
    assert many.status is Status.FAIL and "closer" in many.fix
    assert packets_check(stats(), polar).status is Status.OK
    assert "only in the rate" in packets_check(stats(), MicrobitProfile()).detail


def test_stream_check() -> None:
    assert stream_check(stats(), None, None).status is Status.OK
    nothing = stream_check(stats(packets=0, samples=0), None, None)
    assert nothing.status is Status.FAIL and nothing.detail.endswith("no data came in 10 s")
    silent = stream_check(stats(longest_silence_s=4.0), None, None)
    assert silent.status is Status.FAIL and "went silent for 4.0 s" in silent.detail
    # a SitSense at 12.5 Hz sends a packet every 3.1 s: that is no silence
    assert stream_check(stats(longest_silence_s=4.0, packet_interval_s=3.12), None, None).status is Status.OK
    dropped = stream_check(stats(), "disconnected", 2.5)
    assert dropped.detail == "the link dropped after 2.5 s" and "closer" in dropped.fix
    stopped = stream_check(stats(), "the Polar stopped the accelerometer stream itself", 1.0)
    assert "charger" in stopped.fix


def test_battery_and_signal() -> None:
    assert battery_check(None).status is Status.SKIPPED
    assert battery_check(9).status is Status.WARN
    assert battery_check(80).status is Status.OK
    assert signal_check(-60).status is Status.OK
    assert signal_check(-80).detail == "-80 dBm (weak)"
    assert signal_check(-95).status is Status.WARN


# ------------------------------------------------------------------ advice


@pytest.mark.parametrize(
    ("exc", "stage", "detail", "fix"),
    [
        (
            BleakBluetoothNotAvailableError(
                "No powered Bluetooth adapters found.", BleakBluetoothNotAvailableReason.POWERED_OFF
            ),
            Stage.SCAN,
            "Bluetooth is unavailable: No powered",
            "switch Bluetooth on: bluetoothctl power on",
        ),
        (
            BleakBluetoothNotAvailableError(
                "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
            ),
            Stage.SCAN,
            "Bluetooth is unavailable: No Bluetooth adapters",
            "no Bluetooth adapter",
        ),
        (
            BleakDBusError(
                "org.freedesktop.DBus.Error.ServiceUnknown", ["The name org.bluez was not provided"]
            ),
            Stage.SCAN,
            "Bluetooth is unavailable: BlueZ (org.bluez) is not on the system bus",
            "start the Bluetooth service: sudo systemctl enable --now bluetooth",
        ),
        (FileNotFoundError(2, "No such file or directory"), Stage.SCAN, "no D-Bus system bus", "start D-Bus"),
        (
            BleakDBusError("org.freedesktop.DBus.Error.AccessDenied", ["Rejected send message"]),
            Stage.SCAN,
            "Bluetooth refused this user",
            "this user may not use Bluetooth over D-Bus",
        ),
        (
            BleakBluetoothNotAvailableError("auth failed", BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM),
            Stage.SCAN,
            "Bluetooth refused this user",
            "add yours to the bluetooth group",
        ),
        (TimeoutError(), Stage.CONNECT, "could not connect: no connection within the time allowed", "closer"),
        (
            BleakCharacteristicNotFoundError("e95dfb24-251d-470a-a062-fa1922dfa9a8"),
            Stage.START,
            "the wearable has no characteristic e95dfb24",
            "flash the MakeCode program",
        ),
        (TimeoutError(), Stage.START, "did not answer in time", "switch the wearable off and on"),
        (
            PairingError(ProfileName.MICROBIT, "pairing failed", pairing_fix("AA:BB:CC:DD:EE:FF")),
            Stage.START,
            "pairing failed",
            "bluetoothctl pair AA:BB:CC:DD:EE:FF",
        ),
    ],
)
def test_advice(exc: BaseException, stage: Stage, detail: str, fix: str) -> None:
    said, step = advise(exc, stage, ProfileName.MICROBIT)
    assert said.startswith(detail) or detail in said
    assert fix in step


# ------------------------------------------------------------------ choosing


def test_service_names() -> None:
    assert service_name("0000180f-0000-1000-8000-00805f9b34fb") == "Battery Service"
    assert service_name("fb005c80-02e7-f387-1cad-8acd2d8df0c8") == "Polar PMD (Verity Sense / H10) service"
    assert service_name("12345678-0000-1000-8000-0000000000aa") == "Unknown"


def test_the_profile_comes_from_the_option_the_advertisement_or_the_services() -> None:
    nameless = Heard("AA:BB:CC:DD:EE:FF", None, -60, None)
    pmd = [Service("fb005c80-02e7-f387-1cad-8acd2d8df0c8", "PMD")]
    assert pick_profile(DoctorRequest(), nameless, pmd) == (ProfileName.POLAR, "its GATT services")
    assert pick_profile(DoctorRequest(), nameless, []) == (None, "")
    claimed = Heard("AA:BB:CC:DD:EE:FF", "Thingy", -60, ProfileName.THINGY52)
    assert pick_profile(DoctorRequest(), claimed, pmd) == (ProfileName.THINGY52, "its advertisement")
    forced = DoctorRequest(profile=ProfileName.SITSENSE)
    assert pick_profile(forced, claimed, pmd) == (ProfileName.SITSENSE, "--profile")


def test_the_device_asked_for_else_the_strongest_claimed() -> None:
    heard = [
        Heard("00:00:00:00:00:01", "TV", -40, None),
        Heard("00:00:00:00:00:02", "Polar Sense 1", -55, ProfileName.POLAR),
        Heard("00:00:00:00:00:03", "Thingy", -70, ProfileName.THINGY52),
    ]
    assert choose(DoctorRequest(), heard) == heard[1]
    assert choose(DoctorRequest(address="00:00:00:00:00:03"), heard) == heard[2]
    assert choose(DoctorRequest(name="T*"), heard) == heard[0]
    assert choose(DoctorRequest(address="00:00:00:00:00:09"), heard) is None
