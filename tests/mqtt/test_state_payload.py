"""The retained `state` message from the service's live state record: a pure conversion."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.core.types import Posture
from monitor.mqtt.convert import LiveState, TodayCounts, problem_payload, state_payload
from monitor.mqtt.payloads import encode

NOW = datetime(2026, 11, 24, 14, 5, tzinfo=UTC).timestamp()
CPH = ZoneInfo("Europe/Copenhagen")


def test_a_connected_wearer_sitting_with_the_day_so_far() -> None:
    state = LiveState(
        posture=Posture.SIT,
        posture_since=NOW - 330.0,
        link_up=True,
        battery=87,
        sitting_timer_s=1234,
        today=TodayCounts(
            posture_s={Posture.SIT: 7290, Posture.STAND: 601, Posture.MOVE: 1200, Posture.CYCLE: 60},
            breaks=9,
            nudges=2,
        ),
    )
    assert state_payload(state, NOW, "w1", CPH) == {
        "ts": "2026-11-24T15:05:00+01:00",
        "wearable": "w1",
        "posture": "sit",
        "since": "2026-11-24T14:59:30+01:00",
        "current_bout_min": 5.5,
        "sitting_timer_s": 1234.0,
        "worn": True,
        "link": "connected",
        "battery": 87,
        "today": {
            "sitting_min": 121.5,
            "standing_min": 10.0,
            "moving_min": 21.0,  # moving counts cycling too
            "lying_min": 0.0,
            "breaks": 9,
            "nudges": 2,
        },
        "problem": None,
        "waiting_s": 0.0,
    }


def test_without_the_link_the_posture_is_unknown_unless_the_device_was_off_body() -> None:
    # An unknown posture is `no_data` on MQTT: `unknown` is Home Assistant's reserved "no value".
    sitting = LiveState(posture=Posture.SIT, posture_since=NOW - 60.0, link_up=False)
    payload = state_payload(sitting, NOW, "w1")
    assert (payload["posture"], payload["worn"], payload["link"]) == ("no_data", False, "lost")
    off_body = LiveState(posture=Posture.NON_WEAR, posture_since=NOW - 60.0, link_up=False)
    payload = state_payload(off_body, NOW, "w1")
    assert (payload["posture"], payload["worn"], payload["link"]) == ("non_wear", False, "lost")


def test_before_any_data_everything_is_zero_and_since_is_now() -> None:
    payload = state_payload(LiveState(), NOW, "w1", UTC)
    assert payload["since"] == payload["ts"] == "2026-11-24T14:05:00+00:00"
    assert payload["current_bout_min"] == 0.0
    assert payload["battery"] is None
    assert payload["today"] == {
        "sitting_min": 0.0,
        "standing_min": 0.0,
        "moving_min": 0.0,
        "lying_min": 0.0,
        "breaks": 0,
        "nudges": 0,
    }
    assert json.loads(encode(payload)) == payload


def test_a_posture_since_after_now_never_gives_a_negative_bout() -> None:
    state = LiveState(posture=Posture.STAND, posture_since=NOW + 5.0, link_up=True)
    assert state_payload(state, NOW, "w1")["current_bout_min"] == 0.0


def test_a_storage_problem_and_the_data_waiting_are_in_state_and_in_an_event() -> None:
    state = LiveState(link_up=True, problem="storage: the disk is full", waiting_s=754.44)
    payload = state_payload(state, NOW, "w1")
    assert (payload["problem"], payload["waiting_s"]) == ("storage: the disk is full", 754.4)
    began = problem_payload("storage", "the disk is full", waiting_s=0.0, now=NOW, wearable="w1")
    ended = problem_payload("storage", None, now=NOW, wearable="w1", written_s=754.44, dropped_s=0)
    assert (began["kind"], began["reason"], began.get("detail")) == (
        "problem",
        "storage",
        {"problem": "the disk is full", "waiting_s": 0.0},
    )
    assert (ended["kind"], ended.get("detail")) == (
        "problem_cleared",
        {"problem": "", "waiting_s": 0.0, "written_s": 754.4, "dropped_s": 0.0},
    )
    assert json.loads(encode(began)) == began
