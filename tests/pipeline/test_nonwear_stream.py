"""NonWearDetector alone: random flag sequences give the same decisions in any chunking."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from monitor.pipeline.nonwear import NonWearDetector


def _runs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Alternating still / moving stretches with lengths around the rule limits (scaled down)."""
    still = np.zeros(n, dtype=bool)
    flat = np.zeros(n, dtype=bool)
    i = 0
    while i < n:
        length = int(rng.choice([3, 8, 15, 25, 40, 70, 130]))
        kind = rng.integers(0, 3)  # 0 moving, 1 still, 2 still and flat
        still[i : i + length] = kind > 0
        flat[i : i + length] = kind == 2
        i += length
    return still, flat


def _decide(still: np.ndarray, flat: np.ndarray, cuts: list[int]) -> np.ndarray:
    det = NonWearDetector(flat_epochs=30, long_epochs=100, island_epochs=10)
    out = []
    bounds = [0, *cuts, still.shape[0]]
    for a, b in pairwise(bounds):
        out.append(det.push(still[a:b], flat[a:b]))
    out.append(det.push(np.zeros(0, bool), np.zeros(0, bool), final=True))
    return np.concatenate(out)


def test_nonwear_decisions_do_not_depend_on_chunking() -> None:
    rng = np.random.default_rng(21)
    for _ in range(30):
        still, flat = _runs(rng, 600)
        whole = _decide(still, flat, [])
        assert whole.shape == still.shape
        for _ in range(3):
            cuts = sorted(set(rng.integers(1, 600, size=int(rng.integers(1, 60))).tolist()))
            np.testing.assert_array_equal(_decide(still, flat, cuts), whole)


def test_rules_on_a_known_sequence() -> None:
    """Limits scaled down: flat 30, long 100 (lookahead 30), island 10 epochs."""
    still = np.zeros(300, dtype=bool)
    flat = np.zeros(300, dtype=bool)
    still[10:50] = flat[10:50] = True  # flat for 40 >= 30: non-wear
    still[55:90] = flat[55:90] = True  # flat 35: non-wear, so the 5 epochs of wear between are an island
    still[100:120] = flat[100:120] = True  # flat 20 < 30 on its own: wear
    still[150:290] = True  # tilted, 140 >= 100: non-wear from 100 - 30 = 70 epochs into the run
    out = _decide(still, flat, [])
    assert out[10:90].all()
    assert not out[:10].any()
    assert not out[90:150].any()
    assert not out[150:220].any()
    assert out[220:290].all()
    assert not out[290:].any()
