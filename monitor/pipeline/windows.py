"""Samples -> per-second 2 s windows (1 s hop), as running sums, in a chunking-independent way.

Consecutive samples are first averaged in groups of `rate // 25` (pairs at 50 Hz), counted from the
start of the stream, then low-passed. Time is cut into half-second bins aligned to whole data-time
seconds. Each bin keeps the sums of the low-passed signal that the features need (x, y, z, their
products, ENMO). Epoch k (the second [k, k+1)) is described by the window [k - 0.5, k + 1.5),
i.e. the four bins 2k-1 .. 2k+2, centred on the epoch so a label lines up with the second it names.

A bin's sums are always computed in one `np.add.reduceat` over all of its samples (samples of a bin not
yet complete are held back), and a window's sums are added bin by bin in a fixed order. So the numbers
do not depend on how the samples were chunked, which is what makes live == offline exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.core.types import FloatArray

from .filters import StreamingLowPass, design_lowpass

BINS_PER_S = 2
# Averaging pairs at 50 Hz (a 2-tap boxcar, first null at 25 Hz) keeps everything the 5 Hz low-pass
# passes and halves the work of the filter and of every step after it.
DECIMATED_MIN_HZ = 25.0
# A silence longer than this is handed on as an EpochGap instead of empty bins (bounded memory).
LONG_GAP_S = 600.0
# Columns of bin / window sums: x, y, z, their products, ENMO (wrist only), sample count.
SX, SY, SZ, SXX, SYY, SZZ, SXY, SXZ, SYZ, SENMO, SN = range(11)
N_COLS = 11
_EMPTY_F = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class EpochGap:
    """`n` consecutive epochs from `k0` on without any sample (a long silence of the device)."""

    k0: int
    n: int


@dataclass(frozen=True, slots=True)
class WindowSums:
    """Sums for consecutive epochs k0, k0+1, ...: window sums (n, N_COLS) and samples inside each epoch."""

    k0: int
    sums: FloatArray
    epoch_counts: FloatArray

    def __len__(self) -> int:
        return int(self.sums.shape[0])


def _bin_sums(f: FloatArray, starts: np.ndarray, magnitude: bool, out: FloatArray) -> None:
    """Per-bin sums of the rows of `f` (3, n) and of their products into out[:, column].

    Bins start at `starts`; one product at a time is formed and reduced, so memory stays at one row.
    """
    x, y, z = f[0], f[1], f[2]
    for col, row in ((SX, x), (SY, y), (SZ, z)):
        out[:, col] = np.add.reduceat(row, starts)
    tmp = np.empty_like(x)
    for col, a, b in ((SXX, x, x), (SYY, y, y), (SZZ, z, z), (SXY, x, y), (SXZ, x, z), (SYZ, y, z)):
        np.multiply(a, b, out=tmp)
        out[:, col] = np.add.reduceat(tmp, starts)
    if magnitude:
        mag = x * x
        mag += y * y
        mag += z * z
        np.sqrt(mag, out=mag)
        mag -= 1.0
        np.maximum(mag, 0.0, out=mag)
        out[:, SENMO] = np.add.reduceat(mag, starts)
    out[:, SN] = np.diff(np.append(starts, f.shape[1]))


def decimation_factor(rate_hz: float) -> int:
    """Samples averaged into one before filtering: the features need nothing above ~12 Hz."""
    return max(1, int(rate_hz // DECIMATED_MIN_HZ))


class WindowAccumulator:
    """Turns sample blocks into window sums per epoch.

    State: the filter, fewer than `factor` raw samples not yet averaged, the filtered samples of the
    half-second bin not yet complete, and the last three complete bins.
    """

    def __init__(self, rate_hz: float, lowpass_hz: float, gap_s: float, magnitude: bool = False) -> None:
        self._magnitude = magnitude  # ENMO (wrist) costs three more passes
        self.factor = decimation_factor(rate_hz)
        sos = design_lowpass(rate_hz / self.factor, lowpass_hz)
        sos[0, :3] /= self.factor  # groups are summed, not averaged: the filter divides (it is linear)
        self._filter = StreamingLowPass(sos)
        self._gap_s = gap_s
        self._last_t: float | None = None
        self._raw_t: FloatArray = _EMPTY_F
        self._raw_x: npt.NDArray[np.floating[Any]] = np.zeros((0, 3), dtype=np.float32)
        # Times and filtered values of samples in the bin not yet complete.
        self._held_t: FloatArray = _EMPTY_F
        self._held: FloatArray = np.zeros((3, 0))
        # Dense sums of complete bins from bin index `_b0` on (only the last few are kept).
        self._bins: FloatArray = np.zeros((0, N_COLS))
        self._b0: int | None = None
        self._next_epoch: int | None = None
        self.dropped = 0  # samples refused: not finite, or going back in time

    @property
    def next_epoch(self) -> int | None:
        """The first epoch not yet returned (None before any sample)."""
        return self._next_epoch

    def push(self, t: FloatArray, xyz: npt.NDArray[np.floating[Any]]) -> list[WindowSums | EpochGap]:
        """Add samples; return, in order, the windows now complete and any long gaps.

        Across a gap longer than LONG_GAP_S the data before it is closed like a flush and the gap comes
        back as an `EpochGap` (epochs without data), so no memory is spent on the empty time. The
        labels are the same as if the empty bins had been summed: those epochs have no samples.
        """
        gt, gx = self._groups(t, xyz)
        out: list[WindowSums | EpochGap] = []
        if gt.shape[0] == 0:
            return out
        starts = np.flatnonzero(np.diff(gt) > LONG_GAP_S) + 1
        if self._last_t is not None and gt[0] - self._last_t > LONG_GAP_S:
            starts = np.concatenate(([0], starts))
        bounds = [*starts.tolist(), gt.shape[0]]
        if bounds[0] != 0:
            bounds.insert(0, 0)
        for a, b in pairwise(bounds):
            if a in starts and self._next_epoch is not None:
                closing = self.flush()
                if closing is not None:
                    out.append(closing)
                assert self._next_epoch is not None
                first = int(np.floor(gt[a]))
                out.append(EpochGap(self._next_epoch, first - self._next_epoch))
                self._bins, self._b0, self._next_epoch = np.zeros((0, N_COLS)), None, None
            ws = self._push_segment(gt[a:b], gx[:, a:b])
            if ws is not None:
                out.append(ws)
        return out

    def _push_segment(self, gt: FloatArray, gx: FloatArray) -> WindowSums | None:
        filtered = self._filter_with_gaps(gt, gx)
        if self._b0 is None:
            self._next_epoch = int(np.floor(gt[0]))
            self._b0 = BINS_PER_S * self._next_epoch - 1  # bin 2k-1 of the first epoch (empty)
        if self._held_t.shape[0]:
            # Only the held bin's own new samples join it, so a bin is always summed in one go.
            held_bin = int(np.floor(self._held_t[0] * BINS_PER_S))
            k = int(np.searchsorted(gt, (held_bin + 1) / BINS_PER_S, side="left"))
            pre_t = np.concatenate((self._held_t, gt[:k]))
            pre = np.concatenate((self._held, filtered[:, :k]), axis=1)
            if k == gt.shape[0]:
                self._held_t, self._held = pre_t, pre
                return None
            self._add_bins(pre_t, pre, held_bin + 1)
            gt, filtered = gt[k:], filtered[:, k:]
        last_bin = int(np.floor(gt[-1] * BINS_PER_S))
        split = int(np.searchsorted(gt, last_bin / BINS_PER_S, side="left"))
        # Copies: a view would keep the whole block alive until the next call.
        self._held_t, self._held = gt[split:].copy(), filtered[:, split:].copy()
        self._add_bins(gt[:split], filtered[:, :split], last_bin)
        return self._windows(final=False)

    def flush(self) -> WindowSums | None:
        """Close the partial bin and return the remaining windows (up to the last sample's epoch)."""
        if self._b0 is None or self._next_epoch is None:
            return None
        if self._held_t.shape[0]:
            self._add_bins(self._held_t, self._held, int(np.floor(self._held_t[-1] * BINS_PER_S)) + 1)
            self._held_t, self._held = _EMPTY_F, np.zeros((3, 0))
        return self._windows(final=True)

    # -- internals --

    def _groups(self, t: FloatArray, xyz: npt.NDArray[np.floating[Any]]) -> tuple[FloatArray, FloatArray]:
        """Sum consecutive samples in groups of `factor` (counted from the stream start).

        Returns group times (the last sample's time) and sums (3, m), dropping non-finite samples and
        groups older than the newest one already seen (reordered or duplicated packets).
        """
        t = np.asarray(t, dtype=np.float64)
        if self._raw_t.shape[0]:
            t = np.concatenate((self._raw_t, t))
            xyz = np.concatenate((self._raw_x, xyz))
        gt, gx = self._sum_groups(t, xyz)
        # A non-finite sample makes its group's sum non-finite, so one reduction over the groups finds
        # it; then the bad samples are dropped and the groups rebuilt (the rare path).
        if not (np.isfinite(np.add.reduce(gx, axis=None)) and np.isfinite(np.add.reduce(gt))):
            ok = np.isfinite(t) & np.isfinite(xyz).all(axis=1)
            self.dropped += int(t.shape[0] - np.count_nonzero(ok))
            gt, gx = self._sum_groups(t[ok], xyz[ok])
        m = gt.shape[0]
        floor = self._last_t if self._last_t is not None else -np.inf
        if m and (gt[0] < floor or bool(np.any(gt[1:] < gt[:-1]))):
            before = np.maximum.accumulate(np.concatenate(([floor], gt)))[:-1]
            keep = gt >= before
            self.dropped += self.factor * int(m - np.count_nonzero(keep))
            gt, gx = gt[keep], gx[:, keep]
        return gt, gx

    def _sum_groups(self, t: FloatArray, xyz: npt.NDArray[np.floating[Any]]) -> tuple[FloatArray, FloatArray]:
        """Whole groups as (times, sums (3, m)); the samples after the last whole group are kept."""
        d = self.factor
        m = t.shape[0] // d
        self._raw_t, self._raw_x = t[m * d :].copy(), xyz[m * d :].copy()
        if d == 1:
            return t[:m], np.array(xyz[:m].T, dtype=np.float64, order="C")
        gx = np.empty((3, m))  # one contiguous row per axis
        for axis in range(3):
            row = gx[axis]
            np.add(xyz[0 : m * d : d, axis], xyz[1 : m * d : d, axis], out=row, dtype=np.float64)
            for j in range(2, d):
                row += xyz[j : m * d : d, axis]
        # The 1/d of the average is folded into the filter's gain (see __init__).
        return t[d - 1 : m * d : d], gx

    def _filter_with_gaps(self, t: FloatArray, x: FloatArray) -> FloatArray:
        prev = self._last_t
        self._last_t = float(t[-1])
        cuts = np.flatnonzero(np.diff(t) > self._gap_s) + 1
        if prev is not None and t[0] - prev > self._gap_s:
            self._filter.restart()
        if cuts.shape[0] == 0:
            return self._filter.process(x)
        out = np.empty_like(x)
        start = 0
        for cut in [*cuts.tolist(), t.shape[0]]:
            out[:, start:cut] = self._filter.process(x[:, start:cut])
            if cut < t.shape[0]:
                self._filter.restart()
            start = cut
        return out

    def _add_bins(self, t: FloatArray, filtered: FloatArray, end_bin: int) -> None:
        """Append dense sums for bins from the current end up to `end_bin` (exclusive).

        Sample i is in bin floor(2 t_i); as t is sorted and halving is exact, bin b starts at the
        first t >= b / 2, found by binary search instead of a pass over every sample.
        """
        assert self._b0 is not None
        have_end = self._b0 + self._bins.shape[0]
        if end_bin <= have_end:
            return
        dense = np.zeros((end_bin - have_end, N_COLS))
        n = t.shape[0]
        if n:
            first_bin = int(np.floor(t[0] * BINS_PER_S))
            ids = np.arange(first_bin, int(np.floor(t[-1] * BINS_PER_S)) + 1)
            edges = np.searchsorted(t, ids / BINS_PER_S, side="left")
            occupied = np.diff(np.append(edges, n)) > 0
            starts, ids = edges[occupied], ids[occupied]
            rows = np.zeros((starts.shape[0], N_COLS))
            _bin_sums(filtered, starts, self._magnitude, rows)
            dense[ids - have_end] = rows
        self._bins = np.concatenate((self._bins, dense)) if self._bins.shape[0] else dense

    def _windows(self, final: bool) -> WindowSums | None:
        assert self._b0 is not None and self._next_epoch is not None
        k0 = self._next_epoch
        n_bins = self._bins.shape[0]
        have_end = self._b0 + n_bins  # first bin index not complete
        if final:
            # Last epoch holding a sample; its window may reach past the data (empty bins).
            last_epoch = (have_end - 1) // BINS_PER_S
            need_end = BINS_PER_S * last_epoch + 3
            if need_end > have_end:
                pad = np.zeros((need_end - have_end, N_COLS))
                self._bins = np.concatenate((self._bins, pad))
                n_bins = self._bins.shape[0]
            k_end = last_epoch + 1
        else:
            # Epoch k needs bins up to 2k+2 complete: 2k+2 < have_end.
            k_end = (have_end - 3) // BINS_PER_S + 1
        if k_end <= k0:
            return None
        n = k_end - k0
        first = BINS_PER_S * k0 - 1 - self._b0
        b = self._bins
        idx = first + BINS_PER_S * np.arange(n)  # bin 2k-1 of each epoch k
        sums = b[idx + 1] + b[idx + 2]
        epoch_counts = sums[:, SN].copy()
        sums += b[idx]
        sums += b[idx + 3]
        # Keep the bins the next window still needs (from 2*k_end - 1 on).
        keep_from = BINS_PER_S * k_end - 1 - self._b0
        self._bins = self._bins[keep_from:]
        self._b0 += keep_from
        self._next_epoch = k_end
        return WindowSums(k0=k0, sums=sums, epoch_counts=epoch_counts)
