"""Built-in movements that relieve the hips after sitting, and the library that filters and picks them.

Safety tags are deliberately conservative: when a movement is commonly restricted for a condition, it
is tagged, and the wearer still has safe movements left (walking and posture resets are safe for
everyone listed). The rules applied:

- recent_hip_injury (injury or surgery in the last months): only walking at an easy pace and gentle
  posture resets; everything else is tagged, pending the clinician's own programme.
- hip_replacement: no hip flexion past 90 degrees, no crossing the leg over the midline, no internal
  rotation (posterior-approach precautions), no hip extension past neutral under stretch
  (anterior-approach precautions, since we do not know the approach), no pressure near the scar.
- pregnancy: no lying on the back or front, no kneeling/floor transitions or deep lunges (joints are
  looser), no pressure on the lower abdomen, no backward bends.
- balance_problems: no single-leg standing without holding something sturdy, no stairs, nothing that
  leans the body off its base.
- arthritis: gentle range only: no kneeling, no end-range rotation (figure-4), no stairs (high joint
  load), no spinal extension.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict

from monitor.core.records import NudgeLevel
from monitor.nudges.exercises import Condition, Exercise, ExerciseKind, Intensity, Need, parse_exercise
from monitor.nudges.settings import ExerciseSettings

# A nudge is the first, gentle prompt: a stretch or mobility move. An escalation asks for more
# movement, so it prefers a walk (DESIGN.md: escalate gently, stretch -> walk).
PREFERRED_KINDS: dict[NudgeLevel, frozenset[ExerciseKind]] = {
    NudgeLevel.NUDGE: frozenset({ExerciseKind.STRETCH, ExerciseKind.MOBILITY, ExerciseKind.MASSAGE}),
    NudgeLevel.ESCALATION: frozenset({ExerciseKind.WALK}),
}

_A = Condition.ARTHRITIS
_I = Condition.RECENT_HIP_INJURY
_R = Condition.HIP_REPLACEMENT
_P = Condition.PREGNANCY
_B = Condition.BALANCE_PROBLEMS

BUILTIN_EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="standing_hip_flexor_stretch",
        name="Standing hip flexor stretch",
        summary="a gentle stretch for the front of the hips, holding a chair",
        steps=(
            "Stand beside a sturdy chair or desk and hold it with one hand.",
            "Step one foot back about a stride, both feet pointing forward.",
            "Tuck your tailbone under and squeeze the back leg's buttock until you feel a mild "
            "stretch at the front of that hip.",
            "Hold about 30 seconds, breathing easily, no bouncing. Then switch sides.",
        ),
        duration_s=60,
        kind=ExerciseKind.STRETCH,
        needs=frozenset({Need.SPACE, Need.CHAIR}),
        unsafe_for=frozenset({_I, _R}),
        caution="A mild pull, never pain.",
    ),
    Exercise(
        id="half_kneeling_hip_flexor_stretch",
        name="Half-kneeling hip flexor stretch",
        summary="a deeper stretch for the front of the hips, one knee on a cushion",
        steps=(
            "Put a folded jacket on the floor and kneel on it with one knee, the other foot flat "
            "in front; hold a chair for support.",
            "Tuck your tailbone under and shift your weight forward a little until the front of "
            "the kneeling hip stretches.",
            "Keep your back upright; hold about 30 seconds.",
            "Switch sides, then stand up slowly with the chair's help.",
        ),
        duration_s=75,
        kind=ExerciseKind.STRETCH,
        intensity=Intensity.MODERATE,
        needs=frozenset({Need.FLOOR, Need.CHAIR}),
        unsafe_for=frozenset({_A, _I, _R, _P, _B}),
        caution="Skip it if kneeling hurts your knee.",
    ),
    Exercise(
        id="standing_figure_4",
        name="Standing figure-4 stretch",
        summary="a glute stretch standing on one leg, holding a desk",
        steps=(
            "Hold a desk or sturdy chair with both hands.",
            "Cross one ankle over the other knee.",
            "Bend the standing knee and sit back a little until the crossed leg's buttock stretches.",
            "Hold about 20 seconds, then switch sides.",
        ),
        duration_s=60,
        kind=ExerciseKind.STRETCH,
        intensity=Intensity.MODERATE,
        needs=frozenset({Need.CHAIR}),
        unsafe_for=frozenset({_A, _I, _R, _P, _B}),
    ),
    Exercise(
        id="seated_figure_4",
        name="Seated figure-4 stretch",
        summary="a glute stretch you can do in your chair",
        steps=(
            "Sit near the front of your chair, feet flat.",
            "Rest one ankle on the other knee and let that knee sink only as far as is comfortable.",
            "Sit tall; for a little more, hinge forward slightly from the hips with a straight back.",
            "Hold about 30 seconds, then switch sides.",
        ),
        duration_s=60,
        kind=ExerciseKind.STRETCH,
        needs=frozenset({Need.CHAIR}),
        unsafe_for=frozenset({_A, _I, _R}),
        upright=False,
    ),
    Exercise(
        id="standing_hip_circles",
        name="Standing hip circles",
        summary="slow circles of the pelvis to loosen stiff hips",
        steps=(
            "Stand with feet hip-width apart, knees soft, hands on your hips.",
            "Slowly draw circles with your pelvis, 5 times one way and 5 times the other.",
            "Keep the circles small and smooth and both feet on the floor.",
        ),
        duration_s=45,
        kind=ExerciseKind.MOBILITY,
        needs=frozenset({Need.SPACE}),
        unsafe_for=frozenset({_I, _R}),
    ),
    Exercise(
        id="standing_hip_extension",
        name="Standing hip extension",
        summary="leg swings back with a glute squeeze, holding a chair",
        steps=(
            "Hold the back of a sturdy chair with both hands and stand tall.",
            "Move one straight leg slowly back a little and squeeze that buttock; do not arch "
            "your lower back.",
            "Bring it back; 10 times each side.",
        ),
        duration_s=60,
        kind=ExerciseKind.MOBILITY,
        needs=frozenset({Need.CHAIR}),
        unsafe_for=frozenset({_I, _R}),
    ),
    Exercise(
        id="glute_squeeze",
        name="Standing glute squeeze",
        summary="wake up the buttock muscles that switch off while sitting",
        steps=(
            "Stand tall, feet hip-width apart.",
            "Squeeze both buttocks firmly for 5 seconds, then relax.",
            "Repeat 10 times, breathing normally.",
        ),
        duration_s=45,
        kind=ExerciseKind.MOBILITY,
        unsafe_for=frozenset({_I}),
    ),
    Exercise(
        id="easy_walk",
        name="Easy walk",
        summary="two minutes of walking at an easy pace",
        steps=(
            "Stand up and walk at an easy pace for two minutes: fetch some water, go to a window, "
            "down the corridor and back.",
            "Let your arms swing and your stride be natural.",
        ),
        duration_s=120,
        kind=ExerciseKind.WALK,
    ),
    Exercise(
        id="brisk_walk",
        name="Brisk walk",
        summary="a few minutes of brisk walking",
        steps=(
            "Walk briskly for about five minutes, indoors or out, at a pace where you can still talk.",
            "Take longer strides than usual and let your hips swing.",
        ),
        duration_s=300,
        kind=ExerciseKind.WALK,
        intensity=Intensity.BRISK,
        unsafe_for=frozenset({_I}),
    ),
    Exercise(
        id="stairs",
        name="Take the stairs",
        summary="a flight or two of stairs, up and down",
        steps=(
            "Walk up one or two flights of stairs at a steady pace, holding the handrail.",
            "Walk back down slowly.",
        ),
        duration_s=120,
        kind=ExerciseKind.WALK,
        intensity=Intensity.MODERATE,
        needs=frozenset({Need.STAIRS}),
        unsafe_for=frozenset({_A, _I, _B}),
        caution="Hold the handrail.",
    ),
    Exercise(
        id="march_in_place",
        name="March in place",
        summary="a minute of marching on the spot, holding a chair",
        steps=(
            "Stand beside a chair and rest a hand on it.",
            "March on the spot, knees no higher than your hips, free arm swinging.",
            "Keep going for about a minute.",
        ),
        duration_s=60,
        kind=ExerciseKind.WALK,
        needs=frozenset({Need.CHAIR}),
        unsafe_for=frozenset({_I}),
    ),
    Exercise(
        id="posture_reset",
        name="Posture reset",
        summary="chin tucks and shoulder squeezes, standing tall",
        steps=(
            "Stand tall with your weight even on both feet.",
            "Draw your chin straight back, hold 3 seconds; 5 times.",
            "Roll your shoulders up, back and down, then squeeze the shoulder blades together for "
            "3 seconds; 5 times.",
        ),
        duration_s=30,
        kind=ExerciseKind.MOBILITY,
    ),
    Exercise(
        id="wall_angel",
        name="Wall angels",
        summary="slide your arms up a wall to open chest and upper back",
        steps=(
            "Stand with your back against a wall, feet a small step forward, knees soft.",
            "Raise your arms in a W against the wall, elbows bent.",
            "Slowly slide them up and down, as far as is comfortable; 8 times.",
        ),
        duration_s=60,
        kind=ExerciseKind.MOBILITY,
        needs=frozenset({Need.WALL}),
    ),
    Exercise(
        id="standing_back_extension",
        name="Standing back extension",
        summary="a gentle backward lean to undo the seated slump",
        steps=(
            "Stand with feet hip-width apart, hands on your lower back, fingers pointing down.",
            "Gently lean back a little, looking forward, and return; 5 slow times.",
        ),
        duration_s=30,
        kind=ExerciseKind.MOBILITY,
        unsafe_for=frozenset({_A, _I, _R, _P, _B}),
        caution="Only a small lean; stop if it pinches.",
    ),
    Exercise(
        id="standing_cat_cow",
        name="Standing cat-cow",
        summary="round and arch your back with hands on your thighs",
        steps=(
            "Stand with feet wider than hips, knees bent, hands resting on your thighs.",
            "Round your back, tucking chin and tailbone, then gently arch it, looking ahead.",
            "Move slowly with your breath; 8 times.",
        ),
        duration_s=45,
        kind=ExerciseKind.MOBILITY,
        unsafe_for=frozenset({_I}),
    ),
    Exercise(
        id="glute_ball_massage",
        name="Glute massage with a ball",
        summary="roll a ball between your buttock and a wall",
        steps=(
            "Stand with your back to a wall and put a tennis or massage ball between the wall and "
            "the fleshy part of one buttock.",
            "Lean in gently and roll slowly over tender spots for about 45 seconds.",
            "Switch sides.",
        ),
        duration_s=90,
        kind=ExerciseKind.MASSAGE,
        needs=frozenset({Need.WALL, Need.BALL}),
        unsafe_for=frozenset({_I, _R, _B}),
        caution="Stay on muscle, not bone; stop if you feel tingling down the leg.",
    ),
    Exercise(
        id="hip_flexor_ball_massage",
        name="Hip flexor massage with a ball",
        summary="ease the front of the hip with a ball against a wall",
        steps=(
            "Face a wall at arm's length with a tennis or massage ball in one hand.",
            "Place the ball just below and to the outside of the bony point at the front of your "
            "hip: on the muscle, not in the groin crease.",
            "Lean in gently and roll a few centimetres up and down for about 45 seconds.",
            "Switch sides.",
        ),
        duration_s=90,
        kind=ExerciseKind.MASSAGE,
        intensity=Intensity.MODERATE,
        needs=frozenset({Need.WALL, Need.BALL}),
        unsafe_for=frozenset({_I, _R, _P, _B}),
        caution="Keep away from the groin crease (nerves and large blood vessels); stop at any "
        "tingling, throbbing or pain.",
    ),
    Exercise(
        id="calf_raises",
        name="Calf raises",
        summary="rise onto your toes to get the blood moving",
        steps=(
            "Hold the back of a sturdy chair.",
            "Slowly rise onto your toes, then lower; 15 times.",
        ),
        duration_s=45,
        kind=ExerciseKind.MOBILITY,
        needs=frozenset({Need.CHAIR}),
        unsafe_for=frozenset({_I}),
    ),
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
