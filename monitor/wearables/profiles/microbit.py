"""BBC micro:bit accelerometer service (micro:bit V2 with CODAL, V1 with the DAL).

Sources, cited where used, with these short forms:

- `V2` = lancaster-university/codal-microbit-v2 @ 44f41504635329ed77d2b3482e75a3c7b37d79ec
- `core` = lancaster-university/codal-core @ 8c8366f9a1e92da69f90fe816456c4b9c42ffd13 (V2 drivers)
- `V1` = lancaster-university/microbit-dal @ 318c6abbb3d952d3f49a595a726486230e82fb5b

The service (V2 source/bluetooth/MicroBitAccelerometerService.cpp; V1 the same file):
- service E95D0753-251D-470A-A062-FA1922DFA9A8 (V2 :38; V1 :111-113)
- data E95DCA4B-..., read + notify: x, y, z as 16-bit little-endian, one sample per notification,
  sent on every accelerometer data update (V2 :62-65, :146-153; V1 :99-109)
- period E95DFB24-..., read + write: uint16 ms. The firmware hands a written period to the driver,
  which rounds it UP to the next period its sensor supports, then stores the period really used
  back in the characteristic (V2 :128-140, "Read back the ACTUAL period it is using"; V1 :82-94).
  So sitbreak writes the period it wants, reads the characteristic back and uses what it reads.

The drivers (rounding: KeyValueTable::find returns the first table entry >= the request, else the
last, core source/core/CodalUtil.cpp:33-60; the stored period is that entry in whole ms, integer
division, core source/drivers/LSM303Accelerometer.cpp:105):
- V2, LSM303AGR (the only V2 accelerometer, V2 source/MicroBitAccelerometer.cpp:70-74):
  0.617, 0.744, 2.5, 5, 10, 20, 40, 100, 1000 ms (core source/drivers/LSM303Accelerometer.cpp:57-67)
- V1, MMA8653: 1.25, 2.5, 5, 10, 20, 80, 160, 640 ms (V1 source/drivers/MMA8653.cpp:53-62)
- V1, FXOS8700: the table is looked up with TWICE the request, 2.5 ... 1280 ms
  (V1 source/drivers/FXOS8700.cpp:53-62, :80)
- V1, LSM303: as V2 (V1 source/drivers/LSM303Accelerometer.cpp:54-65)
A read-back of 2 therefore means 2.5 ms and 1 means 1.25 ms (the truncated entries); 0 (the LSM303's
sub-millisecond entries) is never asked for.

Units: every driver scales its reading to 1024 per g at the ±2 g default range, which the firmware
comments call "millig (approx)": MMA8653 8-bit x 8 x range (V1 MMA8653.cpp:175-189), FXOS8700 14-bit
x range / 32 (V1 FXOS8700.cpp:241-243), LSM303 16-bit / 32 x range (core LSM303Accelerometer.cpp:
194-206; V1 :167-174). 1 g is 1024 counts, not 1000: decoding as milli-g reads 1.024 g at rest.
The range is not settable over Bluetooth and the default is ±2 g (V2 core source/driver-models/
Accelerometer.cpp:50-51; V1 source/drivers/MicroBitAccelerometer.cpp:52-54), so `range_g` is ignored.

Security: by default the firmware wants a bonded link (MakeCode's default "JustWorks pairing",
microsoft/pxt-microbit libs/bluetooth/pxt.json userConfigs; V2 inc/MicroBitConfig.h:196-221 and
source/bluetooth/MicroBitBLEManager.cpp:327-371; V1 MicroBitAccelerometerService.cpp:58-60). The
MakeCode program in firmware/microbit/ selects "No Pairing Required" instead; README says how to pair
one built with pairing.

Consequences of having no device clock and no sequence number: every notification is one sample,
timed by the link from its arrival and the read-back period. A lost notification inside a burst is
invisible (the following samples shift by one period); only silences longer than the link's gap
threshold become gaps, i.e. unknown time. Times carry the BLE delivery jitter (one connection
interval, tens of ms), far below the one-second epochs the pipeline labels.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Generator, Sequence
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

SERVICE_UUID = "e95d0753-251d-470a-a062-fa1922dfa9a8"
DATA_UUID = "e95dca4b-251d-470a-a062-fa1922dfa9a8"
PERIOD_UUID = "e95dfb24-251d-470a-a062-fa1922dfa9a8"

# The drivers' period tables in microseconds (see the module docstring for file and line).
LSM303_PERIODS_US: tuple[int, ...] = (617, 744, 2500, 5000, 10_000, 20_000, 40_000, 100_000, 1_000_000)
MMA8653_PERIODS_US: tuple[int, ...] = (1250, 2500, 5000, 10_000, 20_000, 80_000, 160_000, 640_000)
FXOS8700_PERIODS_US: tuple[int, ...] = (2500, 5000, 10_000, 20_000, 80_000, 160_000, 320_000, 1_280_000)
# The periods sitbreak asks for: the V2 (LSM303) periods of 5 ms or more, all whole milliseconds,
# so a V2 runs at exactly the period written. Faster than 200 Hz is of no use for posture.
REQUEST_PERIODS_MS: tuple[int, ...] = (5, 10, 20, 40, 100, 1000)
# Read-backs that stand for a truncated table entry (2500 us -> 2, 1250 us -> 1).
TRUNCATED_PERIODS_MS = {1: 1.25, 2: 2.5}
COUNTS_PER_G = 1024  # every driver's scale at the default ±2 g (see the module docstring)
NAME_PREFIX = "BBC micro:bit"
PACKET_BYTES = 6

_XYZ = struct.Struct("<3h")
_PERIOD = struct.Struct("<H")


def driver_period_ms(table_us: Sequence[int], requested_ms: int, lookup_scale: int = 1000) -> int:
    """The period a driver stores, and the characteristic then reads, for a written `requested_ms`:
    the first table entry >= the request (else the last), in whole ms. `lookup_scale` is 2000 for
    the FXOS8700, which looks the table up with twice the request (V1 FXOS8700.cpp:80)."""
    key = requested_ms * lookup_scale
    entry = next((us for us in table_us if us >= key), table_us[-1])
    return entry // 1000


def request_period_ms(rate_hz: float) -> int:
    """The period to write for `rate_hz`: the nearest requestable period by ratio (40 Hz is as far
    from 25 as 62.5 is from 40 Hz: rates compare by ratio)."""
    wanted = 1000.0 / rate_hz
    return min(REQUEST_PERIODS_MS, key=lambda p: abs(math.log(p / wanted)))


class MicrobitProfile(DeviceProfile):
    name: ClassVar[ProfileName] = ProfileName.MICROBIT
    title: ClassVar[str] = "BBC micro:bit"
    service_uuid: ClassVar[str] = SERVICE_UUID
    data_uuid: ClassVar[str] = DATA_UUID
    # A bare board in a case: fine in a thigh pocket or strap, at the waist, or on the wrist.
    placements: ClassVar[frozenset[Placement]] = frozenset(Placement)
    notes: ClassVar[str] = (
        "no device clock: samples are timed on arrival, lost packets only show as silences; "
        "range fixed at ±2 g; needs the MakeCode program in firmware/microbit/"
    )

    def __init__(self, config: StreamConfig | None = None) -> None:
        super().__init__(config)
        self.requested_ms = request_period_ms(self.config.rate_hz)
        # Until the board says otherwise: a V2 runs at exactly the period requested.
        self._period_ms = float(self.requested_ms)

    def matches(self, adv: Advertisement) -> bool:
        # The firmware advertises its name, "BBC micro:bit [zatig]"; the service UUID is not in it.
        return super().matches(adv) or (adv.name or "").startswith(NAME_PREFIX)

    @property
    def period_ms(self) -> float:
        """The period the board uses: read back at the last start, else the one requested."""
        return self._period_ms

    @property
    def rate_hz(self) -> float:
        return 1000.0 / self._period_ms

    def start_writes(self) -> list[GattWrite]:
        return [GattWrite(PERIOD_UUID, _PERIOD.pack(self.requested_ms), response=True, purpose="set period")]

    def start_sequence(self) -> Generator[GattStep, bytes | None, None]:
        """Write the period, then read back the period the driver rounded it to and use that."""
        (write,) = self.start_writes()
        yield write  # a plain write: the link sends None back
        value = yield GattRead(PERIOD_UUID, purpose="read back the accelerometer period")
        if value is not None:
            self.apply_period(value)

    def apply_period(self, value: bytes) -> None:
        """Take the period characteristic's value as the period in use; StreamStartError if unusable."""
        if len(value) != _PERIOD.size:
            raise StreamStartError(
                self.name,
                f"the accelerometer period reads {value.hex(' ') or 'empty'}, not a uint16",
                "flash the MakeCode program in firmware/microbit/ (it enables the accelerometer service)",
            )
        (stored,) = _PERIOD.unpack(value)
        if stored == 0:
            raise StreamStartError(
                self.name,
                f"the board reports a 0 ms accelerometer period for a request of {self.requested_ms} ms",
                "restart the micro:bit; another program may have set a sub-millisecond period",
            )
        self._period_ms = TRUNCATED_PERIODS_MS.get(stored, float(stored))

    def decode(self, data: bytes) -> DecodedPacket:
        n = len(data)
        if n != PACKET_BYTES:
            kind = DecodeErrorKind.TRUNCATED if n < PACKET_BYTES else DecodeErrorKind.OVERSIZED
            raise DecodeError(self.name, kind, n, f"expected exactly {PACKET_BYTES} bytes (3 x int16)")
        x, y, z = _XYZ.unpack(data)
        # struct beats numpy for one 6-byte sample: this runs 50 times a second.
        xyz = np.array([[x / COUNTS_PER_G, y / COUNTS_PER_G, z / COUNTS_PER_G]], dtype=np.float32)
        # The packet carries the read-back period so the link times samples at the board's real rate.
        return DecodedPacket(xyz=xyz, period_s=self._period_ms / 1000.0)
