"""Plain records of what happened to each nudge, shared by the store (which keeps them) and the
report computations (which count them). Pure: no I/O imports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from monitor.core.types import CodeArray
from monitor.nudges.events import NudgeLevel

__all__ = ["LabelSpan", "NudgeHistory", "NudgeLevel", "NudgeOutcome", "NudgeRecord", "OutcomeRecord"]


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
