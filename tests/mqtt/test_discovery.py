"""Home Assistant discovery: documented keys only, stable ids, retained, re-sent on HA's birth message.

The key sets below are copied from home-assistant.io/integrations/{sensor,binary_sensor,event,button}.mqtt
and /integrations/mqtt (device and origin); a key we send that is not listed there fails the test.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import re
from pathlib import Path
from typing import get_type_hints

import pytest

from monitor.cli import main
from monitor.core.types import Posture
from monitor.mqtt.commands import parse_command
from monitor.mqtt.discovery import discovery_messages
from monitor.mqtt.payloads import StatePayload, TodayTotals
from monitor.mqtt.topics import Topics
from monitor.nudges.commands import Ack, Snooze
from tests.mqtt.helpers import make_link, settings_for
from tests.mqtt_fixtures import Broker, Phone

COMMON = {
    "availability", "availability_mode", "availability_template", "availability_topic", "default_entity_id",
    "device", "enabled_by_default", "encoding", "entity_category", "entity_picture", "icon",
    "json_attributes_template", "json_attributes_topic", "name", "object_id", "origin", "payload_available",
    "payload_not_available", "platform", "qos", "unique_id",
}  # fmt: skip
DOCUMENTED = {
    "sensor": COMMON | {
        "device_class", "expire_after", "force_update", "last_reset_value_template", "options",
        "suggested_display_precision", "state_class", "state_topic", "unit_of_measurement", "value_template",
    },
    "binary_sensor": COMMON | {
        "device_class", "expire_after", "force_update", "off_delay", "payload_off", "payload_on",
        "state_topic", "value_template",
    },
    "event": COMMON | {"device_class", "event_types", "state_topic", "value_template"},
    "button": COMMON | {"command_template", "command_topic", "device_class", "payload_press", "retain"},
}  # fmt: skip
REQUIRED = {
    "sensor": {"state_topic"},
    "binary_sensor": {"state_topic"},
    "event": {"state_topic", "event_types"},
    "button": {"command_topic"},
}
DEVICE_KEYS = {
    "configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model", "model_id",
    "name", "serial_number", "suggested_area", "sw_version", "via_device",
}  # fmt: skip
ORIGIN_KEYS = {"name", "sw_version", "support_url"}


def test_every_entity_uses_documented_keys_and_our_topics() -> None:
    topics = Topics("sitbreak", "AA:BB:cc-01")
    msgs = discovery_messages(topics)
    assert {(m.component, m.object_id) for m in msgs} == {
        ("sensor", "sitting_today"),
        ("sensor", "current_bout"),
        ("sensor", "posture"),
        ("binary_sensor", "worn"),
        ("sensor", "battery"),
        ("sensor", "problem"),
        ("sensor", "waiting"),
        ("event", "nudge"),
        ("button", "ack"),
        ("button", "snooze"),
    }
    for m in msgs:
        cfg = json.loads(m.payload)
        assert set(cfg) <= DOCUMENTED[m.component], (m.object_id, set(cfg) - DOCUMENTED[m.component])
        assert REQUIRED[m.component] <= set(cfg)
        assert set(cfg["device"]) <= DEVICE_KEYS and set(cfg["origin"]) <= ORIGIN_KEYS
        assert cfg["device"]["identifiers"] == ["sitbreak_aa_bb_cc_01"]
        assert cfg["availability_topic"] == "sitbreak/AA:BB:cc-01/status"
        assert (cfg["payload_available"], cfg["payload_not_available"]) == ("online", "offline")
        # HA ids accept [a-z0-9_] only; the MAC-like wearable id is slugged, the topic keeps it.
        assert re.fullmatch(r"[a-z0-9_]+", cfg["unique_id"])
        assert cfg["default_entity_id"] == f"{m.component}.{cfg['unique_id']}"
        assert m.topic == f"homeassistant/{m.component}/sitbreak_aa_bb_cc_01/{m.object_id}/config"


def test_entity_details_match_home_assistant_rules() -> None:
    cfgs = {m.object_id: json.loads(m.payload) for m in discovery_messages(Topics("sitbreak", "w"))}
    today = cfgs["sitting_today"]
    assert (today["device_class"], today["unit_of_measurement"], today["state_class"]) == (
        "duration",
        "min",
        "total_increasing",
    )
    assert cfgs["current_bout"]["device_class"] == "duration"
    posture = cfgs["posture"]
    # An enum sensor must have options and must not have a unit or state class.
    assert posture["device_class"] == "enum"
    # Our own word for an unknown posture: `unknown` is Home Assistant's "no value".
    assert posture["options"] == ["sit", "lie", "stand", "move", "cycle", "non_wear", "no_data"]
    assert len(posture["options"]) == len(Posture)
    assert "unit_of_measurement" not in posture and "state_class" not in posture
    assert (cfgs["battery"]["device_class"], cfgs["battery"]["unit_of_measurement"]) == ("battery", "%")
    # Storage faults and the like: a text sensor ("none" when all is well) and the data waiting.
    assert cfgs["problem"]["entity_category"] == "diagnostic" and "unit_of_measurement" not in cfgs["problem"]
    assert (cfgs["waiting"]["device_class"], cfgs["waiting"]["unit_of_measurement"]) == ("duration", "min")
    assert cfgs["nudge"]["event_types"] == ["nudge", "escalation"]
    assert cfgs["nudge"]["state_topic"] == "sitbreak/w/nudge"
    for button in ("ack", "snooze"):
        assert cfgs[button]["command_topic"] == "sitbreak/w/cmd"
    # The buttons publish commands our own parser accepts.
    assert parse_command(cfgs["ack"]["payload_press"].encode(), 0.0) == Ack(ts=0.0)
    assert parse_command(cfgs["snooze"]["payload_press"].encode(), 0.0) == Snooze(ts=0.0, minutes=10.0)


def test_value_templates_read_fields_the_state_payload_has() -> None:
    state_keys = set(get_type_hints(StatePayload))
    today_keys = set(get_type_hints(TodayTotals))
    for m in discovery_messages(Topics("sitbreak", "w")):
        template = m.config.get("value_template")
        if template is None:
            continue
        for path in re.findall(r"value_json\.([a-z_.]+)", template):
            head, _, rest = path.partition(".")
            assert head in state_keys, template
            if head == "today":
                assert rest in today_keys, template


def test_ids_are_stable_across_runs() -> None:
    first = [(m.topic, m.config["unique_id"]) for m in discovery_messages(Topics("sitbreak", "w7"))]
    again = [(m.topic, m.config["unique_id"]) for m in discovery_messages(Topics("other", "w7"))]
    assert first == again  # the id follows the wearable, not the topic prefix


def test_discovery_is_retained_and_republished_when_home_assistant_comes_online(
    mosquitto: Broker, tmp_path: Path
) -> None:
    link, _ = make_link(tmp_path, settings_for(mosquitto.port), wearable="ha1")
    phone = Phone(mosquitto.port, "homeassistant/+/sitbreak_ha1/+/config")

    async def scenario() -> None:
        await link.start()
        await link.wait_connected(10)
        await phone.expect_count(10)
        phone.clear()
        phone.send("homeassistant/status", "offline")
        await asyncio.sleep(0.3)
        assert phone.messages() == []
        phone.send("homeassistant/status", "online")
        await phone.expect_count(10)
        await link.stop()

    try:
        asyncio.run(scenario())
    finally:
        phone.close()
    assert all(not m.retain for m in phone.messages())  # live copies to a subscriber already there
    late = Phone(mosquitto.port, "homeassistant/+/sitbreak_ha1/+/config")
    try:
        asyncio.run(late.expect_count(10))
        assert all(m.retain for m in late.messages())
    finally:
        late.close()


def test_home_assistant_shows_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    """One version: the installed package's metadata, `sitbreak --version` and the device page agree."""
    installed = importlib.metadata.version("sitbreak")
    assert installed != "0"
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"sitbreak {installed}"
    for msg in discovery_messages(Topics("sitbreak", "w1", "homeassistant")):
        body = json.loads(msg.payload)
        assert body["device"]["sw_version"] == installed
        assert body["origin"]["sw_version"] == installed
