"""Tunable constants of the posture pipeline, with the reason for each default.

Defaults come from the literature, not from our test data: Acti4 (Skotte et al. 2014, the open rules as
implemented in acti-motus), activPAL's minimum bout convention and GGIR / Hildebrand 2014 for the wrist.
Each field carries metadata (doc, unit, bounds) so monitor/config/ can validate and document it.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.core.fields import setting


@dataclass(frozen=True)
class PipelineSettings:
    """Settings of the posture pipeline (one per wearable)."""

    # --- bouts (activPAL / Acti4 convention: a posture shorter than its minimum is absorbed) ---
    min_sit_s: float = setting(
        5.0, "Shortest sitting bout kept; shorter ones are absorbed by neighbours", unit="s", min=1, max=60
    )
    min_lie_s: float = setting(5.0, "Shortest lying bout kept", unit="s", min=1, max=60)
    # A thigh held past the sitting angle for 3 s (longer than one 2 s window, so one sit-to-stand
    # transition cannot do it) is a real sit: it is lengthened to min_sit_s rather than absorbed.
    sit_keep_s: float = setting(
        3.0,
        "Sitting at least this long is lengthened to min_sit_s instead of absorbed",
        unit="s",
        min=1,
        max=60,
    )
    min_stand_s: float = setting(2.0, "Shortest standing bout kept", unit="s", min=1, max=60)
    min_move_s: float = setting(2.0, "Shortest moving (walk/run/stairs) bout kept", unit="s", min=1, max=60)
    # Acti4 uses 15 s for bicycling: pedalling must be sustained to be told from a few odd steps.
    min_cycle_s: float = setting(15.0, "Shortest cycling bout kept", unit="s", min=1, max=120)

    # --- signal ---
    lowpass_hz: float = setting(
        5.0, "Low-pass cut-off applied before features (Acti4: 5 Hz)", unit="Hz", min=1, max=20
    )
    # A BLE notification carries 3-40 samples (< 1 s at 50 Hz); a longer silence is a real gap.
    gap_s: float = setting(
        1.0, "Silence between samples treated as a gap (filter restarts)", unit="s", min=0.1, max=60
    )
    min_coverage: float = setting(
        0.5, "Fraction of a second's expected samples needed to label it; else 'unknown'", min=0.05, max=1.0
    )

    # --- thigh (Acti4) ---
    # Thigh more than 45 degrees from upright: the boundary between sitting and standing in Acti4.
    sit_inclination_deg: float = setting(
        45.0, "Thigh inclination above which the wearer sits", unit="deg", min=20, max=80
    )
    # Acti4's movement threshold on the SD of acceleration (2 s windows, low-passed at 5 Hz).
    move_sd_g: float = setting(
        0.1, "SD above which an upright thigh is moving rather than standing", unit="g", min=0.02, max=0.5
    )
    # Acti4 bicycling: forward thigh tilt > 25 deg with movement (direction threshold 40 - 15), but
    # in its own frame: acti-motus's reference is the walking direction minus 6 deg, scaled by 0.725,
    # minus 5.6 deg, so (as we read it) level walking itself sits ~10 deg forward there. Measured
    # from the walking direction, as here, the same boundary is ~15-20 deg; we take 20.
    cycle_inclination_deg: float = setting(
        20.0, "Thigh inclination above which movement is cycling", unit="deg", min=10, max=45
    )
    # Acti4 lying: thigh rotated about its long axis by more than 65 degrees while horizontal.
    lie_rotation_deg: float = setting(
        65.0, "Thigh rotation about its long axis that hints lying", unit="deg", min=30, max=90
    )

    # --- waist ---
    # Sitting tilts the pelvis backwards by 15-30 degrees (Lord 1997; Endo 2012); a belt-worn sensor
    # sees part of it. Half the typical change separates the two postures.
    waist_sit_tilt_deg: float = setting(
        12.0, "Trunk tilt from upright above which a waist wearer sits", unit="deg", min=5, max=40
    )
    waist_lie_tilt_deg: float = setting(
        60.0, "Trunk tilt from upright above which the wearer lies", unit="deg", min=40, max=85
    )

    # --- wrist ---
    # Hildebrand 2014: ENMO below ~45 mg at the wrist is sedentary-level intensity.
    wrist_active_enmo_g: float = setting(
        0.045, "Wrist ENMO above which the wearer is active", unit="g", min=0.005, max=0.5
    )

    # --- live labels (live.py): what `state` shows and the nudge timer counts, before the final ones ---
    # A new posture shows live once it has lasted its minimum bout or this, whichever is shorter: long
    # enough that one 2 s window or a sit-to-stand's move cannot flip it, short enough that a phone
    # shows the change within seconds. 3 s is the short-sit rule's `sit_keep_s`.
    live_confirm_s: float = setting(
        3.0,
        "A new posture shows in `state` and counts for the nudge timer once it has lasted this long "
        "(or its minimum bout, if shorter); the stored, final labels do not depend on it",
        unit="s",
        min=1,
        max=60,
    )

    # --- upright reference ---
    walk_confirm_s: float = setting(
        5.0, "Continuous walking needed before it teaches the upright reference", unit="s", min=2, max=60
    )
    reference_time_constant_s: float = setting(
        30.0, "Walking time over which the learned upright reference averages", unit="s", min=5, max=600
    )

    # --- non-wear (acti-motus: SHORT_OFF_BOUTS 600 s, LONG_OFF_BOUTS 5400 s, ON_BOUTS 60 s) ---
    still_sd_g: float = setting(
        0.01, "Movement SD below which the device is still", unit="g", min=0.001, max=0.05
    )
    nonwear_flat_s: float = setting(
        600.0, "Stillness, lying flat like on a table, that is non-wear", unit="s", min=60, max=7200
    )
    nonwear_long_s: float = setting(
        5400.0, "Stillness in any orientation that is non-wear", unit="s", min=600, max=86400
    )
    # A device flat on a table has gravity along its own z axis; acti-motus allows 5 degrees.
    flat_tolerance_deg: float = setting(
        5.0, "Tolerance of the 'flat on a table' test", unit="deg", min=1, max=20
    )
    wear_island_s: float = setting(
        60.0, "Wear between two non-wear periods shorter than this is non-wear", unit="s", min=0, max=600
    )

    # --- streaming cost ---
    # 0: every block the link hands on (`link.block_max_s`, 5 s) gets a pass, so live labels trail the
    # samples by seconds. A pass costs ~0.3-0.5 ms on these x86 machines whatever its size; a larger
    # value batches passes (less CPU, labels identical) at the price of that much delay in `state`,
    # nudges (the service still asks for a pass every 5 s of data while one is close) and of up to
    # that much data lost in a crash.
    process_every_s: float = setting(
        0.0,
        "Queued data (seconds) that triggers processing in live use; 0: every block from the link",
        unit="s",
        min=0,
        max=300,
    )

    def __post_init__(self) -> None:
        if self.nonwear_long_s < self.nonwear_flat_s:
            raise ValueError(
                f"nonwear_long_s ({self.nonwear_long_s}) must be >= nonwear_flat_s ({self.nonwear_flat_s})"
            )
