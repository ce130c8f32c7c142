"""Seeded synthetic thigh / waist / wrist signals with known segments, for pipeline tests.

Device axes follow the thigh profile default: upright gravity reads UP = (-1, 0, 0) g, the front of the
thigh is FORWARD = (0, 0, 1), so sitting (thigh horizontal, front up) reads (0, 0, 1) g.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.core.types import Placement
from monitor.pipeline import classify_recording
from monitor.pipeline.settings import PipelineSettings

RATE = 50.0
UP = np.array([-1.0, 0.0, 0.0])
FORWARD = np.array([0.0, 0.0, 1.0])
LATERAL = np.cross(UP, FORWARD)
T0 = 1_700_000_000.0  # a realistic Unix time: epochs must align to whole seconds of it


@dataclass(frozen=True)
class Seg:
    """A segment: gravity at `incl` deg from UP towards FORWARD (rolled by `roll` deg about the long
    axis), with a 2 Hz oscillation of `sd` g (SD) along `axis`, or gait when `walk` is set."""

    seconds: float
    incl: float = 0.0
    roll: float = 0.0
    sd: float = 0.0
    axis: str = "long"
    walk: bool = False
    swing: float = 20.0  # gait swing amplitude (deg): ~20 at the thigh, a few at the waist
    noise: float = 0.003
    gravity: tuple[float, float, float] | None = None  # explicit direction (device axes), e.g. desk


def direction(incl: float, roll: float = 0.0) -> np.ndarray:
    a, r = np.radians(incl), np.radians(roll)
    across = np.cos(r) * FORWARD + np.sin(r) * LATERAL
    out: np.ndarray = np.cos(a) * UP + np.sin(a) * across
    return out


def render(
    segs: list[Seg], seed: int = 0, rate: float = RATE, t0: float = T0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    parts = []
    for seg in segs:
        n = round(seg.seconds * rate)
        tt = np.arange(n) / rate
        if seg.gravity is not None:
            g = np.tile(np.asarray(seg.gravity, dtype=np.float64), (n, 1))
        elif seg.walk:
            # Thigh swings +-20 deg at the stride frequency (1 Hz) and takes a heel strike each step (2 Hz).
            swing = seg.incl + seg.swing * np.sin(2 * np.pi * 1.0 * tt)
            a = np.radians(swing)[:, None]
            g = np.cos(a) * UP + np.sin(a) * FORWARD
            g = g + (0.3 * np.sin(2 * np.pi * 2.0 * tt))[:, None] * UP
        else:
            g = np.tile(direction(seg.incl, seg.roll), (n, 1))
            if seg.sd:
                ax = {"long": UP, "forward": FORWARD, "lateral": LATERAL}[seg.axis]
                g = g + (seg.sd * np.sqrt(2) * np.sin(2 * np.pi * 2.0 * tt))[:, None] * ax
        parts.append(g + rng.normal(0.0, seg.noise, g.shape))
    xyz = np.concatenate(parts).astype(np.float32)
    t = t0 + np.arange(xyz.shape[0]) / rate
    return t, xyz


def labels(
    segs: list[Seg],
    placement: Placement = Placement.THIGH,
    settings: PipelineSettings | None = None,
    seed: int = 0,
) -> list[str]:
    t, xyz = render(segs, seed)
    block = classify_recording(t, xyz, RATE, placement, settings)
    return [e.label.value for e in block.epochs()]


def middle(values: list[str], start: int, stop: int) -> set[str]:
    return set(values[start:stop])
