"""BBC micro:bit accelerometer service (micro:bit Bluetooth profile, Lancaster University DAL).

Layout (micro:bit Bluetooth profile specification; lancaster-university.github.io/microbit-docs/ble/
accelerometer-service/; MicroBitAccelerometerService.cpp in microbit-dal):
- service  E95D0753-251D-470A-A062-FA1922DFA9A8
- data     E95DCA4B-251D-470A-A062-FA1922DFA9A8, notify: 6 bytes, x, y, z as int16 little-endian
           in milli-g (node-bbc-microbit divides each by 1000 to get g).
- period   E95DFB24-251D-470A-A062-FA1922DFA9A8, read/write: uint16 LE milliseconds between
           readings; the DAL accepts 1, 2, 5, 10, 20, 80, 160, 640 (writing 0 crashes some
           firmware, so we never do).

Consequences of having no device clock and no sequence number: every notification is one sample,
timed by the link from its arrival and the expected period. A lost notification inside a burst is
invisible (the following samples shift by one period, 20 ms at 50 Hz); only silences longer than the
link's gap threshold become gaps, i.e. unknown time. Times carry the BLE delivery jitter (one
connection interval, tens of ms), which is far below the one-second epochs the pipeline labels.
The accelerometer range cannot be set over Bluetooth (the DAL default is ±2 g), so `range_g` is
ignored.
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
    nearest,
)

SERVICE_UUID = "e95d0753-251d-470a-a062-fa1922dfa9a8"
DATA_UUID = "e95dca4b-251d-470a-a062-fa1922dfa9a8"
PERIOD_UUID = "e95dfb24-251d-470a-a062-fa1922dfa9a8"

# The periods the DAL's accelerometer driver accepts (ms).
SUPPORTED_PERIODS_MS: tuple[int, ...] = (1, 2, 5, 10, 20, 80, 160, 640)
NAME_PREFIX = "BBC micro:bit"
PACKET_BYTES = 6
MILLI_G = 1e-3

_XYZ = struct.Struct("<3h")


class MicrobitProfile(DeviceProfile):
    name: ClassVar[ProfileName] = ProfileName.MICROBIT
    title: ClassVar[str] = "BBC micro:bit"
    service_uuid: ClassVar[str] = SERVICE_UUID
    data_uuid: ClassVar[str] = DATA_UUID
    # A bare board in a case: fine in a thigh pocket or strap, at the waist, or on the wrist.
    placements: ClassVar[frozenset[Placement]] = frozenset(Placement)
    notes: ClassVar[str] = (
        "no device clock: samples are timed on arrival, lost packets only show as silences; "
        "range fixed at ±2 g"
    )

    def matches(self, adv: Advertisement) -> bool:
        # The DAL advertises only its name, "BBC micro:bit [zatig]"; the service UUID is not in it.
        return super().matches(adv) or (adv.name or "").startswith(NAME_PREFIX)

    @property
    def period_ms(self) -> int:
        """The supported period closest to the requested rate (50 Hz -> 20 ms)."""
        return int(nearest(1000.0 / self.config.rate_hz, SUPPORTED_PERIODS_MS))

    @property
    def rate_hz(self) -> float:
        return 1000.0 / self.period_ms

    def start_writes(self) -> list[GattWrite]:
        return [
            GattWrite(PERIOD_UUID, struct.pack("<H", self.period_ms), response=True, purpose="set period")
        ]

    def decode(self, data: bytes) -> DecodedPacket:
        n = len(data)
        if n != PACKET_BYTES:
            kind = DecodeErrorKind.TRUNCATED if n < PACKET_BYTES else DecodeErrorKind.OVERSIZED
            raise DecodeError(self.name, kind, n, f"expected exactly {PACKET_BYTES} bytes (3 x int16 mg)")
        x, y, z = _XYZ.unpack(data)
        # struct beats numpy for one 6-byte sample: this runs 50 times a second.
        xyz = np.array([[x * MILLI_G, y * MILLI_G, z * MILLI_G]], dtype=np.float32)
        return DecodedPacket(xyz=xyz)
