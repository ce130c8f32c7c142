"""Non-wear detection (acti-motus rules) with bounded lookahead, so live and offline agree exactly.

An epoch is *still* when the movement SD of its window is below `still_sd_g` (0.01 g; acti-motus uses the
mean of the axis SDs, we use their RMS, which does not depend on how the device is rotated). Then:

1. Flat: a still run with gravity within `flat_tolerance_deg` of the device's own z axis (lying on a
   table on its face or back) that lasts `nonwear_flat_s` (10 min) is non-wear, all of it.
2. Long: a still run in any orientation is non-wear from the moment it has lasted `nonwear_long_s`
   (90 min) minus the lookahead (10 min). acti-motus marks the whole run, but that needs 90 minutes of
   lookahead; a live monitor cannot hold a sitting timer back that long, so the first 80 minutes of an
   unusually still run keep their posture label.
3. Wear islands: wear shorter than `wear_island_s` (60 s) between two non-wear periods is non-wear
   (someone bumped the desk).

An epoch is released as soon as its fate is certain: at once while the device moves, and after at most
`nonwear_flat_s` (+ `wear_island_s`) while it is still. The held state is a few hundred flags.
"""

from __future__ import annotations

import numpy as np

_NEG = np.iinfo(np.int64).min // 4
_BIG = np.iinfo(np.int64).max // 4


def _run_starts(s: np.ndarray, gidx: np.ndarray, prev_start: int | None) -> np.ndarray:
    """Global start index of the run of True containing each position (garbage where s is False)."""
    prev = np.concatenate(([prev_start is not None], s[:-1]))
    st = np.where(s & ~prev, gidx, _NEG)
    if s.shape[0] and s[0] and prev_start is not None:
        st[0] = prev_start
    out: np.ndarray = np.maximum.accumulate(st)
    return out


def _run_ends(s: np.ndarray, gidx: np.ndarray, end: int, final: bool) -> np.ndarray:
    """Global end (exclusive) of the run containing each position; _BIG when still open."""
    nf = np.where(~s, gidx, _BIG)
    out: np.ndarray = np.minimum.accumulate(nf[::-1])[::-1]
    if final:
        out = np.minimum(out, end)
    return out


class NonWearDetector:
    """Streams still / flat / known flags per epoch and returns decided non-wear flags, in order."""

    def __init__(self, flat_epochs: int, long_epochs: int, island_epochs: int) -> None:
        self._flat = flat_epochs
        self._long = long_epochs
        self._lookahead = flat_epochs
        self._island = island_epochs
        self._base = 0
        self._still = np.zeros(0, dtype=bool)
        self._flatf = np.zeros(0, dtype=bool)
        # Context: the last decided epoch.
        self._still_start: int | None = None
        self._flat_start: int | None = None
        self._have_prev = False
        self._prev_nonwear = False
        self._on_start = 0
        self._on_preceded = False

    @property
    def held(self) -> int:
        return int(self._still.shape[0])

    def push(self, still: np.ndarray, flat: np.ndarray, final: bool = False) -> np.ndarray:
        """Append flags (still must already be False where the epoch has no data)."""
        self._still = np.concatenate((self._still, still)) if self._still.shape[0] else still.copy()
        self._flatf = np.concatenate((self._flatf, flat & still)) if self._flatf.shape[0] else flat & still
        n = self._still.shape[0]
        if n == 0:
            return np.zeros(0, dtype=bool)
        s, f = self._still, self._flatf
        base = self._base
        end = base + n
        gidx = base + np.arange(n, dtype=np.int64)

        s_start = _run_starts(s, gidx, self._still_start)
        s_end = _run_ends(s, gidx, end, final)
        f_start = _run_starts(f, gidx, self._flat_start)
        f_end = _run_ends(f, gidx, end, final)
        horizon = gidx + self._lookahead
        reach_s = np.minimum(s_end, horizon) - s_start
        reach_f = np.minimum(f_end, horizon) - f_start
        determined = ~s | (s_end < _BIG) | (horizon <= end)
        ab = (f & (reach_f >= self._flat)) | (s & (reach_s >= self._long))
        undetermined = np.flatnonzero(~determined)
        d = int(undetermined[0]) if undetermined.shape[0] else n

        nonwear = ab[:d].copy()
        cut = d
        if d:
            cut = self._islands(nonwear, d, n, final)
        if cut == 0:
            return np.zeros(0, dtype=bool)
        out: np.ndarray = nonwear[:cut]
        last = cut - 1
        self._still_start = int(s_start[last]) if s[last] else None
        self._flat_start = int(f_start[last]) if f[last] else None
        if not out[last]:
            on = np.flatnonzero(out)
            if on.shape[0]:
                self._on_start, self._on_preceded = base + int(on[-1]) + 1, True
            elif self._prev_nonwear or not self._have_prev:
                self._on_start, self._on_preceded = base, self._prev_nonwear
        self._prev_nonwear = bool(out[last])
        self._have_prev = True
        self._base += cut
        self._still = self._still[cut:]
        self._flatf = self._flatf[cut:]
        return out

    def _islands(self, nonwear: np.ndarray, d: int, n: int, final: bool) -> int:
        """Mark short wear between non-wear (in place); return how many epochs are decided."""
        base = self._base
        edges = np.flatnonzero(nonwear[1:] != nonwear[:-1]) + 1
        starts = np.concatenate(([0], edges)).tolist()
        ends = np.concatenate((edges, [d])).tolist()
        for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
            if nonwear[a]:
                continue
            if i == 0:
                preceded = (
                    self._on_preceded if (self._have_prev and not self._prev_nonwear) else self._prev_nonwear
                )
                run_start = self._on_start if (self._have_prev and not self._prev_nonwear) else base
            else:
                preceded, run_start = True, base + a
            if not preceded:
                continue
            length = base + b - run_start
            if b < d:  # followed by non-wear
                if length < self._island:
                    nonwear[a:b] = True
            elif length < self._island and not (final and d == n):
                return int(a)  # still undecided: it may turn out to be an island
        return d
