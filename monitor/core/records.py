"""Plain records of what the service decided and what became of it: nudges, their outcomes, policy
decisions as stored, and spans of epoch labels. The policy makes them, the store keeps them and the
report computations count them; none of those needs another to read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from monitor.core.types import CodeArray

# The report metric "followed within 10 min" (DESIGN.md: reports): the policy and the report agree
# on what "in time" means by both reading it here.
FOLLOWED_WITHIN_S: float = 600.0


class NudgeLevel(StrEnum):
    NUDGE = "nudge"
    ESCALATION = "escalation"


class NudgeOutcome(StrEnum):
    """What became of a nudge. A nudge may collect several (snoozed, then followed).

    The policy (`monitor.nudges.events`) attaches episode outcomes to the episode's first prompt.
    """

    SENT = "sent"  # handed to the broker
    FOLLOWED = "followed"  # a credited break came after it; delay_s says how soon
    SNOOZED = "snoozed"
    ACKED = "acked"
    IGNORED = "ignored"  # the episode ran out with the wearer still sitting
    # the outcome cannot be known (device off, active hours over) or the message went stale in the
    # outbox before the broker came back
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class NudgeRecord:
    id: str
    wearable: str
    ts: float  # data time the policy decided to nudge, s since the Unix epoch
    level: NudgeLevel = NudgeLevel.NUDGE
    sitting_s: float = 0.0  # sitting timer when nudged
    exercise: str | None = None


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    nudge_id: str
    ts: float
    outcome: NudgeOutcome
    delay_s: float | None = None  # for FOLLOWED: seconds from the nudge to the start of the break


@dataclass(frozen=True, slots=True)
class NudgeHistory:
    nudge: NudgeRecord
    outcomes: tuple[OutcomeRecord, ...] = ()

    def has(self, outcome: NudgeOutcome) -> bool:
        return any(o.outcome is outcome for o in self.outcomes)

    def followed_within(self, seconds: float) -> bool:
        return any(
            o.outcome is NudgeOutcome.FOLLOWED and o.delay_s is not None and o.delay_s <= seconds
            for o in self.outcomes
        )


@dataclass(frozen=True, slots=True)
class LabelSpan:
    """Posture codes for consecutive whole seconds [t0, t0 + len(labels)), data time.

    Seconds with no stored epoch are `PostureCode.UNKNOWN`.
    """

    t0: int
    labels: CodeArray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def t_end(self) -> int:
        return self.t0 + len(self)


@dataclass(frozen=True, slots=True)
class PolicyEventRecord:
    """One decision of the nudge policy as stored: kind and reason as words, its context as a
    JSON-able `detail` (see `monitor.nudges.events.PolicyEvent.detail`)."""

    ts: float
    kind: str
    reason: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DecisionRecords:
    """What one policy decision leaves in the store: always the decision itself; for a prompt also
    its nudge; for an episode's outcome also the outcome of its first prompt."""

    event: PolicyEventRecord
    nudge: NudgeRecord | None = None
    outcome: OutcomeRecord | None = None
