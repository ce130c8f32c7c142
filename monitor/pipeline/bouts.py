"""Bout smoothing (per-class minimum durations) and bout lists.

Smoothing follows acti-motus: each class's per-epoch mask goes through a binary median filter of width
`2 * bout - 1` (applied twice), which removes runs shorter than `bout` epochs and fills holes shorter
than that; where several classes survive, the first in priority order wins; where none does (a
transition, a flurry of short labels), the previous surviving label continues (acti-motus fills such
epochs from both neighbours, which would need unbounded lookahead).

A median of a 0/1 mask is a moving sum compared with half the width, done with integer cumulative
sums, so it streams exactly: the filter only needs `bout - 1` epochs of lookahead per pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .types import Bout, CodeArray, EpochBlock, Posture, PostureCode

_EMPTY_CODES = np.zeros(0, dtype=np.uint8)


class MedianMaskStream:
    """Binary median filters over a stream of 0/1 rows, one column per class with its own half-width,
    zero-padded at both ends of the stream. All columns come out with the largest delay (the caller
    waits for the slowest class anyway), which lets one cumulative sum serve every class.
    """

    __slots__ = ("_buf", "_cols", "_h", "_hi", "_hmax", "_lo")

    def __init__(self, half_widths: Sequence[int]) -> None:
        self._h = np.maximum(np.asarray(half_widths, dtype=np.int64), 0)
        self._hmax = int(self._h.max()) if self._h.shape[0] else 0
        self._buf = np.zeros((self._hmax, self._h.shape[0]), dtype=np.int32)
        self._hi = self._h + 1
        self._lo = -self._h
        self._cols = np.arange(self._h.shape[0])[None, :]

    def push(self, x: np.ndarray, final: bool = False) -> np.ndarray:
        """x: (n, classes) bool. Returns the filtered rows that are now complete."""
        hm = self._hmax
        parts = [self._buf, x.astype(np.int32)]
        if final:
            parts.append(np.zeros((hm, self._h.shape[0]), dtype=np.int32))
        buf = np.concatenate(parts)
        m = buf.shape[0] - 2 * hm
        if m <= 0:
            self._buf = buf
            return np.zeros((0, self._h.shape[0]), dtype=bool)
        csum = np.zeros((buf.shape[0] + 1, buf.shape[1]), dtype=np.int32)
        np.cumsum(buf, axis=0, out=csum[1:])
        centre = (hm + np.arange(m))[:, None]
        cols = self._cols
        window = csum[centre + self._hi, cols] - csum[centre + self._lo, cols]
        self._buf = buf[m:]
        out: np.ndarray = window >= self._hi
        return out


class BoutSmoother:
    """Applies minimum bout durations to a stream of raw codes. Delay: 2 * (max bout - 1) epochs."""

    def __init__(
        self,
        min_epochs: dict[PostureCode, int],
        priority: Sequence[PostureCode],
    ) -> None:
        self._priority = np.array([int(c) for c in priority], dtype=np.uint8)
        halves = [min_epochs.get(code, 1) - 1 for code in priority]
        self._passes = (MedianMaskStream(halves), MedianMaskStream(halves))
        self._raw = _EMPTY_CODES
        self._last: int | None = None

    @property
    def held(self) -> int:
        return int(self._raw.shape[0])

    def push(self, raw: CodeArray, final: bool = False) -> CodeArray:
        self._raw = np.concatenate((self._raw, raw)) if self._raw.shape[0] else raw
        first, second = self._passes
        masks = second.push(first.push(raw[:, None] == self._priority[None, :], final), final)
        n = masks.shape[0]
        if n == 0:
            return _EMPTY_CODES
        raw_n = self._raw[:n]
        self._raw = self._raw[n:]
        decided = masks.any(axis=1)
        # The first surviving class in priority order wins.
        labels = np.where(decided, self._priority[np.argmax(masks, axis=1)], raw_n).astype(np.uint8)
        # Epochs where no class lasted its minimum (a transition, a flurry of short labels) continue
        # the previous surviving label, so no bout shorter than its minimum is ever emitted.
        # Before the first surviving label of the recording, the raw label is all there is.
        pos = np.maximum.accumulate(np.where(decided, np.arange(1, n + 1), 0))
        if self._last is None:
            filled = np.where(pos > 0, labels[np.maximum(pos - 1, 0)], raw_n)
        else:
            filled = np.concatenate(([self._last], labels))[pos]
        labels = filled.astype(np.uint8)
        if decided.any():
            self._last = int(labels[-1])
        labels[raw_n == PostureCode.UNKNOWN] = PostureCode.UNKNOWN
        return labels


def find_bouts(epochs: EpochBlock) -> list[Bout]:
    """Maximal runs of one label, [start, end) in data-time seconds."""
    labels = epochs.labels
    if labels.shape[0] == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [labels.shape[0]]))
    codes = labels[starts].tolist()
    return [
        Bout(epochs.t0 + float(s), epochs.t0 + float(e), Posture.from_code(c))
        for s, e, c in zip(starts.tolist(), ends.tolist(), codes, strict=True)
    ]


class BoutTracker:
    """Incremental bouts for live use: feed epoch blocks, get the bouts they close.

    A time jump between blocks closes the open bout where its data ended.
    """

    def __init__(self) -> None:
        self._open: Bout | None = None

    @property
    def current(self) -> Bout | None:
        """The bout still open (its end is the end of the data seen so far)."""
        return self._open

    def feed(self, epochs: EpochBlock) -> list[Bout]:
        closed: list[Bout] = []
        bouts = find_bouts(epochs)
        if not bouts:
            return closed
        first = bouts[0]
        if self._open is not None:
            if self._open.end == first.start and self._open.label == first.label:
                bouts[0] = Bout(self._open.start, first.end, first.label)
            else:
                closed.append(self._open)
        closed.extend(bouts[:-1])
        self._open = bouts[-1]
        return closed

    def close(self) -> Bout | None:
        """End of data: return the open bout (if any) and forget it."""
        bout, self._open = self._open, None
        return bout
