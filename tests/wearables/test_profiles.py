"""Decoders against byte strings built by hand from each vendor's documented layout.

Sources (cited per test; the vendors' own vectors, with commits, are in test_vendor_golden.py):
micro:bit Bluetooth profile / Lancaster microbit-dal accelerometer service;
Polar BLE SDK (polarofficial/polar-ble-sdk, Android `pmd/` sources and their unit test
`AccDataTest.kt`); Nordic Thingy:52 firmware (NordicSemiconductor/Nordic-Thingy52-FW, ble_tms.h and
m_motion.c); sitbreak's own `monitor/wearables/sitsense_format.py` for the reference firmware.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from monitor.wearables import sitsense_format as fmt
from monitor.wearables.profiles import (
    Advertisement,
    DecodeError,
    DecodeErrorKind,
    GattWrite,
    MicrobitProfile,
    PolarProfile,
    ProfileName,
    SitSenseProfile,
    StreamConfig,
    StreamStartError,
    Thingy52Profile,
    make_profile,
    match_profile,
)
from monitor.wearables.profiles.polar import unpack_deltas


def expect_error(profile, data: bytes, kind: DecodeErrorKind) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        profile.decode(data)
    err = info.value
    assert err.kind is kind, err
    assert err.profile is profile.name
    assert err.length == len(data)
    assert err.detail
    return err


# ---------------------------------------------------------------- micro:bit


def test_microbit_sample_is_three_int16_le_at_1024_per_g():
    """E95DCA4B: x, y, z int16 LE; every micro:bit driver scales to 1024 per g at ±2 g (the
    firmware's "millig (approx)"; sources in test_vendor_golden.py)."""
    data = bytes.fromhex("00fc00000004")  # -1024, 0, 1024
    packet = MicrobitProfile().decode(data)
    np.testing.assert_allclose(packet.xyz, [[-1.0, 0.0, 1.0]], atol=1e-6)
    assert packet.xyz.dtype == np.float32
    assert packet.seq is None and packet.t_first is None and packet.t_last is None
    assert packet.period_s == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("rate", "period_ms"), [(50, 20), (100, 10), (12.5, 100), (25, 40), (40, 20), (1000, 5), (1, 1000)]
)
def test_microbit_requests_the_nearest_v2_period(rate, period_ms):
    """The V2 periods of 5 ms and more (5, 10, 20, 40, 100, 1000), nearest by ratio; the rate
    stays the request's until the board's read-back says otherwise."""
    profile = MicrobitProfile(StreamConfig(rate_hz=rate))
    assert profile.period_ms == period_ms and profile.rate_hz == 1000 / period_ms
    (write,) = profile.start_writes()
    assert write.char_uuid == "e95dfb24-251d-470a-a062-fa1922dfa9a8"
    assert write.data == struct.pack("<H", period_ms)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", DecodeErrorKind.TRUNCATED),
        (bytes(5), DecodeErrorKind.TRUNCATED),
        (bytes(7), DecodeErrorKind.OVERSIZED),
        (bytes(12), DecodeErrorKind.OVERSIZED),
    ],
)
def test_microbit_malformed(data, kind):
    expect_error(MicrobitProfile(), data, kind)


# ---------------------------------------------------------------- Thingy:52


def test_thingy_raw_accel_is_q6_10():
    """ble_tms_raw_t: accel, gyro, compass int16 x,y,z; m_motion.c: accel = 16Q16 >> 6 -> Q6.10."""
    accel = struct.pack("<3h", 1024, -512, 256)  # 1 g, -0.5 g, 0.25 g
    gyro = struct.pack("<3h", 32, -32, 0)  # Q11.5: 1, -1, 0 deg/s (ignored)
    compass = struct.pack("<3h", 16, 0, -16)  # Q12.4 (ignored)
    packet = Thingy52Profile().decode(accel + gyro + compass)
    np.testing.assert_allclose(packet.xyz, [[1.0, -0.5, 0.25]])


def test_thingy_config_write_is_ble_tms_config_t():
    """ble_tms_config_t: 4 x uint16 + uint8 = 9 bytes; the firmware refuses any other length.
    Without a config read, `start_writes` can only fill in the firmware defaults."""
    (write,) = Thingy52Profile(StreamConfig(rate_hz=50)).start_writes()
    assert write.char_uuid == "ef680401-9b35-4933-9b10-52ffa9740042"
    assert len(write.data) == 9
    assert struct.unpack("<HHHHB", write.data) == (1000, 500, 500, 50, 1)
    # BLE_TMS_CONFIG_MPUF_MAX = 200 Hz
    assert Thingy52Profile(StreamConfig(rate_hz=500)).rate_hz == 200


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (bytes(6), DecodeErrorKind.TRUNCATED),
        (bytes(17), DecodeErrorKind.TRUNCATED),
        (bytes(20), DecodeErrorKind.OVERSIZED),
    ],
)
def test_thingy_malformed(data, kind):
    expect_error(Thingy52Profile(), data, kind)


# ---------------------------------------------------------------- Polar PMD

# AccDataTest.kt "process acc raw data frame type 1": header 02 | 00 94 35 77 00 00 00 00 | 01,
# timestamp 2_000_000_000 ns; first samples (-9, -1, 999) and (-8, -2, 997) mG.
POLAR_RAW1 = bytes.fromhex("02009435770000000001f7ffffffe703f8fffeffe503")

# AccDataTest.kt "process acc compressed data type 1": frame type 0x81, reference (-15, 20, 1008),
# one delta block of width 6 with one sample: (-5, -3, 0).
POLAR_DELTA1 = bytes.fromhex("02650000000000000081f1ff1400f00306017b0f08")

# AccDataTest.kt "process acc compressed data type 0" (Verity Sense): reference (1905, 27376, -29282),
# one delta block of width 10 with 56 samples, the second sample = reference + (190, -105, -85);
# values are G x FACTOR with FACTOR = 2.44e-4 and stay within the ±8 G range.
POLAR_DELTA0_BODY = bytes.fromhex(
    "7107f06a9e8d0a38be5cbeba2f96b3ee4be5adfb42b9ebbe4cfeba2f92bfee4be4b1fb12b9ecbd3c3ebb2f8fd3de4be3b5"
    "f7d2b8edbd307e7b2f8be3ce8be2baf7a2b8eebc20be7b2f88f3cecbe1bdef52f8efbc18fe3b2f8403bfcbe0c2ef32b8f0"
    "bb044ebc2e8113af0be0c6eff2f7f1b9fc7dbc2e7d279f4bdfcaebc2f7f2b8eccd7c2e7b378f4bdecee392f7f3b8e00dfd"
    "2d774b7fcbddd2df6237f5b7d44dbd2d745b6fcbdcd7d73237f6b5c88d7d2d716b4f4bdcdcd3f236f7b4bcddfd2c6f7b3f"
    "4bdbe0cfd236f8b2b02dbe2c6c8f1fcbdae3c7a276f9"
)
POLAR_DELTA0 = bytes.fromhex("02009435770000000080") + POLAR_DELTA0_BODY


def test_polar_raw_type1_int16_milli_g():
    packet = PolarProfile().decode(POLAR_RAW1)
    np.testing.assert_allclose(packet.xyz, [[-0.009, -0.001, 0.999], [-0.008, -0.002, 0.997]], atol=1e-6)
    # The PMD timestamp is the last sample's, in ns since 2000-01-01 on the sensor clock.
    assert packet.t_last == pytest.approx(2.0)
    assert packet.t_first is None


def test_polar_delta_type1_matches_sdk_vector():
    packet = PolarProfile().decode(POLAR_DELTA1)
    np.testing.assert_allclose(packet.xyz * 1000, [[-15, 20, 1008], [-20, 17, 1008]], atol=1e-3)
    assert packet.t_last == pytest.approx(101e-9)


def test_polar_delta_type0_matches_sdk_vector():
    profile = PolarProfile()
    profile.factor = 2.44e-4  # as the SDK test's getFactor; normally from the start reply
    packet = profile.decode(POLAR_DELTA0)
    assert len(packet) == 1 + 56
    ref = np.array([1905, 27376, -29282])
    np.testing.assert_allclose(packet.xyz[0], ref * 2.44e-4, rtol=1e-5)
    np.testing.assert_allclose(packet.xyz[1], (ref + np.array([190, -105, -85])) * 2.44e-4, rtol=1e-5)
    assert np.all(np.abs(packet.xyz) <= 8.0)


def pack_deltas(deltas: list[tuple[int, int, int]], width: int) -> bytes:
    """Independent bit packer: each value's bits least-significant first, channel after channel."""
    bits: list[int] = []
    for sample in deltas:
        for value in sample:
            bits += [(value >> i) & 1 for i in range(width)]
    out = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        out[i // 8] |= bit << (i % 8)
    return bytes(out)


def test_polar_delta_blocks_accumulate_across_blocks():
    ref = (100, -200, 1000)
    block1 = [(1, -1, 0), (-4, 3, 2)]  # width 3: range -4..3
    block2 = [(200, -300, 5)]  # width 10
    body = struct.pack("<3h", *ref)
    body += bytes((3, 2)) + pack_deltas(block1, 3)
    body += bytes((10, 1)) + pack_deltas(block2, 10)
    frame = bytes.fromhex("0200ca9a3b0000000081") + body  # 1_000_000_000 ns
    packet = PolarProfile().decode(frame)
    expected = np.cumsum([ref, *block1, *block2], axis=0) / 1000
    np.testing.assert_allclose(packet.xyz, expected, atol=1e-6)
    assert packet.t_last == pytest.approx(1.0)


def test_unpack_deltas_random_round_trip():
    rng = np.random.default_rng(7)
    for width in (1, 2, 5, 8, 13, 16, 17):
        lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
        deltas = [(int(a), int(b), int(c)) for a, b, c in rng.integers(lo, hi, (9, 3), endpoint=True)]
        got = unpack_deltas(pack_deltas(deltas, width), width, len(deltas))
        assert got.tolist() == [list(d) for d in deltas]


@pytest.mark.parametrize(
    ("frame", "kind", "words"),
    [
        (bytes.fromhex("020094357700000000"), DecodeErrorKind.TRUNCATED, "header"),
        (POLAR_RAW1[:-1], DecodeErrorKind.TRUNCATED, "whole number"),
        (b"\x00" + POLAR_RAW1[1:], DecodeErrorKind.WRONG_TYPE, "measurement type 0"),  # ECG
        (POLAR_RAW1[:9] + b"\x05" + POLAR_RAW1[10:], DecodeErrorKind.WRONG_TYPE, "raw ACC frame type 5"),
        (POLAR_DELTA1[:9] + b"\x83" + POLAR_DELTA1[10:], DecodeErrorKind.WRONG_TYPE, "compressed"),
        (POLAR_DELTA1[:-1], DecodeErrorKind.TRUNCATED, "declares 1 samples"),
        (POLAR_DELTA1 + b"\x06", DecodeErrorKind.TRUNCATED, "header cut"),
        (POLAR_DELTA1[:14], DecodeErrorKind.TRUNCATED, "reference"),
        (POLAR_DELTA1[:16] + b"\x00\x01\x00", DecodeErrorKind.BAD_VALUE, "width 0"),
        (POLAR_DELTA1[:16] + b"\x06\x00", DecodeErrorKind.BAD_VALUE, "0 samples"),
        (POLAR_RAW1[:10] + bytes(6 * 100), DecodeErrorKind.OVERSIZED, "longer"),
    ],
)
def test_polar_malformed(frame, kind, words):
    err = expect_error(PolarProfile(), frame, kind)
    assert words in err.detail


H10_SETTINGS_REPLY = bytes.fromhex(
    # F0, op 01, ACC, SUCCESS, more=0, SAMPLE_RATE x4: 25 50 100 200, RESOLUTION x1: 16, RANGE x3: 2 4 8
    "f0010200000004190032006400c800010110000203020004000800"
)


def test_polar_start_sequence_picks_offered_settings_and_learns_factor():
    """PmdSetting.kt layout; the start reply carries FACTOR (type 5, float32)."""
    profile = PolarProfile(StreamConfig(rate_hz=52, range_g=16))
    seq = profile.start_sequence()
    get = next(seq)
    assert isinstance(get, GattWrite)
    assert get.char_uuid == "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
    assert get.data == bytes((0x01, 0x02)) and get.await_reply
    start = seq.send(H10_SETTINGS_REPLY)
    assert isinstance(start, GattWrite)
    assert profile.rate_hz == 50 and profile.range_g == 8
    # [START, ACC, SAMPLE_RATE 1 x 50, RESOLUTION 1 x 16, RANGE 1 x 8]
    assert start.data == bytes.fromhex("0202000132000101100002010800")
    factor = struct.pack("<f", 2.44e-4)
    with pytest.raises(StopIteration):
        seq.send(bytes.fromhex("f0020200000501") + factor)
    assert profile.factor == pytest.approx(2.44e-4)


def test_polar_start_refused_names_the_status():
    profile = PolarProfile()
    write = profile.start_writes()[0]
    with pytest.raises(StreamStartError, match="ERROR_INVALID_SAMPLE_RATE"):
        profile.check_reply(write, bytes.fromhex("f002020800"))
    with pytest.raises(StreamStartError, match="not a PMD response"):
        profile.check_reply(write, b"\x01")


# ---------------------------------------------------------------- SitSense reference firmware


def sitsense_packet(seq: int, t0_ms: int, counts: list[tuple[int, int, int]], flags: int = 0) -> bytes:
    """By hand from the layout documented in sitsense_format: version|flags, seq, t0, N, rate|range."""
    header = struct.pack("<BHIBB", (1 << 4) | flags, seq, t0_ms, len(counts), (1 << 4) | 1)  # 50 Hz, ±4 g
    return header + b"".join(struct.pack("<3h", *c) for c in counts)


def test_sitsense_packet_by_hand():
    data = sitsense_packet(513, 123_456, [(8192, 0, -8192), (0, 4096, 0)], flags=fmt.FLAG_STREAM_START)
    packet = SitSenseProfile().decode(data)
    np.testing.assert_allclose(packet.xyz, [[1.0, 0.0, -1.0], [0.0, 0.5, 0.0]])  # 8192 counts = 1 g at ±4 g
    assert packet.seq == 513
    assert packet.t_first == pytest.approx(123.456)
    assert packet.period_s == pytest.approx(0.02)
    assert packet.restart and not packet.device_dropped
    overflow = SitSenseProfile().decode(sitsense_packet(514, 124_000, [(0, 0, 0)], flags=fmt.FLAG_OVERFLOW))
    assert overflow.device_dropped and not overflow.restart
    # and the shared encoder agrees with the hand-built bytes
    assert data == fmt.encode_packet(
        513, 123_456, 50, 4, np.array([[8192, 0, -8192], [0, 4096, 0]]), flags=fmt.FLAG_STREAM_START
    )


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        (lambda d: d[:8], DecodeErrorKind.TRUNCATED),
        (lambda d: d[:-2], DecodeErrorKind.TRUNCATED),
        (lambda d: d + b"\x00\x00", DecodeErrorKind.OVERSIZED),
        (lambda d: b"\x20" + d[1:], DecodeErrorKind.WRONG_TYPE),  # version 2
        (lambda d: d[:8] + b"\x91" + d[9:], DecodeErrorKind.BAD_VALUE),  # rate code 9
        (lambda d: d[:7] + b"\x00" + d[8:], DecodeErrorKind.BAD_VALUE),  # count 0, samples follow
    ],
)
def test_sitsense_malformed(mutate, kind):
    good = sitsense_packet(1, 0, [(0, 0, 8192), (0, 0, 8192)])
    expect_error(SitSenseProfile(), mutate(good), kind)


def test_sitsense_config_write_uses_format_codes():
    writes = SitSenseProfile(StreamConfig(rate_hz=60, range_g=5)).start_writes()
    assert isinstance(writes[0], GattWrite)
    assert fmt.decode_config(writes[0].data) == (50, 4)
    assert writes[-1].data == bytes((fmt.CONTROL_RESUME,))


# ---------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("adv", "name"),
    [
        (Advertisement("SitSense-1A2B"), ProfileName.SITSENSE),
        (Advertisement(None, [fmt.SERVICE_UUID.upper()]), ProfileName.SITSENSE),
        (
            Advertisement("BBC micro:bit [zatig]", ["E95D0753-251D-470A-A062-FA1922DFA9A8"]),
            ProfileName.MICROBIT,
        ),
        (Advertisement("Polar H10 0A1B2C3D", ["0000180d-0000-1000-8000-00805f9b34fb"]), ProfileName.POLAR),
        (
            Advertisement("Thingy", ["ef680100-9b35-4933-9b10-52ffa9740042"]),
            ProfileName.THINGY52,
        ),
        (Advertisement("Headphones", ["0000110b-0000-1000-8000-00805f9b34fb"]), None),
    ],
)
def test_match_profile(adv, name):
    assert match_profile(adv) == name


def test_make_profile_names_choices():
    with pytest.raises(ValueError, match="sitsense, microbit, polar, thingy52"):
        make_profile("fitbit")
