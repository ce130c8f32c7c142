"""Exercise records, the safety filter and the suggestion rule.

The built-in movements live in `monitor.nudges.library`; wearers add their own from config
(`[[exercises.custom]]` tables, parsed by `parse_exercise`) and disable any by id. Safety is a hard
filter applied once when the library is built: an exercise tagged unsafe for any of the wearer's
conditions, or needing something the wearer does not have, is never a candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TypedDict, TypeVar

from monitor.core.records import NudgeLevel
from monitor.nudges.settings import ExerciseSettings


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


# A nudge is the first, gentle prompt: a stretch or mobility move. An escalation asks for more
# movement, so it prefers a walk (DESIGN.md: escalate gently, stretch -> walk).
PREFERRED_KINDS: dict[NudgeLevel, frozenset[ExerciseKind]] = {
    NudgeLevel.NUDGE: frozenset({ExerciseKind.STRETCH, ExerciseKind.MOBILITY, ExerciseKind.MASSAGE}),
    NudgeLevel.ESCALATION: frozenset({ExerciseKind.WALK}),
}
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


class ExerciseLibrary:
    """The exercises this wearer may be offered, and the rule that picks one.

    Built from the built-in list plus custom ones (a custom exercise with a built-in id replaces it),
    minus disabled ids, minus anything unsafe for a listed condition or needing what is not at hand.
    `excluded` says why each left-out exercise was left out (for `check-config` and diagnostics).
    """

    __slots__ = ("all", "excluded", "no_repeat", "usable")

    def __init__(self, exercises: Iterable[Exercise], settings: ExerciseSettings | None = None) -> None:
        settings = settings or ExerciseSettings()
        by_id: dict[str, Exercise] = {}
        for ex in exercises:
            by_id[ex.id] = ex  # later entries (custom) replace earlier ones (built-in)
        unknown = sorted(set(settings.disabled) - set(by_id))
        if unknown:
            raise ValueError(
                f"disabled: unknown exercise id(s) {', '.join(unknown)}; known: {', '.join(sorted(by_id))}"
            )
        conditions = frozenset(Condition(c) for c in settings.conditions)
        have = frozenset(Need(n) for n in settings.have)
        self.all: tuple[Exercise, ...] = tuple(by_id.values())
        self.excluded: dict[str, str] = {}
        usable: list[Exercise] = []
        for ex in self.all:
            if ex.id in settings.disabled:
                self.excluded[ex.id] = "disabled in config"
            elif ex.unsafe_for & conditions:
                names = ", ".join(sorted(c.value for c in ex.unsafe_for & conditions))
                self.excluded[ex.id] = f"not advised with {names}"
            elif not ex.needs <= have:
                names = ", ".join(sorted(n.value for n in ex.needs - have))
                self.excluded[ex.id] = f"needs {names}"
            else:
                usable.append(ex)
        self.usable: tuple[Exercise, ...] = tuple(usable)
        self.no_repeat = settings.no_repeat

    @classmethod
    def default(cls, settings: ExerciseSettings | None = None) -> ExerciseLibrary:
        """The built-in exercises plus `settings.custom`, filtered by `settings`."""
        from monitor.nudges.library import BUILTIN_EXERCISES  # noqa: PLC0415 - avoids an import cycle

        settings = settings or ExerciseSettings()
        custom = [parse_exercise(asdict(c), f"exercises.custom[{i}]") for i, c in enumerate(settings.custom)]
        return cls((*BUILTIN_EXERCISES, *custom), settings)

    def usable_ids(self) -> list[str]:
        return [ex.id for ex in self.usable]

    def get(self, exercise_id: str) -> Exercise | None:
        return next((ex for ex in self.all if ex.id == exercise_id), None)

    def suggest(self, level: NudgeLevel, available_s: float, recent: Sequence[str] = ()) -> Exercise | None:
        """Pick one exercise, deterministically.

        1. Candidates: usable exercises no longer than `available_s`; if none fits, the shortest usable.
        2. Prefer the kinds for this level (nudge: stretch/mobility/massage; escalation: walk).
        3. Skip the last `no_repeat` suggestions (`recent`, newest last) while anything else is left.
        4. Rotate: take the first remaining one after the most recent suggestion in library order.
        """
        if not self.usable:
            return None
        fits = [ex for ex in self.usable if ex.duration_s <= available_s]
        if not fits:
            fits = [min(self.usable, key=lambda ex: ex.duration_s)]
        preferred = [ex for ex in fits if ex.kind in PREFERRED_KINDS[level]] or fits
        window = set(recent[-self.no_repeat :]) if self.no_repeat else set()
        fresh = [ex for ex in preferred if ex.id not in window] or preferred
        order = {ex.id: i for i, ex in enumerate(self.all)}
        last = order.get(recent[-1], -1) if recent else -1
        return min(fresh, key=lambda ex: (order[ex.id] <= last, order[ex.id]))
