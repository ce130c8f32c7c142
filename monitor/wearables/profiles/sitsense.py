"""The sitbreak reference firmware ("SitSense"): framing from `monitor.wearables.sitsense_format`.

The format module is shared with the firmware (and with docs/firmware-protocol.md), so this profile
never restates the layout: it calls `decode_packet` and only adds what the link needs, namely the
kind of each failure (counted per kind) and the packet in the link's device-time terms.
Every packet carries a uint16 sequence number and the device time (ms since boot, uint32) of its
first sample, so lost, duplicated and reordered packets are all visible to the link.
"""

from __future__ import annotations

from typing import ClassVar

from monitor.core.types import Placement
from monitor.wearables import sitsense_format as fmt
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

MS = 1e-3


class SitSenseProfile(DeviceProfile):
    name: ClassVar[ProfileName] = ProfileName.SITSENSE
    title: ClassVar[str] = "SitSense reference firmware"
    service_uuid: ClassVar[str] = fmt.SERVICE_UUID
    data_uuid: ClassVar[str] = fmt.ACCEL_CHAR_UUID
    # Designed for a thigh pocket or strap; the pipeline also handles waist and wrist.
    placements: ClassVar[frozenset[Placement]] = frozenset(Placement)
    seq_modulus: ClassVar[int | None] = fmt.SEQ_MODULO
    time_modulus_s: ClassVar[float | None] = fmt.TIME_MODULO_MS * MS
    has_device_time: ClassVar[bool] = True

    @property
    def rate_hz(self) -> float:
        return float(nearest(self.config.rate_hz, sorted(fmt.RATE_CODES.values())))

    @property
    def range_g(self) -> int:
        return int(nearest(self.config.range_g, sorted(fmt.RANGE_CODES.values())))

    def matches(self, adv: Advertisement) -> bool:
        return super().matches(adv) or (adv.name or "").startswith(fmt.NAME_PREFIX)

    def start_writes(self) -> list[GattWrite]:
        return [
            GattWrite(
                fmt.CONFIG_CHAR_UUID,
                fmt.encode_config(int(self.rate_hz), self.range_g),
                response=True,
                purpose="set rate and range",
            ),
            GattWrite(fmt.CONTROL_CHAR_UUID, bytes((fmt.CONTROL_RESUME,)), response=True, purpose="resume"),
        ]

    def stop_writes(self) -> list[GattWrite]:
        return [GattWrite(fmt.CONTROL_CHAR_UUID, bytes((fmt.CONTROL_PAUSE,)), response=True, purpose="pause")]

    def decode(self, data: bytes) -> DecodedPacket:
        try:
            packet = fmt.decode_packet(data)
        except fmt.PacketError as exc:
            raise DecodeError(self.name, self._error_kind(data), len(data), exc.reason) from None
        return DecodedPacket(
            xyz=packet.g(),
            seq=packet.seq,
            t_first=packet.t0_ms * MS,
            period_s=1.0 / packet.rate_hz,
            restart=bool(packet.flags & fmt.FLAG_STREAM_START),
            device_dropped=bool(packet.flags & fmt.FLAG_OVERFLOW),
        )

    @staticmethod
    def _error_kind(data: bytes) -> DecodeErrorKind:
        """Classify a packet `decode_packet` refused, from the header rules in sitsense_format."""
        n = len(data)
        if n < fmt.HEADER_SIZE + fmt.SAMPLE_SIZE:
            return DecodeErrorKind.TRUNCATED
        version_flags, _seq, _t0, count, rate_range = fmt.HEADER.unpack_from(data)
        if version_flags >> 4 != fmt.VERSION:
            return DecodeErrorKind.WRONG_TYPE
        if (rate_range >> 4) not in fmt.RATE_CODES or (rate_range & 0xF) not in fmt.RANGE_CODES or count == 0:
            return DecodeErrorKind.BAD_VALUE
        expected = fmt.HEADER_SIZE + count * fmt.SAMPLE_SIZE
        return DecodeErrorKind.TRUNCATED if n < expected else DecodeErrorKind.OVERSIZED
