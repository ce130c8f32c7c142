"""Topic names for one wearable, validated once so a bad id fails at start, not at first publish."""

from __future__ import annotations

import re
from dataclasses import dataclass

# MQTT forbids wildcards in published topic names; `/` inside an id would shift every level.
_FORBIDDEN_IN_LEVEL = frozenset("+#/\0")
# Home Assistant object ids and entity ids accept only these; anything else becomes `_`.
_NOT_SLUG = re.compile(r"[^a-z0-9_]+")


def _check_level(what: str, value: str) -> None:
    if not value:
        raise ValueError(f"Invalid {what}: empty (it becomes an MQTT topic level)")
    bad = sorted(set(value) & _FORBIDDEN_IN_LEVEL)
    if bad:
        raise ValueError(f"Invalid {what} {value!r}: MQTT topic levels may not contain {' '.join(bad)!r}")


def check_prefix(what: str, value: str) -> None:
    """Raise ValueError naming `what` unless `value` is usable as leading topic levels."""
    if not value or value.startswith("/") or value.endswith("/"):
        raise ValueError(f"Invalid {what} {value!r}: must be non-empty without a leading or trailing '/'")
    for level in value.split("/"):
        _check_level(what, level)


def slug(value: str) -> str:
    """`value` as a Home Assistant object id: lower case letters, digits and `_`."""
    return _NOT_SLUG.sub("_", value.lower()).strip("_") or "x"


@dataclass(frozen=True, slots=True)
class Topics:
    """The base topic `<prefix>/<wearable>/` and everything under it."""

    prefix: str
    wearable: str
    discovery_prefix: str = "homeassistant"

    def __post_init__(self) -> None:
        check_prefix("topic prefix", self.prefix)
        _check_level("wearable id", self.wearable)
        check_prefix("discovery prefix", self.discovery_prefix)

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.wearable}"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def nudge(self) -> str:
        return f"{self.base}/nudge"

    @property
    def event(self) -> str:
        return f"{self.base}/event"

    @property
    def report_daily(self) -> str:
        return f"{self.base}/report/daily"

    @property
    def cmd(self) -> str:
        return f"{self.base}/cmd"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth/last-will topic: `online` means it (re)started and needs discovery."""
        return f"{self.discovery_prefix}/status"

    def discovery_config(self, component: str, node_id: str, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/{node_id}/{object_id}/config"
