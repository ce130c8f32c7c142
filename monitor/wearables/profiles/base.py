"""What every wearable family has in common: the `DeviceProfile` base and the types it speaks.

A profile is the whole of what the link knows about one family of wearables: which GATT service and
characteristics to use, how to recognise it in an advertisement, which writes start and stop the
accelerometer stream, and how to turn one notification into samples in g. It does no I/O itself:
the link performs the writes it lists and feeds it the bytes that arrive, so every decoder can be
tested against hand-built byte strings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

import numpy as np

from monitor.core.types import Float32Array, Placement

# Standard Battery Service / Battery Level (Bluetooth SIG assigned numbers 0x180F / 0x2A19).
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"


class ProfileName(StrEnum):
    """The wearable families sitbreak can stream from; the config names one of these."""

    SITSENSE = "sitsense"
    MICROBIT = "microbit"
    POLAR = "polar"
    THINGY52 = "thingy52"


class DecodeErrorKind(StrEnum):
    """Why a notification could not be decoded; each kind is counted separately."""

    TRUNCATED = "truncated"  # shorter than its header or its declared content
    OVERSIZED = "oversized"  # longer than the format allows, or trailing bytes
    WRONG_TYPE = "wrong_type"  # a packet/frame/measurement type this decoder does not handle
    BAD_VALUE = "bad_value"  # a field outside its allowed values (count, range code, checksum)


class DecodeError(ValueError):
    """A notification that is not a valid packet of the profile's format.

    The fields say what was wrong so the link can count it by kind and log it without guessing:
    `profile`, `kind`, `length` (bytes received) and `detail` (the rule broken, with the value).
    """

    def __init__(self, profile: ProfileName, kind: DecodeErrorKind, length: int, detail: str) -> None:
        super().__init__(f"{profile} packet of {length} bytes is {kind}: {detail}")
        self.profile = profile
        self.kind = kind
        self.length = length
        self.detail = detail


class StreamStartError(RuntimeError):
    """The wearable refused a start/configure write (e.g. Polar PMD control point error code), or
    answered something the start sequence cannot use. `detail` says what happened, `fix` (when one
    is known) what the person can do about it; both are in the message."""

    def __init__(self, profile: ProfileName, detail: str, fix: str = "") -> None:
        text = f"{profile}: the wearable did not start streaming: {detail}"
        super().__init__(f"{text}. Fix: {fix}" if fix else text)
        self.profile = profile
        self.detail = detail
        self.fix = fix


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """What the wearer asked for; each profile rounds it to what its hardware supports."""

    rate_hz: float = 50.0
    range_g: int = 8


@dataclass(frozen=True, slots=True)
class GattWrite:
    """One characteristic write the link performs to configure, start or stop streaming.

    `await_reply`: the device answers on the profile's `control_uuid` (a PMD control point
    indication); the link waits for it and hands it to `DeviceProfile.check_reply`.
    """

    char_uuid: str
    data: bytes
    response: bool = True
    await_reply: bool = False
    purpose: str = ""


@dataclass(frozen=True, slots=True)
class GattRead:
    """One characteristic read in a start sequence: the link reads `char_uuid` and sends the value
    back into the sequence. Profiles read what the device really did with a write (the micro:bit
    stores the period it rounded to) or what must be kept when writing a whole struct (the Thingy's
    motion config)."""

    char_uuid: str
    purpose: str = ""


# One step of a start sequence; the link performs it and sends back what it got (reply or value).
GattStep = GattWrite | GattRead


class ControlKind(StrEnum):
    """What one notification on a profile's `control_uuid` is, as the profile reads it."""

    REPLY = "reply"  # the (reassembled) answer to the write being awaited
    PARTIAL = "partial"  # one packet of an answer that continues in further packets: wait for them
    STREAM_STOPPED = "stream_stopped"  # the device stopped the stream on its own: start it again
    UNSOLICITED = "unsolicited"  # anything else (a stale answer, an unknown message): log it only


@dataclass(frozen=True, slots=True)
class ControlMessage:
    """One control notification classified by the profile. `data` is the reply to hand to the start
    sequence (REPLY: the packets of a continued answer joined into one); `detail` is for the log."""

    kind: ControlKind
    data: bytes = b""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DecodedPacket:
    """The samples carried by one notification, in device terms.

    xyz:    acceleration in g, float32, shape (N, 3), device axes.
    seq:    the packet's sequence number when the format has one (wraps at the profile's
            `seq_modulus`), else None.
    t_first / t_last: device clock (seconds) of the first / last sample when the format carries
            a timestamp; a format gives one or both. None for devices without a clock: the link
            then times samples from arrival and the nominal period.
    period_s: sample spacing the packet itself declares, if it declares one.
    restart: the device says its sequence restarted here (a new stream), so a lower sequence
            number is not a duplicate.
    device_dropped: the device says it lost samples before this packet (its FIFO overflowed).
    """

    xyz: Float32Array
    seq: int | None = None
    t_first: float | None = None
    t_last: float | None = None
    period_s: float | None = None
    restart: bool = False
    device_dropped: bool = False

    def __len__(self) -> int:
        return int(self.xyz.shape[0])


@dataclass(frozen=True, slots=True)
class Advertisement:
    """The parts of an advertisement a profile matches on (a plain view of bleak's AdvertisementData)."""

    name: str | None
    service_uuids: Sequence[str] = ()
    manufacturer_data: Mapping[int, bytes] = field(default_factory=dict)


def nearest(value: float, allowed: Sequence[float]) -> float:
    """The allowed value closest to `value` (ties go to the first listed)."""
    return min(allowed, key=lambda a: abs(a - value))


def int16_triplets(profile: ProfileName, data: bytes, offset: int, scale: float) -> Float32Array:
    """Little-endian int16 x,y,z triplets from `offset` to the end, times `scale`, as float32 g."""
    body = len(data) - offset
    if body <= 0 or body % 6:
        kind = DecodeErrorKind.TRUNCATED if body < 6 else DecodeErrorKind.OVERSIZED
        raise DecodeError(
            profile, kind, len(data), f"{body} sample bytes is not a multiple of 6 (int16 x,y,z)"
        )
    raw = np.frombuffer(data, dtype="<i2", offset=offset).reshape(-1, 3)
    out: Float32Array = raw.astype(np.float32)
    out *= np.float32(scale)
    return out


class DeviceProfile(ABC):
    """One wearable family. Subclasses fill the class attributes and implement `decode`.

    Instances are per link: they hold the stream configuration rounded to what the device
    supports, and whatever a start reply taught them (Polar's scale factor).
    """

    name: ClassVar[ProfileName]
    title: ClassVar[str]
    service_uuid: ClassVar[str]
    data_uuid: ClassVar[str]
    # Characteristic whose notifications/indications answer our writes (None: no replies).
    control_uuid: ClassVar[str | None] = None
    placements: ClassVar[frozenset[Placement]]
    default_placement: ClassVar[Placement] = Placement.THIGH
    # Sequence numbers wrap at this value; None when the format carries none.
    seq_modulus: ClassVar[int | None] = None
    # The device clock wraps at this many seconds (uint32 ms wraps after ~49.7 days); None: never.
    time_modulus_s: ClassVar[float | None] = None
    # The format timestamps samples with the device clock.
    has_device_time: ClassVar[bool] = False
    # Why the placements are what they are / what the user should know; shown by `sitbreak scan`.
    notes: ClassVar[str] = ""

    def __init__(self, config: StreamConfig | None = None) -> None:
        self.config = config or StreamConfig()

    @property
    @abstractmethod
    def rate_hz(self) -> float:
        """The sample rate the device will actually use for `config.rate_hz`."""

    @property
    def period_s(self) -> float:
        return 1.0 / self.rate_hz

    def matches(self, adv: Advertisement) -> bool:
        """True when an advertisement looks like this family (service UUID advertised)."""
        return self.service_uuid in (u.lower() for u in adv.service_uuids)

    @abstractmethod
    def start_writes(self) -> list[GattWrite]:
        """Writes that configure rate/range and start the stream, in order (after subscribing)."""

    def start_sequence(self) -> Generator[GattStep, bytes | None, None]:
        """The start writes as a conversation: the link performs each step and sends back what it
        got: for a write with `await_reply` the device's answer, for a `GattRead` the value read,
        else None. Profiles that must read something before deciding what to write next (Polar asks
        which settings the sensor offers, the Thingy reads its motion config, the micro:bit reads
        back the period it chose) override this."""
        for write in self.start_writes():
            reply = yield write
            if write.await_reply and reply is not None:
                self.check_reply(write, reply)

    def stop_writes(self) -> list[GattWrite]:
        """Writes that stop the stream before a deliberate disconnect (default: none needed)."""
        return []

    def check_reply(self, write: GattWrite, reply: bytes) -> None:
        """Check the device's answer to a write with `await_reply`; raise StreamStartError if refused."""
        return None  # families whose writes get no answer accept every reply

    def control_message(self, data: bytes) -> ControlMessage:
        """Classify one notification on `control_uuid`. The link hands every one here and gives the
        start sequence only REPLY data; the default takes every notification as the reply."""
        return ControlMessage(ControlKind.REPLY, data)

    @abstractmethod
    def decode(self, data: bytes) -> DecodedPacket:
        """Decode one notification from `data_uuid`. Raises DecodeError for anything malformed."""

    def describe(self) -> str:
        return f"{self.title} at {self.rate_hz:g} Hz"
