"""Tiny synthetic days: labels from (posture, seconds) pieces."""

from __future__ import annotations

import numpy as np

from monitor.pipeline.types import Posture
from monitor.reports.records import LabelSpan


def labels(*pieces: tuple[Posture, int]) -> np.ndarray:
    return np.concatenate([np.full(n, p.code, dtype=np.uint8) for p, n in pieces])


def span(t0: int, *pieces: tuple[Posture, int], total: int | None = None) -> LabelSpan:
    """Pieces from t0, padded with unknown to `total` seconds."""
    arr = labels(*pieces) if pieces else np.zeros(0, dtype=np.uint8)
    if total is not None:
        pad = np.full(total - arr.size, Posture.UNKNOWN.code, dtype=np.uint8)
        arr = np.concatenate([arr, pad])
    return LabelSpan(t0, arr)
