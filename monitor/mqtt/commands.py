"""Validate what arrives on `cmd` and turn it into `monitor.nudges.commands` types.

Anything on the topic is untrusted: a typo in an automation, a phone app's test button, garbage. The
parser takes bytes and either returns a bounded `Command` or raises `CommandError` naming the
reason; it never raises anything else. It works in two steps: `read_command` checks what does not
depend on time when the message arrives, `CommandRequest.at` places it at the data time it takes
effect (staleness and a pause's end are judged there).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from monitor.nudges.commands import Ack, Action, Command, Pause, Resume, Snooze

# A snooze shorter than a minute is a mis-tap; the policy would nudge again straight away.
MIN_SNOOZE_MIN = 1.0
# Ids we publish are short (uuid hex); anything longer was not made by us.
MAX_NUDGE_ID_LEN = 64
# A pause reason ("meeting") is shown in reports; keep it a label, not a letter.
MAX_REASON_LEN = 80
# Phones and brokers disagree on clocks by a few seconds; a command "from the future" within this
# tolerance is accepted as now.
CLOCK_SKEW_S = 120.0


class RejectReason(StrEnum):
    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    UNKNOWN_ACTION = "unknown_action"
    BAD_VALUE = "bad_value"
    STALE = "stale"
    RETAINED = "retained"
    QUEUE_FULL = "queue_full"


class CommandError(ValueError):
    """A message on `cmd` that is ignored, with why (`reason`) and the detail for the log."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class CommandLimits:
    max_bytes: int = 1024
    snooze_max_min: float = 120.0
    pause_max_min: float = 720.0
    max_age_min: float = 30.0


def _number(obj: dict[str, object], key: str, low: float, high: float) -> float:
    value = obj.get(key)
    # bool is an int in Python, but `"minutes": true` is a bug in the sender, not 1 minute.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(RejectReason.BAD_VALUE, f"{key} must be a number of minutes, got {value!r:.40}")
    # Compare before float(): a 400-digit int would overflow the conversion.
    if not (low <= value <= high) or (isinstance(value, float) and not math.isfinite(value)):
        raise CommandError(RejectReason.BAD_VALUE, f"{key}={value!r:.40} is outside {low:g}..{high:g}")
    return float(value)


def _text(obj: dict[str, object], key: str, max_len: int) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise CommandError(
            RejectReason.BAD_VALUE, f"{key} must be a non-empty string of at most {max_len} characters"
        )
    # JSON may carry what no text is: "\ud800" decodes to a lone surrogate, which cannot be written to
    # UTF-8 (the store, the event message) and would fail far from here. Control characters would
    # break log lines and reports. Both are refused at the edge.
    if not value.isprintable() or not _encodable(value):
        raise CommandError(
            RejectReason.BAD_VALUE,
            f"{key} must be printable text, got {value.encode('unicode_escape')!r:.60}",
        )
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _time(obj: dict[str, object], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise CommandError(RejectReason.BAD_VALUE, f"{key} must be an ISO-8601 time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(RejectReason.BAD_VALUE, f"{key}={value!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise CommandError(
            RejectReason.BAD_VALUE, f"{key}={value!r} needs a UTC offset, e.g. 2026-11-25T15:00:00+01:00"
        )
    return moment.timestamp()


def _decode(payload: bytes, limits: CommandLimits) -> dict[str, object]:
    if len(payload) > limits.max_bytes:
        raise CommandError(RejectReason.TOO_LARGE, f"{len(payload)} bytes > {limits.max_bytes}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError(RejectReason.NOT_UTF8, "payload is not UTF-8 text") from None
    try:
        obj = json.loads(text)
    # RecursionError: `[[[[...` nested a thousand deep fits in 1 KiB and exhausts the C scanner's stack.
    except (ValueError, RecursionError):
        raise CommandError(RejectReason.NOT_JSON, f"not JSON: {text[:40]!r}") from None
    if not isinstance(obj, dict):
        raise CommandError(RejectReason.NOT_OBJECT, f"expected a JSON object, got {type(obj).__name__}")
    return obj


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A `cmd` message that passed every check not depending on time, not yet placed in data time.

    `at()` makes it a `Command` at the data time it takes effect: the service calls it (through
    `MqttLink.stamp`) when it takes the command, because the service, not the MQTT edge, knows
    where data time is."""

    action: Action
    sent: float | None = None  # the phone's optional "ts"
    nudge_id: str | None = None
    minutes: float | None = None  # snooze length, or a pause given in minutes
    until: float | None = None  # a pause given as an end time
    reason: str | None = None

    def at(self, now_ts: float, limits: CommandLimits | None = None) -> Command:
        """The command taking effect at data time `now_ts`; CommandError when it is too old by then
        or (a pause until a time) that time is no longer within the bounds."""
        lim = limits or CommandLimits()
        if self.sent is not None and self.sent < now_ts - lim.max_age_min * 60.0:
            age_min = (now_ts - self.sent) / 60.0
            raise CommandError(RejectReason.STALE, f"{self.action} sent {age_min:.0f} min ago")
        match self.action:
            case Action.ACK:
                return Ack(ts=now_ts, nudge_id=self.nudge_id)
            case Action.SNOOZE:
                assert self.minutes is not None
                return Snooze(ts=now_ts, minutes=self.minutes, nudge_id=self.nudge_id)
            case Action.PAUSE:
                return self._pause(now_ts, lim)
            case Action.RESUME:
                return Resume(ts=now_ts)

    def _pause(self, now_ts: float, lim: CommandLimits) -> Pause:
        if self.minutes is not None:
            return Pause(ts=now_ts, until=now_ts + self.minutes * 60.0, reason=self.reason)
        until = self.until
        assert until is not None
        if until <= now_ts - CLOCK_SKEW_S:
            raise CommandError(RejectReason.BAD_VALUE, "pause until is in the past")
        if until > now_ts + lim.pause_max_min * 60.0:
            raise CommandError(
                RejectReason.BAD_VALUE, f"pause until is more than {lim.pause_max_min:g} min ahead"
            )
        return Pause(ts=now_ts, until=max(until, now_ts), reason=self.reason)


def read_command(payload: bytes, limits: CommandLimits | None = None) -> CommandRequest:
    """One `cmd` message checked for everything that does not depend on time.

    Accepted shapes (unknown extra keys are ignored, for newer phones):
      {"action": "ack", "nudge_id"?: str}
      {"action": "snooze", "minutes": 1..snooze_max_min, "nudge_id"?: str}
      {"action": "pause", "until": ISO time with offset | "minutes": 1..pause_max_min, "reason"?: str}
      {"action": "resume"}
    plus an optional "ts" (ISO time the phone sent it): older than max_age_min -> rejected as stale
    (by `CommandRequest.at`).
    """
    lim = limits or CommandLimits()
    obj = _decode(payload, lim)
    action = obj.get("action")
    if not isinstance(action, str) or action not in set(Action):
        known = ", ".join(a.value for a in Action)
        raise CommandError(RejectReason.UNKNOWN_ACTION, f"action {action!r:.40} is not one of {known}")
    request = CommandRequest(
        Action(action), sent=_time(obj, "ts"), nudge_id=_text(obj, "nudge_id", MAX_NUDGE_ID_LEN)
    )
    match request.action:
        case Action.SNOOZE:
            minutes = _number(obj, "minutes", MIN_SNOOZE_MIN, lim.snooze_max_min)
            return replace(request, minutes=minutes)
        case Action.PAUSE:
            return _pause_request(obj, request, lim)
        case Action.ACK | Action.RESUME:
            return request


def _pause_request(obj: dict[str, object], request: CommandRequest, lim: CommandLimits) -> CommandRequest:
    reason = _text(obj, "reason", MAX_REASON_LEN)
    has_until, has_minutes = obj.get("until") is not None, obj.get("minutes") is not None
    if has_until == has_minutes:
        raise CommandError(RejectReason.BAD_VALUE, "pause needs exactly one of until or minutes")
    if has_minutes:
        minutes = _number(obj, "minutes", MIN_SNOOZE_MIN, lim.pause_max_min)
        return replace(request, minutes=minutes, reason=reason)
    return replace(request, until=_time(obj, "until"), reason=reason)


def parse_command(payload: bytes, now_ts: float, limits: CommandLimits | None = None) -> Command:
    """One `cmd` message -> a Command taking effect at data time `now_ts` (see `read_command`)."""
    lim = limits or CommandLimits()
    return read_command(payload, lim).at(now_ts, lim)
