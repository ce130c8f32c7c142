"""The shape of sitbreak.toml: the root `Config`, its `[[wearables]]` entries and the cross-key checks.

Each room owns the settings dataclass of its own table (monitor/pipeline/settings.py, ...); this module
only puts them together and holds the keys that have no room of their own yet. Field metadata (doc,
unit, bounds, choices, pattern) is what the loader checks and the example file documents.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from monitor.config.notation import key_path, show_value
from monitor.core.fields import setting, setting_metadata
from monitor.core.types import Placement
from monitor.mqtt.settings import MqttSettings
from monitor.mqtt.topics import slug
from monitor.nudges.settings import ExerciseSettings, PolicySettings
from monitor.pipeline.settings import PipelineSettings
from monitor.reports.settings import ReportSettings
from monitor.store.settings import StoreSettings
from monitor.wearables.profiles.base import ProfileName
from monitor.wearables.settings import LinkSettings

# Where `sitbreak run` looks when no --config is given (the systemd unit passes it explicitly).
DEFAULT_CONFIG_PATH = Path("/etc/sitbreak/sitbreak.toml")

# --------------------------------------------------------------------------------------------------------
# Sections whose rooms have no settings module yet; each moves to its room when one appears.

# Ids end up in MQTT topics and file names: no slashes, wildcards or spaces.
WEARABLE_ID_PATTERN = r"[A-Za-z0-9_-]{1,32}"
# BlueZ reports addresses as six colon-separated hex bytes; macOS CoreBluetooth uses UUIDs instead.
ADDRESS_PATTERN = (
    r"|[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}"
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)
UUID_PATTERN = r"|[0-9A-Fa-f]{4}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"


@dataclass(frozen=True)
class WearableSettings:
    """One `[[wearables]]` entry: which device to stream from, how it is worn."""

    id: str = field(
        metadata=setting_metadata(
            "short name used in MQTT topics and reports",
            pattern=WEARABLE_ID_PATTERN,
            pattern_doc="1-32 letters, digits, _ or -",
        )
    )
    profile: ProfileName = setting(
        ProfileName.SITSENSE, "wearable family (decides UUIDs and packet format)", choices=tuple(ProfileName)
    )
    placement: Placement = setting(
        Placement.THIGH,
        "where it is worn; thigh recognises sitting best, wrist only measures inactivity",
        choices=tuple(Placement),
    )
    address: str = setting(
        "",
        "Bluetooth address (AA:BB:CC:DD:EE:FF); empty matches by name, service or profile",
        pattern=ADDRESS_PATTERN,
        pattern_doc="AA:BB:CC:DD:EE:FF or a UUID",
    )
    name: str = setting("", "advertised name to match; empty matches any name")
    service_uuid: str = setting(
        "",
        "advertised service UUID to match; empty uses the profile's",
        pattern=UUID_PATTERN,
        pattern_doc="a 16-bit (180F) or 128-bit UUID",
    )
    rate_hz: float = setting(
        50.0, "sample rate to ask for; the device rounds to what it supports", unit="Hz", min=10, max=200
    )
    range_g: int = setting(8, "accelerometer range to ask for", unit="g", choices=(2, 4, 8, 16))
    policy: PolicySettings | None = setting(
        None, "keys of [policy] to override for this wearable only ([wearables.policy])"
    )


# --------------------------------------------------------------------------------------------------------
# The whole file.


def _check_timezone(name: str) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        return "unknown time zone" + (f' (did you mean "{close[0]}"?)' if close else "")
    return None


@dataclass(frozen=True)
class Config:
    """Root of sitbreak.toml."""

    timezone: str = setting(
        "",
        "IANA time zone for active hours and daily reports, e.g. Europe/Berlin; empty uses the system's",
        check=_check_timezone,
    )
    wearables: tuple[WearableSettings, ...] = setting(
        (), "the wearables to stream from, one [[wearables]] table each"
    )
    policy: PolicySettings = setting(default_factory=PolicySettings, doc="when to nudge")
    exercises: ExerciseSettings = setting(default_factory=ExerciseSettings, doc="which exercises to suggest")
    mqtt: MqttSettings = setting(default_factory=MqttSettings, doc="the MQTT broker")
    store: StoreSettings = setting(default_factory=StoreSettings, doc="the SQLite store")
    report: ReportSettings = setting(default_factory=ReportSettings, doc="daily reports")
    link: LinkSettings = setting(default_factory=LinkSettings, doc="Bluetooth links")
    pipeline: PipelineSettings = setting(
        default_factory=PipelineSettings,
        doc="posture classification; the defaults come from the literature, change with care",
    )

    def __post_init__(self) -> None:
        problem = _check_timezone(self.timezone)
        if problem:
            raise ValueError(f"timezone = {show_value(self.timezone)}: {problem}")
        seen: dict[str, int] = {}
        slugs: dict[str, int] = {}
        for i, w in enumerate(self.wearables):
            if w.id in seen:
                raise ValueError(
                    f"wearables[{i}].id = {show_value(w.id)}: duplicate of wearables[{seen[w.id]}].id"
                )
            # Home Assistant ids and the MQTT client id use the slug: two wearables sharing one would
            # share entities and knock each other off the broker.
            other = slugs.get(slug(w.id))
            if other is not None:
                first = self.wearables[other].id
                raise ValueError(
                    f"wearables[{i}].id = {show_value(w.id)}: too like wearables[{other}].id = "
                    f"{show_value(first)} (Home Assistant and the MQTT client id see both as "
                    f'"{slug(w.id)}"); choose ids that differ in letters or digits'
                )
            seen[w.id] = i
            slugs[slug(w.id)] = i

    def policy_for(self, wearable_id: str) -> PolicySettings:
        """The policy for one wearable: its own overrides, else the global [policy]."""
        for w in self.wearables:
            if w.id == wearable_id and w.policy is not None:
                return w.policy
        return self.policy


def changed_keys(config: object, default: object, prefix: str = "") -> list[tuple[str, object]]:
    """(path, value) of every leaf that differs from `default` (same dataclass type)."""
    out: list[tuple[str, object]] = []
    for f in dataclasses.fields(config):  # type: ignore[arg-type]
        value, base = getattr(config, f.name), getattr(default, f.name)
        path = key_path(prefix, f.name)
        if dataclasses.is_dataclass(value) and dataclasses.is_dataclass(base):
            out.extend(changed_keys(value, base, path))
        elif value != base:
            out.append((path, value))
    return out
