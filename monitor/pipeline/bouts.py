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

from monitor.core.types import Bout, CodeArray, EpochBlock, Posture, PostureCode

_EMPTY_CODES = np.zeros(0, dtype=np.uint8)


class MedianMaskStream:
    """Binary median filters over a stream of 0/1 rows, one column per class with its own half-width,
    zero-padded at both ends of the stream. All columns come out with the largest delay (the caller
    waits for the slowest class anyway), which lets one cumulative sum serve every class.
    """

    __slots__ = ("_buf", "_h", "_hmax")

    def __init__(self, half_widths: Sequence[int]) -> None:
        self._h = np.maximum(np.asarray(half_widths, dtype=np.int64), 0)
        self._hmax = int(self._h.max()) if self._h.shape[0] else 0
        self._buf = np.zeros((self._hmax, self._h.shape[0]), dtype=np.int32)

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
        out = np.empty((m, buf.shape[1]), dtype=bool)
        for c, h in enumerate(self._h.tolist()):
            hi, lo = csum[hm + h + 1 : hm + h + 1 + m, c], csum[hm - h : hm - h + m, c]
            np.greater_equal(hi - lo, h + 1, out=out[:, c])
        self._buf = buf[m:]
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


class WindowSumStream:
    """Moving sums over [i - before, i + after] of a 0/1 stream, zero-padded at both ends.

    Output i is ready once input i + after has arrived; integer cumulative sums keep it exact.
    """

    __slots__ = ("_after", "_before", "_buf")

    def __init__(self, before: int, after: int) -> None:
        self._before, self._after = before, after
        self._buf = np.zeros(before, dtype=np.int32)

    def push(self, x: np.ndarray, final: bool = False) -> np.ndarray:
        span = self._before + self._after
        parts = [self._buf, x.astype(np.int32)]
        if final:
            parts.append(np.zeros(self._after, dtype=np.int32))
        buf = np.concatenate(parts)
        m = buf.shape[0] - span
        if m <= 0:
            self._buf = buf
            return np.zeros(0, dtype=np.int32)
        csum = np.zeros(buf.shape[0] + 1, dtype=np.int32)
        np.cumsum(buf, out=csum[1:])
        self._buf = buf[m:]
        out: np.ndarray = csum[span + 1 :] - csum[:m]
        return out


class ShortSitPadder:
    """Lengthens short sedentary runs to the sitting minimum instead of letting smoothing delete them.

    A thigh held past the sitting angle for `keep` epochs (longer than one 2 s window, so a single
    transition cannot do it) is a real sit, however brief: HuGaDB's sit-stand drills hold sitting for
    1-3 s. Runs of sit/lie of at least `keep` but fewer than `target` epochs grow by
    ceil((target - keep) / 2) epochs on each side (over the sit-down / stand-up transition), so the
    minimum bout keeps them; shorter runs are left to the smoother, longer ones are untouched.
    Morphological opening and dilation, all as exact moving sums; delay 2 (keep - 1) + 2 (target - 1)
    + the padding.
    """

    def __init__(self, keep: int, target: int) -> None:
        self._active = 1 <= keep < target
        self._keep, self._target = keep, target
        self._pad = max(0, -(-(target - keep) // 2))
        keep, target = max(1, keep), max(1, target)
        self._erode_keep = WindowSumStream(0, keep - 1)
        self._dilate_keep = WindowSumStream(keep - 1, 0)
        self._erode_target = WindowSumStream(0, target - 1)
        self._dilate_target = WindowSumStream(target - 1, 0)
        self._grow = WindowSumStream(self._pad, self._pad)
        self._opened = np.zeros(0, dtype=bool)
        self._raw = _EMPTY_CODES

    @property
    def held(self) -> int:
        return int(self._raw.shape[0])

    def push(self, codes: CodeArray, final: bool = False) -> CodeArray:
        if not self._active:
            return codes
        self._raw = np.concatenate((self._raw, codes)) if self._raw.shape[0] else codes
        sed = (codes == PostureCode.SIT) | (codes == PostureCode.LIE)
        # Runs of at least `keep`: erosion then dilation with a `keep`-long element.
        opened = self._dilate_keep.push(self._erode_keep.push(sed, final) == self._keep, final) > 0
        self._opened = np.concatenate((self._opened, opened))
        # Of those, the runs of at least `target` epochs.
        long_runs = (
            self._dilate_target.push(self._erode_target.push(opened, final) == self._target, final) > 0
        )
        n_short = long_runs.shape[0]
        short = self._opened[:n_short] & ~long_runs
        self._opened = self._opened[n_short:]
        grown = self._grow.push(short, final) > 0
        n = grown.shape[0]
        raw = self._raw[:n]
        self._raw = self._raw[n:]
        out = raw.copy()
        out[
            grown & (raw != PostureCode.UNKNOWN) & (raw != PostureCode.NON_WEAR) & (raw != PostureCode.LIE)
        ] = PostureCode.SIT
        return out
