"""The summary of one classified recording, as `sitbreak analyze` and `sitbreak demo` print it.

Pure: labels in, numbers and text out. The definitions are the daily report's (monitor.reports.daily),
so a recording analysed offline and the same day seen live give the same numbers:

- wear time: seconds labelled anything but non_wear or unknown;
- a sitting bout bridges lying or missing data of up to a minute; prolonged: at least 30 min;
- a break: sitting followed directly by upright time (stand, move, cycle) of at least `min_break_s`;
  breaks per sedentary hour divide by the hours of sitting. The minimum is stated with the number,
  because it changes it (activPAL's 10 s gives ~8/h, 1 s ~28/h).

- a gap: a stretch of `unknown` (no data, or too little to label) of at least `GAP_S`.

From a wrist the classifier only knows active from inactive: "sitting" is printed as inactivity.

`SummaryBuilder` takes the labels as maximal runs, in order, and keeps only the sitting bouts in
progress: a recording spanning years with little data in it needs little memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from monitor.core.records import LabelSpan
from monitor.core.types import CodeArray, Placement, Posture
from monitor.reports.daily import (
    BIN_LABELS,
    BRIDGE_S,
    PROLONGED_S,
    Run,
    SittingBout,
    bin_counts,
    runs,
    sitting_bouts,
)
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
# A stretch of `unknown` at least this long is a gap: the summary counts it, and `sitbreak analyze` writes
# it as one bout instead of a row per second. Ten minutes: far beyond a Bluetooth hiccup, and the silence
# after which the pipeline itself stops summing empty time (monitor.pipeline.windows.LONG_GAP_S).
GAP_S = 600


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
    gaps: int = 0  # stretches of unknown of at least GAP_S
    gap_s: int = 0

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
    builder = SummaryBuilder(placement, min_break_s)
    builder.add_runs(runs(t0, labels))
    return builder.result(t0)


class RunMerger:
    """Joins consecutive runs of one label that arrive in pieces into maximal runs."""

    def __init__(self) -> None:
        self._open: Run | None = None

    def add(self, run: Run) -> Run | None:
        """Extend the open run or start a new one; returns the run this one closed, if any."""
        prev = self._open
        if prev is not None and prev.end != run.start:
            raise ValueError(f"runs must be consecutive: {run.start} after a run ending at {prev.end}")
        if prev is not None and prev.label is run.label:
            self._open = Run(prev.start, run.end, run.label)
            return None
        self._open = run
        return prev

    def close(self) -> Run | None:
        """The last run (the end of the data)."""
        run, self._open = self._open, None
        return run


class SummaryBuilder:
    """A RecordingSummary from maximal runs, fed in order.

    Sitting bouts are computed by the daily report's own `sitting_bouts`, one stretch at a time: an
    unknown run longer than BRIDGE_S ends every bout and every upright time after one, so the stretches
    between such runs give exactly the bouts of the whole recording, and only the stretch in progress is
    held (as runs, not seconds).
    """

    def __init__(self, placement: Placement, min_break_s: int = DEFAULT_MIN_BREAK_S) -> None:
        self.placement = placement
        self.min_break_s = min_break_s
        self._start: int | None = None
        self._end = 0
        self._seconds = dict.fromkeys(Posture, 0)
        self._bout_counts = dict.fromkeys(_ORDER, 0)
        self._stretch: list[Run] = []
        self._sitting: list[SittingBout] = []
        self._gaps = 0
        self._gap_s = 0

    def add_runs(self, items: Iterable[Run]) -> None:
        for run in items:
            self.add(run)

    def add(self, run: Run) -> None:
        """The next maximal run (it must start where the previous one ended)."""
        if self._start is None:
            self._start = run.start
        elif run.start != self._end:
            raise ValueError(f"runs must be consecutive: {run.start} after {self._end}")
        self._end = run.end
        self._seconds[run.label] += run.duration
        self._bout_counts[run.label] += 1
        if run.label is Posture.UNKNOWN and run.duration > BRIDGE_S:
            self._close_stretch()
            if run.duration >= GAP_S:
                self._gaps += 1
                self._gap_s += run.duration
        else:
            self._stretch.append(run)

    def _close_stretch(self) -> None:
        if not self._stretch:
            return
        t0 = self._stretch[0].start
        codes = np.array([r.label.code for r in self._stretch], dtype=np.uint8)
        lengths = np.array([r.duration for r in self._stretch], dtype=np.int64)
        self._sitting += sitting_bouts(LabelSpan(t0, np.repeat(codes, lengths)))
        self._stretch = []

    def result(self, t0: int | None = None) -> RecordingSummary:
        """The summary (t0: where an empty recording starts)."""
        self._close_stretch()
        start = self._start if self._start is not None else (t0 or 0)
        end = self._end if self._start is not None else start
        bouts = tuple(self._sitting)
        return RecordingSummary(
            placement=self.placement,
            start=start,
            end=end,
            posture_s=dict(self._seconds),
            bout_counts=dict(self._bout_counts),
            sitting_bouts=bouts,
            min_break_s=self.min_break_s,
            breaks=sum(1 for b in bouts if b.upright_after_s >= self.min_break_s),
            transitions=sum(1 for b in bouts if b.upright_after_s > 0),
            gaps=self._gaps,
            gap_s=self._gap_s,
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
    if s.gaps:
        lines.append(
            f"  {'gaps':<15}{s.gaps} of {GAP_S // 60} min or more with {names[Posture.UNKNOWN]}, "
            f"{duration_text(s.gap_s)} in all"
        )
    rate = s.breaks_per_sedentary_hour
    per_hour = f", {rate:.1f} per sedentary hour" if rate is not None else ""
    lines.append(f"  {'breaks':<15}{s.breaks}{per_hour} (upright for at least {s.min_break_s} s after {sit})")
    return "\n".join(lines) + "\n"
