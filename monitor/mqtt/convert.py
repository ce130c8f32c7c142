"""From the policy's decisions (`monitor.nudges.events.PolicyEvent`) to the JSON the phone receives.

Pure functions: the daemon calls them and hands the result to `MqttLink.publish_nudge/publish_event`.
"""

from __future__ import annotations

from datetime import tzinfo

from monitor.core.timefmt import iso_time
from monitor.mqtt.payloads import ActionButton, EventPayload, NudgePayload, encode
from monitor.nudges.commands import Action
from monitor.nudges.events import TIME_FIELDS, PolicyEvent
from monitor.nudges.messages import NudgeAction

# The pause button says why, so the report can tell meetings from other pauses.
MEETING_REASON = "meeting"


def action_command(action: NudgeAction, nudge_id: str) -> str:
    """The exact JSON a button publishes on `cmd` (what `monitor.mqtt.commands` accepts)."""
    body: dict[str, object] = {"action": str(action.action)}
    match action.action:
        case Action.ACK | Action.SNOOZE:
            body["nudge_id"] = nudge_id
            if action.action is Action.SNOOZE and action.minutes is not None:
                body["minutes"] = action.minutes
        case Action.PAUSE:
            body["minutes"] = action.minutes
            body["reason"] = MEETING_REASON
        case Action.RESUME:
            pass
    return encode(body).decode()


def nudge_payload(event: PolicyEvent, wearable: str, tz: tzinfo | None = None) -> NudgePayload:
    """The `nudge` message for a NUDGE or ESCALATION event (which carry a message and an id)."""
    if not event.is_prompt or event.message is None or event.nudge_id is None or event.level is None:
        raise ValueError(f"policy event {event.kind} at {event.t} is not a prompt with a message")
    msg = event.message
    level = event.level
    payload = NudgePayload(
        id=event.nudge_id,
        ts=iso_time(event.t, tz),
        wearable=wearable,
        level=level,
        event_type=level,
        title=msg.title,
        message=msg.body,
        sitting_min=round(event.sitting_s / 60.0, 1),
        actions=[
            ActionButton(action=str(a.action), label=a.label, payload=action_command(a, event.nudge_id))
            for a in msg.actions
        ],
    )
    if msg.exercise is not None:
        payload["exercise"] = msg.exercise.payload()
    return payload


def event_payload(event: PolicyEvent, wearable: str, tz: tzinfo | None = None) -> EventPayload:
    """The `event` message for any policy decision: its `detail()` with times as ISO like `ts`."""
    out = EventPayload(
        ts=iso_time(event.t, tz), wearable=wearable, kind=str(event.kind), reason=str(event.reason)
    )
    if event.nudge_id is not None:
        out["nudge_id"] = event.nudge_id
    detail: dict[str, object] = {}
    for key, value in event.detail().items():
        if key == "sitting_s":
            detail["sitting_min"] = round(float(value) / 60.0, 1)
        elif key in TIME_FIELDS:
            detail[key] = iso_time(float(value), tz)
        elif key == "delay_s":
            detail[key] = round(float(value), 1)
        elif key != "nudge_id":
            detail[key] = value
    out["detail"] = detail
    return out
