"""A simulated office day replayed through the real pipeline and the policy.

The motion model renders `office_day()` as 50 Hz thigh acceleration; `monitor.pipeline` labels it;
the policy (default settings, Europe/Berlin, a Wednesday from 08:00) decides. The expected prompt
times are derived by hand from the schedule below. Tolerance: +-5 s per prompt. The pipeline's
boundaries move by a second or two (sit-to-stand transitions are rendered over 2 s, bouts are
smoothed), and 5 s stays far below any gap between two decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pytest

from firmware_sim.motion import Activity, MotionConfig, MotionModel, office_day
from monitor.core.types import EpochBlock, Placement, PostureCode, SampleBlock
from monitor.nudges import EventKind, ExerciseLibrary, NudgePolicy, PolicyEvent, PolicySettings
from monitor.pipeline import PostureStream, classify_recording
from tests.nudges.scenario import BERLIN

START = datetime(2026, 11, 25, 8, 0, tzinfo=BERLIN).timestamp()
RATE_HZ = 50.0
TOLERANCE_S = 5.0


def mmss(m: int, s: int) -> float:
    return m * 60.0 + s


# Minutes after 08:00 (the schedule's segment boundaries in brackets):
EXPECTED_PROMPTS: list[tuple[float, EventKind]] = [
    # walk 6, stairs 0.75, walk 1, stand 2 -> sitting from 9:45 for 52 min
    (mmss(39, 45), EventKind.NUDGE),
    (mmss(49, 45), EventKind.ESCALATION),
    (mmss(59, 45), EventKind.ESCALATION),
    # stand 1 (pauses), sit 24: timer 60 at 70:45 -> ignored; walk 2 at 86:45 -> break at 88:45.
    # Sit 18 + stand 0.5 + sit 12 reaches exactly 30:00 at 126:15: on the threshold, see OPTIONAL.
    # Walk/stairs break at 128:15; meeting: sit 45 from 129:15 -> nudge 159:15, escalation 169:15,
    # walk from 174:15 -> break 176:15.
    (mmss(159, 15), EventKind.NUDGE),
    (mmss(169, 15), EventKind.ESCALATION),
    # sit 20, lunch walk (break 198:45), queue, lunch sit 22, walk (break 238:45), sit 35 from 246:45
    (mmss(276, 45), EventKind.NUDGE),
    # device on the desk 30 min from 281:45 freezes the timer at 35; sitting again from 311:45
    (mmss(316, 45), EventKind.ESCALATION),
    (mmss(326, 45), EventKind.ESCALATION),
    # ignored at 336:45 (timer 60); stand 1.5 pauses; sit 40 from 341:15: renudge at timer 90
    (mmss(368, 15), EventKind.NUDGE),
    (mmss(378, 15), EventKind.ESCALATION),
    # walk from 381:15 -> break 383:15; stand 3, sit 25 (no nudge), walk (break 414:15), stand 1,
    # sit 33 from 415:15 -> nudge 445:15, walk 448:15 -> break 450:15; the rest stays under 30 min
    (mmss(445, 15), EventKind.NUDGE),
]
# Exactly at the threshold in the schedule: either side is right for a real classifier.
OPTIONAL_PROMPTS: list[tuple[float, EventKind]] = [(mmss(126, 15), EventKind.NUDGE)]
EXPECTED_OUTCOMES = {EventKind.IGNORED: 2, EventKind.FOLLOWED: 3}

_TRUTH_CODES = {
    Activity.SIT: PostureCode.SIT,
    Activity.LIE: PostureCode.LIE,
    Activity.STAND: PostureCode.STAND,
    Activity.WALK: PostureCode.MOVE,
    Activity.RUN: PostureCode.MOVE,
    Activity.STAIRS_UP: PostureCode.MOVE,
    Activity.STAIRS_DOWN: PostureCode.MOVE,
    Activity.CYCLE: PostureCode.CYCLE,
    Activity.DESK: PostureCode.NON_WEAR,
}


@dataclass
class Day:
    model: MotionModel
    t: np.ndarray
    xyz: np.ndarray


@pytest.fixture(scope="module")
def day() -> Day:
    model = MotionModel(office_day(), MotionConfig(placement="thigh", rate_hz=RATE_HZ, seed=1))
    return Day(model, START + model.times(0, model.n_samples), model.render(0, model.n_samples))


@pytest.fixture(scope="module")
def offline(day: Day) -> EpochBlock:
    return classify_recording(day.t, day.xyz, RATE_HZ, Placement.THIGH)


def _policy() -> NudgePolicy:
    return NudgePolicy(PolicySettings(), ExerciseLibrary.default(), BERLIN, wearable_id="office")


def _prompts(events: list[PolicyEvent]) -> list[tuple[float, EventKind]]:
    return [(e.t - START, e.kind) for e in events if e.is_prompt]


def _match(got: list[tuple[float, EventKind]]) -> None:
    """Every expected prompt appears once within the tolerance; nothing else but optional ones."""
    remaining = list(got)
    for t, kind in EXPECTED_PROMPTS:
        hit = next((g for g in remaining if g[1] == kind and abs(g[0] - t) <= TOLERANCE_S), None)
        assert hit is not None, f"no {kind} near {t / 60:.2f} min; got {got}"
        remaining.remove(hit)
    for g in remaining:
        assert any(g[1] == k and abs(g[0] - t) <= TOLERANCE_S for t, k in OPTIONAL_PROMPTS), (
            f"unexpected {g[1]} at {g[0] / 60:.2f} min"
        )


def test_expected_times_follow_from_the_schedule(day: Day) -> None:
    """The hand derivation above, checked against the policy fed the schedule's own labels."""
    codes: list[int] = []
    for start, end, activity in day.model.truth():
        codes += [_TRUTH_CODES[activity]] * round(end - start)
    events = _policy().feed(EpochBlock(START, np.array(codes, dtype=np.uint8)))
    got = _prompts(events)
    assert got == sorted(EXPECTED_PROMPTS + OPTIONAL_PROMPTS)  # exact: labels change on the second


def test_office_day_through_pipeline_and_policy(offline: EpochBlock) -> None:
    events = _policy().feed(offline)
    _match(_prompts(events))
    outcomes = {k: sum(e.kind == k for e in events) for k in EXPECTED_OUTCOMES}
    optional_fired = len(_prompts(events)) - len(EXPECTED_PROMPTS)
    assert outcomes[EventKind.IGNORED] == EXPECTED_OUTCOMES[EventKind.IGNORED]
    assert outcomes[EventKind.FOLLOWED] == EXPECTED_OUTCOMES[EventKind.FOLLOWED] + optional_fired
    assert all(e.delay_s is not None and e.delay_s < 20 * 60 for e in events if e.kind == EventKind.FOLLOWED)
    # The 30 min with the device on the desk froze the timer: 35 min before it + 5 after = 40.
    (after_desk,) = [e for e in events if e.is_prompt and abs(e.t - START - mmss(316, 45)) <= TOLERANCE_S]
    assert abs(after_desk.sitting_s - 40 * 60) <= TOLERANCE_S
    assert all(e.message is not None and e.message.exercise is not None for e in events if e.is_prompt)


def test_live_streaming_gives_the_same_decisions_as_offline(day: Day, offline: EpochBlock) -> None:
    """Samples arrive in 2 s notifications; epochs go to the policy as the stream releases them."""
    expected = _policy().feed(offline)
    stream = PostureStream(Placement.THIGH, RATE_HZ)
    policy = _policy()
    live: list[PolicyEvent] = []
    step = int(2 * RATE_HZ)
    for i in range(0, day.t.shape[0], step):
        live += policy.feed(stream.feed(SampleBlock(day.t[i : i + step], day.xyz[i : i + step])))
    live += policy.feed(stream.flush())
    assert live == expected
