"""Nordic Thingy:52 motion service, raw data characteristic.

Source: NordicSemiconductor/Nordic-Thingy52-FW @ 6ada0a9aed640141ab9f9e91b5f9f5ec0ed237e7, cited
by path and line where used:

- Base UUID EF68xxxx-9B35-4933-9B10-52FFA9740042 (source/ble_services/ble_tms.c:56); motion service
  0x0400 (include/ble_services/ble_tms.h:67); motion config 0x0401 and raw data 0x0406
  (ble_tms.c:43, :48).
- raw data, notify: `ble_tms_raw_t` (ble_tms.h:78-104), packed, little-endian: accel, gyro, compass
  x,y,z int16 (18 bytes). source/modules/m_motion.c clamps the driver's 16Q16 values to the integer
  range of each field (:306-345) and shifts accel right by RAW_Q_FORMAT_ACC_INTEGER_BITS = 6 (:50,
  :351-353): accel is Q6.10, 1024 per g. Gyro (Q11.5) and compass (Q12.4) are only length-checked.
- motion config 0x0401, read/write: `ble_tms_config_t` (ble_tms.h:149-156), 9 bytes packed: step
  counter interval ms, temperature compensation interval ms, magnetometer compensation interval
  ms, motion processing unit frequency Hz, wake on motion. A write of another length or with a
  field outside the limits (ble_tms.h:158-167: intervals 100..5000 ms, compass 100..1000 ms,
  frequency 5..200 Hz, wake on motion 0..1) is refused with ATT "write not permitted"
  (ble_tms.c:263-301). An accepted write is stored in flash (m_motion.c:219 ->
  m_motion_flash.c:141 fds_record_update) and applied, which restarts the motion driver
  (m_motion.c:222; source/drivers/drv_motion.c:856-875).
- The rate: the frequency goes to the DMP's FIFO rate (drv_motion.c:699), which divides its fixed
  200 Hz by an integer: div = 200 / f - 1 (libs/eMD6/core/driver/eMPL/inv_mpu_dmp_motion_driver.c:
  496, :708-710), so the raw data comes at 200 / floor(200 / f) Hz (30 asked -> 33.3 Hz). The
  characteristic reads back what was written, not that rate (dmp_get_fifo_rate returns the request,
  :727-731), so the profile computes it.

Because every write costs a flash write and a motion-driver restart and would overwrite the
wearer's other settings, the start sequence reads the config first, writes it back with only the
frequency changed, and writes nothing when the board already runs at the rate wanted.

The raw data carries no timestamp or counter: the link times samples like the micro:bit's (arrival
plus expected period), with the same consequences for lost packets. All characteristics the profile
uses are open, no pairing needed (ble_tms.c:521-522 raw CCCD, :900-901 config).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Generator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from monitor.core.types import Placement
from monitor.wearables.profiles.base import (
    Advertisement,
    DecodedPacket,
    DecodeError,
    DecodeErrorKind,
    DeviceProfile,
    GattRead,
    GattStep,
    GattWrite,
    ProfileName,
    StreamConfig,
    StreamStartError,
)


def thingy_uuid(short: int) -> str:
    return f"ef68{short:04x}-9b35-4933-9b10-52ffa9740042"


CONFIGURATION_SERVICE_UUID = thingy_uuid(0x0100)  # what the Thingy advertises (ble_tcs.h:67)
SERVICE_UUID = thingy_uuid(0x0400)
CONFIG_UUID = thingy_uuid(0x0401)
RAW_UUID = thingy_uuid(0x0406)

RAW_BYTES = 18  # 3 x (x, y, z int16): accel, gyro, compass
ACCEL_SCALE = 1.0 / (1 << 10)  # Q6.10 -> g

MPU_FREQ_MIN_HZ = 5  # BLE_TMS_CONFIG_MPUF_MIN, ble_tms.h:164
MPU_FREQ_MAX_HZ = 200  # BLE_TMS_CONFIG_MPUF_MAX, ble_tms.h:165
DMP_SAMPLE_RATE_HZ = 200  # inv_mpu_dmp_motion_driver.c:496

_CONFIG = struct.Struct("<HHHHB")
_ACCEL = struct.Struct("<3h")


@dataclass(frozen=True, slots=True)
class MotionConfig:
    """`ble_tms_config_t` (ble_tms.h:149-156)."""

    pedo_interval_ms: int
    temp_interval_ms: int
    compass_interval_ms: int
    motion_freq_hz: int
    wake_on_motion: int

    @classmethod
    def unpack(cls, data: bytes) -> MotionConfig:
        return cls(*_CONFIG.unpack(data))

    def pack(self) -> bytes:
        return _CONFIG.pack(
            self.pedo_interval_ms,
            self.temp_interval_ms,
            self.compass_interval_ms,
            self.motion_freq_hz,
            self.wake_on_motion,
        )


def dmp_rate_hz(freq_hz: int) -> float:
    """The rate raw data really comes at for a configured frequency: 200 / floor(200 / f)."""
    return DMP_SAMPLE_RATE_HZ / (DMP_SAMPLE_RATE_HZ // freq_hz)


# Divisor n -> the largest configurable frequency that gives it (200 // q == n). Not every n can be
# reached (no frequency divides 200 by 19), so the choice is among these.
_FREQ_FOR_DIVISOR: dict[int, int] = {
    DMP_SAMPLE_RATE_HZ // q: q for q in range(MPU_FREQ_MIN_HZ, MPU_FREQ_MAX_HZ + 1)
}


def request_freq_hz(rate_hz: float) -> int:
    """The frequency to configure for `rate_hz`: of the rates the DMP can run (200/n Hz for the
    divisors a frequency of 5..200 Hz gives), the one nearest by ratio, written as the largest
    frequency that gives it (50 for 50 Hz, 28 for 28.6 Hz), so the config reads as a plain number."""
    best_n = min(_FREQ_FOR_DIVISOR, key=lambda n: abs(math.log(DMP_SAMPLE_RATE_HZ / n / rate_hz)))
    return _FREQ_FOR_DIVISOR[best_n]


class Thingy52Profile(DeviceProfile):
    name: ClassVar[ProfileName] = ProfileName.THINGY52
    title: ClassVar[str] = "Nordic Thingy:52"
    service_uuid: ClassVar[str] = SERVICE_UUID
    data_uuid: ClassVar[str] = RAW_UUID
    # A 60 mm square box: fits a trouser pocket or a belt clip, too big for a wrist.
    placements: ClassVar[frozenset[Placement]] = frozenset({Placement.THIGH, Placement.WAIST})
    notes: ClassVar[str] = "no device clock: samples are timed on arrival; fits a pocket, not a wrist"

    def __init__(self, config: StreamConfig | None = None) -> None:
        super().__init__(config)
        self.motion_freq_hz = request_freq_hz(self.config.rate_hz)
        # The config read at the last start, and whether the start had to write one.
        self.device_config: MotionConfig | None = None
        self.wrote_config = False

    def matches(self, adv: Advertisement) -> bool:
        # The firmware advertises its configuration service (0x0100), not the motion service.
        uuids = {u.lower() for u in adv.service_uuids}
        return super().matches(adv) or CONFIGURATION_SERVICE_UUID in uuids

    @property
    def rate_hz(self) -> float:
        return dmp_rate_hz(self.motion_freq_hz)

    def start_writes(self) -> list[GattWrite]:
        # Without the config read first only the firmware defaults can stand in for the other
        # fields (m_motion.h:59-66); `start_sequence` keeps the board's own values instead.
        defaults = MotionConfig(1000, 500, 500, self.motion_freq_hz, 1)
        return [self.config_write(defaults)]

    def config_write(self, config: MotionConfig) -> GattWrite:
        return GattWrite(CONFIG_UUID, config.pack(), response=True, purpose="motion processing frequency")

    def start_sequence(self) -> Generator[GattStep, bytes | None, None]:
        """Read the motion config; write it back with only the frequency changed, if it must change."""
        value = yield GattRead(CONFIG_UUID, purpose="read the motion config")
        self.wrote_config = False
        if value is None:
            return
        if len(value) != _CONFIG.size:
            raise StreamStartError(
                self.name,
                f"the motion config reads {len(value)} bytes ({value.hex(' ')}), not the "
                f"{_CONFIG.size}-byte ble_tms_config_t",
                "update the Thingy to Nordic's Thingy:52 firmware (v2.x)",
            )
        current = MotionConfig.unpack(value)
        self.device_config = current
        if (
            0 < current.motion_freq_hz <= DMP_SAMPLE_RATE_HZ
            and dmp_rate_hz(current.motion_freq_hz) == self.rate_hz
        ):
            self.motion_freq_hz = current.motion_freq_hz  # already at the rate wanted: no flash write
            return
        self.wrote_config = True
        yield self.config_write(
            MotionConfig(
                current.pedo_interval_ms,
                current.temp_interval_ms,
                current.compass_interval_ms,
                self.motion_freq_hz,
                current.wake_on_motion,
            )
        )

    def decode(self, data: bytes) -> DecodedPacket:
        n = len(data)
        if n != RAW_BYTES:
            kind = DecodeErrorKind.TRUNCATED if n < RAW_BYTES else DecodeErrorKind.OVERSIZED
            raise DecodeError(
                self.name, kind, n, f"expected exactly {RAW_BYTES} bytes (accel, gyro, compass int16 x,y,z)"
            )
        x, y, z = _ACCEL.unpack_from(data, 0)
        xyz = np.array([[x * ACCEL_SCALE, y * ACCEL_SCALE, z * ACCEL_SCALE]], dtype=np.float32)
        return DecodedPacket(xyz=xyz)
