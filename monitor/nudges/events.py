"""What the policy decided, as data: one frozen event per decision, easy to log, store and publish.

Every event carries the data time it happened at and the bout context (counted sitting time, when the
counted bout began), so a report can explain each nudge without replaying the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from monitor.core.records import (
    DecisionRecords,
    NudgeLevel,
    NudgeOutcome,
    NudgeRecord,
    OutcomeRecord,
    PolicyEventRecord,
)

if TYPE_CHECKING:
    from monitor.nudges.messages import NudgeMessage


class EventKind(StrEnum):
    BOUT_STARTED = "bout_started"  # first counted sedentary second after a break or reset
    BREAK_CREDITED = "break_credited"  # upright for break_min: timer back to zero
    NUDGE = "nudge"  # a gentle prompt was sent (first of an episode, or after a snooze)
    ESCALATION = "escalation"  # a firmer prompt was sent
    SUPPRESSED = "suppressed"  # a prompt was due but held back (reason says why)
    FOLLOWED = "followed"  # a credited break began after the episode's first prompt
    IGNORED = "ignored"  # the episode ran out with the wearer still sitting
    EXPIRED = "expired"  # the episode's outcome cannot be known (device off, active hours over)
    SNOOZED = "snoozed"
    ACKED = "acked"
    PAUSED = "paused"
    RESUMED = "resumed"
    TIMER_RESET = "timer_reset"  # timer cleared without a break (new active window, long non-wear)
    COMMAND_REJECTED = "command_rejected"  # a command that does not apply (stale nudge id, ...)


class Reason(StrEnum):
    SAT_DOWN = "sat_down"  # first counted sedentary epoch
    TIMER_REACHED = "timer_reached"  # nudge_after of counted sitting
    NO_BREAK = "no_break"  # escalate_after more sitting after the last prompt
    SNOOZE_ENDED = "snooze_ended"
    HELD_PROMPT = "held_prompt"  # sent late: it had been held by a pause or quiet hours
    UPRIGHT = "upright"  # continuous upright time reached break_min
    QUIET_HOURS = "quiet_hours"
    PAUSED = "paused"
    OUTSIDE_ACTIVE_HOURS = "outside_active_hours"
    NOT_WORN = "not_worn"  # long non-wear / no data
    ACTIVE_HOURS_STARTED = "active_hours_started"
    COMMAND = "command"
    PAUSE_ENDED = "pause_ended"
    NO_OPEN_NUDGE = "no_open_nudge"
    STALE_NUDGE_ID = "stale_nudge_id"
    PAUSE_NOT_IN_FUTURE = "pause_not_in_future"
    NOT_PAUSED = "not_paused"


@dataclass(frozen=True, slots=True)
class PolicyEvent:
    """One decision.

    t:          data time (s since the Unix epoch, UTC) the decision was made at: the end of the epoch
                that triggered it, or the command's ts.
    sitting_s:  counted sedentary seconds since the last credited break at that moment.
    bout_start: data time the counted bout began (first counted sedentary second), None if no bout.
    nudge_id:   the prompt this event is about (NUDGE/ESCALATION: its own id; outcomes: the episode's
                first prompt; ACKED/SNOOZED: the prompt answered).
    level:      for NUDGE / ESCALATION, and for SUPPRESSED (the level that was due).
    delay_s:    FOLLOWED: break start minus the episode's first prompt.
    break_start: BREAK_CREDITED / FOLLOWED: when the credited upright time began.
    minutes:    SNOOZED: minutes granted (after bounding and shortening); PAUSED: minutes until the end.
    until:      PAUSED: data time the pause ends.
    message:    NUDGE / ESCALATION: what the phone shows.
    note:       a short human sentence for logs and reports.
    """

    kind: EventKind
    t: float
    reason: Reason
    sitting_s: float
    bout_start: float | None
    nudge_id: str | None = None
    level: NudgeLevel | None = None
    delay_s: float | None = None
    break_start: float | None = None
    minutes: float | None = None
    until: float | None = None
    message: NudgeMessage | None = None
    note: str = ""

    @property
    def is_prompt(self) -> bool:
        """True for events that put something on the wearer's phone."""
        return self.kind in (EventKind.NUDGE, EventKind.ESCALATION)

    def detail(self) -> dict[str, float | str]:
        """The decision's context, every field that is set, as plain values (times as data time):
        what the store keeps and what the `event` message shows (with times as ISO text there)."""
        fields = (
            ("sitting_s", self.sitting_s),
            ("bout_start", self.bout_start),
            ("nudge_id", self.nudge_id),
            ("level", None if self.level is None else str(self.level)),
            ("delay_s", self.delay_s),
            ("break_start", self.break_start),
            ("minutes", self.minutes),
            ("until", self.until),
            ("note", self.note or None),
        )
        return {key: value for key, value in fields if value is not None}

    def records(self, wearable: str, exercise: str | None = None) -> DecisionRecords:
        """The records this decision leaves in the store. `exercise`: the suggested exercise's id
        (default: the one in the prompt's message)."""
        if exercise is None and self.message is not None and self.message.exercise is not None:
            exercise = self.message.exercise.id
        nudge = None
        if self.is_prompt and self.nudge_id is not None:
            level = self.level or (
                NudgeLevel.ESCALATION if self.kind is EventKind.ESCALATION else NudgeLevel.NUDGE
            )
            nudge = NudgeRecord(self.nudge_id, wearable, self.t, level, self.sitting_s, exercise)
        outcome_kind = _OUTCOMES.get(self.kind)
        outcome = None
        if outcome_kind is not None and self.nudge_id is not None:
            outcome = OutcomeRecord(self.nudge_id, self.t, outcome_kind, self.delay_s)
        return DecisionRecords(
            PolicyEventRecord(self.t, str(self.kind), str(self.reason), self.detail()), nudge, outcome
        )


# Decisions that are the outcome of a nudge episode (attached to the episode's first prompt).
_OUTCOMES: dict[EventKind, NudgeOutcome] = {
    EventKind.FOLLOWED: NudgeOutcome.FOLLOWED,
    EventKind.IGNORED: NudgeOutcome.IGNORED,
    EventKind.EXPIRED: NudgeOutcome.EXPIRED,
    EventKind.SNOOZED: NudgeOutcome.SNOOZED,
    EventKind.ACKED: NudgeOutcome.ACKED,
}

# Fields of `PolicyEvent.detail()` that are data times.
TIME_FIELDS = frozenset({"bout_start", "break_start", "until"})
