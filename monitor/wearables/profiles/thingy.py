"""Nordic Thingy:52 motion service, raw data characteristic.

Layout (NordicSemiconductor/Nordic-Thingy52-FW: include/ble_services/ble_tms.h, source/modules/
m_motion.c, include/modules/m_motion.h):
- Thingy base UUID EF68xxxx-9B35-4933-9B10-52FFA9740042; motion service 0x0400.
- raw data 0x0406, notify: `ble_tms_raw_t`, packed, little-endian: accel x,y,z int16, gyro x,y,z
  int16, compass x,y,z int16 (18 bytes). m_motion.c shifts the driver's 16Q16 values right by
  RAW_Q_FORMAT_ACC_INTEGER_BITS = 6, so accel is Q6.10: divide by 2**10 = 1024 for g. Gyro (Q11.5)
  and compass (Q12.4) are decoded only for length checking; sitbreak uses the accelerometer.
- motion config 0x0401, read/write: `ble_tms_config_t`, packed: uint16 step counter interval ms,
  uint16 temperature compensation interval ms, uint16 magnetometer compensation interval ms,
  uint16 motion processing unit frequency Hz (BLE_TMS_CONFIG_MPUF_MIN..MAX = 1..200), uint8 wake on
  motion. The firmware asserts the write is exactly 9 bytes (APP_ERROR_CHECK_BOOL on the length).

The raw data carries no timestamp or counter: the link times samples like the micro:bit's (arrival
plus expected period), with the same consequences for lost packets.
"""

from __future__ import annotations

import struct
from typing import ClassVar

import numpy as np

from monitor.core.types import Placement
from monitor.wearables.profiles.base import (
    Advertisement,
    DecodedPacket,
    DecodeError,
    DecodeErrorKind,
    DeviceProfile,
    GattWrite,
    ProfileName,
)


def thingy_uuid(short: int) -> str:
    return f"ef68{short:04x}-9b35-4933-9b10-52ffa9740042"


CONFIGURATION_SERVICE_UUID = thingy_uuid(0x0100)  # what the Thingy advertises
SERVICE_UUID = thingy_uuid(0x0400)
CONFIG_UUID = thingy_uuid(0x0401)
RAW_UUID = thingy_uuid(0x0406)

RAW_BYTES = 18  # 3 x (x, y, z int16): accel, gyro, compass
ACCEL_SCALE = 1.0 / (1 << 10)  # Q6.10 -> g

# MOTION_DEFAULT_CONFIG in m_motion.h, kept for everything but the processing frequency so our
# write does not change the wearer's other settings from the firmware defaults.
DEFAULT_PEDO_INTERVAL_MS = 1000
DEFAULT_TEMP_INTERVAL_MS = 500
DEFAULT_COMPASS_INTERVAL_MS = 500
DEFAULT_WAKE_ON_MOTION = 1
MPU_FREQ_MIN_HZ = 1  # BLE_TMS_CONFIG_MPUF_MIN
MPU_FREQ_MAX_HZ = 200  # BLE_TMS_CONFIG_MPUF_MAX

_CONFIG = struct.Struct("<HHHHB")
_ACCEL = struct.Struct("<3h")


class Thingy52Profile(DeviceProfile):
    name: ClassVar[ProfileName] = ProfileName.THINGY52
    title: ClassVar[str] = "Nordic Thingy:52"
    service_uuid: ClassVar[str] = SERVICE_UUID
    data_uuid: ClassVar[str] = RAW_UUID
    # A 60 mm square box: fits a trouser pocket or a belt clip, too big for a wrist.
    placements: ClassVar[frozenset[Placement]] = frozenset({Placement.THIGH, Placement.WAIST})
    notes: ClassVar[str] = "no device clock: samples are timed on arrival; fits a pocket, not a wrist"

    def matches(self, adv: Advertisement) -> bool:
        # The firmware advertises its configuration service (0x0100), not the motion service.
        uuids = {u.lower() for u in adv.service_uuids}
        return super().matches(adv) or CONFIGURATION_SERVICE_UUID in uuids

    @property
    def rate_hz(self) -> float:
        return float(min(MPU_FREQ_MAX_HZ, max(MPU_FREQ_MIN_HZ, round(self.config.rate_hz))))

    def config_bytes(self) -> bytes:
        return _CONFIG.pack(
            DEFAULT_PEDO_INTERVAL_MS,
            DEFAULT_TEMP_INTERVAL_MS,
            DEFAULT_COMPASS_INTERVAL_MS,
            int(self.rate_hz),
            DEFAULT_WAKE_ON_MOTION,
        )

    def start_writes(self) -> list[GattWrite]:
        return [GattWrite(CONFIG_UUID, self.config_bytes(), response=True, purpose="motion config")]

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
