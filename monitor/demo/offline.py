"""`sitbreak demo --offline`: the simulated day straight through the pipeline, compared with its schedule.

The motion model renders the day in chunks, the same `PostureStream` the service runs classifies it,
and the summary `sitbreak analyze` prints is followed by how the labels compare with what the
simulated wearer was scheduled to do. No hardware, no broker, a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

import numpy as np

from firmware_sim.motion import SCHEDULES, Activity, MotionConfig, MotionModel
from monitor.analysis import RecordingSummary, duration_text, format_summary, summarize
from monitor.core.types import CodeArray, Placement, Posture, SampleBlock
from monitor.pipeline import PostureStream
from monitor.progress import Progress
from monitor.reports.settings import DEFAULT_MIN_BREAK_S

# The motion model's day schedules by name, for the command's `--schedule` choices (the command
# itself does not import firmware_sim).
SCHEDULE_NAMES: tuple[str, ...] = tuple(sorted(SCHEDULES))

# A Monday morning, so the simulated day has a plausible date; any fixed time keeps output stable.
DEMO_START = datetime.fromisoformat("2024-03-04T08:00:00+00:00")
# Samples rendered and fed per chunk: one minute at 50 Hz, far above a BLE notification, which the
# stream handles identically (its tests prove chunking does not change labels).
_CHUNK_S = 60
# Seconds this close to a change of activity are not compared: the truth switches instantly, a body
# (and a 2 s window) does not.
TRANSITION_MARGIN_S = 3

# What the thigh classifier should say for each scheduled activity.
EXPECTED: dict[Activity, Posture] = {
    Activity.SIT: Posture.SIT,
    Activity.LIE: Posture.LIE,
    Activity.STAND: Posture.STAND,
    Activity.WALK: Posture.MOVE,
    Activity.RUN: Posture.MOVE,
    Activity.STAIRS_UP: Posture.MOVE,
    Activity.STAIRS_DOWN: Posture.MOVE,
    Activity.CYCLE: Posture.CYCLE,
    Activity.DESK: Posture.NON_WEAR,
}


@dataclass(frozen=True, slots=True)
class ActivityAgreement:
    activity: Activity
    expected: Posture
    seconds: int  # compared seconds (away from transitions)
    matched: int


@dataclass(frozen=True, slots=True)
class OfflineDemoResult:
    summary: RecordingSummary
    labels: CodeArray
    t0: int
    truth: list[tuple[float, float, Activity]]
    agreement: tuple[ActivityAgreement, ...]
    text: str

    @property
    def overall(self) -> float:
        seconds = sum(a.seconds for a in self.agreement)
        return sum(a.matched for a in self.agreement) / seconds if seconds else 0.0


def sample_blocks(model: MotionModel, t0: float, chunk: int) -> Iterator[SampleBlock]:
    """The model's samples as SampleBlocks of `chunk` samples, times from t0 (Unix s)."""
    for first in range(0, model.n_samples, chunk):
        count = min(chunk, model.n_samples - first)
        yield SampleBlock(t0 + model.times(first, count), model.render(first, count))


def run_offline_demo(
    *,
    schedule: str = "office",
    placement: Placement = Placement.THIGH,
    rate_hz: float = 50.0,
    seed: int = 0,
    progress: bool = False,
    stream: TextIO | None = None,
) -> OfflineDemoResult:
    """Render, classify and compare; the text is what `sitbreak demo` prints."""
    model = MotionModel(
        SCHEDULES[schedule](), MotionConfig(placement=placement.value, rate_hz=rate_hz, seed=seed)
    )
    start = DEMO_START.timestamp()
    posture = PostureStream(placement, rate_hz)
    parts = []
    chunk = max(1, round(_CHUNK_S * rate_hz))
    with Progress(model.n_samples, "simulating", enabled=progress, stream=stream) as bar:
        for i, block in enumerate(sample_blocks(model, start, chunk)):
            parts.append(posture.feed(block))
            bar.update((i + 1) * chunk)
    parts.append(posture.flush())
    parts = [p for p in parts if len(p)]
    t0 = round(parts[0].t0) if parts else round(start)
    labels: CodeArray = np.concatenate([p.labels for p in parts]) if parts else np.zeros(0, np.uint8)
    summary = summarize(t0, labels, placement, DEFAULT_MIN_BREAK_S)
    truth = model.truth()
    agreement = compare_with_truth(labels, t0 - round(start), truth)
    text = format_summary(summary, f"simulated {schedule} day (seed {seed})")
    text += format_agreement(agreement, truth, summary, placement)
    return OfflineDemoResult(summary, labels, t0, truth, agreement, text)


def compare_with_truth(
    labels: CodeArray, offset_s: int, truth: list[tuple[float, float, Activity]]
) -> tuple[ActivityAgreement, ...]:
    """Per scheduled activity: seconds compared and seconds labelled as expected.

    labels[i] covers schedule second offset_s + i; seconds within TRANSITION_MARGIN_S of a change of
    activity are left out.
    """
    seconds: dict[Activity, int] = {}
    matched: dict[Activity, int] = {}
    for begin, end, activity in truth:
        lo = int(np.ceil(begin)) + TRANSITION_MARGIN_S - offset_s
        hi = int(np.floor(end)) - TRANSITION_MARGIN_S - offset_s
        lo, hi = max(lo, 0), min(hi, int(labels.shape[0]))
        if hi <= lo:
            continue
        window = labels[lo:hi]
        seconds[activity] = seconds.get(activity, 0) + int(window.shape[0])
        hits = int(np.count_nonzero(window == EXPECTED[activity].code))
        matched[activity] = matched.get(activity, 0) + hits
    return tuple(ActivityAgreement(a, EXPECTED[a], seconds[a], matched[a]) for a in Activity if a in seconds)


def format_agreement(
    agreement: tuple[ActivityAgreement, ...],
    truth: list[tuple[float, float, Activity]],
    summary: RecordingSummary,
    placement: Placement,
) -> str:
    lines = [
        "",
        f"compared with the simulated schedule (leaving out {TRANSITION_MARGIN_S} s around each change):",
    ]
    if placement is not Placement.THIGH:
        lines.append(f"  ({placement} placement: only a thigh sensor tells these postures apart reliably)")
    for a in agreement:
        share = 100 * a.matched / a.seconds if a.seconds else 0.0
        label = a.expected.value
        lines.append(f"  {a.activity.value:<12}{duration_text(a.seconds):<14}{share:5.1f} % labelled {label}")
    total = sum(a.seconds for a in agreement)
    hits = sum(a.matched for a in agreement)
    if total:
        lines.append(f"  {'overall':<12}{duration_text(total):<14}{100 * hits / total:5.1f} %")
    scheduled = sum(1 for b, e, act in truth if act is Activity.SIT and e - b >= 30 * 60)
    lines.append(
        f"  prolonged sitting bouts (30 min or more): {scheduled} scheduled, {len(summary.prolonged)} found"
    )
    return "\n".join(lines) + "\n"


__all__ = [
    "EXPECTED",
    "SCHEDULE_NAMES",
    "ActivityAgreement",
    "OfflineDemoResult",
    "compare_with_truth",
    "run_offline_demo",
    "sample_blocks",
]
