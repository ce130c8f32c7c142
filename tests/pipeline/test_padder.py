"""ShortSitPadder: exact against a plain run-length implementation, in any chunking."""

from __future__ import annotations

import numpy as np

from monitor.core.types import PostureCode
from monitor.pipeline.bouts import ShortSitPadder

SIT, LIE, STAND, MOVE = PostureCode.SIT, PostureCode.LIE, PostureCode.STAND, PostureCode.MOVE
NON_WEAR, UNKNOWN = PostureCode.NON_WEAR, PostureCode.UNKNOWN


def _reference(codes: np.ndarray, keep: int, target: int) -> np.ndarray:
    """Runs of sit/lie with keep <= length < target grow by ceil((target - keep) / 2) each side."""
    out = codes.copy()
    sed = (codes == SIT) | (codes == LIE)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], sed.astype(int), [0]))))
    pad = -(-(target - keep) // 2)
    grow = np.zeros(codes.shape[0], dtype=bool)
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if keep <= b - a < target:
            grow[max(0, a - pad) : b + pad] = True
    out[grow & ~np.isin(codes, [UNKNOWN, NON_WEAR, LIE])] = SIT
    return out


def test_padder_matches_run_lengths_in_any_chunking() -> None:
    rng = np.random.default_rng(3)
    choices = np.array([SIT, LIE, STAND, MOVE, NON_WEAR, UNKNOWN], dtype=np.uint8)
    for _ in range(200):
        n = int(rng.integers(1, 150))
        codes = np.repeat(rng.choice(choices, size=n, p=[0.35, 0.05, 0.3, 0.2, 0.05, 0.05]), 3)[:n]
        keep = int(rng.integers(1, 5))
        target = int(rng.integers(keep + 1, 10))
        expected = _reference(codes, keep, target)
        padder = ShortSitPadder(keep, target)
        out, i = [], 0
        while i < n:
            k = int(rng.integers(1, 15))
            out.append(padder.push(codes[i : i + k]))
            i += k
        out.append(padder.push(np.zeros(0, dtype=np.uint8), final=True))
        np.testing.assert_array_equal(np.concatenate(out), expected)


def test_padder_leaves_long_and_too_short_runs_alone() -> None:
    codes = np.array([STAND] * 5 + [SIT] * 2 + [STAND] * 5 + [SIT] * 8 + [STAND] * 5, dtype=np.uint8)
    padder = ShortSitPadder(3, 5)
    out = np.concatenate([padder.push(codes), padder.push(np.zeros(0, dtype=np.uint8), final=True)])
    np.testing.assert_array_equal(out, codes)
