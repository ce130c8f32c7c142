"""Settings of the break policy and the exercise choice (the `[policy]` and `[exercises]` tables).

Defaults come from the evidence summarised in DESIGN.md: interrupt sitting every ~30 min with at least
2 min upright. Every field carries metadata (doc, unit, min, max, choices) for the generic TOML loader
in monitor/config/load.py; `__post_init__` re-checks bounds and parses the schedule strings so that a
settings object built in code is as safe as one loaded from a file. Errors are `ValueError`s that name
the field, the value and the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, tzinfo

from monitor.core.fields import setting
from monitor.nudges.schedule import WEEKDAYS, Schedule, parse_holidays, parse_ranges

_WEEKDAY_HOURS = "08:00-18:00"
_WEEKEND_HOURS = "off"
_RANGES_DOC = 'local wall-clock ranges "HH:MM-HH:MM", comma-separated; may run past midnight; "off" for none'


def _active(day: str, default: str) -> str:
    return setting(default, f"active hours on {day}: {_RANGES_DOC}", unit="HH:MM-HH:MM")


def _check_bounds(obj: object) -> None:
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        unit = f.metadata.get("unit", "")
        lo, hi = f.metadata.get("min"), f.metadata.get("max")
        if lo is not None and value < lo:
            raise ValueError(f"{f.name} = {value} {unit} is below the minimum {lo} {unit}".rstrip())
        if hi is not None and value > hi:
            raise ValueError(f"{f.name} = {value} {unit} is above the maximum {hi} {unit}".rstrip())


@dataclass(frozen=True)
class PolicySettings:
    nudge_after: float = setting(
        30.0,
        "counted sitting time since the last credited break before the first nudge",
        unit="min",
        min=5,
        max=240,
    )
    break_min: float = setting(
        2.0,
        "continuous upright time (stand, move, cycle) that counts as a break and resets "
        "the sitting timer; shorter stand-ups only pause it",
        unit="min",
        min=0.5,
        max=30,
    )
    escalate_after: float = setting(
        10.0,
        "further sitting after a prompt before the next, firmer one (or before the nudge "
        "is recorded as ignored)",
        unit="min",
        min=1,
        max=120,
    )
    max_escalations: int = setting(2, "firmer follow-ups per nudge at most", unit="count", min=0, max=5)
    renudge_after: float = setting(
        30.0, "after an ignored nudge, further sitting before a new gentle nudge", unit="min", min=5, max=240
    )
    snooze_min: float = setting(5.0, "shortest snooze granted", unit="min", min=1, max=60)
    snooze_max: float = setting(60.0, "longest snooze granted", unit="min", min=1, max=240)
    snooze_default: float = setting(10.0, "snooze offered on the nudge's button", unit="min", min=1, max=240)
    snooze_shrink: float = setting(
        0.5,
        "a repeated snooze in the same bout is at most this fraction of the previous one "
        "(never below snooze_min)",
        unit="factor",
        min=0.1,
        max=1.0,
    )
    pause_max: float = setting(
        12 * 60.0, "longest pause (meeting / do-not-disturb) accepted", unit="min", min=5, max=7 * 24 * 60
    )
    reset_after_off: float = setting(
        60.0,
        "continuous non-wear or missing data that clears the sitting timer (whatever the "
        "wearer did meanwhile is unknown, and an hour off the body rarely hides an unbroken sit)",
        unit="min",
        min=5,
        max=24 * 60,
    )
    exercise_max: float = setting(
        5.0,
        "longest exercise suggested; shorter still when active hours or quiet hours begin sooner",
        unit="min",
        min=0.5,
        max=30,
    )
    active_mon: str = _active("Monday", _WEEKDAY_HOURS)
    active_tue: str = _active("Tuesday", _WEEKDAY_HOURS)
    active_wed: str = _active("Wednesday", _WEEKDAY_HOURS)
    active_thu: str = _active("Thursday", _WEEKDAY_HOURS)
    active_fri: str = _active("Friday", _WEEKDAY_HOURS)
    active_sat: str = _active("Saturday", _WEEKEND_HOURS)
    active_sun: str = _active("Sunday", _WEEKEND_HOURS)
    quiet_hours: str = setting(
        "off",
        "every day, nothing is sent in these ranges (sitting still counts): " + _RANGES_DOC,
        unit="HH:MM-HH:MM",
    )
    holidays: tuple[str, ...] = setting((), "dates with no active hours, YYYY-MM-DD (local)", unit="date")

    def __post_init__(self) -> None:
        _check_bounds(self)
        self.schedule(UTC)  # parses every schedule string; errors name the key
        if self.snooze_min > self.snooze_max:
            raise ValueError(
                f"snooze_min = {self.snooze_min} min is above snooze_max = {self.snooze_max} min"
            )
        # The nudge's snooze button offers snooze_default after the [snooze_min, snooze_max] clamp;
        # outside that range the button would quietly offer a length other than the one configured.
        if self.snooze_default > self.snooze_max:
            raise ValueError(
                f"snooze_default = {self.snooze_default} min is above snooze_max = {self.snooze_max} min"
            )
        if self.snooze_default < self.snooze_min:
            raise ValueError(
                f"snooze_default = {self.snooze_default} min is below snooze_min = {self.snooze_min} min"
            )

    def schedule(self, tz: tzinfo) -> Schedule:
        weekly = tuple(parse_ranges(getattr(self, f"active_{d}"), f"active_{d}") for d in WEEKDAYS)
        return Schedule(
            weekly,
            parse_ranges(self.quiet_hours, "quiet_hours"),
            parse_holidays(self.holidays, "holidays"),
            tz,
        )


CONDITION_CHOICES: tuple[str, ...] = (
    "arthritis",
    "recent_hip_injury",
    "hip_replacement",
    "pregnancy",
    "balance_problems",
)
NEED_CHOICES: tuple[str, ...] = ("space", "wall", "chair", "floor", "ball", "stairs")


KIND_CHOICES: tuple[str, ...] = ("stretch", "walk", "mobility", "massage")
INTENSITY_CHOICES: tuple[str, ...] = ("gentle", "moderate", "brisk")


@dataclass(frozen=True)
class CustomExercise:
    """One `[[exercises.custom]]` table: an exercise of the wearer's own (or a replacement for a
    built-in one with the same id). `monitor.nudges.exercises.parse_exercise` checks it fully."""

    id: str = setting("", "unique id, lower-case letters, digits and _", pattern=r"[a-z0-9_]{1,40}")
    name: str = setting("", "short name shown in the nudge")
    summary: str = setting("", "one line on what it does (default: the name)")
    steps: tuple[str, ...] = setting((), "1 to 8 short instructions")
    duration_s: int = setting(60, "how long it takes", unit="s", min=10, max=1800)
    kind: str = setting("stretch", "kind of movement", choices=KIND_CHOICES)
    intensity: str = setting("gentle", "effort", choices=INTENSITY_CHOICES)
    needs: tuple[str, ...] = setting((), "what it needs at hand", choices=NEED_CHOICES)
    unsafe_for: tuple[str, ...] = setting(
        (), "conditions for which it must never be suggested", choices=CONDITION_CHOICES
    )
    upright: bool = setting(True, "done standing (false: seated; the nudge adds 'then stand up')")
    caution: str = setting("", "one short safety note shown with it")


@dataclass(frozen=True)
class ExerciseSettings:
    conditions: tuple[str, ...] = setting(
        (),
        "health conditions to respect: an exercise unsafe for any of them is never "
        "suggested (recent_hip_injury also covers recent hip surgery)",
        choices=CONDITION_CHOICES,
    )
    have: tuple[str, ...] = setting(
        ("space", "wall", "chair", "floor"),
        "what is at hand where you sit; exercises needing anything else are skipped",
        choices=NEED_CHOICES,
    )
    disabled: tuple[str, ...] = setting((), "exercise ids never to suggest (see docs/policy.md for the list)")
    no_repeat: int = setting(
        3, "do not repeat any of the last N suggestions while others fit", unit="count", min=0, max=20
    )

    custom: tuple[CustomExercise, ...] = setting(
        (),
        "your own exercises ([[exercises.custom]] tables); one with a built-in id "
        "replaces it. Leave unsafe_for empty only if it is safe for every condition listed above",
    )

    def __post_init__(self) -> None:
        _check_bounds(self)
        for key, allowed in (("conditions", CONDITION_CHOICES), ("have", NEED_CHOICES)):
            for value in getattr(self, key):
                if value not in allowed:
                    raise ValueError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
