"""One wearer's local day in numbers. Pure: plain arrays and records in, frozen dataclasses out.

Definitions (stated here once, used by every renderer):

- Wear time: seconds labelled anything but `non_wear` or `unknown`.
- Sitting bout: a maximal run of `sit`. Lying or missing data between two runs of sitting, together at
  most `BRIDGE_S`, does not end the bout (the lie hint from one thigh flickers while reclining, a BLE
  hiccup is not a break). A bout belongs to the day it starts in and counts at full length; time
  totals are clipped to the day.
- Bout bins are half-open: [0, 10), [10, 30), [30, 60), [60, ∞) minutes. Prolonged: ≥ 30 min.
- Sit-to-stand transition: a sitting bout followed directly by upright (stand, move, cycle).
  A break: such a transition whose upright time lasts at least `min_break_s`.
  Breaks per sedentary hour: breaks / hours of sitting that day.
- Lying is reported on its own and is not sedentary time here: a long lie is mostly rest in bed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo

import numpy as np

from monitor.core.records import FOLLOWED_WITHIN_S, LabelSpan, NudgeHistory, NudgeLevel, NudgeOutcome
from monitor.core.types import CodeArray, Placement, Posture, PostureCode
from monitor.reports.days import LocalHour, day_bounds, local_hours
from monitor.reports.settings import DEFAULT_MIN_BREAK_S

# Lying or missing data up to a minute inside sitting does not split the bout (see module doc).
BRIDGE_S = 60
# Sitting bouts at least this long are "prolonged": the point where the evidence says to interrupt
# sitting (Dunstan 2012: breaks every 20-30 min) and where the policy nudges by default.
PROLONGED_S = 30 * 60
# Upper edges of the bout-length bins: <10, 10-30, 30-60, >=60 min.
BIN_EDGES_S: tuple[int, int, int] = (10 * 60, 30 * 60, 60 * 60)
BIN_LABELS: tuple[str, str, str, str] = ("<10", "10–30", "30–60", "≥60")
# The loader reads this much before and after the day so bouts crossing midnight count at full length.
CONTEXT_S = 6 * 3600

_SIT = int(PostureCode.SIT)
_BRIDGEABLE = frozenset({int(PostureCode.LIE), int(PostureCode.UNKNOWN)})
_UPRIGHT = frozenset(p.code for p in (Posture.STAND, Posture.MOVE, Posture.CYCLE))
_NOT_WORN = (int(PostureCode.NON_WEAR), int(PostureCode.UNKNOWN))
# Posture by code, indexed directly: `runs` looks one up per run, and the live totals run it once a
# pipeline pass.
_POSTURE_BY_CODE: tuple[Posture, ...] = tuple(Posture.from_code(code) for code in range(len(PostureCode)))
_CODE_OF: dict[Posture, int] = {posture: code for code, posture in enumerate(_POSTURE_BY_CODE)}


@dataclass(frozen=True, slots=True)
class Run:
    """A maximal run of one label, [start, end) data time."""

    start: int
    end: int
    label: Posture

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class SittingBout:
    start: int
    end: int
    upright_after_s: int  # upright seconds directly after the bout (0: not followed by upright)

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class HourStats:
    hour: LocalHour
    sit_s: int
    upright_s: int
    wear_s: int


@dataclass(frozen=True, slots=True)
class NudgeCounts:
    """The day's nudges, counted by round. A round is a first prompt and the reminders and firmer
    prompts after it, up to its outcome; each round is counted under exactly one outcome, so the
    outcomes add up to `rounds`. An answer is not an outcome: "Done" (acked) stops the escalations but
    only a credited break is "followed", so a round answered Done that ran out is `acknowledged`."""

    rounds: int = 0  # rounds begun in the day
    prompts: int = 0  # messages of every level in those rounds (first, reminders, escalations)
    escalations: int = 0
    followed: int = 0  # a credited break began within FOLLOWED_WITHIN_S of the first prompt
    followed_later: int = 0  # a credited break began, later than that (say after a snooze)
    acknowledged: int = 0  # last answer "Done", then no break before the round ran out
    snoozed: int = 0  # last answer a snooze, then no break before the round ran out
    no_response: int = 0  # no answer and no break: the round ran out
    expired: int = 0  # outcome unknowable: sensor off, active hours over, or never delivered
    open: int = 0  # no outcome yet when the report was made


@dataclass(frozen=True, slots=True)
class DayInput:
    wearable: str
    placement: Placement
    day: date
    tz: tzinfo
    epochs: LabelSpan  # must cover the day; more around it lets bouts crossing midnight count fully
    nudges: Sequence[NudgeHistory] = ()
    min_break_s: int = DEFAULT_MIN_BREAK_S


@dataclass(frozen=True, slots=True)
class DayTotals:
    """The day's counts that the report and the live `state` message share: time per posture,
    sitting bouts, sit-to-stand transitions, breaks and nudges (see `day_totals`)."""

    posture_s: dict[Posture, int]
    bouts: tuple[SittingBout, ...]
    transitions: int
    breaks: int
    nudges: NudgeCounts


@dataclass(frozen=True, slots=True)
class DayStats:
    wearable: str
    placement: Placement
    day: date
    tz: tzinfo
    start: int
    end: int
    min_break_s: int
    posture_s: dict[Posture, int]
    bouts: tuple[SittingBout, ...]
    bins: tuple[int, int, int, int]
    transitions: int
    breaks: int
    hours: tuple[HourStats, ...]
    timeline: tuple[Run, ...]
    nudges: NudgeCounts = field(default_factory=NudgeCounts)

    @property
    def length_s(self) -> int:
        return self.end - self.start

    @property
    def wear_s(self) -> int:
        return sum(s for p, s in self.posture_s.items() if p not in (Posture.NON_WEAR, Posture.UNKNOWN))

    @property
    def sit_s(self) -> int:
        return self.posture_s[Posture.SIT]

    @property
    def upright_s(self) -> int:
        return sum(self.posture_s[p] for p in (Posture.STAND, Posture.MOVE, Posture.CYCLE))

    @property
    def sitting_share(self) -> float | None:
        """Sitting as a share of wear time, 0..1; None when not worn."""
        wear = self.wear_s
        return self.sit_s / wear if wear else None

    @property
    def prolonged(self) -> tuple[SittingBout, ...]:
        return tuple(b for b in self.bouts if b.duration >= PROLONGED_S)

    @property
    def prolonged_s(self) -> int:
        return sum(b.duration for b in self.prolonged)

    @property
    def longest(self) -> SittingBout | None:
        return max(self.bouts, key=lambda b: (b.duration, -b.start), default=None)

    @property
    def breaks_per_sedentary_hour(self) -> float | None:
        return self.breaks / (self.sit_s / 3600) if self.sit_s else None


def runs(t0: int, labels: CodeArray) -> list[Run]:
    """Run-length encoding of a label array starting at data time t0."""
    n = int(labels.shape[0])
    if n == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n]))
    codes = labels[starts].tolist()
    return [
        Run(t0 + s, t0 + e, _POSTURE_BY_CODE[c])
        for s, e, c in zip(starts.tolist(), ends.tolist(), codes, strict=True)
    ]


def sitting_bouts(span: LabelSpan, bridge_s: int = BRIDGE_S) -> list[SittingBout]:
    """Sitting bouts in the span, bridging short lying / missing stretches (see module doc)."""
    return _bouts_of(runs(span.t0, span.labels), bridge_s)


def _bouts_of(all_runs: Sequence[Run], bridge_s: int) -> list[SittingBout]:
    codes = [_CODE_OF[r.label] for r in all_runs]
    bouts: list[SittingBout] = []
    i = 0
    while i < len(all_runs):
        if codes[i] != _SIT:
            i += 1
            continue
        first = last = i
        j = i + 1
        while j < len(all_runs):
            if codes[j] == _SIT:
                last = j
            elif codes[j] not in _BRIDGEABLE or all_runs[j].end - all_runs[last].end > bridge_s:
                break
            j += 1
        upright = 0
        k = last + 1
        while k < len(all_runs) and codes[k] in _UPRIGHT:
            upright += all_runs[k].duration
            k += 1
        bouts.append(SittingBout(all_runs[first].start, all_runs[last].end, upright))
        i = last + 1
    return bouts


def bin_counts(durations: Sequence[int]) -> tuple[int, int, int, int]:
    counts = np.bincount(np.searchsorted(BIN_EDGES_S, durations, side="right"), minlength=4)
    return (int(counts[0]), int(counts[1]), int(counts[2]), int(counts[3]))


_ENDINGS = (NudgeOutcome.FOLLOWED, NudgeOutcome.IGNORED, NudgeOutcome.EXPIRED)
_ANSWERS = (NudgeOutcome.ACKED, NudgeOutcome.SNOOZED)


def nudge_rounds(histories: Sequence[NudgeHistory]) -> list[list[NudgeHistory]]:
    """Prompts grouped into rounds, in time order. The policy puts a round's ending (followed,
    ignored, expired) on its first prompt, and an answer (acked, snoozed) on the prompt answered; so
    a prompt with an ending starts a round, and a later prompt belongs to the round still open at its
    time. A prompt after a round ended with no ending of its own starts a round still open."""
    rounds: list[list[NudgeHistory]] = []
    ends_at: float | None = None  # when the current round ended; None while it is open
    for h in sorted(histories, key=lambda h: (h.nudge.ts, h.nudge.id)):
        ending = [o.ts for o in h.outcomes if o.outcome in _ENDINGS]
        if rounds and not ending and (ends_at is None or h.nudge.ts <= ends_at):
            rounds[-1].append(h)
            continue
        rounds.append([h])
        ends_at = min(ending) if ending else None
    return rounds


def count_nudges(histories: Sequence[NudgeHistory], start: int, end: int) -> NudgeCounts:
    rounds = nudge_rounds([h for h in histories if start <= h.nudge.ts < end])
    tally = dict.fromkeys(("followed", "followed_later", "acknowledged", "snoozed", "no_response"), 0)
    tally |= {"expired": 0, "open": 0}
    for prompts in rounds:
        first = prompts[0]
        if first.has(NudgeOutcome.FOLLOWED):
            tally["followed" if first.followed_within(FOLLOWED_WITHIN_S) else "followed_later"] += 1
        elif first.has(NudgeOutcome.EXPIRED):
            tally["expired"] += 1
        elif first.has(NudgeOutcome.IGNORED):
            answers = sorted(
                (o for h in prompts for o in h.outcomes if o.outcome in _ANSWERS), key=lambda o: o.ts
            )
            if not answers:
                tally["no_response"] += 1
            else:
                tally["acknowledged" if answers[-1].outcome is NudgeOutcome.ACKED else "snoozed"] += 1
        else:
            tally["open"] += 1
    prompts_in_day = [h for r in rounds for h in r]
    return NudgeCounts(
        rounds=len(rounds),
        prompts=len(prompts_in_day),
        escalations=sum(1 for h in prompts_in_day if h.nudge.level is NudgeLevel.ESCALATION),
        **tally,
    )


def day_totals(
    span: LabelSpan, start: int, end: int, nudges: Sequence[NudgeHistory], min_break_s: int
) -> DayTotals:
    """The counts of the day [start, end) from its labels and nudges: THE definition of the day's
    totals, used by `compute_day` for the report and by the service for the live `state` (so the two
    agree to the second at the end of a day).

    `span` should reach CONTEXT_S before `start` (a bout running at midnight belongs to the day it
    began in); where it stops short of `end` (a day still in progress) the rest counts as no data.
    """
    all_runs = runs(span.t0, span.labels)
    # Time per posture from the runs (a few hundred a day) rather than the labels (86 400).
    seconds = dict.fromkeys(_POSTURE_BY_CODE, 0)
    for run in all_runs:
        lo, hi = max(run.start, start), min(run.end, end)
        if lo < hi:
            seconds[run.label] += hi - lo
    # Seconds of the day the span does not reach are no data, as the store reads them.
    seconds[Posture.UNKNOWN] += (end - start) - sum(seconds.values())
    bouts = tuple(b for b in _bouts_of(all_runs, BRIDGE_S) if start <= b.start < end)
    return DayTotals(
        posture_s=seconds,
        bouts=bouts,
        transitions=sum(1 for b in bouts if b.upright_after_s > 0),
        breaks=sum(1 for b in bouts if b.upright_after_s >= min_break_s),
        nudges=count_nudges(nudges, start, end),
    )


def compute_day(inp: DayInput) -> DayStats:
    start, end = day_bounds(inp.day, inp.tz)
    span = inp.epochs
    if span.t0 > start or span.t_end < end:
        raise ValueError(
            f"epochs cover [{span.t0}, {span.t_end}) but the day {inp.day} needs [{start}, {end})"
        )
    day_labels = span.labels[start - span.t0 : end - span.t0]
    totals = day_totals(span, start, end, inp.nudges, inp.min_break_s)
    hours = []
    for hour in local_hours(inp.day, inp.tz):
        labels = day_labels[hour.start - start : hour.end - start]
        c = np.bincount(labels, minlength=len(PostureCode))
        hours.append(
            HourStats(
                hour,
                sit_s=int(c[_SIT]),
                upright_s=int(sum(c[code] for code in _UPRIGHT)),
                wear_s=int(labels.size - sum(c[code] for code in _NOT_WORN)),
            )
        )
    return DayStats(
        wearable=inp.wearable,
        placement=inp.placement,
        day=inp.day,
        tz=inp.tz,
        start=start,
        end=end,
        min_break_s=inp.min_break_s,
        posture_s=totals.posture_s,
        bouts=totals.bouts,
        bins=bin_counts([b.duration for b in totals.bouts]),
        transitions=totals.transitions,
        breaks=totals.breaks,
        hours=tuple(hours),
        timeline=tuple(runs(start, day_labels)),
        nudges=totals.nudges,
    )
