"""Device profiles, one class per wearable family, picked by `ProfileName`.

profile = make_profile(ProfileName.MICROBIT, StreamConfig(rate_hz=50))
packet = profile.decode(notification_bytes)
"""

from __future__ import annotations

from monitor.wearables.profiles.base import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    Advertisement,
    ControlKind,
    ControlMessage,
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
from monitor.wearables.profiles.microbit import MicrobitProfile
from monitor.wearables.profiles.polar import PolarProfile
from monitor.wearables.profiles.sitsense import SitSenseProfile
from monitor.wearables.profiles.thingy import Thingy52Profile

PROFILE_CLASSES: dict[ProfileName, type[DeviceProfile]] = {
    ProfileName.SITSENSE: SitSenseProfile,
    ProfileName.MICROBIT: MicrobitProfile,
    ProfileName.POLAR: PolarProfile,
    ProfileName.THINGY52: Thingy52Profile,
}


def make_profile(name: ProfileName | str, config: StreamConfig | None = None) -> DeviceProfile:
    """A fresh profile instance for one link. Raises ValueError naming the choices."""
    try:
        cls = PROFILE_CLASSES[ProfileName(name)]
    except ValueError:
        choices = ", ".join(p.value for p in ProfileName)
        raise ValueError(f"unknown wearable profile {name!r}; choose one of: {choices}") from None
    return cls(config)


def match_profile(adv: Advertisement) -> ProfileName | None:
    """The first family whose advertisement rule matches, or None."""
    for name, cls in PROFILE_CLASSES.items():
        if cls().matches(adv):
            return name
    return None


__all__ = [
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "PROFILE_CLASSES",
    "Advertisement",
    "ControlKind",
    "ControlMessage",
    "DecodeError",
    "DecodeErrorKind",
    "DecodedPacket",
    "DeviceProfile",
    "GattRead",
    "GattStep",
    "GattWrite",
    "MicrobitProfile",
    "PolarProfile",
    "ProfileName",
    "SitSenseProfile",
    "StreamConfig",
    "StreamStartError",
    "Thingy52Profile",
    "make_profile",
    "match_profile",
]
