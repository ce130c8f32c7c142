"""Thigh rules (Acti4, Skotte et al. 2014, as in acti-motus), measured against the upright reference.

Per epoch, before bout smoothing:
- sit:   thigh inclination from upright > `sit_inclination_deg` (45)
- lie:   sitting-like, and the thigh rolled about its long axis by > `lie_rotation_deg` (65) from the
         front-facing-up position (a hint only: lying on the back looks like sitting; both are sedentary)
- cycle: inclination between `cycle_inclination_deg` (20) and 90 with movement along the thigh
         (SD between `move_sd_g` and Acti4's running threshold 0.72 g): pedalling keeps the thigh
         tilted forward while it swings
- stand: upright and the largest SD < `move_sd_g` (0.1 g)
- move:  upright and moving (walk, run, stairs, shuffling)
Inclination above 20 degrees is taken as forward tilt: with movement, a thigh does not stay tilted
backwards or sideways by that much.
"""

from __future__ import annotations

import numpy as np

from monitor.core.types import CodeArray, FloatArray, PostureCode

from .features import WindowStats, angle_deg, max_sd, quad, unit
from .settings import PipelineSettings

# Upper bound of Acti4's bicycle rule: a thigh past horizontal is not pedalling.
CYCLE_MAX_INCLINATION_DEG = 90.0
# Acti4's running threshold (SD along the thigh): harder than that is running, not pedalling.
CYCLE_MAX_SD_G = 0.72


def thigh_codes(
    stats: WindowStats,
    up: FloatArray,
    forward: FloatArray,
    forward_ok: np.ndarray,
    settings: PipelineSettings,
) -> CodeArray:
    """Raw per-epoch codes. Lying is only inferred where `forward_ok` (the front axis is known)."""
    incl = angle_deg(stats.mean, up)
    sd_long = np.sqrt(quad(stats.cov, up))
    moving = max_sd(stats.cov) >= settings.move_sd_g
    codes = np.full(incl.shape, PostureCode.MOVE, dtype=np.uint8)
    codes[~moving] = PostureCode.STAND
    sitting = incl > settings.sit_inclination_deg
    codes[sitting] = PostureCode.SIT
    candidates = np.flatnonzero(sitting & forward_ok)
    if candidates.shape[0]:
        # Roll about the long axis: angle of the across-thigh gravity component from the front axis.
        g, u, f = stats.mean[candidates], up[candidates], forward[candidates]
        across = g - np.einsum("ij,ij->i", g, u)[:, None] * u
        lateral = np.cross(u, f)
        roll = np.degrees(
            np.arctan2(
                np.abs(np.einsum("ij,ij->i", across, lateral)),
                np.abs(np.einsum("ij,ij->i", across, f)),
            )
        )
        codes[candidates[roll > settings.lie_rotation_deg]] = PostureCode.LIE
    cycling = (
        (incl > settings.cycle_inclination_deg)
        & (incl < CYCLE_MAX_INCLINATION_DEG)
        & (sd_long > settings.move_sd_g)
        & (sd_long < CYCLE_MAX_SD_G)
    )
    codes[cycling] = PostureCode.CYCLE
    codes[~stats.valid] = PostureCode.UNKNOWN
    return codes


def profile_forward(
    up: FloatArray, default_up: FloatArray, default_forward: FloatArray, trust_deg: float
) -> tuple[FloatArray, np.ndarray]:
    """The profile's front axis made perpendicular to each epoch's up, and where it can be trusted
    (the learned up is within `trust_deg` of the profile's, so the device is mounted as the profile says).
    """
    ok = angle_deg(up, np.broadcast_to(default_up, up.shape)) < trust_deg
    f = default_forward[None, :] - np.einsum("ij,j->i", up, default_forward)[:, None] * up
    return unit(f), ok
