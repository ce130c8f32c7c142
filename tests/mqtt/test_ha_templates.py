"""Every Home Assistant discovery template, rendered with real Jinja2 against real `state` messages,
gives a value Home Assistant accepts.

The messages are built by `monitor.mqtt.convert.state_payload` (what the service publishes), encoded
and decoded as JSON (HA hands templates the parsed payload as `value_json`), for every posture, with
the link up and lost, before any data, and with a battery that has not reported yet. The templates
render in Jinja2's immutable sandbox with StrictUndefined: a key the payload lacks fails here, where
Home Assistant would only log a warning and show an empty value.

What Home Assistant accepts (home-assistant.io/integrations/sensor.mqtt, binary_sensor.mqtt; the MQTT
integration's source, `PAYLOAD_NONE`):
- a sensor with a unit, device class or state class is numeric: the text must be a number, or `None`
  for "no value". Anything else (`unknown`, `''`) is logged as an ERROR ("non-numeric value") and the
  old value stays;
- an enum sensor's text must be one of its `options` (or `None`); `unknown` is Home Assistant's own
  word for "no value", so it must not be one of ours;
- a binary sensor's text must be its `payload_on` or `payload_off` (or `None`);
- an event entity's message must carry an `event_type` listed in its `event_types`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from monitor.core.types import EpochBlock, Posture
from monitor.mqtt.convert import LiveState, TodayCounts, nudge_payload, state_payload
from monitor.mqtt.discovery import DiscoveryMessage, discovery_messages
from monitor.mqtt.payloads import POSTURE_NO_DATA, STATE_POSTURES, encode
from monitor.mqtt.topics import Topics
from monitor.nudges import ExerciseLibrary, NudgePolicy, PolicySettings
from monitor.nudges.events import PolicyEvent

NOW = datetime(2026, 11, 24, 14, 5, tzinfo=UTC).timestamp()
HA_NONE = "None"  # homeassistant.components.mqtt.const.PAYLOAD_NONE
ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined)


def _states() -> list[tuple[str, LiveState]]:
    """Every posture with the link up and lost, at several battery levels, and before any data."""
    today = TodayCounts(posture_s={Posture.SIT: 3600, Posture.STAND: 600, Posture.MOVE: 300}, breaks=3)
    out: list[tuple[str, LiveState]] = [("before any data", LiveState())]
    for posture in Posture:
        for link_up in (True, False):
            for battery in (None, 0, 57, 100):
                state = LiveState(
                    posture=posture,
                    posture_since=NOW - 754.0,
                    link_up=link_up,
                    battery=battery,
                    sitting_timer_s=1234.5,
                    today=today,
                )
                out.append((f"{posture} link_up={link_up} battery={battery}", state))
    return out


STATES = _states()


def _value_json(state: LiveState) -> Any:
    """The `state` message as Home Assistant's template sees it: published bytes, parsed as JSON."""
    return json.loads(encode(state_payload(state, NOW, "thigh1", UTC)))


def _templated() -> list[DiscoveryMessage]:
    return [m for m in discovery_messages(Topics("sitbreak", "thigh1")) if "value_template" in m.config]


def _render(message: DiscoveryMessage, value_json: Any) -> str:
    return ENV.from_string(message.config["value_template"]).render(value_json=value_json)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def accepted(message: DiscoveryMessage, text: str) -> bool:
    """Would Home Assistant take `text` as this entity's state without an error?"""
    cfg = message.config
    if message.component == "binary_sensor":
        return text in (cfg["payload_on"], cfg["payload_off"], HA_NONE)
    if cfg.get("device_class") == "enum":
        return text in cfg["options"] or text == HA_NONE
    numeric = "unit_of_measurement" in cfg or "state_class" in cfg or "device_class" in cfg
    return _is_number(text) or text == HA_NONE if numeric else text != ""


def test_every_template_renders_an_accepted_value_for_every_state() -> None:
    messages = _templated()
    assert {m.object_id for m in messages} == {"sitting_today", "current_bout", "posture", "worn", "battery"}
    for label, state in STATES:
        value_json = _value_json(state)
        for message in messages:
            text = _render(message, value_json)
            assert accepted(message, text), f"{message.object_id} renders {text!r} for {label}"


@pytest.mark.parametrize("battery", [None, 0, 57, 100])
def test_battery_is_a_number_or_home_assistants_none(battery: int | None) -> None:
    (message,) = [m for m in _templated() if m.object_id == "battery"]
    text = _render(message, _value_json(LiveState(link_up=True, battery=battery)))
    # Not `unknown` (an ERROR in Home Assistant's log on every start), not 0 (a low-battery alert).
    assert text == (HA_NONE if battery is None else str(battery))


def test_posture_names_no_value_with_a_word_of_its_own() -> None:
    (message,) = [m for m in _templated() if m.object_id == "posture"]
    options = message.config["options"]
    assert "unknown" not in options and POSTURE_NO_DATA in options
    assert options == list(STATE_POSTURES)
    seen = {_render(message, _value_json(state)) for _, state in STATES}
    assert seen == set(options), "every option is reachable and nothing else is published"
    # The link lost: the posture is not known any more (unless the device was off-body).
    lost = LiveState(posture=Posture.SIT, posture_since=NOW - 60, link_up=False)
    assert _render(message, _value_json(lost)) == POSTURE_NO_DATA
    assert _render(message, _value_json(LiveState())) == POSTURE_NO_DATA


def test_worn_is_on_only_while_worn() -> None:
    (message,) = [m for m in _templated() if m.object_id == "worn"]
    for _, state in STATES:
        text = _render(message, _value_json(state))
        worn = state.link_up and state.posture not in (Posture.NON_WEAR, Posture.UNKNOWN)
        assert text == ("ON" if worn else "OFF")


def test_minutes_are_rounded_numbers() -> None:
    value_json = _value_json(STATES[1][1])
    rendered = {m.object_id: _render(m, value_json) for m in _templated()}
    assert rendered["sitting_today"] == "60.0"
    assert rendered["current_bout"] == "12.6"


def test_nudge_event_types_are_declared() -> None:
    (event,) = [m for m in discovery_messages(Topics("sitbreak", "thigh1")) if m.component == "event"]
    policy = NudgePolicy(PolicySettings(), ExerciseLibrary.default(), UTC, wearable_id="thigh1")
    levels: list[PolicyEvent] = []
    t = NOW
    # Sit long enough for a nudge and every escalation.
    for _ in range(120):
        levels += [e for e in policy.feed(EpochBlock(t, np.zeros(60, dtype=np.uint8))) if e.is_prompt]
        t += 60
    assert {e.level for e in levels} == {"nudge", "escalation"}
    for prompt in levels:
        body = json.loads(encode(nudge_payload(prompt, "thigh1", UTC)))
        assert body["event_type"] in event.config["event_types"]
