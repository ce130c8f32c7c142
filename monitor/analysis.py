"""The summary of one classified recording, as `sitbreak analyze` and `sitbreak demo` print it.

Pure: labels in, numbers and text out. The definitions are the daily report's (monitor.reports.daily),
so a recording analysed offline and the same day seen live give the same numbers:

- wear time: seconds labelled anything but non_wear or unknown;
- a sitting bout bridges lying or missing data of up to a minute; prolonged: at least 30 min;
- a break: sitting followed directly by upright time (stand, move, cycle) of at least `min_break_s`;
  breaks per sedentary hour divide by the hours of sitting. The minimum is stated with the number,
  because it changes it (activPAL's 10 s gives ~8/h, 1 s ~28/h).

From a wrist the classifier only knows active from inactive: "sitting" is printed as inactivity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from monitor.core.records import LabelSpan
from monitor.core.types import CodeArray, Placement, Posture, PostureCode
from monitor.reports.daily import BIN_LABELS, PROLONGED_S, SittingBout, bin_counts, runs, sitting_bouts
from monitor.reports.settings import DEFAULT_MIN_BREAK_S
from monitor.reports.wording import posture_name

# The order postures are listed in.
_ORDER: tuple[Posture, ...] = (
    Posture.SIT,
    Posture.LIE,
    Posture.STAND,
    Posture.MOVE,
    Posture.CYCLE,
    Posture.NON_WEAR,
    Posture.UNKNOWN,
)
WRIST_NOTE = "wrist placement: this measures inactivity, not sitting"


@dataclass(frozen=True, slots=True)
class RecordingSummary:
    placement: Placement
    start: int  # data time, s
    end: int
    posture_s: dict[Posture, int]
    bout_counts: dict[Posture, int]  # maximal runs of each label
    sitting_bouts: tuple[SittingBout, ...]
    min_break_s: int
    breaks: int
    transitions: int  # sitting followed directly by upright time, however short

    @property
    def length_s(self) -> int:
        return self.end - self.start

    @property
    def wear_s(self) -> int:
        return self.length_s - self.posture_s[Posture.NON_WEAR] - self.posture_s[Posture.UNKNOWN]

    @property
    def sit_s(self) -> int:
        return self.posture_s[Posture.SIT]

    @property
    def prolonged(self) -> tuple[SittingBout, ...]:
        return tuple(b for b in self.sitting_bouts if b.duration >= PROLONGED_S)

    @property
    def longest(self) -> SittingBout | None:
        return max(self.sitting_bouts, key=lambda b: (b.duration, -b.start), default=None)

    @property
    def breaks_per_sedentary_hour(self) -> float | None:
        return self.breaks / (self.sit_s / 3600) if self.sit_s else None

    @property
    def bins(self) -> tuple[int, int, int, int]:
        return bin_counts([b.duration for b in self.sitting_bouts])


def summarize(
    t0: int, labels: CodeArray, placement: Placement, min_break_s: int = DEFAULT_MIN_BREAK_S
) -> RecordingSummary:
    """Numbers for the per-second labels starting at data time t0 (a whole second)."""
    counts = np.bincount(labels, minlength=len(PostureCode))
    posture_s = {Posture.from_code(int(c)): int(counts[c]) for c in PostureCode}
    bout_counts = dict.fromkeys(_ORDER, 0)
    for run in runs(t0, labels):
        bout_counts[run.label] += 1
    bouts = tuple(sitting_bouts(LabelSpan(t0, labels)))
    return RecordingSummary(
        placement=placement,
        start=t0,
        end=t0 + int(labels.shape[0]),
        posture_s=posture_s,
        bout_counts=bout_counts,
        sitting_bouts=bouts,
        min_break_s=min_break_s,
        breaks=sum(1 for b in bouts if b.upright_after_s >= min_break_s),
        transitions=sum(1 for b in bouts if b.upright_after_s > 0),
    )


def duration_text(seconds: float) -> str:
    """1 h 05 min, 12 min, 45 s."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    minutes = round(s / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_summary(s: RecordingSummary, name: str) -> str:
    """The summary as aligned text lines."""
    wrist = s.placement is Placement.WRIST
    names = {p: posture_name(p, s.placement) for p in Posture}
    sit = names[Posture.SIT]
    span = f"{duration_text(s.length_s)} from {_clock(s.start)} to {_clock(s.end)}"
    lines = [f"{name}: {span}, {s.placement} placement"]
    if wrist:
        lines.append(f"  note: {WRIST_NOTE}")
    share = f" ({100 * s.wear_s / s.length_s:.0f} % of the recording)" if s.length_s else ""
    lines.append(f"  {'worn':<15}{duration_text(s.wear_s)}{share}")
    for p in _ORDER:
        seconds = s.posture_s[p]
        if p in (Posture.NON_WEAR, Posture.UNKNOWN):
            if seconds:
                lines.append(f"  {names[p]:<15}{duration_text(seconds)}")
            continue
        pct = f"  {100 * seconds / s.wear_s:.0f} % of wear time" if s.wear_s else ""
        lines.append(f"  {names[p]:<15}{duration_text(seconds):<12}{pct}".rstrip())
    total = sum(s.bout_counts.values())
    per_class = ", ".join(f"{names[p]} {s.bout_counts[p]}" for p in _ORDER if s.bout_counts[p])
    lines.append(f"  {'bouts':<15}{total} ({per_class})" if total else f"  {'bouts':<15}0")
    bins = ", ".join(f"{label} min {n}" for label, n in zip(BIN_LABELS, s.bins, strict=True))
    lines.append(f"  {sit + ' bouts':<15}{len(s.sitting_bouts)}: {bins}")
    prolonged = s.prolonged
    lines.append(
        f"  {'prolonged':<15}{len(prolonged)} {sit} bouts of 30 min or more, "
        f"{duration_text(sum(b.duration for b in prolonged))} in all"
    )
    longest = s.longest
    if longest is not None:
        lines.append(
            f"  {'longest':<15}{duration_text(longest.duration)} {sit}, from {_clock(longest.start)}"
        )
    rate = s.breaks_per_sedentary_hour
    per_hour = f", {rate:.1f} per sedentary hour" if rate is not None else ""
    lines.append(f"  {'breaks':<15}{s.breaks}{per_hour} (upright for at least {s.min_break_s} s after {sit})")
    return "\n".join(lines) + "\n"
