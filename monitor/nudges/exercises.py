"""Exercise records: what one movement is, and how a custom one is read from config.

The built-in movements, the safety filter and the suggestion rule live in `monitor.nudges.library`;
wearers add their own from config (`[[exercises.custom]]` tables, parsed by `parse_exercise` here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict, TypeVar


class Condition(StrEnum):
    ARTHRITIS = "arthritis"
    RECENT_HIP_INJURY = "recent_hip_injury"  # injury or surgery in the last months
    HIP_REPLACEMENT = "hip_replacement"
    PREGNANCY = "pregnancy"
    BALANCE_PROBLEMS = "balance_problems"


class ExerciseKind(StrEnum):
    STRETCH = "stretch"
    WALK = "walk"
    MOBILITY = "mobility"
    MASSAGE = "massage"


class Intensity(StrEnum):
    GENTLE = "gentle"
    MODERATE = "moderate"
    BRISK = "brisk"


class Need(StrEnum):
    SPACE = "space"  # a metre or two of free floor around you
    WALL = "wall"
    CHAIR = "chair"  # a sturdy chair or desk to hold for balance
    FLOOR = "floor"  # somewhere to kneel (a folded jacket as a cushion)
    BALL = "ball"  # tennis or massage ball
    STAIRS = "stairs"


# A notification has room for a few short steps; more belongs in a video, not a nudge.
MAX_STEPS = 8
# A break is minutes long; anything over half an hour is a workout, not a break suggestion.
MAX_DURATION_S = 30 * 60


class ExercisePayload(TypedDict):
    id: str
    name: str
    summary: str
    steps: list[str]
    duration_s: int
    kind: str
    intensity: str
    needs: list[str]
    caution: str


@dataclass(frozen=True, slots=True)
class Exercise:
    """One movement. `unsafe_for` lists the conditions for which it must never be suggested."""

    id: str
    name: str
    summary: str
    steps: tuple[str, ...]
    duration_s: int
    kind: ExerciseKind
    intensity: Intensity = Intensity.GENTLE
    needs: frozenset[Need] = frozenset()
    unsafe_for: frozenset[Condition] = frozenset()
    upright: bool = True  # False: done seated, so the nudge also asks to stand up afterwards
    caution: str = ""

    def payload(self) -> ExercisePayload:
        return {
            "id": self.id,
            "name": self.name,
            "summary": self.summary,
            "steps": list(self.steps),
            "duration_s": self.duration_s,
            "kind": str(self.kind),
            "intensity": str(self.intensity),
            "needs": sorted(str(n) for n in self.needs),
            "caution": self.caution,
        }


_E = TypeVar("_E", bound=StrEnum)


def _enum_set(enum: type[_E], values: object, where: str, key: str) -> frozenset[_E]:
    if not isinstance(values, list | tuple):
        raise ValueError(f"{where}.{key}: expected a list of strings, got {values!r}")
    out: set[_E] = set()
    allowed = ", ".join(e.value for e in enum)
    for v in values:
        try:
            if not isinstance(v, str):
                raise ValueError(v)
            out.add(enum(v))
        except ValueError:
            raise ValueError(f"{where}.{key}: {v!r} is not one of {allowed}") from None
    return frozenset(out)


def _one(enum: type[_E], value: object, where: str, key: str) -> _E:
    (only,) = _enum_set(enum, [value], where, key)
    return only


EXERCISE_KEYS = frozenset(
    {
        "id",
        "name",
        "summary",
        "steps",
        "duration_s",
        "kind",
        "intensity",
        "needs",
        "unsafe_for",
        "upright",
        "caution",
    }
)


def parse_exercise(table: Mapping[str, object], where: str) -> Exercise:
    """Build an `Exercise` from one config table; `where` (e.g. "sitbreak.toml: exercises.custom[0]")
    prefixes every error. Required: id, name, steps, duration_s, kind."""
    unknown = sorted(set(table) - EXERCISE_KEYS)
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(EXERCISE_KEYS))}"
        )
    for key in ("id", "name", "steps", "duration_s", "kind"):
        if key not in table:
            raise ValueError(f"{where}: missing required key {key!r}")
    ex_id, name = table["id"], table["name"]
    if not isinstance(ex_id, str) or not ex_id.replace("_", "").isalnum() or not ex_id.islower():
        raise ValueError(f"{where}.id: {ex_id!r} must be lower-case letters, digits and _")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}.name: must be a non-empty string")
    steps = table["steps"]
    if (
        not isinstance(steps, list | tuple)
        or not 1 <= len(steps) <= MAX_STEPS
        or not all(isinstance(s, str) and s.strip() for s in steps)
    ):
        raise ValueError(f"{where}.steps: must be a list of 1 to {MAX_STEPS} non-empty strings")
    duration = table["duration_s"]
    if isinstance(duration, bool) or not isinstance(duration, int) or not 10 <= duration <= MAX_DURATION_S:
        raise ValueError(
            f"{where}.duration_s: {duration!r} must be a whole number of seconds from 10 to {MAX_DURATION_S}"
        )
    summary = table.get("summary", name)
    caution = table.get("caution", "")
    upright = table.get("upright", True)
    if not isinstance(summary, str) or not isinstance(caution, str):
        raise ValueError(f"{where}: summary and caution must be strings")
    if not isinstance(upright, bool):
        raise ValueError(f"{where}.upright: must be true or false")
    kind = _one(ExerciseKind, table["kind"], where, "kind")
    intensity = _one(Intensity, table.get("intensity", "gentle"), where, "intensity")
    return Exercise(
        id=ex_id,
        name=name.strip(),
        summary=summary.strip() or name.strip(),
        steps=tuple(s.strip() for s in steps),
        duration_s=duration,
        kind=kind,
        intensity=intensity,
        needs=_enum_set(Need, table.get("needs", []), where, "needs"),
        unsafe_for=_enum_set(Condition, table.get("unsafe_for", []), where, "unsafe_for"),
        upright=upright,
        caution=caution.strip(),
    )
