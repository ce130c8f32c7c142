"""The SitSense reference firmware's wire format: UUIDs, packet framing, config and advertising.

Shared by the firmware (``firmware_sim/firmware.py``, and any ESP32/nRF52 build that follows
``docs/firmware-protocol.md``) and the host side (``monitor/wearables``). Pure: constants and
encode/decode helpers only, no I/O, no Bleak.

Accelerometer packet (one GATT notification, all fields little-endian)::

    offset size field
    0      1    version (high nibble, = 1) | flags (low nibble, see ``FLAG_*``)
    1      2    sequence number, uint16, +1 per packet, wraps 65535 -> 0
    3      4    device time of the first sample, uint32 ms since boot, wraps after ~49.7 days
    7      1    sample count N
    8      1    rate code (high nibble, ``RATE_CODES``) | range code (low nibble, ``RANGE_CODES``)
    9      6*N  N samples of int16 x, y, z at the declared range (32768 counts = full scale)

N is as large as the ATT MTU allows: ``(MTU - 3 - HEADER_SIZE) // 6``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

# A random 128-bit base (generated once for sitbreak); the third and fourth bytes select the attribute.
SERVICE_UUID: Final = "0213ef00-992d-42ce-b607-274942d4ca5b"
ACCEL_CHAR_UUID: Final = "0213ef01-992d-42ce-b607-274942d4ca5b"  # notify: accelerometer packets
CONFIG_CHAR_UUID: Final = "0213ef02-992d-42ce-b607-274942d4ca5b"  # read/write: rate and range
CONTROL_CHAR_UUID: Final = "0213ef03-992d-42ce-b607-274942d4ca5b"  # write: pause/resume streaming

BATTERY_SERVICE_UUID: Final = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_CHAR_UUID: Final = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFO_SERVICE_UUID: Final = "0000180a-0000-1000-8000-00805f9b34fb"
MANUFACTURER_NAME_CHAR_UUID: Final = "00002a29-0000-1000-8000-00805f9b34fb"
MODEL_NUMBER_CHAR_UUID: Final = "00002a24-0000-1000-8000-00805f9b34fb"
FIRMWARE_REVISION_CHAR_UUID: Final = "00002a26-0000-1000-8000-00805f9b34fb"

NAME_PREFIX: Final = "SitSense-"
# Bluetooth SIG company identifier 0xFFFF is reserved for testing and prototypes: we own no other.
COMPANY_ID: Final = 0xFFFF

VERSION: Final = 1
FLAG_STREAM_START: Final = 0x1  # first packet after streaming (re)started: the sequence restarted at 0
FLAG_OVERFLOW: Final = 0x2  # the device's FIFO overflowed before this packet: samples were lost on-device

HEADER = struct.Struct("<BHIBB")
HEADER_SIZE: Final = HEADER.size  # 9 bytes
SAMPLE_SIZE: Final = 6  # int16 x, y, z
ATT_OVERHEAD: Final = 3  # ATT opcode + handle in every notification
MIN_MTU: Final = 23  # the ATT minimum: one sample per packet
SEQ_MODULO: Final = 1 << 16
TIME_MODULO_MS: Final = 1 << 32

RATE_CODES: Final[dict[int, int]] = {0: 25, 1: 50, 2: 100}  # code -> Hz
RANGE_CODES: Final[dict[int, int]] = {0: 2, 1: 4, 2: 8}  # code -> ±g full scale
FULL_SCALE_COUNTS: Final = 32768

# Config characteristic: two bytes, rate code then range code. Write to set, read back.
CONFIG = struct.Struct("<BB")
DEFAULT_RATE_HZ: Final = 50
DEFAULT_RANGE_G: Final = 4  # ±4 g holds walking and stairs on the thigh without clipping at 2 g

# Control characteristic: one byte command.
CONTROL_PAUSE: Final = 0x00
CONTROL_RESUME: Final = 0x01

# Manufacturer data (company COMPANY_ID): protocol version, battery %, status bits.
MANUFACTURER_DATA = struct.Struct("<BBB")
STATUS_STREAMING: Final = 0x01

Int16Array = npt.NDArray[np.int16]
Float32Array = npt.NDArray[np.float32]


class PacketError(ValueError):
    """A notification that is not a valid SitSense packet. ``reason`` names the rule broken."""

    def __init__(self, reason: str, packet: bytes) -> None:
        super().__init__(f"{reason} (packet of {len(packet)} bytes: {packet[:16].hex()})")
        self.reason = reason
        self.packet = packet


@dataclass(frozen=True, slots=True)
class Packet:
    """One decoded accelerometer packet; samples are raw counts at ``range_g``."""

    version: int
    flags: int
    seq: int
    t0_ms: int
    rate_hz: int
    range_g: int
    samples: Int16Array  # shape (N, 3)

    @property
    def period_ms(self) -> int:
        return 1000 // self.rate_hz

    def g(self) -> Float32Array:
        """Samples in g."""
        return counts_to_g(self.samples, self.range_g)


def rate_code(rate_hz: int) -> int:
    for code, hz in RATE_CODES.items():
        if hz == rate_hz:
            return code
    raise ValueError(f"rate_hz={rate_hz} is not one of {sorted(RATE_CODES.values())}")


def range_code(range_g: int) -> int:
    for code, g in RANGE_CODES.items():
        if g == range_g:
            return code
    raise ValueError(f"range_g={range_g} is not one of {sorted(RANGE_CODES.values())}")


def samples_per_packet(mtu: int) -> int:
    """How many samples fit in one notification at this ATT MTU."""
    if mtu < MIN_MTU:
        raise ValueError(f"mtu={mtu} is below the ATT minimum {MIN_MTU}")
    return (mtu - ATT_OVERHEAD - HEADER_SIZE) // SAMPLE_SIZE


def counts_per_g(range_g: int) -> float:
    return FULL_SCALE_COUNTS / range_g


def g_to_counts(xyz_g: npt.ArrayLike, range_g: int) -> Int16Array:
    """Quantise g to int16 counts at the range, rounding to nearest and clipping at full scale."""
    counts = np.rint(np.asarray(xyz_g, dtype=np.float64) * counts_per_g(range_g))
    return np.clip(counts, -FULL_SCALE_COUNTS, FULL_SCALE_COUNTS - 1).astype(np.int16)


def counts_to_g(counts: npt.ArrayLike, range_g: int) -> Float32Array:
    # One ufunc call (the int16 -> float32 cast happens inside it): this runs per notification, right
    # after the service wakes with cold caches, where each numpy call costs tens of microseconds.
    return np.divide(counts, np.float32(counts_per_g(range_g)), dtype=np.float32)


def encode_packet(  # noqa: PLR0917 - the field order of the header
    seq: int, t0_ms: int, rate_hz: int, range_g: int, samples: Int16Array, flags: int = 0
) -> bytes:
    """Frame int16 counts (N, 3) into one packet. ``seq`` and ``t0_ms`` are wrapped here."""
    counts = np.asarray(samples, dtype="<i2")
    if counts.ndim != 2 or counts.shape[1] != 3:
        raise ValueError(f"samples must have shape (N, 3), got {counts.shape}")
    if not 0 < len(counts) <= 0xFF:
        raise ValueError(f"sample count {len(counts)} is outside 1..255")
    if not 0 <= flags <= 0xF:
        raise ValueError(f"flags={flags:#x} do not fit in 4 bits")
    header = HEADER.pack(
        (VERSION << 4) | flags,
        seq % SEQ_MODULO,
        t0_ms % TIME_MODULO_MS,
        len(counts),
        (rate_code(rate_hz) << 4) | range_code(range_g),
    )
    return header + counts.tobytes()


def decode_packet(packet: bytes | bytearray) -> Packet:
    """Parse one notification. Raises `PacketError` naming what is wrong."""
    data = bytes(packet)
    if len(data) < HEADER_SIZE + SAMPLE_SIZE:
        raise PacketError(f"too short: {len(data)} bytes, need at least {HEADER_SIZE + SAMPLE_SIZE}", data)
    version_flags, seq, t0_ms, count, rate_range = HEADER.unpack_from(data)
    version = version_flags >> 4
    if version != VERSION:
        raise PacketError(f"unsupported version {version}, expected {VERSION}", data)
    rate_hz = RATE_CODES.get(rate_range >> 4)
    range_g = RANGE_CODES.get(rate_range & 0xF)
    if rate_hz is None or range_g is None:
        raise PacketError(f"unknown rate/range code {rate_range:#04x}", data)
    expected = HEADER_SIZE + count * SAMPLE_SIZE
    if count == 0 or len(data) != expected:
        raise PacketError(f"length {len(data)} does not match sample count {count} ({expected} bytes)", data)
    # A read-only view on the (immutable) packet, no copy: converting to g makes the only copy.
    samples = np.frombuffer(data, dtype=np.dtype("<i2"), offset=HEADER_SIZE).reshape(count, 3)
    return Packet(version, version_flags & 0xF, seq, t0_ms, rate_hz, range_g, samples)


def encode_config(rate_hz: int, range_g: int) -> bytes:
    return CONFIG.pack(rate_code(rate_hz), range_code(range_g))


def decode_config(data: bytes | bytearray) -> tuple[int, int]:
    """(rate_hz, range_g) from the config characteristic. Raises ValueError on a bad value."""
    if len(data) != CONFIG.size:
        raise ValueError(f"config must be {CONFIG.size} bytes, got {len(data)}")
    rcode, gcode = CONFIG.unpack(bytes(data))
    if rcode not in RATE_CODES or gcode not in RANGE_CODES:
        raise ValueError(f"unknown rate code {rcode} or range code {gcode}")
    return RATE_CODES[rcode], RANGE_CODES[gcode]


def device_name(address: str) -> str:
    """``SitSense-XXXX`` from the last two address bytes, as the firmware advertises itself."""
    parts = address.split(":")
    if len(parts) != 6:
        raise ValueError(f"not a Bluetooth address: {address!r}")
    return NAME_PREFIX + (parts[4] + parts[5]).upper()


def encode_manufacturer_data(battery_pct: int, streaming: bool) -> bytes:
    return MANUFACTURER_DATA.pack(
        VERSION, max(0, min(100, battery_pct)), STATUS_STREAMING if streaming else 0
    )


def decode_manufacturer_data(data: bytes | bytearray) -> tuple[int, int, bool]:
    """(protocol version, battery %, streaming) from the advertised manufacturer data."""
    if len(data) < MANUFACTURER_DATA.size:
        raise ValueError(
            f"manufacturer data must be at least {MANUFACTURER_DATA.size} bytes, got {len(data)}"
        )
    version, battery, status = MANUFACTURER_DATA.unpack_from(bytes(data))
    return version, battery, bool(status & STATUS_STREAMING)
