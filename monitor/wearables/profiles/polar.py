"""Polar Verity Sense / H10 accelerometer over the Polar Measurement Data (PMD) service.

Everything here follows Polar's own SDK (github.com/polarofficial/polar-ble-sdk, Android sources under
sources/Android/android-communications/library/src/main/java/com/polar/androidcommunications/api/ble/
model/gatt/client/pmd/), read as the reference for the byte layouts:

- UUIDs (BlePMDClient.kt): service FB005C80-…, control point FB005C81-… (write + indicate), data
  FB005C82-… (notify), all with base -02E7-F387-1CAD-8ACD2D8DF0C8.
- Control point (PmdControlPointCommand.kt, PmdControlPointResponse.kt): requests are
  [op code, measurement type, settings…]; GET_MEASUREMENT_SETTINGS = 0x01, REQUEST_MEASUREMENT_START
  = 0x02, STOP_MEASUREMENT = 0x03; ACC is measurement type 0x02 (PmdMeasurementType.kt). Replies are
  indications [0xF0, op code, measurement type, status, more, parameters…], status 0 = SUCCESS.
- Settings (PmdSetting.kt): [type, count, value…] with SAMPLE_RATE = 0 (uint16), RESOLUTION = 1
  (uint16), RANGE = 2 (uint16), RANGE_MILLIUNIT = 3 (uint32), CHANNELS = 4 (uint8), FACTOR = 5
  (float32, only in the start reply: the scale of compressed samples).
- Data frames (PmdDataFrame.kt): byte 0 measurement type (low 6 bits), bytes 1..8 uint64 LE
  timestamp in ns since 2000-01-01T00:00:00Z on the sensor clock (technical_documentation/
  TimeSystemExplained.md) of the LAST sample of the frame (PmdTimeStampUtils.kt), byte 9 frame type
  (bit 7 set = delta-compressed, low 7 bits the type), samples from byte 10.
- ACC samples (model/AccData.kt): raw type 0/1/2 = int8/int16/int24 x,y,z in mG; compressed
  type 1 (0x81) = int16 mG scaled by FACTOR; compressed type 0 (0x80, Verity Sense) = values in G
  scaled by FACTOR.
- Delta compression (BlePMDClient.parseDeltaFramesAll): a reference sample (3 × int16 LE), then
  blocks of [delta bit width (uint8), sample count (uint8), ceil(width·count·3/8) bytes] whose
  bits are read least-significant first, channel after channel, sample after sample; each delta
  is a two's-complement number of `width` bits added to the previous sample.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from typing import ClassVar

import numpy as np

from monitor.core.types import Float32Array, Placement
from monitor.wearables.profiles.base import (
    Advertisement,
    DecodedPacket,
    DecodeError,
    DecodeErrorKind,
    DeviceProfile,
    GattWrite,
    ProfileName,
    StreamConfig,
    StreamStartError,
    nearest,
)

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

OP_GET_SETTINGS = 0x01
OP_START = 0x02
OP_STOP = 0x03
MEASUREMENT_ACC = 0x02
MEASUREMENT_TYPE_MASK = 0x3F
RESPONSE_CODE = 0xF0
STATUS_SUCCESS = 0

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

# Status names, PmdControlPointResponse.PmdControlPointResponseCode, for readable errors.
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

HEADER_BYTES = 10
COMPRESSED_BIT = 0x80
FRAME_TYPE_MASK = 0x7F
# ns since 2000-01-01T00:00:00Z (the Polar epoch) -> s; the link maps the sensor clock to UTC.
NS = 1e-9
RESOLUTION_BITS = 16
# A notification can never exceed the largest ATT MTU (517) minus the 3-byte ATT header.
MAX_FRAME_BYTES = 514
MAX_DELTA_WIDTH = 32

# Used when the sensor does not answer GET_MEASUREMENT_SETTINGS: H10 offers 25/50/100/200 Hz and
# ±2/4/8 g, Verity Sense 52 Hz and ±8 g (Polar SDK examples and device docs).
FALLBACK_RATES_HZ: tuple[int, ...] = (25, 50, 52, 100, 200)
FALLBACK_RANGES_G: tuple[int, ...] = (2, 4, 8)

_RAW_SAMPLE_BYTES = {0: 1, 1: 2, 2: 3}


def pmd_request(op: int, settings: dict[int, int] | None = None) -> bytes:
    """A control point request for ACC: [op, ACC, (type, 1, value LE)…]."""
    out = bytearray((op, MEASUREMENT_ACC))
    for setting, value in (settings or {}).items():
        out += bytes((setting, 1)) + value.to_bytes(SETTING_FIELD_SIZE[setting], "little")
    return bytes(out)


def parse_settings(params: bytes) -> dict[int, list[float]]:
    """[type, count, value…]… -> {type: values}; FACTOR decodes as float32. Raises ValueError."""
    out: dict[int, list[float]] = {}
    i = 0
    while i < len(params):
        if i + 2 > len(params):
            raise ValueError(f"setting header cut at byte {i}")
        setting, count = params[i], params[i + 1]
        i += 2
        size = SETTING_FIELD_SIZE.get(setting)
        if size is None:
            raise ValueError(f"unknown setting type {setting}")
        if i + size * count > len(params):
            raise ValueError(f"setting {setting} declares {count} values but the reply ends")
        values: list[float] = []
        for _ in range(count):
            chunk = params[i : i + size]
            i += size
            if setting == SETTING_FACTOR:
                values.append(struct.unpack("<f", chunk)[0])
            else:
                values.append(int.from_bytes(chunk, "little"))
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


class PolarProfile(DeviceProfile):
    name: ClassVar[ProfileName] = ProfileName.POLAR
    title: ClassVar[str] = "Polar PMD (Verity Sense / H10)"
    service_uuid: ClassVar[str] = SERVICE_UUID
    data_uuid: ClassVar[str] = DATA_UUID
    control_uuid: ClassVar[str | None] = CONTROL_UUID
    # Verity Sense sits on the upper arm (arm-level inactivity only, like a wrist); the H10 on the
    # chest strap reads trunk tilt, which the waist classifier handles.
    placements: ClassVar[frozenset[Placement]] = frozenset({Placement.WRIST, Placement.WAIST})
    default_placement: ClassVar[Placement] = Placement.WAIST
    has_device_time: ClassVar[bool] = True
    notes: ClassVar[str] = "arm band (Verity Sense) or chest strap (H10): sitting vs standing is weaker"

    def __init__(self, config: StreamConfig | None = None) -> None:
        super().__init__(config)
        self._rate = int(nearest(self.config.rate_hz, FALLBACK_RATES_HZ))
        self._range = int(nearest(self.config.range_g, FALLBACK_RANGES_G))
        self.factor = 1.0

    @property
    def rate_hz(self) -> float:
        return float(self._rate)

    @property
    def range_g(self) -> int:
        return self._range

    def matches(self, adv: Advertisement) -> bool:
        # H10 and Verity Sense advertise the heart-rate service, not PMD; their names are stable.
        return super().matches(adv) or (adv.name or "").startswith("Polar ")

    def start_request(self) -> bytes:
        return pmd_request(
            OP_START,
            {
                SETTING_SAMPLE_RATE: self._rate,
                SETTING_RESOLUTION: RESOLUTION_BITS,
                SETTING_RANGE: self._range,
            },
        )

    def start_writes(self) -> list[GattWrite]:
        return [GattWrite(CONTROL_UUID, self.start_request(), await_reply=True, purpose="start ACC")]

    def start_sequence(self) -> Generator[GattWrite, bytes | None, None]:
        """Ask which rates/ranges the sensor offers, pick the nearest, then start ACC."""
        reply = yield GattWrite(
            CONTROL_UUID, pmd_request(OP_GET_SETTINGS), await_reply=True, purpose="get ACC settings"
        )
        if reply is not None:
            self.choose_settings(reply)
        start = GattWrite(CONTROL_UUID, self.start_request(), await_reply=True, purpose="start ACC")
        reply = yield start
        if reply is not None:
            self.check_reply(start, reply)

    def choose_settings(self, reply: bytes) -> None:
        """Pick rate and range from a GET_MEASUREMENT_SETTINGS reply; keep fallbacks if it failed."""
        if len(reply) < 5 or reply[0] != RESPONSE_CODE or reply[3] != STATUS_SUCCESS:
            return
        try:
            offered = parse_settings(reply[5:])
        except ValueError:
            return
        if rates := offered.get(SETTING_SAMPLE_RATE):
            self._rate = int(nearest(self.config.rate_hz, rates))
        if ranges := offered.get(SETTING_RANGE):
            self._range = int(nearest(self.config.range_g, ranges))

    def check_reply(self, write: GattWrite, reply: bytes) -> None:
        if len(reply) < 4 or reply[0] != RESPONSE_CODE:
            raise StreamStartError(self.name, f"control point reply {reply.hex(' ')} is not a PMD response")
        op, status = reply[1], reply[3]
        if op != write.data[0]:
            raise StreamStartError(self.name, f"reply is for op code {op}, we sent {write.data[0]}")
        if status != STATUS_SUCCESS:
            label = STATUS_NAMES[status] if status < len(STATUS_NAMES) else f"status {status}"
            raise StreamStartError(
                self.name,
                f"{label} for {write.purpose or 'request'} {write.data.hex(' ')} "
                f"(rate {self._rate} Hz, range ±{self._range} g)",
            )
        if op == OP_START and len(reply) > 5:
            try:
                factors = parse_settings(reply[5:]).get(SETTING_FACTOR)
            except ValueError as exc:
                raise StreamStartError(self.name, f"start reply settings unreadable: {exc}") from exc
            if factors:
                self.factor = float(factors[0])

    def stop_writes(self) -> list[GattWrite]:
        return [GattWrite(CONTROL_UUID, pmd_request(OP_STOP), await_reply=False, purpose="stop ACC")]

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
        ref_bytes = 3 * RESOLUTION_BITS // 8
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
        # Type 0 (Verity Sense) is in G times FACTOR; type 1 in mG times FACTOR.
        scale = self.factor if frame_type == 0 else self.factor * 1e-3
        out: Float32Array = (values * scale).astype(np.float32)
        return out
