"""Waist rules: upright vs sedentary from trunk tilt against the upright reference learned from walking.

At the waist sitting and standing differ only by the pelvis tilting backwards when seated (15-30 degrees,
of which a belt-worn device sees part), so the reference matters more than at the thigh: standing and
walking share the same trunk orientation, and tilt is measured from the walking direction.
- lie:   tilt > `waist_lie_tilt_deg` (60)
- move:  largest SD >= `move_sd_g` (walking, stairs, running) and not lying
- sit:   still and tilt > `waist_sit_tilt_deg` (12)
- stand: still and tilt below that
Cycling is not recognised at the waist.
"""

from __future__ import annotations

import numpy as np

from monitor.core.types import CodeArray, FloatArray, PostureCode

from .features import WindowStats, angle_deg, max_sd
from .settings import PipelineSettings


def waist_codes(stats: WindowStats, up: FloatArray, settings: PipelineSettings) -> CodeArray:
    tilt = angle_deg(stats.mean, up)
    moving = max_sd(stats.cov) >= settings.move_sd_g
    codes = np.full(tilt.shape, PostureCode.STAND, dtype=np.uint8)
    codes[tilt > settings.waist_sit_tilt_deg] = PostureCode.SIT
    codes[moving] = PostureCode.MOVE
    codes[tilt > settings.waist_lie_tilt_deg] = PostureCode.LIE
    codes[~stats.valid] = PostureCode.UNKNOWN
    return codes
