"""Minute-by-minute scenarios for the break policy (timer, credit, escalation, commands).

Times in the expectations are mm:ss after the scenario start (Wednesday 09:00 Europe/Berlin, inside
the default active hours). An event at mm:ss means "at the end of the epoch that reached it".
"""

from __future__ import annotations

import numpy as np
import pytest

from monitor.core.records import NudgeLevel
from monitor.core.types import Epoch, EpochBlock, Posture
from monitor.nudges import Ack, EventKind, PolicySettings, Reason
from tests.nudges.scenario import items, make_policy, run

# (script, expected decision lines)
TIMER_CASES = [
    pytest.param("S29m59s", [], id="sit-29:59-no-nudge"),
    pytest.param("S30m", ["30:00 nudge"], id="sit-30:00-nudge"),
    pytest.param("L30m", ["30:00 nudge"], id="lying-counts-as-sedentary"),
    pytest.param("S40m", ["30:00 nudge", "40:00 escalation"], id="escalation-after-10"),
    pytest.param("S39m59s", ["30:00 nudge"], id="escalation-not-before-10"),
    pytest.param(
        "S60m",
        ["30:00 nudge", "40:00 escalation", "50:00 escalation", "60:00 ignored"],
        id="two-escalations-then-ignored",
    ),
    pytest.param(
        "S95m",
        ["30:00 nudge", "40:00 escalation", "50:00 escalation", "60:00 ignored", "90:00 nudge"],
        id="fresh-nudge-after-renudge_after",
    ),
    # A stand-up one second short of break_min pauses the timer: 20 + 10 min counted -> 31:59.
    pytest.param("S20m U119s S10m", ["31:59 nudge"], id="standup-119s-pauses-timer"),
    pytest.param("S20m U120s S10m", ["22:00 break_credited"], id="standup-120s-credited"),
    pytest.param("S20m M2m S29m59s", ["22:00 break_credited"], id="walk-credits-then-29:59"),
    pytest.param("S25m C2m S5m", ["27:00 break_credited"], id="cycling-credits"),
    pytest.param("S30m U1m S10m", ["30:00 nudge", "41:00 escalation"], id="short-standup-delays-escalation"),
    pytest.param(
        "S33m U2m S1m",
        ["30:00 nudge", "35:00 break_credited", "35:00 followed"],
        id="followed-after-3-min",
    ),
    # non-wear and unknown freeze the timer and do not break an upright run
    pytest.param("S20m N30m S10m", ["60:00 nudge"], id="non-wear-freezes"),
    pytest.param("S20m X10m S10m", ["40:00 nudge"], id="unknown-freezes"),
    pytest.param("S20m _10m S10m", ["40:00 nudge"], id="data-gap-freezes"),
    pytest.param("S20m U60s N5m U60s S10m", ["27:00 break_credited"], id="upright-across-non-wear"),
    pytest.param("S20m N59m59s S10m", ["89:59 nudge"], id="non-wear-59:59-keeps-timer"),
    pytest.param("S20m N60m S30m", ["80:00 timer_reset not_worn", "110:00 nudge"], id="non-wear-60m-resets"),
    pytest.param("S20m _60m S30m", ["80:00 timer_reset not_worn", "110:00 nudge"], id="data-gap-60m-resets"),
    pytest.param(
        "S35m N60m S1m",
        ["30:00 nudge", "95:00 expired not_worn", "95:00 timer_reset not_worn"],
        id="open-nudge-expires-when-device-off",
    ),
    pytest.param("U30m M30m", [], id="no-sitting-no-events"),
]


@pytest.mark.parametrize(("script", "expected"), TIMER_CASES)
def test_timer_scenarios(script: str, expected: list[str]) -> None:
    assert run(script).lines() == expected


COMMAND_CASES = [
    pytest.param(
        "S30m @ack S45m",
        ["30:00 nudge", "30:00 acked", "40:00 ignored", "70:00 nudge"],
        id="ack-stops-escalation",
    ),
    pytest.param(
        "S30m @snooze:15 S30m",
        ["30:00 nudge", "30:00 snoozed", "45:00 nudge", "55:00 escalation"],
        id="snooze-moves-next-prompt",
    ),
    pytest.param(
        "S30m @snooze:15 S10m U2m",
        ["30:00 nudge", "30:00 snoozed", "42:00 break_credited", "42:00 followed"],
        id="snoozed-then-followed",
    ),
    pytest.param(
        "S41m @snooze:10 S10m",
        ["30:00 nudge", "40:00 escalation", "41:00 snoozed", "51:00 escalation"],
        id="reminder-after-escalation-stays-firm",
    ),
    pytest.param(
        "S25m @pause:60 S70m",
        ["25:00 paused", "30:00 suppressed paused", "85:00 resumed", "85:00 nudge", "95:00 escalation"],
        id="pause-holds-nudge-until-end",
    ),
    pytest.param(
        "S25m @pause:60 S10m @resume S1s",
        ["25:00 paused", "30:00 suppressed paused", "35:00 resumed", "35:01 nudge"],
        id="resume-releases-held-nudge",
    ),
    pytest.param(
        "S30m @pause:30 S41m",
        [
            "30:00 nudge",
            "30:00 paused",
            "40:00 suppressed paused",
            "60:00 resumed",
            "60:00 escalation",
            "70:00 escalation",
        ],
        id="escalation-held-by-pause",
    ),
    pytest.param(
        "S25m @pause:60 S3m U2m S60m",
        ["25:00 paused", "30:00 break_credited", "60:00 suppressed paused", "85:00 resumed", "85:00 nudge"],
        id="pause-does-not-stop-credit",
    ),
    pytest.param("S10m @ack", ["10:00 command_rejected"], id="ack-without-nudge-rejected"),
    pytest.param("S30m @ack:w1-0", ["30:00 nudge", "30:00 command_rejected"], id="ack-stale-id-rejected"),
    pytest.param("S10m @resume", ["10:00 command_rejected"], id="resume-unpaused-rejected"),
    pytest.param("S10m @pause:0", ["10:00 command_rejected"], id="pause-not-in-future-rejected"),
    pytest.param(
        "S10m @snooze:10 S40m",
        ["10:00 snoozed", "30:00 nudge", "40:00 escalation", "50:00 escalation"],
        id="early-snooze-keeps-later-due",
    ),
    pytest.param(
        "S25m @snooze:10 S20m",
        ["25:00 snoozed", "35:00 nudge", "45:00 escalation"],
        id="early-snooze-postpones",
    ),
]


@pytest.mark.parametrize(("script", "expected"), COMMAND_CASES)
def test_command_scenarios(script: str, expected: list[str]) -> None:
    assert run(script).lines() == expected


def test_snooze_repeated_in_one_bout_gets_shorter_and_resets_after_break() -> None:
    r = run(
        "S30m @snooze:20 S20m @snooze:20 S10m @snooze:20 S5m @snooze:20 S5m @snooze:20 U2m S30m @snooze:20"
    )
    granted = [e.minutes for e in r.of(EventKind.SNOOZED)]
    # 20; then at most half the previous grant (10, 5), never below snooze_min (5); after a credited
    # break the bout is new and 20 is granted again.
    assert granted == [20, 10, 5, 5, 5, 20]


@pytest.mark.parametrize(("asked", "granted"), [(1, 5), (4.9, 5), (5, 5), (60, 60), (500, 60)])
def test_snooze_is_bounded(asked: float, granted: float) -> None:
    r = run(f"S30m @snooze:{asked}")
    assert [e.minutes for e in r.of(EventKind.SNOOZED)] == [granted]


def test_ack_accepts_any_prompt_of_the_open_nudge() -> None:
    r = run("S41m")
    ids = [e.nudge_id for e in r.events if e.is_prompt]
    assert len(ids) == 2
    events = r.policy.command(Ack(ts=r.start, nudge_id=ids[0]))
    assert [e.kind for e in events] == [EventKind.ACKED]


def test_pause_longer_than_pause_max_is_shortened() -> None:
    r = run("S10m @pause:2000")
    (paused,) = r.of(EventKind.PAUSED)
    assert paused.until == pytest.approx(r.start + 600 + 720 * 60)
    assert "shortened" in paused.note


def test_no_escalations_when_max_is_zero() -> None:
    r = run("S75m", settings=PolicySettings(max_escalations=0))
    assert r.lines() == ["30:00 nudge", "40:00 ignored", "70:00 nudge"]


def test_custom_thresholds() -> None:
    s = PolicySettings(nudge_after=20, break_min=1, escalate_after=5, max_escalations=1)
    assert run("S20m S5m U59s S5m U1m", settings=s).lines() == [
        "20:00 nudge",
        "25:00 escalation",
        "30:59 ignored",
        "31:59 break_credited",
    ]


def test_event_context_explains_the_nudge() -> None:
    r = run("S5m U1m S40m")
    nudge, escalation = (e for e in r.events if e.is_prompt)
    assert nudge.sitting_s == 30 * 60
    assert nudge.bout_start == r.start  # the counted bout began at the first sitting second
    assert nudge.level is NudgeLevel.NUDGE and nudge.reason is Reason.TIMER_REACHED
    assert escalation.level is NudgeLevel.ESCALATION and escalation.reason is Reason.NO_BREAK
    assert nudge.message is not None and nudge.message.exercise is not None
    assert "30 minutes" in nudge.message.body


def test_followed_records_delay_from_first_prompt_to_standing_up() -> None:
    r = run("S43m U2m")
    (followed,) = r.of(EventKind.FOLLOWED)
    (nudge,) = r.of(EventKind.NUDGE)
    assert followed.nudge_id == nudge.nudge_id
    assert followed.delay_s == 13 * 60
    assert followed.break_start == r.start + 43 * 60


def test_nudge_ids_are_deterministic_and_unique() -> None:
    a = run("S120m @snooze:5 S30m")
    b = run("S120m @snooze:5 S30m")
    ids_a = [e.nudge_id for e in a.events if e.is_prompt]
    assert ids_a == [e.nudge_id for e in b.events if e.is_prompt]
    assert len(ids_a) == len(set(ids_a)) > 3
    assert all(i is not None and i.startswith("w1-") for i in ids_a)


def test_duplicate_and_reordered_epochs_are_ignored() -> None:
    policy = make_policy()
    t0 = run("").start
    for i in range(600):
        policy.feed_epoch(Epoch(t0 + i, Posture.SIT))
    assert policy.feed_epoch(Epoch(t0 + 100, Posture.SIT)) == []
    assert policy.feed_epoch(Epoch(t0 + 599, Posture.SIT)) == []
    assert policy.sitting_s == 600
    assert policy.diagnostics()["out_of_order_epochs"] == 2


def test_block_feed_matches_epoch_feed() -> None:
    script = "S35m U1m S20m M3m S40m N10m S30m"
    t0 = run("").start
    by_epoch = run(script).events
    labels = np.array([e.label.code for e in items(script, t0) if isinstance(e, Epoch)], dtype=np.uint8)

    policy = make_policy()
    by_block = policy.feed(EpochBlock(t0, labels[:1000])) + policy.feed(EpochBlock(t0 + 1000, labels[1000:]))
    assert by_block == by_epoch


def test_diagnostics_reports_state() -> None:
    r = run("S41m @pause:30")
    d = r.policy.diagnostics()
    assert d["sitting_s"] == 41 * 60
    assert d["escalations"] == 1
    assert d["open_nudge"] is not None
    assert d["paused_until"] == pytest.approx(r.start + 41 * 60 + 30 * 60)
    assert d["events"]["nudge"] == 1 and d["events"]["escalation"] == 1
    assert "standing_hip_flexor_stretch" in d["exercises_usable"]
