"""Tiny synthetic days: labels from (posture, seconds) pieces."""

from __future__ import annotations

import numpy as np

from monitor.core.records import LabelSpan
from monitor.core.types import Posture


def labels(*pieces: tuple[Posture, int]) -> np.ndarray:
    return np.concatenate([np.full(n, p.code, dtype=np.uint8) for p, n in pieces])


def span(t0: int, *pieces: tuple[Posture, int], total: int | None = None) -> LabelSpan:
    """Pieces from t0, padded with unknown to `total` seconds."""
    arr = labels(*pieces) if pieces else np.zeros(0, dtype=np.uint8)
    if total is not None:
        pad = np.full(total - arr.size, Posture.UNKNOWN.code, dtype=np.uint8)
        arr = np.concatenate([arr, pad])
    return LabelSpan(t0, arr)


def office_day(t_midnight: int, seed: int = 0) -> np.ndarray:
    """A believable thigh day from local midnight, 86 400 labels: night off, a cycle commute,
    desk bouts of varied length with short breaks, a lunch walk, an evening on the sofa."""
    rng = np.random.default_rng(seed)
    p = Posture
    pieces: list[tuple[Posture, int]] = [(p.NON_WEAR, 7 * 3600 + int(rng.integers(0, 1800)))]
    pieces += [(p.STAND, 600), (p.MOVE, 300), (p.SIT, 900), (p.MOVE, 240), (p.CYCLE, 1200), (p.MOVE, 180)]

    def desk(seconds: int) -> None:
        used = 0
        while used < seconds:
            bout = int(rng.choice([300, 700, 1500, 2100, 2900, 4200]) + rng.integers(-120, 120))
            upright = int(rng.choice([20, 90, 150, 400]))
            pieces.extend([(p.SIT, bout), (p.STAND, upright // 2), (p.MOVE, upright - upright // 2)])
            used += bout + upright

    desk(3 * 3600 + 1200)
    pieces += [(p.MOVE, 1500), (p.SIT, 1500), (p.MOVE, 900)]
    desk(3 * 3600 + 600)
    pieces += [(p.MOVE, 180), (p.CYCLE, 1300), (p.MOVE, 200), (p.STAND, 1800), (p.SIT, 2400), (p.LIE, 1500)]
    pieces += [(p.SIT, 2700), (p.MOVE, 120)]
    arr = labels(*pieces)[:86_400]
    return np.concatenate([arr, np.full(86_400 - arr.size, p.NON_WEAR.code, dtype=np.uint8)])
