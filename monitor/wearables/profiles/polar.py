"""Polar Verity Sense / H10 accelerometer over the Polar Measurement Data (PMD) service.

Every rule here is taken from Polar's own material and cited where it is used; the citations name
polarofficial/polar-ble-sdk at commit 8fb5311c8f63fd58fdd03df1b46cbb2e8f05209e with these short forms:

- `A/` = sources/Android/android-communications/library/src/main/java/com/polar/androidcommunications/
  api/ble/model/gatt/client/pmd/ (the Android SDK's PMD client, in Kotlin)
- `I/` = sources/iOS/ios-communications/Sources/iOSCommunications/ble/api/model/gatt/client/pmd/
- `spec` = technical_documentation/online_measurement.pdf ("Polar Measurement Data", version 1.0,
  August 2024): table 5 (settings, p. 4), figure 2 (settings replies, p. 13), figure 3 (start
  replies and first frames, p. 14)

The conversation (spec figures 2 and 3, A/BlePMDClient.kt:210-223 and :301-317):

1. GET_MEASUREMENT_SETTINGS `01 02`; the sensor answers which values it offers per setting type
   (H10: rates 25/50/100/200 Hz, resolution 16, ranges 2/4/8 G; Verity Sense outside SDK mode:
   52 Hz, 16, 8 G and CHANNELS 3).
2. REQUEST_MEASUREMENT_START `02 02` + one value for EVERY setting type the sensor offered and for
   no other (spec figure 3 sends CHANNELS to the Verity Sense, which offers it, and not to the H10,
   which does not).
3. The start reply's parameters: the H10 sends one reserved byte (`F0 02 02 00 00 01`, spec figure
   3), which the SDK skips because parameter data of one byte or less is no setting
   (A/PmdSetting.kt:42-44; I/PmdSetting.swift:40 needs three bytes); the Verity Sense sends FACTOR
   (`05 01 40 DA 7F 39` = 0.000244, spec figure 3), the scale of its compressed samples.

Control point notifications are not all replies (A/BlePMDClient.kt:119-150, :181-207): a first byte
other than 0xF0 is a message from the sensor (0x01 = online measurement stopped, followed by the
measurement types, A/PmdControlPointCommand.kt:16-17), and a response for another op code than the
one awaited is skipped. A reply whose "more" byte is set continues in further packets, each with its
own 5-byte header, whose parameters are appended (A/BlePMDClient.kt:214-221; "more" counts only on
SUCCESS, A/PmdControlPointResponse.kt:35-36).

Data frames (A/PmdDataFrame.kt:17-33, spec table 6): byte 0 measurement type (low 6 bits,
A/PmdMeasurementType.kt:29-33), bytes 1..8 uint64 LE timestamp in ns since 2000-01-01T00:00:00Z on
the sensor clock of the LAST sample of the frame, byte 9 frame type (bit 7 = delta-compressed),
samples from byte 10. ACC samples (A/model/AccData.kt:70-140): raw type 0/1/2 = int8/int16/int24
x,y,z in mG with no factor; compressed type 1 (0x81) = mG times FACTOR; compressed type 0 (0x80,
Verity Sense) = G times FACTOR. Delta compression (A/BlePMDClient.kt:527-608): a reference sample
(3 x int16 LE), then blocks [bit width, sample count, ceil(width*count*3/8) bytes], bits read least
significant first, channel after channel; each delta is a two's-complement number added to the
previous sample.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from monitor.core.types import Float32Array, Placement
from monitor.wearables.profiles.base import (
    Advertisement,
    ControlKind,
    ControlMessage,
    DecodedPacket,
    DecodeError,
    DecodeErrorKind,
    DeviceProfile,
    GattStep,
    GattWrite,
    ProfileName,
    StreamConfig,
    StreamStartError,
    nearest,
)

# A/BlePMDClient.kt:519-525
SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

# A/PmdControlPointCommand.kt:3-9 (client to sensor) and :16-17 (sensor to client)
OP_GET_SETTINGS = 0x01
OP_START = 0x02
OP_STOP = 0x03
SENSOR_MEASUREMENT_STOPPED = 0x01
MEASUREMENT_ACC = 0x02  # A/PmdMeasurementType.kt:6
MEASUREMENT_TYPE_MASK = 0x3F  # A/PmdMeasurementType.kt:29
RESPONSE_CODE = 0xF0  # A/PmdControlPointResponse.kt:5
RESPONSE_HEADER_BYTES = 5  # [0xF0, op, type, status, more], A/PmdControlPointResponse.kt:8-12
STATUS_SUCCESS = 0

# Setting types and their field sizes, A/PmdSetting.kt:12-20 and :126-136, spec table 5.
SETTING_SAMPLE_RATE = 0
SETTING_RESOLUTION = 1
SETTING_RANGE = 2
SETTING_RANGE_MILLIUNIT = 3
SETTING_CHANNELS = 4
SETTING_FACTOR = 5
SETTING_FIELD_SIZE = {
    SETTING_SAMPLE_RATE: 2,
    SETTING_RESOLUTION: 2,
    SETTING_RANGE: 2,
    SETTING_RANGE_MILLIUNIT: 4,
    SETTING_CHANNELS: 1,
    SETTING_FACTOR: 4,
}
SETTING_NAMES = {
    SETTING_SAMPLE_RATE: "SAMPLE_RATE",
    SETTING_RESOLUTION: "RESOLUTION",
    SETTING_RANGE: "RANGE",
    SETTING_RANGE_MILLIUNIT: "RANGE_MILLIUNIT",
    SETTING_CHANNELS: "CHANNELS",
    SETTING_FACTOR: "FACTOR",
}

# Status names, A/PmdControlPointResponse.kt:15-31, for readable errors.
STATUS_NAMES = (
    "SUCCESS",
    "ERROR_INVALID_OP_CODE",
    "ERROR_INVALID_MEASUREMENT_TYPE",
    "ERROR_NOT_SUPPORTED",
    "ERROR_INVALID_LENGTH",
    "ERROR_INVALID_PARAMETER",
    "ERROR_ALREADY_IN_STATE",
    "ERROR_INVALID_RESOLUTION",
    "ERROR_INVALID_SAMPLE_RATE",
    "ERROR_INVALID_RANGE",
    "ERROR_INVALID_MTU",
    "ERROR_INVALID_NUMBER_OF_CHANNELS",
    "ERROR_INVALID_STATE",
    "ERROR_DEVICE_IN_CHARGER",
    "ERROR_DISK_FULL",
)
STATUS_NOT_SUPPORTED = 3
STATUS_INVALID_PARAMETER = 5
STATUS_INVALID_STATE = 12
STATUS_DEVICE_IN_CHARGER = 13
# What a person can do about a refusal; statuses not listed get the generic advice.
STATUS_FIXES = {
    STATUS_NOT_SUPPORTED: "this Polar does not stream the accelerometer over PMD as it is set up; "
    "sitbreak supports the H10 and the Verity Sense in their normal sensor mode",
    STATUS_INVALID_PARAMETER: "the sensor refused a setting it offered a moment before; "
    "switch it off and on (a firmware update may have changed its settings) and try again",
    STATUS_INVALID_STATE: "another app may be streaming or recording on the sensor: close Polar "
    "apps on nearby phones, or switch the sensor off and on",
    STATUS_DEVICE_IN_CHARGER: "take the sensor off its charger",
}
GENERIC_FIX = "switch the sensor off and on and try again; if it persists, update its firmware"

HEADER_BYTES = 10
COMPRESSED_BIT = 0x80  # A/PmdDataFrame.kt:13
FRAME_TYPE_MASK = 0x7F  # A/PmdDataFrame.kt:14
# ns since 2000-01-01T00:00:00Z (the Polar epoch) -> s; the link maps the sensor clock to UTC.
NS = 1e-9
# ACC delta frames always carry 16-bit reference samples (A/model/AccData.kt:118 and :131), and the
# sensor's samples are 16-bit (its RESOLUTION setting): a delta-compressed sample outside that range
# is no reading, and the frame is refused.
RESOLUTION_BITS = 16
SAMPLE_MIN = -(1 << (RESOLUTION_BITS - 1))
SAMPLE_MAX = (1 << (RESOLUTION_BITS - 1)) - 1
# FACTOR scales a 16-bit count to G (type 0) or mG (type 1): the Verity Sense's is 0.000244 (8 G
# over 32768 counts, spec figure 3), 1 for mG. A FACTOR that is not a positive finite number up to
# this is refused at the start (it would turn every sample into nonsense, infinity or NaN).
MAX_FACTOR = 16.0
# A notification can never exceed the largest ATT MTU (517) minus the 3-byte ATT header.
MAX_FRAME_BYTES = 514
MAX_DELTA_WIDTH = 32

# What each setting type is set to when the sensor offers more than one value: the requested rate
# and range (nearest offered), 16-bit resolution (the decoder's reference samples are 16-bit) and 3
# channels (x, y, z); for any other type the largest value, as the SDK's maxSettings
# (A/PmdSetting.kt:104-110).
PREFERRED_RESOLUTION = 16
PREFERRED_CHANNELS = 3

# The rate and range assumed until the sensor says what it offers (only `rate_hz` before the first
# connection uses them): the H10's and the Verity Sense's published choices
# (documentation/products/PolarH10.md, PolarVeritySense.md in the SDK repository).
NOMINAL_RATES_HZ: tuple[int, ...] = (25, 50, 52, 100, 200)
NOMINAL_RANGES_G: tuple[int, ...] = (2, 4, 8)

# Polar sensors that stream the accelerometer in their normal mode, by advertised name
# ("Polar <model> <device id>", .../api/ble/model/advertisement/BleAdvertisementContent.kt:41-56 in
# the Android sources; the Verity Sense advertises "Polar Sense", sources/iOS/ios-communications/
# Tests/PolarBleSdkTests/PolarBleApiImplTests.swift:410). Polar watches also carry
# "Polar " names but stream only after the SDK has been enabled on the watch and from the exercise
# wait view (documentation/UsingSDKWithWatches.md), so sitbreak does not claim them.
SENSOR_NAME_PREFIXES: tuple[str, ...] = ("Polar H10 ", "Polar Sense ")

_RAW_SAMPLE_BYTES = {0: 1, 1: 2, 2: 3}


def pmd_request(op: int, settings: Mapping[int, int] | None = None) -> bytes:
    """A control point request for ACC: [op, ACC, (type, 1, value LE)...] (A/PmdSetting.kt:85-102)."""
    out = bytearray((op, MEASUREMENT_ACC))
    for setting, value in (settings or {}).items():
        size = SETTING_FIELD_SIZE[setting]
        out += bytes((setting, 1)) + (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    return bytes(out)


def parse_settings(params: bytes) -> dict[int, list[float]]:
    """[type, count, value...]... -> {type: values}, as A/PmdSetting.kt:40-67 reads them.

    Parameter data of one byte or less holds no setting (the H10's reserved start-reply byte) and
    gives {} (A/PmdSetting.kt:42-44). Values are signed little-endian integers of the type's size
    (TypeUtils.convertArrayToSignedInt, common/ble/TypeUtils.kt:40-49); FACTOR is the float32 with
    those bits (A/BlePMDClient.kt:75-82). A negative value in a 1- or 2-byte field is refused, as
    A/PmdSetting.kt:153-165 refuses it. Raises ValueError for anything the SDK would not parse.
    """
    out: dict[int, list[float]] = {}
    if len(params) <= 1:
        return out
    i = 0
    while i < len(params):
        if i + 2 > len(params):
            raise ValueError(f"setting header cut at byte {i}")
        setting, count = params[i], params[i + 1]
        i += 2
        size = SETTING_FIELD_SIZE.get(setting)
        if size is None:
            raise ValueError(f"unknown setting type {setting} at byte {i - 2}")
        if i + size * count > len(params):
            raise ValueError(f"{SETTING_NAMES[setting]} declares {count} values but the parameters end")
        values: list[float] = []
        for _ in range(count):
            chunk = params[i : i + size]
            i += size
            if setting == SETTING_FACTOR:
                values.append(struct.unpack("<f", chunk)[0])
                continue
            value = int.from_bytes(chunk, "little", signed=True)
            if value < 0 and size <= 2:
                raise ValueError(f"{SETTING_NAMES[setting]} value {value} is negative")
            values.append(value)
        out[setting] = values
    return out


def unpack_deltas(buf: bytes | memoryview, width: int, count: int, channels: int = 3) -> np.ndarray:
    """`count` samples of `channels` signed `width`-bit deltas, bits least-significant first."""
    nbits = width * count * channels
    bits = np.unpackbits(np.frombuffer(buf, dtype=np.uint8), bitorder="little")[:nbits]
    weights = np.left_shift(np.int64(1), np.arange(width, dtype=np.int64))
    values = bits.reshape(-1, width).astype(np.int64) @ weights
    values = np.where(values >= (1 << (width - 1)), values - (1 << width), values)
    return values.reshape(count, channels)


def status_name(status: int) -> str:
    return STATUS_NAMES[status] if status < len(STATUS_NAMES) else f"status {status}"


@dataclass(slots=True)
class _Awaited:
    """The control point answer being waited for, and the packets of it that came so far."""

    op: int
    header: bytes = b""
    params: bytearray = field(default_factory=bytearray)
    packets: int = 0


class PolarProfile(DeviceProfile):
    name: ClassVar[ProfileName] = ProfileName.POLAR
    title: ClassVar[str] = "Polar PMD (Verity Sense / H10)"
    service_uuid: ClassVar[str] = SERVICE_UUID
    data_uuid: ClassVar[str] = DATA_UUID
    control_uuid: ClassVar[str | None] = CONTROL_UUID
    # The Verity Sense in its armband goes round the thigh (thigh rules); on the upper arm it sees
    # arm-level inactivity only, like a wrist. The H10 is a chest strap: it reads trunk tilt, which
    # the waist rules handle.
    placements: ClassVar[frozenset[Placement]] = frozenset(
        {Placement.THIGH, Placement.WAIST, Placement.WRIST}
    )
    default_placement: ClassVar[Placement] = Placement.THIGH
    has_device_time: ClassVar[bool] = True
    notes: ClassVar[str] = (
        "Verity Sense: armband on the thigh (placement thigh); H10: chest strap (placement waist)"
    )

    def __init__(self, config: StreamConfig | None = None) -> None:
        super().__init__(config)
        self._rate = float(nearest(self.config.rate_hz, NOMINAL_RATES_HZ))
        self._range = int(nearest(self.config.range_g, NOMINAL_RANGES_G))
        self.offered: dict[int, list[float]] = {}
        self.chosen: dict[int, int] = {}
        self.factor = 1.0
        self.streaming = False
        self._awaited: _Awaited | None = None

    @property
    def rate_hz(self) -> float:
        return self._rate

    @property
    def range_g(self) -> int:
        return self._range

    def matches(self, adv: Advertisement) -> bool:
        # H10 and Verity Sense advertise the heart-rate service, not PMD; match their names only.
        return (adv.name or "").startswith(SENSOR_NAME_PREFIXES)

    # ---- settings -----------------------------------------------------------------------------
    def choose_settings(self, offered: Mapping[int, list[float]]) -> dict[int, int]:
        """One value for every setting type the sensor offered, and none for a type it did not."""
        chosen: dict[int, int] = {}
        for setting, values in sorted(offered.items()):
            if setting == SETTING_FACTOR or not values:
                continue  # FACTOR is the sensor's answer, never a request (A/PmdSetting.kt:88-90)
            ints = [int(v) for v in values]
            if setting == SETTING_SAMPLE_RATE:
                chosen[setting] = int(nearest(self.config.rate_hz, ints))
            elif setting == SETTING_RANGE:
                chosen[setting] = int(nearest(self.config.range_g, ints))
            elif setting == SETTING_RESOLUTION and PREFERRED_RESOLUTION in ints:
                chosen[setting] = PREFERRED_RESOLUTION
            elif setting == SETTING_CHANNELS and PREFERRED_CHANNELS in ints:
                chosen[setting] = PREFERRED_CHANNELS
            else:
                chosen[setting] = max(ints)
        return chosen

    def start_request(self) -> bytes:
        return pmd_request(OP_START, self.chosen)

    def start_writes(self) -> list[GattWrite]:
        # Only meaningful after `start_sequence` has learnt the offered settings; kept for callers
        # that replay a start (it sends exactly what the last sequence chose).
        return [GattWrite(CONTROL_UUID, self.start_request(), await_reply=True, purpose="start ACC")]

    def start_sequence(self) -> Generator[GattStep, bytes | None, None]:
        """Ask which settings the sensor offers, choose one value for each, then start ACC.

        No guessed fallback: when the settings cannot be read the start fails with the sensor's
        status. A guess would be refused by one model or the other (the H10 has no 52 Hz and no
        CHANNELS setting, the Verity Sense outside SDK mode nothing but 52 Hz), and the SDK has no
        fallback either: querySettings throws (A/BlePMDClient.kt:239-242, :255-260).
        """
        # Every start begins unscaled: a start reply without FACTOR (the H10's raw frames) means
        # factor 1 (A/BlePMDClient.kt:75-82 returns 1.0 when the selected settings carry none).
        self.factor = 1.0
        self.streaming = False
        get = GattWrite(
            CONTROL_UUID, pmd_request(OP_GET_SETTINGS), await_reply=True, purpose="get ACC settings"
        )
        self._await(get)
        reply = yield get
        self.offered = self.read_settings_reply(get, reply)
        self.chosen = self.choose_settings(self.offered)
        if SETTING_SAMPLE_RATE in self.chosen:
            self._rate = float(self.chosen[SETTING_SAMPLE_RATE])
        if SETTING_RANGE in self.chosen:
            self._range = self.chosen[SETTING_RANGE]
        start = GattWrite(CONTROL_UUID, self.start_request(), await_reply=True, purpose="start ACC")
        self._await(start)
        reply = yield start
        self._awaited = None
        self.check_reply(start, self._require(start, reply))
        self.streaming = True

    def read_settings_reply(self, write: GattWrite, reply: bytes | None) -> dict[int, list[float]]:
        """The settings a GET_MEASUREMENT_SETTINGS reply offers; StreamStartError if it failed."""
        params = self._accept(write, self._require(write, reply))
        try:
            offered = parse_settings(params)
        except ValueError as exc:
            raise StreamStartError(
                self.name,
                f"the accelerometer settings {params.hex(' ')} are unreadable ({exc})",
                "update the sensor's firmware; sitbreak reads settings as Polar's SDK does",
            ) from exc
        if SETTING_SAMPLE_RATE in offered:  # a rate of 0 Hz is no rate (nothing could be timed by it)
            offered[SETTING_SAMPLE_RATE] = [v for v in offered[SETTING_SAMPLE_RATE] if v > 0]
        if not offered.get(SETTING_SAMPLE_RATE):
            raise StreamStartError(
                self.name,
                "the sensor offers no accelerometer sample rate",
                "this Polar model does not stream the accelerometer; use an H10 or a Verity Sense",
            )
        return offered

    def check_reply(self, write: GattWrite, reply: bytes) -> None:
        """The start reply: refused -> StreamStartError naming the status; else learn FACTOR."""
        params = self._accept(write, reply)
        if write.data[0] != OP_START:
            return
        try:
            factors = parse_settings(params).get(SETTING_FACTOR)
        except ValueError as exc:
            raise StreamStartError(
                self.name,
                f"the start reply's parameters {params.hex(' ')} are unreadable ({exc})",
                "update the sensor's firmware; sitbreak reads them as Polar's SDK does",
            ) from exc
        if factors:
            factor = float(factors[0])
            if not (math.isfinite(factor) and 0.0 < factor <= MAX_FACTOR):
                raise StreamStartError(
                    self.name,
                    f"the start reply's FACTOR {factor!r} is no scale for 16-bit samples",
                    "switch the sensor off and on; if it persists, update its firmware",
                )
            self.factor = factor

    def _require(self, write: GattWrite, reply: bytes | None) -> bytes:
        if reply is None:
            raise StreamStartError(
                self.name, f"no answer to {write.purpose} {write.data.hex(' ')}", GENERIC_FIX
            )
        return reply

    def _accept(self, write: GattWrite, reply: bytes) -> bytes:
        """The parameters of a successful reply to `write`; StreamStartError otherwise."""
        if len(reply) < 4 or reply[0] != RESPONSE_CODE:
            raise StreamStartError(
                self.name, f"control point reply {reply.hex(' ')} is not a PMD response", GENERIC_FIX
            )
        op, status = reply[1], reply[3]
        if op != write.data[0]:
            raise StreamStartError(
                self.name, f"reply is for op code {op}, we sent {write.data[0]}", GENERIC_FIX
            )
        if status != STATUS_SUCCESS:
            raise StreamStartError(
                self.name,
                f"{status_name(status)} for {write.purpose or 'request'} {write.data.hex(' ')}",
                STATUS_FIXES.get(status, GENERIC_FIX),
            )
        return reply[RESPONSE_HEADER_BYTES:]

    # ---- control point messages ------------------------------------------------------------------
    def _await(self, write: GattWrite) -> None:
        self._awaited = _Awaited(write.data[0])

    def control_message(self, data: bytes) -> ControlMessage:
        """Classify a control point notification as A/BlePMDClient.kt:119-150 and :181-223 do."""
        if not data:
            return ControlMessage(ControlKind.UNSOLICITED, data, "empty control point notification")
        if data[0] != RESPONSE_CODE:
            return self._sensor_message(data)
        awaited = self._awaited
        if len(data) < 2 or awaited is None or data[1] != awaited.op:
            # The SDK drops a response for another command while it waits (A/BlePMDClient.kt:194-195).
            return ControlMessage(
                ControlKind.UNSOLICITED, data, f"PMD response {data.hex(' ')} answers nothing awaited"
            )
        if awaited.packets == 0:
            awaited.header = data[:4]
        awaited.params += data[RESPONSE_HEADER_BYTES:]
        awaited.packets += 1
        success = len(data) > 3 and data[3] == STATUS_SUCCESS
        more = success and len(data) > 4 and data[4] != 0
        if more:
            return ControlMessage(
                ControlKind.PARTIAL, data, f"PMD response packet {awaited.packets}, more to come"
            )
        self._awaited = _Awaited(awaited.op)  # a later answer to the same op starts afresh
        if awaited.packets == 1:
            return ControlMessage(ControlKind.REPLY, data, "PMD response")
        # One reply with the first packet's header, "more" cleared, and every packet's parameters.
        reply = awaited.header + b"\x00" + bytes(awaited.params)
        return ControlMessage(ControlKind.REPLY, reply, f"PMD response in {awaited.packets} packets")

    def _sensor_message(self, data: bytes) -> ControlMessage:
        if data[0] == SENSOR_MEASUREMENT_STOPPED:
            stopped = {b & MEASUREMENT_TYPE_MASK for b in data[1:]}
            if MEASUREMENT_ACC in stopped and self.streaming and self._awaited is None:
                self.streaming = False
                return ControlMessage(
                    ControlKind.STREAM_STOPPED,
                    data,
                    "the Polar stopped the accelerometer stream itself (PMD online measurement stopped)",
                )
            return ControlMessage(
                ControlKind.UNSOLICITED, data, f"PMD online measurement stopped for types {sorted(stopped)}"
            )
        return ControlMessage(
            ControlKind.UNSOLICITED, data, f"PMD control point command {data[0]:#04x} from the sensor"
        )

    def stop_writes(self) -> list[GattWrite]:
        return [GattWrite(CONTROL_UUID, pmd_request(OP_STOP), await_reply=False, purpose="stop ACC")]

    # ---- data ------------------------------------------------------------------------------------
    def decode(self, data: bytes) -> DecodedPacket:
        n = len(data)
        if n > MAX_FRAME_BYTES:
            raise DecodeError(self.name, DecodeErrorKind.OVERSIZED, n, f"longer than {MAX_FRAME_BYTES} bytes")
        if n <= HEADER_BYTES:
            raise DecodeError(
                self.name, DecodeErrorKind.TRUNCATED, n, f"needs a {HEADER_BYTES}-byte header and samples"
            )
        measurement = data[0] & MEASUREMENT_TYPE_MASK
        if measurement != MEASUREMENT_ACC:
            raise DecodeError(
                self.name, DecodeErrorKind.WRONG_TYPE, n, f"measurement type {measurement}, expected ACC (2)"
            )
        timestamp_ns = int.from_bytes(data[1:9], "little")
        frame_type = data[9]
        body = memoryview(data)[HEADER_BYTES:]
        if frame_type & COMPRESSED_BIT:
            xyz = self._decode_compressed(frame_type & FRAME_TYPE_MASK, body, n)
        else:
            xyz = self._decode_raw(frame_type, body, n)
        return DecodedPacket(xyz=xyz, t_last=timestamp_ns * NS)

    def _decode_raw(self, frame_type: int, body: memoryview, n: int) -> Float32Array:
        # Raw frames are mG with no factor (A/model/AccData.kt:49-112 never reads it).
        size = _RAW_SAMPLE_BYTES.get(frame_type)
        if size is None:
            raise DecodeError(self.name, DecodeErrorKind.WRONG_TYPE, n, f"raw ACC frame type {frame_type}")
        if len(body) % (3 * size):
            raise DecodeError(
                self.name,
                DecodeErrorKind.TRUNCATED,
                n,
                f"{len(body)} sample bytes is not a whole number of {3 * size}-byte samples",
            )
        if size == 3:
            raw = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
            values = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
            values = np.where(values >= 1 << 23, values - (1 << 24), values).reshape(-1, 3)
        else:
            values = np.frombuffer(body, dtype="<i1" if size == 1 else "<i2").reshape(-1, 3)
        out: Float32Array = values.astype(np.float32) * np.float32(1e-3)
        return out

    def _decode_compressed(self, frame_type: int, body: memoryview, n: int) -> Float32Array:
        if frame_type not in (0, 1):
            raise DecodeError(
                self.name, DecodeErrorKind.WRONG_TYPE, n, f"compressed ACC frame type {frame_type}"
            )
        ref_bytes = 3 * math.ceil(RESOLUTION_BITS / 8)
        if len(body) < ref_bytes:
            raise DecodeError(self.name, DecodeErrorKind.TRUNCATED, n, "reference sample cut short")
        ref = np.frombuffer(body[:ref_bytes], dtype="<i2").astype(np.int64)
        blocks = [ref.reshape(1, 3)]
        i = ref_bytes
        while i < len(body):
            if i + 2 > len(body):
                raise DecodeError(
                    self.name, DecodeErrorKind.TRUNCATED, n, f"delta block header cut at byte {i}"
                )
            width, count = body[i], body[i + 1]
            if not 1 <= width <= MAX_DELTA_WIDTH or count == 0:
                raise DecodeError(
                    self.name,
                    DecodeErrorKind.BAD_VALUE,
                    n,
                    f"delta block at byte {i}: width {width} bits, {count} samples "
                    f"(width must be 1..{MAX_DELTA_WIDTH}, count > 0)",
                )
            length = (width * count * 3 + 7) // 8
            i += 2
            if i + length > len(body):
                raise DecodeError(
                    self.name,
                    DecodeErrorKind.TRUNCATED,
                    n,
                    f"delta block declares {count} samples of {width} bits ({length} bytes), "
                    f"{len(body) - i} left",
                )
            blocks.append(unpack_deltas(body[i : i + length], width, count))
            i += length
        values = np.cumsum(np.concatenate(blocks), axis=0)
        if int(values.min()) < SAMPLE_MIN or int(values.max()) > SAMPLE_MAX:
            raise DecodeError(
                self.name,
                DecodeErrorKind.BAD_VALUE,
                n,
                f"delta-compressed samples reach {int(values.min())}..{int(values.max())}, "
                f"outside the sensor's {RESOLUTION_BITS}-bit range",
            )
        # Type 0 (Verity Sense) is G times FACTOR, type 1 mG times FACTOR (A/model/AccData.kt:117, :134).
        scale = self.factor if frame_type == 0 else self.factor * 1e-3
        out: Float32Array = (values * scale).astype(np.float32)
        return out
