"""Settings reject bad values with a message that names the key, the value and the rule."""

from __future__ import annotations

from dataclasses import fields

import pytest

from monitor.nudges import ExerciseSettings, PolicySettings
from monitor.nudges.settings import CustomExercise


@pytest.mark.parametrize("cls", [PolicySettings, ExerciseSettings, CustomExercise])
def test_every_field_is_documented(cls: type) -> None:
    for f in fields(cls):
        assert f.metadata.get("doc"), f"{cls.__name__}.{f.name} has no doc"
        lo, hi = f.metadata.get("min"), f.metadata.get("max")
        if lo is not None and hi is not None:
            assert lo <= hi


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nudge_after": 2}, "nudge_after = 2 min is below the minimum 5 min"),
        ({"max_escalations": 9}, "max_escalations = 9 count is above the maximum 5 count"),
        ({"snooze_min": 30, "snooze_max": 20}, "snooze_min = 30 min is above snooze_max = 20 min"),
        ({"snooze_default": 90}, "snooze_default = 90 min is above snooze_max = 60.0 min"),
        ({"snooze_default": 2}, "snooze_default = 2 min is below snooze_min = 5.0 min"),
        ({"active_mon": "8-18"}, "active_mon: '8-18' is not a time range"),
        ({"active_fri": "08:00-25:00"}, "active_fri: '08:00-25:00' has an impossible time"),
        ({"quiet_hours": "12:00-12:00"}, "quiet_hours: '12:00-12:00' is empty"),
        ({"holidays": ("2026-13-01",)}, "holidays: '2026-13-01' is not a date"),
    ],
)
def test_policy_settings_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PolicySettings(**kwargs)  # type: ignore[arg-type]


def test_exercise_settings_errors() -> None:
    with pytest.raises(ValueError, match="conditions: 'knees' is not one of arthritis"):
        ExerciseSettings(conditions=("knees",))
    with pytest.raises(ValueError, match="have: 'dumbbell' is not one of space"):
        ExerciseSettings(have=("dumbbell",))


def test_schedule_strings_accept_several_ranges_and_off() -> None:
    s = PolicySettings(active_mon="08:00-12:00, 13:00-17:30", active_sat="off", quiet_hours="22:00-07:00")
    assert s.active_mon.count("-") == 2
