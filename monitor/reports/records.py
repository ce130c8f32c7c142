"""Plain records of what happened to each nudge, shared by the store (which keeps them) and the
report computations (which count them). Pure: no I/O imports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from monitor.pipeline.types import CodeArray


class NudgeLevel(StrEnum):
    NUDGE = "nudge"
    ESCALATION = "escalation"


class NudgeOutcome(StrEnum):
    """What became of a nudge. A nudge may collect several (snoozed, then followed)."""

    SENT = "sent"  # handed to the broker
    FOLLOWED = "followed"  # a credited break came after it; delay_s says how soon
    SNOOZED = "snoozed"
    ACKED = "acked"
    IGNORED = "ignored"  # no break and no answer before the bout ended or escalation ran out
    EXPIRED = "expired"  # never delivered: too old by the time the broker came back


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
