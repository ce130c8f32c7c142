"""Command parsing: accepted shapes, bounds on each side, and garbage that must only ever be rejected."""

from __future__ import annotations

import inspect
import json
import random
from pathlib import Path

import pytest

from monitor.mqtt.client import MqttLink
from monitor.mqtt.commands import CommandError, CommandLimits, RejectReason, parse_command, read_command
from monitor.nudges.commands import Ack, Pause, Resume, Snooze
from tests.mqtt.helpers import make_link, settings_for

NOW = 1_764_000_000.0  # 2025-11-24T16:00:00Z, data time
LIMITS = CommandLimits(max_bytes=1024, snooze_max_min=120, pause_max_min=720, max_age_min=30)


def parse(obj: object) -> object:
    return parse_command(json.dumps(obj).encode(), NOW, LIMITS)


def rejected(payload: bytes) -> RejectReason:
    with pytest.raises(CommandError) as info:
        parse_command(payload, NOW, LIMITS)
    return info.value.reason


def test_ack_with_and_without_nudge_id() -> None:
    assert parse({"action": "ack"}) == Ack(ts=NOW)
    assert parse({"action": "ack", "nudge_id": "n1"}) == Ack(ts=NOW, nudge_id="n1")


def test_snooze_bounds_both_sides() -> None:
    assert parse({"action": "snooze", "minutes": 10}) == Snooze(ts=NOW, minutes=10.0)
    assert parse({"action": "snooze", "minutes": 1}) == Snooze(ts=NOW, minutes=1.0)
    assert parse({"action": "snooze", "minutes": 120}) == Snooze(ts=NOW, minutes=120.0)
    for bad in (0.5, 121, -5, "10", True, None, 10**400):
        with pytest.raises(CommandError) as info:
            parse({"action": "snooze", "minutes": bad})
        assert info.value.reason is RejectReason.BAD_VALUE, bad


def test_non_finite_numbers_are_rejected() -> None:
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e999"):
        assert rejected(b'{"action":"snooze","minutes":' + literal + b"}") is RejectReason.BAD_VALUE


def test_pause_for_minutes_and_until_a_time() -> None:
    assert parse({"action": "pause", "minutes": 60, "reason": "meeting"}) == Pause(
        ts=NOW, until=NOW + 3600.0, reason="meeting"
    )
    # 16:00Z + 90 min expressed in +01:00
    in_90_min = Pause(ts=NOW, until=NOW + 5400.0)
    assert parse({"action": "pause", "until": "2025-11-24T18:30:00+01:00"}) == in_90_min
    assert parse({"action": "pause", "until": "2025-11-24T17:30:00Z"}) == Pause(ts=NOW, until=NOW + 5400.0)


@pytest.mark.parametrize(
    "body",
    [
        {"action": "pause"},
        {"action": "pause", "minutes": 10, "until": "2025-11-24T18:30:00+01:00"},
        {"action": "pause", "until": "2025-11-24T17:30:00"},  # no offset: ambiguous
        {"action": "pause", "until": "yesterday"},
        {"action": "pause", "until": "2025-11-24T10:00:00Z"},  # in the past
        {"action": "pause", "until": "2025-11-26T10:00:00Z"},  # beyond 12 h
        {"action": "pause", "minutes": 721},
        {"action": "pause", "minutes": 30, "reason": "x" * 81},
        {"action": "ack", "nudge_id": 5},
        {"action": "ack", "nudge_id": "n" * 65},
    ],
)
def test_bad_values(body: dict[str, object]) -> None:
    with pytest.raises(CommandError) as info:
        parse(body)
    assert info.value.reason is RejectReason.BAD_VALUE


def test_resume_and_unknown_extra_keys_ignored() -> None:
    assert parse({"action": "resume", "from": "watch"}) == Resume(ts=NOW)


def test_shape_errors_are_named() -> None:
    assert rejected(b"x" * 1025) is RejectReason.TOO_LARGE
    assert rejected(b"\xff\xfe") is RejectReason.NOT_UTF8
    assert rejected(b"snooze") is RejectReason.NOT_JSON
    assert rejected(b"[1, 2]") is RejectReason.NOT_OBJECT
    assert rejected(b'"ack"') is RejectReason.NOT_OBJECT
    assert rejected(b'{"action": "dance"}') is RejectReason.UNKNOWN_ACTION
    assert rejected(b'{"minutes": 5}') is RejectReason.UNKNOWN_ACTION
    assert rejected(b"[" * 1000) is RejectReason.NOT_JSON


def test_stale_commands_are_rejected_fresh_ones_kept() -> None:
    assert parse({"action": "ack", "ts": "2025-11-24T15:45:00Z"}) == Ack(ts=NOW)
    with pytest.raises(CommandError) as info:
        parse({"action": "ack", "ts": "2025-11-24T15:00:00Z"})
    assert info.value.reason is RejectReason.STALE


def _garbage(rng: random.Random) -> bytes:
    choice = rng.randrange(6)
    if choice == 0:
        return rng.randbytes(rng.randrange(0, 1500))
    if choice == 1:
        alphabet = b'{}[]":,0123456789.eE+-ntruefalsactiomz\\ '
        return bytes(rng.choice(alphabet) for _ in range(rng.randrange(60)))
    if choice == 2:
        values: list[object] = [
            None,
            True,
            3,
            -1e308,
            "x" * rng.randrange(2000),
            [],
            {},
            [[[]]],
            "2025-11-24T16:00Z",
        ]
        value = rng.choice(values)
        key = rng.choice(["minutes", "until", "nudge_id", "reason", "ts", "action"])
        action = rng.choice(["ack", "snooze", "pause", "resume", "", None, 7])
        return json.dumps({"action": action, key: value}).encode()
    if choice == 3:
        return b"{" * rng.randrange(2000)
    if choice == 4:
        return json.dumps(rng.random()).encode()
    return ("\ud800" if rng.random() < 0.5 else "é").encode("utf-8", "surrogatepass")


def test_fuzz_only_commands_or_command_errors() -> None:
    rng = random.Random(20261125)
    outcomes: dict[str, int] = {}
    for _ in range(600):
        payload = _garbage(rng)
        try:
            result = parse_command(payload, NOW, LIMITS)
        except CommandError as err:
            outcomes[err.reason] = outcomes.get(err.reason, 0) + 1
        else:
            assert isinstance(result, Ack | Snooze | Pause | Resume)
            outcomes["ok"] = outcomes.get("ok", 0) + 1
    # The generator reaches every stage of the parser, not only the first check.
    assert {"too_large", "not_json", "not_object", "unknown_action", "bad_value"} <= set(outcomes)


def test_a_command_is_checked_on_arrival_and_placed_in_data_time_when_taken() -> None:
    """`read_command` needs no clock; `at` gives it the data time the service takes it at."""
    request = read_command(b'{"action":"pause","minutes":30,"ts":"2025-11-24T15:45:00Z"}', LIMITS)
    assert request.at(NOW, LIMITS) == Pause(ts=NOW, until=NOW + 1800.0)
    later = NOW + 600.0
    assert request.at(later, LIMITS) == Pause(ts=later, until=later + 1800.0)
    with pytest.raises(CommandError) as info:
        request.at(NOW + 1200.0, LIMITS)  # sent at 15:45, taken at 16:20: older than 30 min
    assert info.value.reason is RejectReason.STALE
    until = read_command(b'{"action":"pause","until":"2025-11-24T17:00:00Z"}', LIMITS)
    assert until.at(NOW, LIMITS) == Pause(ts=NOW, until=NOW + 3600.0)
    with pytest.raises(CommandError) as info:
        until.at(NOW + 3600.0 + 121.0, LIMITS)
    assert info.value.reason is RejectReason.BAD_VALUE


def test_the_link_has_no_clock_of_its_own(tmp_path: Path) -> None:
    """Data time is handed to the MQTT edge, never read back from the service through a callback."""
    assert "data_now" not in inspect.signature(MqttLink).parameters
    link, outbox = make_link(tmp_path, settings_for(1), wearable="clock1")
    try:
        link.advance(NOW)
        assert link.data_time == NOW
        request = read_command(b'{"action":"ack","ts":"2025-11-24T15:00:00Z"}', LIMITS)
        assert link.stamp(request, NOW - 1800.0) == Ack(ts=NOW - 1800.0)
        assert link.stamp(request, NOW) is None  # an hour old by the time it is taken
        assert link.rejected[RejectReason.STALE] == 1
    finally:
        outbox.close()
