"""Golden tests: the profiles against the vendors' own bytes, exchanges and firmware arithmetic.

Every vector here comes from outside sitbreak and names where: a unit test of the vendor's SDK, a
figure of its specification, or a frame built step by step as the vendor's firmware code builds it
(the arithmetic is written out in the test, not taken from firmware_sim). Nothing here is produced
by our own simulator.

Provenance short forms:
- POLAR = polarofficial/polar-ble-sdk @ 8fb5311c8f63fd58fdd03df1b46cbb2e8f05209e
  - ATEST = sources/Android/android-communications/library/src/test/java/com/polar/
    androidcommunications/api/ble/model/gatt/client/pmd/
  - SPEC = technical_documentation/online_measurement.pdf (version 1.0, August 2024): figure 2 on
    p. 13 (settings replies), figure 3 on p. 14 (start requests and replies, first data frames)
- CODAL = lancaster-university/codal-core @ 8c8366f9a1e92da69f90fe816456c4b9c42ffd13
- DAL = lancaster-university/microbit-dal @ 318c6abbb3d952d3f49a595a726486230e82fb5b
- V2 = lancaster-university/codal-microbit-v2 @ 44f41504635329ed77d2b3482e75a3c7b37d79ec
- THINGY = NordicSemiconductor/Nordic-Thingy52-FW @ 6ada0a9aed640141ab9f9e91b5f9f5ec0ed237e7
"""

from __future__ import annotations

import math
import struct
from collections.abc import Generator, Sequence

import numpy as np
import pytest

from monitor.wearables.profiles import (
    Advertisement,
    ControlKind,
    GattRead,
    GattStep,
    GattWrite,
    MicrobitProfile,
    PolarProfile,
    StreamConfig,
    StreamStartError,
    Thingy52Profile,
)
from monitor.wearables.profiles.polar import parse_settings

# ==================================================================================== Polar PMD

# SPEC figure 2: "H10 response used as example" to GET_MEASUREMENT_SETTINGS [01 02].
SPEC_H10_SETTINGS = bytes.fromhex(
    "F0 01 02 00 00 00 04 19 00 32 00 64 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00"
)
# SPEC figure 2: "Polar Verity Sense response used as example".
SPEC_SENSE_SETTINGS = bytes.fromhex("F0 01 02 00 00 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03")
# SPEC figure 3: the H10 start request (200 Hz, 16 bit, 8 G) and its reply, "0x01 = reserved".
SPEC_H10_START = bytes.fromhex("02 02 02 01 08 00 00 01 C8 00 01 01 10 00")
SPEC_H10_START_REPLY = bytes.fromhex("F0 02 02 00 00 01")
# SPEC figure 3: the Verity Sense start request (52 Hz, 16 bit, 8 G, 3 channels) and its reply
# with FACTOR "40 DA 7F 39 = 0x397FDA40 = 0.000243999995291G".
SPEC_SENSE_START = bytes.fromhex("02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03")
SPEC_SENSE_START_REPLY = bytes.fromhex("F0 02 02 00 00 05 01 40 DA 7F 39")
SPEC_SENSE_FACTOR = 0.000243999995291
# SPEC figure 3: the H10's first ACC frame, cut by the figure after two samples ("...").
SPEC_H10_FRAME = bytes.fromhex("02 EA 54 A2 42 8B 45 52 08 01 45 FF E4 FF B5 03 45 FF E4 FF B8 03")
SPEC_H10_FRAME_TS = 599618164814402794  # the figure's decimal reading of the timestamp
# SPEC figure 3: the Verity Sense's first delta frame: reference (-48, 357, 4068), delta width 8,
# "0x1D = samples count(29)", then deltas "FC 07 FF" and "0C 13 F2" before the figure cuts it.
SPEC_SENSE_FRAME_HEAD = bytes.fromhex("02 64 6C 76 C4 3C C6 7F 07 80 D0 FF 65 01 E4 0F")
SPEC_SENSE_FRAME_TS = 540368444604181604
SPEC_SENSE_DELTAS = bytes.fromhex("FC 07 FF 0C 13 F2")


def run_sequence(
    profile: PolarProfile | MicrobitProfile | Thingy52Profile, answers: Sequence[bytes | None]
) -> list[GattStep]:
    """Drive a start sequence, sending `answers` in turn; the steps it took until it ended."""
    steps: list[GattStep] = []
    sequence: Generator[GattStep, bytes | None, None] = profile.start_sequence()
    try:
        step = next(sequence)
        for answer in answers:
            steps.append(step)
            step = sequence.send(answer)
        steps.append(step)
    except StopIteration:
        return steps
    raise AssertionError(f"the sequence went on after {len(answers)} answers: {steps}")


def reply_of(profile: PolarProfile, *packets: bytes) -> bytes:
    """Feed control point notifications as the link does; the reply the start sequence gets."""
    messages = [profile.control_message(p) for p in packets]
    assert [m.kind for m in messages[:-1]] == [ControlKind.PARTIAL] * (len(packets) - 1)
    assert messages[-1].kind is ControlKind.REPLY, messages[-1]
    return messages[-1].data


def settings_blocks(request: bytes) -> set[bytes]:
    """A start request's settings as a set of [type, 1, value] blocks (order is not meaningful)."""
    blocks, i = set(), 2
    while i < len(request):
        size = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1}[request[i]]
        blocks.add(request[i : i + 2 + size])
        i += 2 + size
    return blocks


def test_h10_exchange_from_the_spec_figures() -> None:
    """SPEC figures 2 and 3, H10: the settings reply is read, the start request carries exactly the
    three setting types offered (no CHANNELS: the H10 does not offer it), and the start reply's
    one reserved byte (skipped by ATEST-tested PmdSetting.kt:42-44) is accepted: no FACTOR, so raw
    frames stay unscaled."""
    profile = PolarProfile(StreamConfig(rate_hz=200, range_g=8))
    profile.factor = 0.5  # left over from an earlier sensor: the new start must reset it
    get = next(seq := profile.start_sequence())
    assert isinstance(get, GattWrite) and get.data == bytes.fromhex("01 02")
    start = seq.send(reply_of(profile, SPEC_H10_SETTINGS))
    assert isinstance(start, GattWrite)
    assert settings_blocks(start.data) == settings_blocks(SPEC_H10_START)
    assert start.data[:2] == SPEC_H10_START[:2] and len(start.data) == len(SPEC_H10_START)
    with pytest.raises(StopIteration):
        seq.send(reply_of(profile, SPEC_H10_START_REPLY))
    assert profile.factor == 1.0 and profile.streaming
    assert (profile.rate_hz, profile.range_g) == (200, 8)


def test_verity_sense_exchange_from_the_spec_figures() -> None:
    """SPEC figures 2 and 3, Verity Sense: the start request is byte for byte the figure's (every
    offered setting, CHANNELS included, in type order) and FACTOR comes from the start reply."""
    profile = PolarProfile(StreamConfig(rate_hz=50, range_g=4))
    seq = profile.start_sequence()
    next(seq)
    start = seq.send(reply_of(profile, SPEC_SENSE_SETTINGS))
    assert isinstance(start, GattWrite) and start.data == SPEC_SENSE_START
    with pytest.raises(StopIteration):
        seq.send(reply_of(profile, SPEC_SENSE_START_REPLY))
    assert profile.factor == pytest.approx(SPEC_SENSE_FACTOR, rel=1e-9)
    assert (profile.rate_hz, profile.range_g) == (52, 8)  # the only values it offers


def test_h10_frame_from_the_spec_figure() -> None:
    """SPEC figure 3: raw int16 mG, timestamp of the last sample. The figure annotates x as -184
    mG; its bytes 45 FF are -187 (0xFF45), which is what any int16 reading gives."""
    packet = PolarProfile().decode(SPEC_H10_FRAME)
    np.testing.assert_allclose(packet.xyz, [[-0.187, -0.028, 0.949], [-0.187, -0.028, 0.952]], atol=1e-6)
    assert packet.t_last == pytest.approx(SPEC_H10_FRAME_TS * 1e-9, abs=1e-9)


def test_verity_sense_delta_frame_from_the_spec_figure() -> None:
    """SPEC figure 3: reference (-48, 357, 4068), then -48-4 = -52, 357+7 = 364, 4068-1 = 4067 and
    -52+12 = -40, 364+19 = 383, 4067-14 = 4053. The figure shows two of the block's 29 deltas, so
    the block's count byte is set to 2 to make a whole frame of what it shows."""
    frame = SPEC_SENSE_FRAME_HEAD + bytes((0x08, 0x02)) + SPEC_SENSE_DELTAS
    profile = PolarProfile()
    profile.factor = SPEC_SENSE_FACTOR
    packet = profile.decode(frame)
    counts = np.rint(packet.xyz / SPEC_SENSE_FACTOR)
    np.testing.assert_array_equal(counts, [[-48, 357, 4068], [-52, 364, 4067], [-40, 383, 4053]])
    assert float(np.linalg.norm(packet.xyz[0])) == pytest.approx(1.0, abs=0.01)  # at rest: 1 g
    assert packet.t_last == pytest.approx(SPEC_SENSE_FRAME_TS * 1e-9, abs=1e-9)


# ATEST model/AccDataTest.kt:27-71 "process acc raw data frame type 1": header and all 36 samples.
SDK_RAW1 = bytes.fromhex("02009435770000000001") + bytes.fromhex(
    "f7ffffffe703f8fffeffe503f9ffffffe503faffffffe603fafffeffe603f9ffffffe503f8ffffffe603f8fffeffe603"
    "faffffffe503faffffffe703faffffffe503f8ffffffe603f7ffffffe603f8fffeffe603f9fffeffe703f9ff0000e603"
    "f9ffffffe603f7fffeffe503f9ffffffe503f9ffffffe503faff0000e603f9fffeffe603f8ffffffe603f8ffffffe503"
    "f9ffffffe603f9ffffffe503faffffffe603f9ffffffe503f9ffffffe503f8fffeffe603f9ffffffe603f9ffffffe603"
    "f9ff0000e503f9fffeffe603f8fffeffe603f7fffeffe603"
)


def test_sdk_raw_type1_frame() -> None:
    """ATEST AccDataTest.kt:85-94: (-9, -1, 999) and (-8, -2, 997) mG first, 36 samples, the last
    at the frame's timestamp 2 000 000 000 ns; raw frames take no factor (model/AccData.kt:70-89)."""
    profile = PolarProfile()
    profile.factor = 2.44e-4  # must not apply to raw frames
    packet = profile.decode(SDK_RAW1)
    assert len(packet) == 216 // 6
    np.testing.assert_allclose(packet.xyz[:2], [[-0.009, -0.001, 0.999], [-0.008, -0.002, 0.997]], atol=1e-6)
    assert packet.t_last == pytest.approx(2.0)


# ATEST AccDataTest.kt:107-168 "process acc compressed data type 0": reference (1905, 27376,
# -29282), one block of 56 samples of 10 bits.
SDK_DELTA0 = bytes.fromhex("02009435770000000080") + bytes.fromhex(
    "7107f06a9e8d0a38be5cbeba2f96b3ee4be5adfb42b9ebbe4cfeba2f92bfee4be4b1fb12b9ecbd3c3ebb2f8fd3de4be3b5"
    "f7d2b8edbd307e7b2f8be3ce8be2baf7a2b8eebc20be7b2f88f3cecbe1bdef52f8efbc18fe3b2f8403bfcbe0c2ef32b8f0"
    "bb044ebc2e8113af0be0c6eff2f7f1b9fc7dbc2e7d279f4bdfcaebc2f7f2b8eccd7c2e7b378f4bdecee392f7f3b8e00dfd"
    "2d774b7fcbddd2df6237f5b7d44dbd2d745b6fcbdcd7d73237f6b5c88d7d2d716b4f4bdcdcd3f236f7b4bcddfd2c6f7b3f"
    "4bdbe0cfd236f8b2b02dbe2c6c8f1fcbdae3c7a276f9"
)


def test_sdk_compressed_type0_frame() -> None:
    """ATEST AccDataTest.kt:119-203 with FACTOR 2.44e-4: sample 1 = reference + (190, -105, -85)
    (:134-136), mG = (FACTOR x value x 1000).toInt() (:184-189), every value within ±8 G (:191-196),
    1 + 56 samples."""
    profile = PolarProfile()
    profile.factor = 2.44e-4
    packet = profile.decode(SDK_DELTA0)
    assert len(packet) == 57
    ref = np.array([1905, 27376, -29282])
    first_delta = np.array([190, -105, -85])
    sdk_mg = np.trunc(np.float32(2.44e-4) * np.stack([ref, ref + first_delta]) * np.float32(1000))
    np.testing.assert_array_equal(np.trunc(packet.xyz[:2].astype(np.float64) * 1000), sdk_mg)
    assert np.all(np.abs(packet.xyz) <= 8.0)


def test_sdk_compressed_type1_frame() -> None:
    """ATEST AccDataTest.kt:227-256: F1 FF 14 00 F0 03 | 06 01 | 7B 0F 08 -> (-15, 20, 1008) and
    (-20, 17, 1008) mG with factor 1."""
    frame = bytes.fromhex("02650000000000000081") + bytes.fromhex("f1ff1400f00306017b0f08")
    packet = PolarProfile().decode(frame)
    np.testing.assert_allclose(packet.xyz * 1000, [[-15, 20, 1008], [-20, 17, 1008]], atol=1e-3)


# ATEST AccDataTest.kt:263-281 `measurementFrameAccType0Short`: a Verity Sense capture the SDK keeps
# but does not decode; it stops 22 bytes into its second delta block.
SDK_TYPE0_SHORT = bytes.fromhex(
    "5dff9800fd0f062af2b013eca11b3ec3d0407fcd4071d8f34d00463f087b9fd73aaf3852a613ed3e130991dcfaeeef3e"
    "5410e28f7785eef24c7e04879cfcd22f10fd4feffe21ffc28104035f1345d1084adfbfb551447b50f739a1102e6f18f7"
    "9f1c364d1b0d030c1406d0fef7affffcbffff43f0117f000011000f8dfff00"
)


def test_sdk_verity_sense_capture_reads_one_g_and_its_cut_is_refused() -> None:
    """The capture's reference is -163 on x (AccDataTest.kt:283-287). Its first block (6-bit deltas,
    42 samples) decodes, at the spec's FACTOR, to |a| = 1 g within 0.5 % for all 43 samples: a
    sensor at rest, which checks scale, bit order and sign at once. The whole fixture is cut inside
    its second block (12 bits x 20 samples need 90 bytes, 22 remain): refused as truncated."""
    profile = PolarProfile()
    profile.factor = SPEC_SENSE_FACTOR
    header = bytes.fromhex("02009435770000000080")
    first_block = SDK_TYPE0_SHORT[: 6 + 2 + math.ceil(6 * 42 * 3 / 8)]
    packet = profile.decode(header + first_block)
    assert len(packet) == 43
    assert round(float(packet.xyz[0, 0]) / SPEC_SENSE_FACTOR) == -163
    np.testing.assert_allclose(np.linalg.norm(packet.xyz, axis=1), 1.0, atol=0.005)
    with pytest.raises(ValueError, match="declares 20 samples of 12 bits"):
        profile.decode(header + SDK_TYPE0_SHORT)


def test_sdk_setting_parsing_vectors() -> None:
    """ATEST PmdSettingTest.kt:11-59 (rates, resolution, four ranges, channels) and :65-92
    (RANGE_MILLIUNIT FF FF FF FF is -1: values are read signed, TypeUtils.convertArrayToSignedInt)."""
    with_range = bytes.fromhex("00 01 34 00 01 01 10 00 02 04 F5 00 F4 01 E8 03 D0 07 04 01 03")
    assert parse_settings(with_range) == {0: [52], 1: [16], 2: [245, 500, 1000, 2000], 4: [3]}
    milliunit = bytes.fromhex("0302ffffffffff00000001010e00")
    assert parse_settings(milliunit) == {3: [-1, 0xFF], 1: [14]}


def test_one_byte_parameters_are_no_setting() -> None:
    """POLAR A/PmdSetting.kt:42-44 returns no settings for parameter data of one byte or less (the
    H10's reserved start-reply byte); a negative value in a 2-byte field is refused as
    A/PmdSetting.kt:153-165 refuses it."""
    assert parse_settings(b"") == {} and parse_settings(b"\x01") == {}
    with pytest.raises(ValueError, match="negative"):
        parse_settings(bytes.fromhex("000100ff"))


def test_sdk_control_point_response_vectors() -> None:
    """ATEST BlePmdClientControlPointResponseTest.kt:36-57 (F0 01 02 00 00 FF FF FF: success, no
    more, parameters FF FF FF) and :80-93 (F0 01 06 07 00: ERROR_INVALID_RESOLUTION, no
    parameters) -- as the profile's reply handling sees them."""
    profile = PolarProfile()
    get = next(profile.start_sequence())  # now awaiting the answer to GET_MEASUREMENT_SETTINGS
    assert isinstance(get, GattWrite)
    message = profile.control_message(bytes.fromhex("F0 01 02 00 00 FF FF FF"))
    assert message.kind is ControlKind.REPLY and message.data[5:] == b"\xff\xff\xff"
    with pytest.raises(StreamStartError, match="ERROR_INVALID_RESOLUTION"):
        profile.read_settings_reply(get, bytes.fromhex("F0 01 06 07 00"))


def test_sdk_factor_vector() -> None:
    """ATEST BlePmdClientTest.kt:909-944: a start reply with FACTOR = floatToIntBits(2.5f)."""
    profile = PolarProfile()
    start = GattWrite("x", bytes.fromhex("0202"), await_reply=True, purpose="start ACC")
    profile.check_reply(start, bytes.fromhex("F002020000") + bytes((5, 1)) + struct.pack("<f", 2.5))
    assert profile.factor == 2.5


def test_more_packets_are_reassembled() -> None:
    """POLAR A/BlePMDClient.kt:214-221: while "more" is set, the next packet's parameters from byte 5
    on are appended. The spec's H10 settings reply split as a 23-byte MTU carries it (20 bytes per
    indication) reads back as the whole reply."""
    profile = PolarProfile(StreamConfig(rate_hz=100, range_g=4))
    seq = profile.start_sequence()
    next(seq)
    params = SPEC_H10_SETTINGS[5:]
    first = bytes.fromhex("F0 01 02 00 01") + params[:15]
    second = bytes.fromhex("F0 01 02 00 00") + params[15:]
    assert reply_of(profile, first, second) == SPEC_H10_SETTINGS
    start = seq.send(SPEC_H10_SETTINGS)
    assert isinstance(start, GattWrite) and (profile.rate_hz, profile.range_g) == (100, 4)


def test_measurement_stopped_while_awaiting_is_not_the_reply() -> None:
    """ATEST BlePmdClientTest.kt:165 and :180: `01` and `01 01 02` are the sensor's "online
    measurement stopped" (A/PmdControlPointCommand.kt:16-17), never a response
    (A/BlePMDClient.kt:121-146). While a reply is awaited they are passed over; once streaming,
    one naming ACC means the stream stopped; a response to another op is dropped as the SDK drops
    it (A/BlePMDClient.kt:194-195)."""
    profile = PolarProfile()
    seq = profile.start_sequence()
    next(seq)
    assert profile.control_message(bytes.fromhex("01 01 02")).kind is ControlKind.UNSOLICITED
    assert profile.control_message(bytes.fromhex("F0 03 02 00 00")).kind is ControlKind.UNSOLICITED
    seq.send(reply_of(profile, SPEC_SENSE_SETTINGS))
    with pytest.raises(StopIteration):
        seq.send(reply_of(profile, SPEC_SENSE_START_REPLY))
    assert profile.control_message(bytes.fromhex("01")).kind is ControlKind.UNSOLICITED
    stopped = profile.control_message(bytes.fromhex("01 01 02"))
    assert stopped.kind is ControlKind.STREAM_STOPPED and "stopped" in stopped.detail
    assert not profile.streaming


@pytest.mark.parametrize(
    ("status", "fix"),
    [(0x0D, "charger"), (0x0C, "another app"), (0x03, "H10 and the Verity Sense")],
)
def test_failed_settings_read_requests_nothing(status: int, fix: str) -> None:
    """No guessed fallback: the SDK's querySettings throws on a failed reply (A/BlePMDClient.kt:
    239-242), and any guess would be refused by one model (no 52 Hz or CHANNELS on the H10,
    nothing but 52 Hz on a Verity Sense outside SDK mode). The error names the status and a fix."""
    profile = PolarProfile(StreamConfig(rate_hz=50))
    seq = profile.start_sequence()
    next(seq)
    with pytest.raises(StreamStartError, match=fix) as info:
        seq.send(reply_of(profile, bytes((0xF0, 0x01, 0x02, status, 0x00))))
    assert "polar" in str(info.value) and "get ACC settings" in str(info.value)


@pytest.mark.parametrize(
    ("name", "ours"),
    [
        ("Polar H10 0A1B2C3D", True),
        ("Polar Sense B5A1F2C3", True),  # the Verity Sense's advertised name
        ("Polar Ignite 3 1A2B3C4D", False),  # watches need the SDK enabled on the watch
        ("Polar Vantage V3 1A2B3C4D", False),
        ("Polar Pacer Pro 1A2B3C4D", False),
        ("Polar H9 1A2B3C4D", False),  # heart rate only, no accelerometer
    ],
)
def test_name_match_claims_only_the_sensors(name: str, ours: bool) -> None:
    """POLAR documentation/UsingSDKWithWatches.md: watches stream only after the SDK is enabled on
    the watch and from the exercise wait view; PolarH10.md and PolarVeritySense.md list ACC."""
    adv = Advertisement(name, ["0000180d-0000-1000-8000-00805f9b34fb"])
    assert PolarProfile().matches(adv) is ours


# ==================================================================================== micro:bit


def key_value_find(table_us: Sequence[int], key: int) -> int:
    """CODAL source/core/CodalUtil.cpp:33-49 KeyValueTable::find, transcribed: from the last entry
    down, the lowest entry whose key is not below the request (else the last)."""
    result = table_us[-1]
    for entry in reversed(table_us):
        if entry < key:
            break
        result = entry
    return result


LSM303_US = (
    617,
    744,
    2500,
    5000,
    10000,
    20000,
    40000,
    100000,
    1000000,
)  # CODAL LSM303Accelerometer.cpp:57-67
MMA8653_US = (1250, 2500, 5000, 10000, 20000, 80000, 160000, 640000)  # DAL MMA8653.cpp:53-62
FXOS8700_US = (2500, 5000, 10000, 20000, 80000, 160000, 320000, 1280000)  # DAL FXOS8700.cpp:53-62


@pytest.mark.parametrize(
    ("board", "table", "scale"),
    [("V2 LSM303", LSM303_US, 1000), ("V1 MMA8653", MMA8653_US, 1000), ("V1 FXOS8700", FXOS8700_US, 2000)],
)
@pytest.mark.parametrize("rate", [1, 6, 12, 25, 40, 50, 75, 100, 200])
def test_microbit_uses_the_period_the_board_reads_back(
    board: str, table: Sequence[int], scale: int, rate: float
) -> None:
    """V2 MicroBitAccelerometerService.cpp:128-140 stores `accelerometer.getPeriod()` after the write;
    the drivers store `find(request * scale) / 1000` (CODAL LSM303Accelerometer.cpp:105, DAL
    MMA8653.cpp:101, FXOS8700.cpp:80 with twice the request). The profile takes the read-back."""
    profile = MicrobitProfile(StreamConfig(rate_hz=rate))
    write, read = run_sequence(profile, [None, None])[:2]
    assert isinstance(write, GattWrite) and isinstance(read, GattRead)
    (requested,) = struct.unpack("<H", write.data)
    stored_ms = key_value_find(table, requested * scale) // 1000
    profile.apply_period(struct.pack("<H", stored_ms))
    true_period_ms = {1: 1.25, 2: 2.5}.get(stored_ms, stored_ms)
    assert profile.rate_hz == pytest.approx(1000 / true_period_ms)
    packet = profile.decode(bytes(6))
    assert packet.period_s == pytest.approx(true_period_ms / 1000)
    if board.startswith("V2"):  # a V2 runs at exactly what sitbreak asks for
        assert stored_ms == requested


def test_microbit_twelve_hertz_is_ten_on_a_v2() -> None:
    """The issue's case: 10-15 Hz configured. sitbreak asks for 100 ms and a V2 keeps it (10 Hz);
    the old profile asked for 80 ms, which a V2 rounds up to 100 while sitbreak assumed 12.5 Hz."""
    profile = MicrobitProfile(StreamConfig(rate_hz=12))
    assert profile.requested_ms == 100 and key_value_find(LSM303_US, 100_000) == 100_000
    assert key_value_find(LSM303_US, 80_000) == 100_000


def test_microbit_values_are_1024_per_g_as_every_driver_computes_them() -> None:
    """A board lying flat (1 g on z) in the firmware's own arithmetic, at the default ±2 g:
    - V2 LSM303: 16-bit register 16384 -> / 32 -> x 2 = 1024 (CODAL LSM303Accelerometer.cpp:194-206)
    - V1 MMA8653: 8-bit register 64 -> x 8 -> x 2 = 1024 (DAL MMA8653.cpp:174-189)
    - V1 FXOS8700: 14-bit value left-aligned, 16384 -> x 2 / 32 = 1024 (DAL FXOS8700.cpp:241-243)
    The data characteristic carries these as int16 LE (V2 MicroBitAccelerometerService.cpp:77-82)."""
    lsm303 = int(16384 / 32) * 2
    mma8653 = 8 * 64 * 2
    fxos8700 = int(16384 * 2 / 32)
    for z in (lsm303, mma8653, fxos8700):
        packet = MicrobitProfile().decode(struct.pack("<3h", 0, 0, z))
        np.testing.assert_allclose(packet.xyz, [[0.0, 0.0, 1.0]])
    # -0.5 g on x from an LSM303: register -8192 -> -256 -> -512
    assert MicrobitProfile().decode(struct.pack("<3h", int(-8192 / 32) * 2, 0, 0)).xyz[0, 0] == -0.5


def test_microbit_unusable_period_read_back() -> None:
    profile = MicrobitProfile()
    with pytest.raises(StreamStartError, match="MakeCode"):
        profile.apply_period(b"\x14")
    with pytest.raises(StreamStartError, match="0 ms"):
        profile.apply_period(b"\x00\x00")


# ==================================================================================== Thingy:52


def thingy_raw_frame(accel_g: tuple[float, float, float]) -> bytes:
    """THINGY source/modules/m_motion.c:301-361 for the accelerometer: the driver's 16Q16 value is
    clamped to the Q6.10 integer range ([-32, 31], :306-345) and shifted right by 6 (:351-353);
    gyro and compass zero here. ble_tms_raw_t is packed little-endian (ble_tms.h:78-104)."""
    fields = []
    for g in accel_g:
        q16 = int(g * 65536)
        if (q16 >> 16) > 31:
            q16 = 31 << 16
        elif (q16 >> 16) < -32:
            q16 = -32 << 16
        fields.append(q16 >> 6)
    return struct.pack("<9h", *fields, 0, 0, 0, 0, 0, 0)


def test_thingy_raw_frame_built_as_the_firmware_builds_it() -> None:
    packet = Thingy52Profile().decode(thingy_raw_frame((1.0, -0.5, 40.0)))
    np.testing.assert_allclose(packet.xyz, [[1.0, -0.5, 31.0]])


@pytest.mark.parametrize(
    ("asked", "real"),
    [
        (30, 200 / 6),
        (50, 50.0),
        (10, 10.0),
        (33, 200 / 6),
        (28, 200 / 7),
        (5, 5.0),
        (200, 200.0),
        (199, 200.0),
    ],
)
def test_thingy_dmp_rate_quantisation(asked: int, real: float) -> None:
    """THINGY libs/eMD6/core/driver/eMPL/inv_mpu_dmp_motion_driver.c:496 and :708-710: div = 200 /
    rate - 1 (integer), so the FIFO runs at 200 / floor(200 / f); the issue's 30 Hz -> 33.3 Hz."""
    from monitor.wearables.profiles.thingy import dmp_rate_hz

    assert dmp_rate_hz(asked) == pytest.approx(real)


@pytest.mark.parametrize(
    ("wanted", "real"), [(1, 5.0), (30, 200 / 7), (52, 50.0), (60, 200 / 3), (500, 200.0)]
)
def test_thingy_profile_rate_is_a_reachable_dmp_rate(wanted: float, real: float) -> None:
    """5 Hz minimum (BLE_TMS_CONFIG_MPUF_MIN, ble_tms.h:164; "4 Hz minimum to mpu_set_sample_rate"),
    200 Hz maximum (:165); the rate is one the DMP really runs at."""
    assert Thingy52Profile(StreamConfig(rate_hz=wanted)).rate_hz == pytest.approx(real)


def test_thingy_start_keeps_the_other_motion_config_fields() -> None:
    """THINGY m_motion.c:215-224: every accepted config write is stored in flash and applied. The
    profile reads ble_tms_config_t (ble_tms.h:149-156), writes it back with only the frequency
    changed, and writes nothing when the board already runs at the rate wanted."""
    theirs = struct.pack("<HHHHB", 2000, 1000, 800, 10, 0)
    profile = Thingy52Profile(StreamConfig(rate_hz=50))
    read, write = run_sequence(profile, [theirs, None])
    assert isinstance(read, GattRead) and isinstance(write, GattWrite)
    assert struct.unpack("<HHHHB", write.data) == (2000, 1000, 800, 50, 0)
    assert profile.wrote_config

    already = struct.pack("<HHHHB", 2000, 1000, 800, 50, 0)
    again = Thingy52Profile(StreamConfig(rate_hz=50))
    (read,) = run_sequence(again, [already])
    assert isinstance(read, GattRead) and not again.wrote_config
    # 49 Hz runs the DMP at 50 Hz too (200 // 49 == 4): nothing to write either.
    same_rate = struct.pack("<HHHHB", 2000, 1000, 800, 49, 0)
    assert len(run_sequence(Thingy52Profile(StreamConfig(rate_hz=50)), [same_rate])) == 1


def test_thingy_config_of_the_wrong_size_is_a_named_error() -> None:
    with pytest.raises(StreamStartError, match="9-byte ble_tms_config_t"):
        run_sequence(Thingy52Profile(), [b"\x00" * 8])
