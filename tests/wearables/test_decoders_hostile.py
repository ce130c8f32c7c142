"""Whatever a wearable sends, every profile's decoder returns a packet or raises DecodeError, its
control point classifier returns a message, and the packet assembler hands on only data timed in
order and never after its arrival plus the tolerance (issue 11, "Hostile input").

Valid frames are built as each vendor's firmware builds them (the arithmetic is written out here,
as in test_vendor_golden.py: SitSense from docs/firmware-protocol.md, the micro:bit's int16
1024-per-g sample, the Thingy's Q6.10 raw record, Polar's PMD header with raw int8/16/24 mG samples
or a 16-bit reference and delta blocks, bits least significant first, channel after channel), then
mutated: bytes overwritten, cut, repeated, grown. Arbitrary bytes go through as well.
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.core.links import LinkEvent
from monitor.core.types import SampleBlock
from monitor.wearables import sitsense_format as fmt
from monitor.wearables.assembler import PacketAssembler, Who
from monitor.wearables.devclock import DEVICE_CLOCK_TOLERANCE_S, ArrivalCheck
from monitor.wearables.profiles import (
    ControlMessage,
    DecodedPacket,
    DecodeError,
    DeviceProfile,
    GattRead,
    GattWrite,
    PolarProfile,
    ProfileName,
    StreamConfig,
    StreamStartError,
    make_profile,
)
from monitor.wearables.profiles.polar import CONTROL_UUID, MAX_FACTOR, OP_GET_SETTINGS, OP_START
from monitor.wearables.settings import LinkSettings
from monitor.wearables.timeline import PacketTimeline, Verdict
from tests.conftest import examples

T0 = 1_700_000_000.0
INT16 = st.integers(-32768, 32767)

# ------------------------------------------------------------------ frames as the firmware builds them


@st.composite
def sitsense_frames(draw: st.DrawFn) -> bytes:
    """docs/firmware-protocol.md: version 1 | flags, seq, t0 ms, count, rate | range, int16 x, y, z."""
    n = draw(st.integers(1, 84))  # up to what an MTU of 517 holds
    counts = draw(st.lists(st.tuples(INT16, INT16, INT16), min_size=n, max_size=n))
    flags = draw(st.integers(0, 15))
    header = struct.pack(
        "<BHIBB",
        (1 << 4) | flags,
        draw(st.integers(0, 65535)),
        draw(st.integers(0, 2**32 - 1)),
        n,
        (draw(st.sampled_from([0, 1, 2])) << 4) | draw(st.sampled_from([0, 1, 2])),
    )
    return header + b"".join(struct.pack("<3h", *c) for c in counts)


@st.composite
def microbit_frames(draw: st.DrawFn) -> bytes:
    """One sample: int16 x, y, z little-endian, 1024 per g (MicroBitAccelerometerService.cpp)."""
    return struct.pack("<3h", draw(INT16), draw(INT16), draw(INT16))


@st.composite
def thingy_frames(draw: st.DrawFn) -> bytes:
    """ble_tms_raw_t: accel Q6.10, gyro, compass, each int16 x, y, z (m_motion.c:301-361)."""
    return struct.pack("<9h", *(draw(INT16) for _ in range(9)))


def pack_deltas(deltas: list[tuple[int, int, int]], width: int) -> bytes:
    """Two's-complement `width`-bit values, least significant bit first, x, y, z per sample
    (A/BlePMDClient.kt:527-608)."""
    bits: list[int] = []
    for sample in deltas:
        for value in sample:
            raw = value & ((1 << width) - 1)
            bits += [(raw >> b) & 1 for b in range(width)]
    bits += [0] * (-len(bits) % 8)
    return bytes(sum(bit << k for k, bit in enumerate(bits[i : i + 8])) for i in range(0, len(bits), 8))


@st.composite
def polar_frames(draw: st.DrawFn) -> bytes:
    """PMD ACC frame: type 2, uint64 ns of the last sample, frame type, samples (A/PmdDataFrame.kt)."""
    header = bytes((0x02,)) + draw(st.integers(0, 2**64 - 1)).to_bytes(8, "little")
    kind = draw(st.sampled_from(["raw8", "raw16", "raw24", "delta"]))
    if kind != "delta":
        size = {"raw8": 1, "raw16": 2, "raw24": 3}[kind]
        n = draw(st.integers(1, 504 // (3 * size)))
        limit = 1 << (8 * size - 1)
        values = draw(st.lists(st.integers(-limit, limit - 1), min_size=3 * n, max_size=3 * n))
        body = b"".join(v.to_bytes(size, "little", signed=True) for v in values)
        return header + bytes((size - 1,)) + body
    # 16-bit readings (the sensor's resolution), sent as the first one and the differences to each
    # next, in blocks each as wide as its largest difference needs
    n = draw(st.integers(1, 60))
    samples = draw(st.lists(st.tuples(INT16, INT16, INT16), min_size=n, max_size=n))
    body = struct.pack("<3h", *samples[0])
    deltas = [(q[0] - p[0], q[1] - p[1], q[2] - p[2]) for p, q in itertools.pairwise(samples)]
    while deltas:
        count = draw(st.integers(1, min(len(deltas), 255)))
        block, deltas = deltas[:count], deltas[count:]
        width = max(2, max(abs(v) for d in block for v in d).bit_length() + 1)
        body += bytes((width, count)) + pack_deltas(block, width)
    return header + bytes((draw(st.sampled_from([0x80, 0x81])),)) + body


FRAMES: dict[ProfileName, Callable[[], st.SearchStrategy[bytes]]] = {
    ProfileName.SITSENSE: sitsense_frames,
    ProfileName.MICROBIT: microbit_frames,
    ProfileName.THINGY52: thingy_frames,
    ProfileName.POLAR: polar_frames,
}


@st.composite
def mutated(draw: st.DrawFn, frames: st.SearchStrategy[bytes]) -> bytes:
    """A valid frame with a few bytes overwritten, a cut, a repeat or a tail added."""
    data = bytearray(draw(frames))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["set", "cut", "grow", "repeat"]))
        if op == "set" and data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        elif op == "cut" and data:
            data = data[: draw(st.integers(0, len(data) - 1))]
        elif op == "grow":
            data += draw(st.binary(min_size=1, max_size=12))
        elif op == "repeat" and data:
            data += data[: draw(st.integers(1, len(data)))]
    return bytes(data)


def payloads(name: ProfileName) -> st.SearchStrategy[bytes]:
    frames = FRAMES[name]()
    return st.one_of(frames, mutated(frames), st.binary(max_size=600))


# ------------------------------------------------------------------ the decoders


def polar_factor_profile(factor: float) -> PolarProfile:
    profile = PolarProfile(StreamConfig(rate_hz=52, range_g=8))
    profile.factor = factor
    return profile


FACTORS = st.sampled_from([1.0, 0.000244, MAX_FACTOR]) | st.floats(min_value=1e-9, max_value=MAX_FACTOR)


def value_bound(name: ProfileName, data: bytes, profile: DeviceProfile) -> float:
    """The largest |g| the format can express for this frame."""
    if name is ProfileName.SITSENSE:
        return fmt.RANGE_CODES[data[8] & 0xF]  # full scale at the frame's range code
    if name in (ProfileName.MICROBIT, ProfileName.THINGY52):
        return 32768 / 1024
    assert isinstance(profile, PolarProfile)
    frame_type = data[9]
    if frame_type & 0x80:  # 16-bit counts times FACTOR, in G (type 0) or mG (type 1)
        return 32768 * profile.factor * (1.0 if frame_type & 0x7F == 0 else 1e-3)
    return (1 << (8 * (frame_type + 1) - 1)) * 1e-3  # raw int8/16/24 mG


def check_decoded(name: ProfileName, profile: DeviceProfile, data: bytes) -> DecodedPacket | None:
    try:
        packet = profile.decode(data)
    except DecodeError as exc:
        assert exc.profile is name and exc.length == len(data)
        return None
    assert isinstance(packet, DecodedPacket)
    assert packet.xyz.dtype == np.float32 and packet.xyz.ndim == 2 and packet.xyz.shape[1] == 3
    assert len(packet) >= 1
    assert np.all(np.isfinite(packet.xyz))
    assert float(np.max(np.abs(packet.xyz))) <= value_bound(name, data, profile) * (1 + 1e-6)
    for t in (packet.t_first, packet.t_last):
        assert t is None or (math.isfinite(t) and t >= 0)
    assert packet.period_s is None or (math.isfinite(packet.period_s) and packet.period_s > 0)
    if packet.seq is not None:
        assert profile.seq_modulus is not None and 0 <= packet.seq < profile.seq_modulus
    return packet


HOSTILE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HOSTILE
@given(st.data())
def test_sitsense_decodes_or_refuses(data: st.DataObject) -> None:
    check_decoded(ProfileName.SITSENSE, make_profile("sitsense"), data.draw(payloads(ProfileName.SITSENSE)))


@HOSTILE
@given(st.data())
def test_microbit_decodes_or_refuses(data: st.DataObject) -> None:
    check_decoded(ProfileName.MICROBIT, make_profile("microbit"), data.draw(payloads(ProfileName.MICROBIT)))


@HOSTILE
@given(st.data())
def test_thingy_decodes_or_refuses(data: st.DataObject) -> None:
    check_decoded(ProfileName.THINGY52, make_profile("thingy52"), data.draw(payloads(ProfileName.THINGY52)))


@HOSTILE
@given(st.data(), FACTORS)
def test_polar_decodes_or_refuses(data: st.DataObject, factor: float) -> None:
    profile = polar_factor_profile(factor)
    check_decoded(ProfileName.POLAR, profile, data.draw(payloads(ProfileName.POLAR)))


def test_valid_frames_do_decode() -> None:
    """The generators make frames the decoders take (so the mutations start from real frames)."""

    @settings(max_examples=50)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        for name, frames in FRAMES.items():
            profile = polar_factor_profile(0.000244) if name is ProfileName.POLAR else make_profile(name)
            assert check_decoded(name, profile, data.draw(frames())) is not None

    run()


# ------------------------------------------------------------------ control point and start replies


@HOSTILE
@given(st.sampled_from(list(ProfileName)), st.lists(st.binary(max_size=40), max_size=6))
def test_control_messages_are_classified_whatever_arrives(name: ProfileName, packets: list[bytes]) -> None:
    profile = make_profile(name)
    for data in packets:
        assert isinstance(profile.control_message(data), ControlMessage)


# Setting type -> bytes per value (A/PmdSetting.kt:126-136).
SETTING_SIZES = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4}


def setting_values(setting: int, count: int) -> st.SearchStrategy[bytes]:
    """`count` values of a setting type: small numbers (0 Hz and negatives too) for the 1- and 2-byte
    types, any float32 for FACTOR (NaN, infinities, 0, huge), any bytes otherwise."""
    size = SETTING_SIZES.get(setting, 2)
    if setting == 5:
        value = st.floats(width=32, allow_nan=True, allow_infinity=True).map(lambda f: struct.pack("<f", f))
    elif size <= 2:
        value = st.integers(-2, 300 if size == 2 else 120).map(
            lambda v: v.to_bytes(size, "little", signed=True)
        )
    else:
        value = st.binary(min_size=size, max_size=size)
    return st.lists(value, min_size=count, max_size=count).map(b"".join)


@st.composite
def pmd_settings(draw: st.DrawFn) -> bytes:
    """Settings as the SDK reads them, [type, count, values...]..., now and then cut short or with a
    type no sensor has."""
    out = b""
    for setting in draw(st.lists(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 5, 9]), max_size=5)):
        count = draw(st.integers(0, 3))
        out += bytes((setting, count)) + draw(setting_values(setting, count))
    return out[: draw(st.integers(0, len(out)))] if draw(st.integers(0, 9)) == 0 else out


@st.composite
def pmd_responses(draw: st.DrawFn, op: int) -> bytes:
    """An answer to `op`: mostly a well-framed PMD response [F0, op, ACC, status, more, params...]
    with settings in it, sometimes for another op, cut short, a sensor message or any bytes."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=24))
    params = draw(pmd_settings() | st.binary(max_size=30))
    head = bytes(
        (
            0xF0 if kind > 1 else draw(st.sampled_from([0x01, 0x00])),
            op if kind > 2 else draw(st.sampled_from([OP_GET_SETTINGS, OP_START, 3])),
            draw(st.sampled_from([2, 2, 2, 9])),
            draw(st.sampled_from([0, 0, 0, 0, 3, 12])),
            draw(st.sampled_from([0, 0, 0, 1])),
        )
    )
    return head + params if kind > 3 else head[: draw(st.integers(0, 5))]


@HOSTILE
@given(st.data())
def test_a_polar_start_takes_any_answers_or_refuses_them(data: st.DataObject) -> None:
    """The control point answers go through control_message as the link hands them over, REPLY data
    into the start sequence: the start completes with a usable rate and FACTOR, or raises
    StreamStartError. Never another exception."""
    profile = PolarProfile(StreamConfig(rate_hz=50, range_g=8))
    sequence = profile.start_sequence()
    step = next(sequence)
    try:
        for _ in range(8):
            assert isinstance(step, GattWrite) and step.char_uuid == CONTROL_UUID
            message = profile.control_message(data.draw(pmd_responses(step.data[0])))
            if message.kind.value != "reply":
                continue
            step = sequence.send(message.data)
    except StopIteration:
        assert profile.streaming
        assert math.isfinite(profile.rate_hz) and profile.rate_hz > 0
        assert math.isfinite(profile.factor) and 0 < profile.factor <= MAX_FACTOR
    except StreamStartError:
        pass


@HOSTILE
@given(
    st.sampled_from([ProfileName.MICROBIT, ProfileName.THINGY52]),
    st.lists(st.binary(max_size=12), max_size=3),
)
def test_micro_bit_and_thingy_starts_take_any_read_back(name: ProfileName, values: list[bytes]) -> None:
    profile = make_profile(name)
    sequence = profile.start_sequence()
    try:
        step = next(sequence)
        for value in values:
            step = sequence.send(value if isinstance(step, GattRead) else None)
    except StopIteration:
        pass
    except StreamStartError:
        return
    assert math.isfinite(profile.rate_hz) and profile.rate_hz > 0


# ------------------------------------------------------------------ the assembler and the timeline


@dataclass
class Stream:
    """What the assembler handed on, with the newest arrival at each hand-over."""

    arrival: float = T0
    blocks: list[tuple[SampleBlock, float]] | None = None

    def __post_init__(self) -> None:
        self.blocks = []

    def emit(self, item: SampleBlock | LinkEvent) -> None:
        assert isinstance(item, SampleBlock | LinkEvent)
        if isinstance(item, SampleBlock):
            assert self.blocks is not None
            self.blocks.append((item, self.arrival))


@st.composite
def arrivals_and_payloads(draw: st.DrawFn, name: ProfileName) -> list[tuple[float, bytes]]:
    """Up to 60 notifications, each after 0 s to a few seconds (now and then hours)."""
    gap = st.sampled_from([0.0, 0.001, 0.02, 0.2]) | st.floats(0.0, 5.0) | st.sampled_from([3600.0, 86400.0])
    items = st.tuples(gap, payloads(name) | stream_frames(name))
    return draw(st.lists(items, min_size=1, max_size=60))


@st.composite
def stream_frames(draw: st.DrawFn, name: ProfileName) -> bytes:
    """Frames that look like a stream (SitSense: small sequence and time steps), so the timeline's
    rules get exercised, not only its refusals."""
    if name is not ProfileName.SITSENSE:
        return draw(FRAMES[name]())
    seq = draw(st.integers(0, 40))
    t0_ms = seq * 200 + draw(st.sampled_from([0, 0, 0, 20, -20, 2000, -2000, 60_000, -60_000]))
    n = 10
    counts = np.zeros((n, 3), dtype=np.int16)
    return fmt.encode_packet(seq, t0_ms, 50, 8, counts, flags=draw(st.sampled_from([0, 0, 1, 2])))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=examples(200))
@given(st.data(), st.sampled_from(list(ProfileName)), st.booleans())
def test_the_assembler_hands_on_data_in_order_never_after_its_arrival(
    data: st.DataObject, name: ProfileName, new_sessions: bool
) -> None:
    profile = polar_factor_profile(0.000244) if name is ProfileName.POLAR else make_profile(name)
    out = Stream()
    assembler = PacketAssembler(profile, LinkSettings(block_max_s=2.0), out.emit, Who("hostile", "-"))
    assembler.new_session()
    now = 0.0
    for k, (gap, payload) in enumerate(data.draw(arrivals_and_payloads(name))):
        now += gap
        out.arrival = T0 + now
        assembler.push(payload, now, T0 + now)
        if k % 7 == 6:
            assembler.flush()
        if new_sessions and k % 11 == 10:
            assembler.end_session()
            assembler.new_session()
    assembler.end_session()
    assert out.blocks is not None
    last = -math.inf
    for block, newest_arrival in out.blocks:
        assert len(block) > 0 and np.all(np.isfinite(block.xyz)) and np.all(np.isfinite(block.t))
        assert float(block.t[0]) > last and np.all(np.diff(block.t) > 0)
        assert float(block.t[-1]) <= newest_arrival + DEVICE_CLOCK_TOLERANCE_S + 1e-6
        last = float(block.t[-1])


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=examples(200))
@given(st.data(), st.sampled_from(list(ProfileName)))
def test_every_accepted_packet_is_timed_by_its_own_arrival(data: st.DataObject, name: ProfileName) -> None:
    """The same on the timeline, packet by packet: each accepted packet's last sample is no later
    than its own arrival plus the tolerance."""
    profile = polar_factor_profile(0.000244) if name is ProfileName.POLAR else make_profile(name)
    timeline = PacketTimeline(
        profile.period_s,
        seq_modulus=profile.seq_modulus,
        time_modulus_s=profile.time_modulus_s,
        check=ArrivalCheck(),
    )
    arrival = T0
    last = -math.inf
    for gap, payload in data.draw(arrivals_and_payloads(name)):
        arrival += gap
        try:
            packet = profile.decode(payload)
        except DecodeError:
            continue
        placed = timeline.push(packet, arrival)
        if placed.verdict is not Verdict.ACCEPTED:
            continue
        assert placed.t is not None and len(placed.t) + placed.start <= len(packet)
        assert float(placed.t[0]) > last and np.all(np.diff(placed.t) > 0)
        assert float(placed.t[-1]) <= arrival + DEVICE_CLOCK_TOLERANCE_S + 1e-6
        last = float(placed.t[-1])


def test_a_polar_offering_only_0_hz_or_answering_a_nan_factor_does_not_start() -> None:
    """Found by the property above: a settings reply offering 0 Hz made the profile's rate 0 (every
    period a division by zero, the pipeline refusing it), and a FACTOR of NaN made every sample
    NaN. Both are refused at the start now."""
    profile = PolarProfile(StreamConfig(rate_hz=50, range_g=8))
    sequence = profile.start_sequence()
    next(sequence)
    try:
        sequence.send(bytes.fromhex("F0 01 02 00 00 00 01 00 00"))  # SAMPLE_RATE: 0
    except StreamStartError as exc:
        assert "sample rate" in str(exc)
    else:
        raise AssertionError("0 Hz accepted")
    profile = PolarProfile(StreamConfig(rate_hz=50, range_g=8))
    sequence = profile.start_sequence()
    next(sequence)
    sequence.send(bytes.fromhex("F0 01 02 00 00 00 01 34 00"))  # 52 Hz
    nan = struct.pack("<f", math.nan)
    try:
        sequence.send(bytes.fromhex("F0 02 02 00 00 05 01") + nan)
    except StreamStartError as exc:
        assert "FACTOR" in str(exc)
    else:
        raise AssertionError("a NaN FACTOR accepted")
    assert profile.factor == 1.0
