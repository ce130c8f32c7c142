"""Home Assistant MQTT discovery: one device per wearable, its entities read our own topics.

Each entity is a retained config message on `<discovery_prefix>/<component>/<node_id>/<object_id>/config`
(single-component discovery, supported by every Home Assistant release that has the MQTT event entity).
`unique_id`, the topic's object id and `default_entity_id` derive from the wearable id alone, so they
stay stable across restarts and upgrades and Home Assistant keeps the entities' history.
Keys are the documented ones (home-assistant.io/integrations/{sensor,binary_sensor,event,button}.mqtt,
/integrations/mqtt#mqtt-discovery); `object_id` in the payload is deprecated (2025.10) in favour of
`default_entity_id`, which we send instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NotRequired, TypedDict

from monitor import __version__
from monitor.mqtt.payloads import STATE_POSTURES, STATUS_OFFLINE, STATUS_ONLINE, encode
from monitor.mqtt.topics import Topics, slug

MANUFACTURER = "sitbreak"
SUPPORT_URL = "https://github.com/sitbreak/sitbreak"
# The snooze button's length; the policy bounds and shortens repeated snoozes anyway.
BUTTON_SNOOZE_MIN = 10


class DeviceInfo(TypedDict):
    identifiers: list[str]
    name: str
    manufacturer: str
    model: str
    sw_version: str


class OriginInfo(TypedDict):
    name: str
    sw_version: str
    support_url: str


class EntityConfig(TypedDict):
    """The union of keys we send; each component uses the documented subset."""

    name: str
    unique_id: str
    default_entity_id: str
    device: DeviceInfo
    origin: OriginInfo
    availability_topic: str
    payload_available: str
    payload_not_available: str
    qos: int
    icon: NotRequired[str]
    entity_category: NotRequired[str]
    state_topic: NotRequired[str]
    value_template: NotRequired[str]
    device_class: NotRequired[str]
    unit_of_measurement: NotRequired[str]
    state_class: NotRequired[str]
    suggested_display_precision: NotRequired[int]
    options: NotRequired[list[str]]
    payload_on: NotRequired[str]
    payload_off: NotRequired[str]
    event_types: NotRequired[list[str]]
    command_topic: NotRequired[str]
    payload_press: NotRequired[str]
    retain: NotRequired[bool]


@dataclass(frozen=True, slots=True)
class DiscoveryMessage:
    topic: str
    config: EntityConfig
    component: str
    object_id: str

    @property
    def payload(self) -> bytes:
        return encode(self.config)


@dataclass(frozen=True, slots=True)
class DeviceDescription:
    """What Home Assistant shows on the device page."""

    name: str = ""  # empty: "Sitbreak <wearable id>"
    model: str = "thigh-worn accelerometer"
    sw_version: str = __version__  # the package's one version (pyproject reads it from there)


def discovery_messages(topics: Topics, device: DeviceDescription | None = None) -> list[DiscoveryMessage]:
    """All retained config messages for one wearable, in a stable order."""
    desc = device or DeviceDescription()
    node_id = f"sitbreak_{slug(topics.wearable)}"
    dev = DeviceInfo(
        identifiers=[node_id],
        name=desc.name or f"Sitbreak {topics.wearable}",
        manufacturer=MANUFACTURER,
        model=desc.model,
        sw_version=desc.sw_version,
    )
    origin = OriginInfo(name="sitbreak", sw_version=desc.sw_version, support_url=SUPPORT_URL)

    def base(component: str, key: str, name: str) -> EntityConfig:
        return EntityConfig(
            name=name,
            unique_id=f"{node_id}_{key}",
            default_entity_id=f"{component}.{node_id}_{key}",
            device=dev,
            origin=origin,
            availability_topic=topics.status,
            payload_available=STATUS_ONLINE,
            payload_not_available=STATUS_OFFLINE,
            qos=1,
        )

    out: list[DiscoveryMessage] = []

    def add(component: str, key: str, config: EntityConfig) -> None:
        out.append(DiscoveryMessage(topics.discovery_config(component, node_id, key), config, component, key))

    cfg = EntityConfig(
        **base("sensor", "sitting_today", "Sitting today"),
        state_topic=topics.state,
        value_template="{{ value_json.today.sitting_min | round(1) }}",
        device_class="duration",
        unit_of_measurement="min",
        # Resets at midnight; Home Assistant treats a drop of a total_increasing sensor as a new cycle.
        state_class="total_increasing",
        suggested_display_precision=0,
        icon="mdi:seat-recline-normal",
    )
    add("sensor", "sitting_today", cfg)

    cfg = EntityConfig(
        **base("sensor", "current_bout", "Current bout"),
        state_topic=topics.state,
        value_template="{{ value_json.current_bout_min | round(1) }}",
        device_class="duration",
        unit_of_measurement="min",
        state_class="measurement",
        suggested_display_precision=0,
        icon="mdi:timer-sand",
    )
    add("sensor", "current_bout", cfg)

    cfg = EntityConfig(
        **base("sensor", "posture", "Posture"),
        state_topic=topics.state,
        value_template="{{ value_json.posture }}",
        device_class="enum",
        # `no_data`, not `unknown` (Home Assistant's reserved "no value"): see payloads.POSTURE_NO_DATA.
        options=list(STATE_POSTURES),
        icon="mdi:human-handsdown",
    )
    add("sensor", "posture", cfg)

    cfg = EntityConfig(
        **base("binary_sensor", "worn", "Worn"),
        state_topic=topics.state,
        value_template="{{ 'ON' if value_json.worn else 'OFF' }}",
        payload_on="ON",
        payload_off="OFF",
        icon="mdi:account-check",
    )
    add("binary_sensor", "worn", cfg)

    cfg = EntityConfig(
        **base("sensor", "battery", "Battery"),
        state_topic=topics.state,
        # A battery not reported yet is Home Assistant's "no value", which a template says as `None`
        # (not `unknown`: HA logs an error for a non-numeric value and keeps the old one; not 0 %,
        # which would fire low-battery alerts).
        value_template="{{ value_json.battery if value_json.battery is not none else None }}",
        device_class="battery",
        unit_of_measurement="%",
        state_class="measurement",
        entity_category="diagnostic",
    )
    add("sensor", "battery", cfg)

    cfg = EntityConfig(
        **base("sensor", "problem", "Problem"),
        state_topic=topics.state,
        # Text; "none" while all is well (an automation can alert on anything else).
        value_template="{{ value_json.problem if value_json.problem else 'none' }}",
        entity_category="diagnostic",
        icon="mdi:alert-circle-outline",
    )
    add("sensor", "problem", cfg)

    cfg = EntityConfig(
        **base("sensor", "waiting", "Data waiting to be written"),
        state_topic=topics.state,
        value_template="{{ (value_json.waiting_s / 60) | round(1) }}",
        device_class="duration",
        unit_of_measurement="min",
        state_class="measurement",
        suggested_display_precision=0,
        entity_category="diagnostic",
        icon="mdi:database-clock-outline",
    )
    add("sensor", "waiting", cfg)

    cfg = EntityConfig(
        **base("event", "nudge", "Nudge"),
        state_topic=topics.nudge,
        event_types=["nudge", "escalation"],
        icon="mdi:human-greeting-variant",
    )
    add("event", "nudge", cfg)

    cfg = EntityConfig(
        **base("button", "ack", "Done (ack)"),
        command_topic=topics.cmd,
        payload_press=encode({"action": "ack"}).decode(),
        retain=False,
        icon="mdi:check",
    )
    add("button", "ack", cfg)

    cfg = EntityConfig(
        **base("button", "snooze", f"Snooze {BUTTON_SNOOZE_MIN} min"),
        command_topic=topics.cmd,
        payload_press=encode({"action": "snooze", "minutes": BUTTON_SNOOZE_MIN}).decode(),
        retain=False,
        icon="mdi:alarm-snooze",
    )
    add("button", "snooze", cfg)
    return out
