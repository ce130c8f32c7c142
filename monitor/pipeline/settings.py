"""Tunable constants of the posture pipeline, with the reason for each default.

Defaults come from the literature, not from our test data: Acti4 (Skotte et al. 2014, the open rules as
implemented in acti-motus), activPAL's minimum bout convention and GGIR / Hildebrand 2014 for the wrist.
Each field carries metadata (doc, unit, bounds) so monitor/config/ can validate and document it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _f(default: float, doc: str, unit: str, lo: float, hi: float) -> float:
    return field(default=default, metadata={"doc": doc, "unit": unit, "min": lo, "max": hi})


@dataclass(frozen=True)
class PipelineSettings:
    """Settings of the posture pipeline (one per wearable)."""

    # --- bouts (activPAL / Acti4 convention: a posture shorter than its minimum is absorbed) ---
    min_sit_s: float = _f(
        5.0, "Shortest sitting bout kept; shorter ones are absorbed by neighbours", "s", 1, 60
    )
    min_lie_s: float = _f(5.0, "Shortest lying bout kept", "s", 1, 60)
    # A thigh held past the sitting angle for 3 s (longer than one 2 s window, so one sit-to-stand
    # transition cannot do it) is a real sit: it is lengthened to min_sit_s rather than absorbed.
    sit_keep_s: float = _f(
        3.0, "Sitting at least this long is lengthened to min_sit_s instead of absorbed", "s", 1, 60
    )
    min_stand_s: float = _f(2.0, "Shortest standing bout kept", "s", 1, 60)
    min_move_s: float = _f(2.0, "Shortest moving (walk/run/stairs) bout kept", "s", 1, 60)
    # Acti4 uses 15 s for bicycling: pedalling must be sustained to be told from a few odd steps.
    min_cycle_s: float = _f(15.0, "Shortest cycling bout kept", "s", 1, 120)

    # --- signal ---
    lowpass_hz: float = _f(5.0, "Low-pass cut-off applied before features (Acti4: 5 Hz)", "Hz", 1, 20)
    # A BLE notification carries 3-40 samples (< 1 s at 50 Hz); a longer silence is a real gap.
    gap_s: float = _f(1.0, "Silence between samples treated as a gap (filter restarts)", "s", 0.1, 60)
    min_coverage: float = field(
        default=0.5,
        metadata={
            "doc": "Fraction of a second's expected samples needed to label it; else 'unknown'",
            "unit": "",
            "min": 0.05,
            "max": 1.0,
        },
    )

    # --- thigh (Acti4) ---
    # Thigh more than 45 degrees from upright: the boundary between sitting and standing in Acti4.
    sit_inclination_deg: float = _f(45.0, "Thigh inclination above which the wearer sits", "deg", 20, 80)
    # Acti4's movement threshold on the SD of acceleration (2 s windows, low-passed at 5 Hz).
    move_sd_g: float = _f(
        0.1, "SD above which an upright thigh is moving rather than standing", "g", 0.02, 0.5
    )
    # Acti4 bicycling: forward thigh tilt > 25 deg with movement (direction threshold 40 - 15), but
    # in its own frame: acti-motus's reference is the walking direction minus 6 deg, scaled by 0.725,
    # minus 5.6 deg, so (as we read it) level walking itself sits ~10 deg forward there. Measured
    # from the walking direction, as here, the same boundary is ~15-20 deg; we take 20.
    cycle_inclination_deg: float = _f(
        20.0, "Thigh inclination above which movement is cycling", "deg", 10, 45
    )
    # Acti4 lying: thigh rotated about its long axis by more than 65 degrees while horizontal.
    lie_rotation_deg: float = _f(65.0, "Thigh rotation about its long axis that hints lying", "deg", 30, 90)

    # --- waist ---
    # Sitting tilts the pelvis backwards by 15-30 degrees (Lord 1997; Endo 2012); a belt-worn sensor
    # sees part of it. Half the typical change separates the two postures.
    waist_sit_tilt_deg: float = _f(
        12.0, "Trunk tilt from upright above which a waist wearer sits", "deg", 5, 40
    )
    waist_lie_tilt_deg: float = _f(60.0, "Trunk tilt from upright above which the wearer lies", "deg", 40, 85)

    # --- wrist ---
    # Hildebrand 2014: ENMO below ~45 mg at the wrist is sedentary-level intensity.
    wrist_active_enmo_g: float = _f(0.045, "Wrist ENMO above which the wearer is active", "g", 0.005, 0.5)

    # --- upright reference ---
    walk_confirm_s: float = _f(
        5.0, "Continuous walking needed before it teaches the upright reference", "s", 2, 60
    )
    reference_time_constant_s: float = _f(
        30.0, "Walking time over which the learned upright reference averages", "s", 5, 600
    )

    # --- non-wear (acti-motus: SHORT_OFF_BOUTS 600 s, LONG_OFF_BOUTS 5400 s, ON_BOUTS 60 s) ---
    still_sd_g: float = _f(0.01, "Movement SD below which the device is still", "g", 0.001, 0.05)
    nonwear_flat_s: float = _f(
        600.0, "Stillness, lying flat like on a table, that is non-wear", "s", 60, 7200
    )
    nonwear_long_s: float = _f(5400.0, "Stillness in any orientation that is non-wear", "s", 600, 86400)
    # A device flat on a table has gravity along its own z axis; acti-motus allows 5 degrees.
    flat_tolerance_deg: float = _f(5.0, "Tolerance of the 'flat on a table' test", "deg", 1, 20)
    wear_island_s: float = _f(
        60.0, "Wear between two non-wear periods shorter than this is non-wear", "s", 0, 600
    )

    # --- streaming cost ---
    # Work happens once this much data has queued. One pass costs 1-2 ms on a Pi-class core whatever
    # its size, so processing every 1 s BLE chunk would cost ~50x the CPU for no benefit to
    # 30-minute sitting nudges; the labels are identical, only later (by up to this much).
    process_every_s: float = _f(
        60.0, "Queued data (seconds) that triggers processing in live use", "s", 0, 300
    )

    def __post_init__(self) -> None:
        if self.nonwear_long_s < self.nonwear_flat_s:
            raise ValueError(
                f"nonwear_long_s ({self.nonwear_long_s}) must be >= nonwear_flat_s ({self.nonwear_flat_s})"
            )
