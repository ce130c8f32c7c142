"""Live labels: the minimum-bout rule applied causally, with a lookahead of a few epochs.

The final labels (bouts.py) look up to ~41 s ahead: short sits are lengthened over their transitions
and every class goes through two median filters as wide as its minimum bout, cycling's 15 s included.
The wearer's phone cannot wait that long, so the service also gets *live* labels from the same
non-wear-decided codes, by a rule that needs only a few epochs:

- the live posture changes to a new one once the new one has lasted its confirmation: its minimum
  bout, at most `live_confirm_s` (3 s: sit 3, lie 3, stand 2, move 2, cycle 3; non-wear at once);
  the confirmed run is labelled from its first epoch. Between moving and cycling the change needs
  cycling's whole minimum bout (15 s): a few seconds of walking or stairs often read as cycling, and
  the final labels' 15 s median removes them (both are upright and break the sitting timer alike);
- a shorter run (a transition, a flicker) takes the live posture it interrupted, so no live run of a
  posture is shorter than its confirmation;
- `unknown` (no data) passes through and leaves the live posture as it was;
- at a stream's start, before any posture is confirmed, the epochs wait for the first confirmed one
  and take its label (a walk's first steps read as cycling must not show as a cycle); only a
  silence (`unknown`) before any confirmation lets them out with their own labels.

An epoch is therefore held until its run is confirmed or ends: at most `confirmation - 1` epochs once
a posture has been confirmed.
Live labels agree with the final ones except within a few seconds of a transition, and on the rare
run the median filters treat differently (measured in docs/pipeline.md). They drive the `state`
message and the nudge policy; the store keeps the final labels, which replace them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from monitor.core.types import CodeArray, PostureCode

_EMPTY = np.zeros(0, dtype=np.uint8)
_UNKNOWN = int(PostureCode.UNKNOWN)


class LiveFilter:
    """Streams non-wear-decided codes; returns live labels for the epochs whose run is decided."""

    __slots__ = ("_current", "_last", "_need", "_pending", "_since", "_start")

    def __init__(
        self,
        confirm_epochs: Mapping[PostureCode, int],
        between: Mapping[tuple[PostureCode, PostureCode], int] | None = None,
    ) -> None:
        """`confirm_epochs`: per posture, how long a run of it must last to become the live one;
        `between`: (from, to) pairs that need longer (moving <-> cycling, see the module doc)."""
        need = np.ones((max(PostureCode) + 2, max(PostureCode) + 1), dtype=np.int64)
        for code, epochs in confirm_epochs.items():
            need[:, int(code)] = max(1, int(epochs))
        for (old, new), epochs in (between or {}).items():
            need[int(old), int(new)] = max(1, int(epochs))
        need[:, _UNKNOWN] = 1
        self._need = need  # [live posture (the last row: none yet), new posture]
        self._current: int | None = None  # the live posture (never unknown)
        self._pending = _EMPTY  # the codes not decided yet (a run neither confirmed nor ended)
        self._start = 0  # epoch index of the next epoch to come out (the first pending one)
        self._last: int | None = None  # the label of the last epoch out
        self._since = 0  # epoch index where the run of that label began

    @property
    def held(self) -> int:
        return int(self._pending.shape[0])

    @property
    def confirmed(self) -> bool:
        """A posture has been confirmed (before that, short runs wait for the first one)."""
        return self._current is not None

    @property
    def next_epoch(self) -> int:
        """Index of the first epoch not yet returned by push()."""
        return self._start

    def begin(self, epoch: int) -> None:
        """Number the epochs from `epoch` (the stream's first)."""
        self._start = self._since = epoch

    def skip(self, n: int) -> None:
        """`n` epochs without data went by without being pushed (a long silence): as `unknown`."""
        if n <= 0:
            return
        assert not self._pending.shape[0], "a silence is pushed before it is skipped"
        if self._last != _UNKNOWN:
            self._last, self._since = _UNKNOWN, self._start
        self._start += n

    def push(self, codes: CodeArray, final: bool = False) -> CodeArray:
        """Append codes; return the labels of the epochs now decided (all of them when `final`)."""
        out, current, pending = self._decide(codes, final)
        if out.shape[0]:
            self._since = self._run_start(out)
            self._last = int(out[-1])
        self._current, self._pending = current, pending
        self._start += int(out.shape[0])
        return out

    def peek(self, codes: CodeArray) -> tuple[CodeArray, int | None]:
        """Labels of the held epochs followed by `codes`, as if the data ended there (a run not yet
        confirmed takes the live posture); they start at `next_epoch`. The state is not changed.
        Also returns the epoch index where the run of the newest label began (None before any)."""
        out = self._decide(codes, True)[0]
        if out.shape[0]:
            return out, self._run_start(out)
        return out, (self._since if self._last is not None else None)

    def _run_start(self, out: CodeArray) -> int:
        """Where the run of out[-1] began, for labels `out` that follow those already returned."""
        last = int(out[-1])
        differ = np.flatnonzero(out != last)
        if differ.shape[0]:
            return self._start + int(differ[-1]) + 1
        return self._since if self._last == last else self._start

    def _decide(self, codes: CodeArray, final: bool) -> tuple[CodeArray, int | None, CodeArray]:
        """(labels of the epochs decided, the live posture after them, the codes still held)."""
        buf = np.concatenate((self._pending, codes)) if self._pending.shape[0] else codes
        n = buf.shape[0]
        if n == 0:
            return _EMPTY, self._current, _EMPTY
        edges = np.flatnonzero(buf[1:] != buf[:-1]) + 1
        starts = [0, *edges.tolist()]
        ends = [*edges.tolist(), n]
        out = buf.copy()
        current = self._current
        need = self._need
        none = need.shape[0] - 1
        last = len(starts) - 1
        # Before any posture is confirmed (a stream's start), short runs wait for the first one.
        waiting = 0 if current is None else None
        for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
            code = int(buf[a])
            if code == _UNKNOWN:
                if waiting is not None:
                    waiting = b  # the data stopped: what came before keeps its own labels
                continue
            if code == current:
                continue
            if b - a >= need[none if current is None else current, code]:
                if waiting is not None:
                    out[waiting:a] = code
                    waiting = None
                current = code
                continue
            if i == last and not final:
                cut = a if waiting is None else waiting
                return out[:cut], current, buf[cut:].copy()
            if current is not None:
                out[a:b] = current
        if waiting is not None and not final:
            return out[:waiting], current, buf[waiting:].copy()
        return out, current, _EMPTY
