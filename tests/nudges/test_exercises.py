"""The exercise library: content, the safety filter, rotation, time fit, custom entries, wording."""

from __future__ import annotations

import itertools
from dataclasses import fields

import pytest

from monitor.core.records import NudgeLevel
from monitor.nudges import (
    DISCLAIMER,
    Action,
    Condition,
    ExerciseKind,
    ExerciseLibrary,
    ExerciseSettings,
    Need,
    compose_nudge,
    parse_exercise,
)
from monitor.nudges.exercises import EXERCISE_KEYS
from monitor.nudges.library import BUILTIN_EXERCISES
from monitor.nudges.settings import (
    CONDITION_CHOICES,
    INTENSITY_CHOICES,
    KIND_CHOICES,
    NEED_CHOICES,
    CustomExercise,
)

ALL_CONDITIONS = tuple(c.value for c in Condition)
EVERYTHING = tuple(n.value for n in Need)


def test_builtin_library_is_complete_and_well_formed() -> None:
    assert len(BUILTIN_EXERCISES) >= 12
    ids = [ex.id for ex in BUILTIN_EXERCISES]
    assert len(ids) == len(set(ids))
    for ex in BUILTIN_EXERCISES:
        assert ex.name and ex.summary and 1 <= len(ex.steps) <= 8, ex.id
        assert 10 <= ex.duration_s <= 600, ex.id
    kinds = {ex.kind for ex in BUILTIN_EXERCISES}
    assert kinds == set(ExerciseKind)
    for wanted in (
        "standing_hip_flexor_stretch",
        "half_kneeling_hip_flexor_stretch",
        "standing_figure_4",
        "seated_figure_4",
        "standing_hip_circles",
        "standing_hip_extension",
        "brisk_walk",
        "stairs",
        "posture_reset",
        "standing_back_extension",
        "standing_cat_cow",
        "glute_ball_massage",
        "hip_flexor_ball_massage",
        "calf_raises",
        "march_in_place",
    ):
        assert wanted in ids


def test_settings_choices_match_the_enums() -> None:
    assert set(CONDITION_CHOICES) == {c.value for c in Condition}
    assert set(NEED_CHOICES) == {n.value for n in Need}
    assert set(KIND_CHOICES) == {k.value for k in ExerciseKind}
    assert set(INTENSITY_CHOICES) == {"gentle", "moderate", "brisk"}


# Medical rules (library.py docstring) pinned one by one, so that an edit cannot quietly loosen them.
MUST_EXCLUDE = {
    "hip_replacement": {
        "standing_figure_4",  # deep flexion + rotation
        "seated_figure_4",  # flexion past 90 degrees when leaning in
        "half_kneeling_hip_flexor_stretch",
        "standing_hip_flexor_stretch",  # extension past neutral under stretch
        "glute_ball_massage",  # pressure near the scar
        "hip_flexor_ball_massage",
    },
    "pregnancy": {
        "half_kneeling_hip_flexor_stretch",
        "hip_flexor_ball_massage",
        "standing_back_extension",
        "standing_figure_4",
    },
    "balance_problems": {"standing_figure_4", "stairs", "half_kneeling_hip_flexor_stretch"},
    "arthritis": {"half_kneeling_hip_flexor_stretch", "standing_figure_4", "stairs"},
}


@pytest.mark.parametrize("condition", sorted(MUST_EXCLUDE))
def test_condition_rules(condition: str) -> None:
    lib = ExerciseLibrary.default(ExerciseSettings(conditions=(condition,), have=EVERYTHING))
    usable = {ex.id for ex in lib.usable}
    assert not usable & MUST_EXCLUDE[condition]
    assert {"easy_walk", "posture_reset"} <= usable  # something safe always remains


def test_recent_hip_injury_leaves_only_easy_walking_and_posture_resets() -> None:
    lib = ExerciseLibrary.default(ExerciseSettings(conditions=("recent_hip_injury",), have=EVERYTHING))
    assert {ex.id for ex in lib.usable} == {"easy_walk", "posture_reset", "wall_angel"}
    assert lib.excluded["brisk_walk"] == "not advised with recent_hip_injury"


@pytest.mark.parametrize(
    "conditions",
    [c for n in range(len(ALL_CONDITIONS) + 1) for c in itertools.combinations(ALL_CONDITIONS, n)],
)
def test_unsafe_exercise_is_never_suggested(conditions: tuple[str, ...]) -> None:
    lib = ExerciseLibrary.default(ExerciseSettings(conditions=conditions, have=EVERYTHING))
    wanted = {Condition(c) for c in conditions}
    recent: list[str] = []
    for i in range(60):
        level = NudgeLevel.ESCALATION if i % 3 == 2 else NudgeLevel.NUDGE
        ex = lib.suggest(level, available_s=(30, 60, 120, 300)[i % 4], recent=recent)
        assert ex is not None
        assert not ex.unsafe_for & wanted, (ex.id, conditions)
        recent.append(ex.id)


def test_suggestions_rotate_without_repeating_the_last_three() -> None:
    lib = ExerciseLibrary.default(ExerciseSettings(have=EVERYTHING))
    recent: list[str] = []
    for _ in range(30):
        ex = lib.suggest(NudgeLevel.NUDGE, 300, recent)
        assert ex is not None
        assert ex.id not in recent[-3:]
        recent.append(ex.id)
    # rotation walks the whole non-walk part of the library
    assert len(set(recent)) == sum(ex.kind != ExerciseKind.WALK for ex in lib.usable)


def test_escalation_prefers_a_walk_and_nudge_a_stretch() -> None:
    lib = ExerciseLibrary.default()
    for i in range(8):
        esc = lib.suggest(NudgeLevel.ESCALATION, 300, ["x"] * i)
        nudge = lib.suggest(NudgeLevel.NUDGE, 300, ["x"] * i)
        assert esc is not None and esc.kind is ExerciseKind.WALK
        assert nudge is not None and nudge.kind is not ExerciseKind.WALK


@pytest.mark.parametrize("available", [30, 45, 60, 100])
def test_suggestion_fits_the_time_available(available: int) -> None:
    lib = ExerciseLibrary.default(ExerciseSettings(have=EVERYTHING))
    recent: list[str] = []
    for level in (NudgeLevel.NUDGE, NudgeLevel.ESCALATION) * 5:
        ex = lib.suggest(level, available, recent)
        assert ex is not None and ex.duration_s <= available
        recent.append(ex.id)


def test_nothing_fits_falls_back_to_the_shortest() -> None:
    lib = ExerciseLibrary.default()
    ex = lib.suggest(NudgeLevel.NUDGE, 5)
    assert ex is not None and ex.duration_s == min(e.duration_s for e in lib.usable)


def test_needs_filter_what_is_not_at_hand() -> None:
    lib = ExerciseLibrary.default(ExerciseSettings(have=()))
    assert all(not ex.needs for ex in lib.usable)
    assert lib.excluded["stairs"] == "needs stairs"
    assert (
        "glute_ball_massage" in ExerciseLibrary.default(ExerciseSettings(have=("wall", "ball"))).usable_ids()
    )


def test_disable_and_unknown_disable() -> None:
    lib = ExerciseLibrary.default(ExerciseSettings(disabled=("posture_reset",)))
    assert "posture_reset" not in lib.usable_ids()
    assert lib.excluded["posture_reset"] == "disabled in config"
    with pytest.raises(ValueError, match=r"disabled: unknown exercise id.*posture_rest"):
        ExerciseLibrary.default(ExerciseSettings(disabled=("posture_rest",)))


def test_everything_disabled_gives_no_exercise_but_a_nudge_still_reads_well() -> None:
    ids = tuple(ex.id for ex in BUILTIN_EXERCISES)
    lib = ExerciseLibrary.default(ExerciseSettings(disabled=ids))
    assert lib.suggest(NudgeLevel.NUDGE, 300) is None
    msg = compose_nudge(NudgeLevel.NUDGE, 1860, None, break_min_s=120, snooze_minutes=10)
    assert "Stand up and move around for 2 minutes" in msg.body


def test_custom_exercise_from_config_is_added_and_filtered() -> None:
    custom = CustomExercise(
        id="doorway_stretch",
        name="Doorway chest stretch",
        steps=("Stand in a doorway, forearms on the frame.", "Step through gently; hold 30 s."),
        duration_s=45,
        kind="stretch",
        needs=("space",),
        unsafe_for=("pregnancy",),
    )
    lib = ExerciseLibrary.default(ExerciseSettings(custom=(custom,)))
    ex = lib.get("doorway_stretch")
    assert ex is not None and ex.summary == "Doorway chest stretch"
    assert "doorway_stretch" in lib.usable_ids()
    lib = ExerciseLibrary.default(ExerciseSettings(custom=(custom,), conditions=("pregnancy",)))
    assert "doorway_stretch" not in lib.usable_ids()


def test_custom_exercise_replaces_builtin_with_same_id() -> None:
    custom = CustomExercise(
        id="brisk_walk", name="Walk to the post room", steps=("Go and back.",), duration_s=240, kind="walk"
    )
    lib = ExerciseLibrary.default(ExerciseSettings(custom=(custom,)))
    ex = lib.get("brisk_walk")
    assert ex is not None and ex.name == "Walk to the post room"
    assert len(lib.all) == len(BUILTIN_EXERCISES)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"id": "x", "name": "X", "steps": ["a"], "kind": "stretch"}, "missing required key 'duration_s'"),
        (
            {"id": "x", "name": "X", "steps": ["a"], "duration_s": 60, "kind": "yoga"},
            "custom\\[0\\].kind: 'yoga' is not one of stretch, walk, mobility, massage",
        ),
        (
            {
                "id": "x",
                "name": "X",
                "steps": ["a"],
                "duration_s": 60,
                "kind": "walk",
                "unsafe_for": ["knees"],
            },
            "custom\\[0\\].unsafe_for: 'knees' is not one of arthritis",
        ),
        (
            {"id": "x", "name": "X", "steps": [], "duration_s": 60, "kind": "walk"},
            "steps: must be a list of 1 to 8",
        ),
        (
            {"id": "x", "name": "X", "steps": ["a"], "duration_s": 5, "kind": "walk"},
            "duration_s: 5 must be a whole number of seconds from 10",
        ),
        ({"id": "Bad Id", "name": "X", "steps": ["a"], "duration_s": 60, "kind": "walk"}, "id: 'Bad Id'"),
        (
            {"id": "x", "name": "X", "steps": ["a"], "duration_s": 60, "kind": "walk", "colour": 1},
            "unknown key\\(s\\) colour",
        ),
    ],
)
def test_custom_exercise_errors_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_exercise(table, "sitbreak.toml: exercises.custom[0]")


def test_custom_exercise_settings_fields_match_the_parser() -> None:
    assert {f.name for f in fields(CustomExercise)} == set(EXERCISE_KEYS)


# ---- wording -----------------------------------------------------------------------------------

SHAMING = ("lazy", "fail", "should have", "ignored", "again?!", "bad", "must")


def _messages() -> list[tuple[str, str]]:
    out = []
    for ex in (*BUILTIN_EXERCISES, None):
        for level in NudgeLevel:
            for reminder in (False, True):
                m = compose_nudge(
                    level, 31 * 60 + 20, ex, break_min_s=120, snooze_minutes=10, reminder=reminder
                )
                out.append((m.title, m.body))
    return out


def test_every_message_is_kind_brief_and_carries_the_disclaimer() -> None:
    for title, body in _messages():
        assert body.endswith(DISCLAIMER)
        assert "not medical advice" in body
        text = f"{title} {body}".lower()
        assert not any(word in text for word in SHAMING), text
        assert len(title) <= 60
        assert len(body) <= 420, body


def test_message_content() -> None:
    ex = next(e for e in BUILTIN_EXERCISES if e.id == "seated_figure_4")
    m = compose_nudge(NudgeLevel.NUDGE, 1800, ex, break_min_s=120, snooze_minutes=5)
    assert m.title == "Time for a stretch break"
    assert m.body.startswith("You've been sitting for 30 minutes.")
    assert "then stand up" in m.body.lower()  # seated exercise: still ask for the stand-up
    assert m.exercise is ex and m.level is NudgeLevel.NUDGE
    assert [(a.action, a.minutes) for a in m.actions] == [
        (Action.ACK, None),
        (Action.SNOOZE, 5),
        (Action.PAUSE, 60),
    ]
    assert m.actions[1].label == "Snooze 5 min"
    esc = compose_nudge(NudgeLevel.ESCALATION, 2400, None, break_min_s=120, snooze_minutes=10)
    assert esc.title != m.title and esc.body.startswith("40 minutes of sitting so far.")


def test_payload_of_an_exercise_is_json_ready() -> None:
    ex = next(e for e in BUILTIN_EXERCISES if e.id == "glute_ball_massage")
    p = ex.payload()
    assert p["needs"] == ["ball", "wall"] and p["kind"] == "massage"
    assert isinstance(p["steps"], list) and p["caution"]
