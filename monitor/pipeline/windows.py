"""Samples -> per-second 2 s windows (1 s hop), as running sums, in a chunking-independent way.

Time is cut into half-second bins aligned to whole data-time seconds. Each bin keeps the sums of the
low-passed signal that the features need (x, y, z, their products, magnitude, ENMO). Epoch k (the second
[k, k+1)) is described by the window [k - 0.5, k + 1.5), i.e. the four bins 2k-1 .. 2k+2, centred on the
epoch so a label lines up with the second it names.

A bin's sums are always computed in one `np.add.reduceat` over all of its samples (samples of a bin not
yet complete are held back), and a window's sums are added bin by bin in a fixed order. So the numbers
do not depend on how the samples were chunked, which is what makes live == offline exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .filters import StreamingLowPass, design_lowpass
from .types import FloatArray

BINS_PER_S = 2
# Columns of the per-sample product matrix and of bin / window sums.
SX, SY, SZ, SXX, SYY, SZZ, SXY, SXZ, SYZ, SMAG, SENMO, SN = range(12)
N_COLS = 12
_EMPTY_F = np.zeros(0, dtype=np.float64)
_EMPTY_I = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class WindowSums:
    """Sums for consecutive epochs k0, k0+1, ...: window sums (n, N_COLS) and samples inside each epoch."""

    k0: int
    sums: FloatArray
    epoch_counts: FloatArray

    def __len__(self) -> int:
        return int(self.sums.shape[0])


def _products(f: FloatArray) -> FloatArray:
    """Per-sample columns whose sums give mean, covariance, magnitude SD and ENMO."""
    x, y, z = f[:, 0], f[:, 1], f[:, 2]
    out = np.empty((f.shape[0], N_COLS), dtype=np.float64)
    out[:, SX : SZ + 1] = f
    np.multiply(x, x, out=out[:, SXX])
    np.multiply(y, y, out=out[:, SYY])
    np.multiply(z, z, out=out[:, SZZ])
    np.multiply(x, y, out=out[:, SXY])
    np.multiply(x, z, out=out[:, SXZ])
    np.multiply(y, z, out=out[:, SYZ])
    mag = out[:, SMAG]
    np.add(out[:, SXX], out[:, SYY], out=mag)
    mag += out[:, SZZ]
    np.sqrt(mag, out=mag)
    enmo = out[:, SENMO]
    np.subtract(mag, 1.0, out=enmo)
    np.maximum(enmo, 0.0, out=enmo)
    out[:, SN] = 1.0
    return out


class WindowAccumulator:
    """Turns sample blocks into window sums per epoch. State: filter, one partial bin, three bins."""

    def __init__(self, rate_hz: float, lowpass_hz: float, gap_s: float) -> None:
        self._filter = StreamingLowPass(design_lowpass(rate_hz, lowpass_hz))
        self._gap_s = gap_s
        self._last_t: float | None = None
        # Products and bin ids of samples in the bin not yet complete.
        self._held: FloatArray = np.zeros((0, N_COLS))
        self._held_bins: np.ndarray = _EMPTY_I
        # Dense sums of complete bins from bin index `_b0` on (only the last few are kept).
        self._bins: FloatArray = np.zeros((0, N_COLS))
        self._b0: int | None = None
        self._next_epoch: int | None = None
        self.dropped = 0  # samples refused: not finite, or going back in time

    @property
    def next_epoch(self) -> int | None:
        """The first epoch not yet returned (None before any sample)."""
        return self._next_epoch

    def push(self, t: FloatArray, xyz: npt.NDArray[np.floating[Any]]) -> WindowSums | None:
        """Add samples; return sums of the windows that are now complete (or None)."""
        t, xyz = self._clean(t, xyz)
        if t.shape[0] == 0:
            return None
        prods = _products(self._filter_with_gaps(t, xyz))
        bins = np.floor(t * BINS_PER_S).astype(np.int64)
        if self._b0 is None:
            self._next_epoch = int(bins[0]) // BINS_PER_S
            self._b0 = BINS_PER_S * self._next_epoch - 1  # bin 2k-1 of the first epoch (empty)
        prods = np.concatenate((self._held, prods)) if self._held.shape[0] else prods
        bins = np.concatenate((self._held_bins, bins)) if self._held_bins.shape[0] else bins
        last_bin = int(bins[-1])
        split = int(np.searchsorted(bins, last_bin, side="left"))
        self._held, self._held_bins = prods[split:], bins[split:]
        self._add_bins(prods[:split], bins[:split], last_bin)
        return self._windows(final=False)

    def flush(self) -> WindowSums | None:
        """Close the partial bin and return the remaining windows (up to the last sample's epoch)."""
        if self._b0 is None or self._next_epoch is None:
            return None
        if self._held.shape[0]:
            last_bin = int(self._held_bins[-1])
            self._add_bins(self._held, self._held_bins, last_bin + 1)
            self._held, self._held_bins = np.zeros((0, N_COLS)), _EMPTY_I
        return self._windows(final=True)

    # -- internals --

    def _clean(self, t: FloatArray, xyz: npt.NDArray[np.floating[Any]]) -> tuple[FloatArray, FloatArray]:
        t = np.asarray(t, dtype=np.float64)
        x = np.asarray(xyz, dtype=np.float64)
        ok = np.isfinite(t) & np.isfinite(x).all(axis=1)
        if not ok.all():
            t, x = t[ok], x[ok]
        floor = self._last_t if self._last_t is not None else -np.inf
        if t.shape[0] and (t[0] < floor or np.any(t[1:] < t[:-1])):
            before = np.maximum.accumulate(np.concatenate(([floor], t)))[:-1]
            keep = t >= before
            t, x = t[keep], x[keep]
        self.dropped += ok.shape[0] - t.shape[0]
        return t, x

    def _filter_with_gaps(self, t: FloatArray, x: FloatArray) -> FloatArray:
        prev = self._last_t
        self._last_t = float(t[-1])
        steps = np.diff(t)
        cuts = np.flatnonzero(steps > self._gap_s) + 1
        if prev is not None and t[0] - prev > self._gap_s:
            self._filter.restart()
        if cuts.shape[0] == 0:
            return self._filter.process(x)
        out = np.empty_like(x)
        start = 0
        for cut in [*cuts.tolist(), t.shape[0]]:
            out[start:cut] = self._filter.process(x[start:cut])
            if cut < t.shape[0]:
                self._filter.restart()
            start = cut
        return out

    def _add_bins(self, prods: FloatArray, bins: np.ndarray, end_bin: int) -> None:
        """Append dense sums for bins from the current end up to `end_bin` (exclusive)."""
        assert self._b0 is not None
        have_end = self._b0 + self._bins.shape[0]
        if end_bin <= have_end:
            return
        dense = np.zeros((end_bin - have_end, N_COLS))
        if prods.shape[0]:
            starts = np.flatnonzero(np.concatenate(([True], bins[1:] != bins[:-1])))
            sums = np.add.reduceat(prods, starts, axis=0)
            dense[bins[starts] - have_end] = sums
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
