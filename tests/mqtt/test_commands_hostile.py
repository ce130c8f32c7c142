"""Whatever arrives on `cmd`, the parser returns a bounded Command or raises CommandError, and what it
returns goes through the policy, the store's records and the event message without an exception.

Found by a fault probe: `{"action":"pause","minutes":5,"reason":"\\ud800"}` (a lone surrogate, valid
JSON) was accepted, and encoding the reason for the event message killed the command task.
"""

from __future__ import annotations

import json
import math
from datetime import UTC
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.mqtt.commands import CommandError, CommandLimits, parse_command
from monitor.mqtt.convert import event_payload
from monitor.mqtt.payloads import encode
from monitor.nudges.commands import Pause, Snooze
from monitor.nudges.library import ExerciseLibrary
from monitor.nudges.policy import NudgePolicy
from monitor.nudges.settings import PolicySettings

NOW = 1_764_000_000.0
LIMITS = CommandLimits()

# Any JSON value, strings included lone surrogates and control characters (Hypothesis' text() draws
# from all of Unicode, surrogates too with this alphabet).
ANY_TEXT = st.text(alphabet=st.characters(codec=None), max_size=90)
JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
JSON_VALUE = st.recursive(
    JSON_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3)
)
ISO_TIMES = st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
KEYS = {
    "action": st.sampled_from(["ack", "snooze", "pause", "resume", "ACK", ""]) | JSON_VALUE,
    "minutes": st.floats() | st.integers() | JSON_VALUE,
    "until": ISO_TIMES | JSON_VALUE,
    "ts": ISO_TIMES | JSON_VALUE,
    "nudge_id": ANY_TEXT | JSON_VALUE,
    "reason": ANY_TEXT | JSON_VALUE,
}
COMMAND_OBJECTS = st.fixed_dictionaries({}, optional=KEYS)


def _json_bytes(obj: dict[str, Any]) -> bytes:
    # ensure_ascii writes lone surrogates as \\udxxx escapes, exactly what a hostile sender would send.
    return json.dumps(obj, ensure_ascii=True, allow_nan=True).encode()


def _check_accepted(payload: bytes) -> None:
    try:
        command = parse_command(payload, NOW, LIMITS)
    except CommandError:
        return
    assert math.isfinite(command.ts)
    for name in ("nudge_id", "reason"):
        text = getattr(command, name, None)
        if text is not None:
            assert text.isprintable()
            text.encode("utf-8")
    if isinstance(command, Snooze):
        assert 1.0 <= command.minutes <= LIMITS.snooze_max_min
    if isinstance(command, Pause):
        assert NOW <= command.until <= NOW + LIMITS.pause_max_min * 60.0
    # Downstream of the parser nothing may raise either: the policy, the store's records, the message.
    policy = NudgePolicy(PolicySettings(), ExerciseLibrary.default(), UTC, wearable_id="w")
    for event in policy.command(command):
        json.dumps(event.records("w").event.detail)
        encode(event_payload(event, "w", UTC))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=1200))
def test_any_bytes_are_a_command_or_a_rejection(payload: bytes) -> None:
    _check_accepted(payload)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(COMMAND_OBJECTS)
def test_any_command_shaped_json_is_bounded_or_rejected(obj: dict[str, Any]) -> None:
    _check_accepted(_json_bytes(obj))


def test_the_probe_that_killed_phone_control_is_rejected() -> None:
    for text in ("\ud800", "a\nb", "\x00", "\u202e"):
        payload = _json_bytes({"action": "pause", "minutes": 5, "reason": text})
        try:
            parse_command(payload, NOW, LIMITS)
        except CommandError as err:
            assert err.detail.startswith("reason must be printable text")
        else:
            raise AssertionError(f"reason {text!r} was accepted")
