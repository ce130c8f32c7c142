"""Today's labels and nudges as the service sees them come in, and their totals for `state`.

The totals come from `monitor.reports.daily.day_totals`, the function the daily report uses, on the
same inputs the report reads from the store (the day's labels from CONTEXT_S before local midnight,
missing seconds as `unknown`; the nudges decided in the day with their outcomes). So the `today` block
of the live `state` message at any moment equals what a report built at that moment would say.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, tzinfo

import numpy as np

from monitor.core.records import DecisionRecords, LabelSpan, NudgeHistory
from monitor.core.types import CodeArray, PostureCode
from monitor.reports.daily import CONTEXT_S, DayTotals, NudgeCounts, day_totals
from monitor.reports.days import day_bounds, local_date


def _empty_totals() -> DayTotals:
    return DayTotals(posture_s={}, bouts=(), transitions=0, breaks=0, nudges=NudgeCounts())


class TodayTally:
    """One local day's labels (with the CONTEXT_S before it) and nudges; moves to the next local day
    when the data does. Memory: one byte per second, about 110 kB."""

    def __init__(self, tz: tzinfo, min_break_s: int) -> None:
        self._tz = tz
        self._min_break_s = min_break_s
        self.day: date | None = None
        self._bounds = (0, 0)
        self._span = LabelSpan(0, np.zeros(0, dtype=np.uint8))
        # End of the labels written so far: the totals need not scan the hours not yet lived.
        self._filled_end = 0
        self._nudges: dict[str, NudgeHistory] = {}
        # day_totals is recomputed only after something changed (a pipeline pass, a decision).
        self._totals: DayTotals | None = None

    def load(self, day: date, labels: LabelSpan, nudges: Sequence[NudgeHistory]) -> None:
        """Start on `day` with what the store holds: labels (ideally from CONTEXT_S before the day's
        start) and the nudges decided in it."""
        self._begin(day, labels)
        self._nudges = {h.nudge.id: h for h in nudges}

    def add_epochs(self, t0: int, labels: CodeArray) -> None:
        """Epoch labels for [t0, t0 + len): written at their data time (a second written again is
        replaced, as in the store); data past local midnight starts the next day."""
        if labels.shape[0] == 0:
            return
        if self.day is None:
            self._begin(local_date(t0, self._tz), None)
        t_end = t0 + int(labels.shape[0])
        while True:
            self._write(t0, labels)
            end = self._bounds[1]
            if t_end <= end:
                break
            self._begin(local_date(end, self._tz), self._span)
        self._totals = None

    def add_decisions(self, records: Iterable[DecisionRecords]) -> None:
        """Nudges and nudge outcomes from policy decisions, as the store records them."""
        for record in records:
            if record.nudge is not None:
                self._nudges.setdefault(record.nudge.id, NudgeHistory(record.nudge))
                self._totals = None
            outcome = record.outcome
            if outcome is not None and outcome.nudge_id in self._nudges:
                history = self._nudges[outcome.nudge_id]
                self._nudges[outcome.nudge_id] = replace(history, outcomes=(*history.outcomes, outcome))
                self._totals = None

    def totals(self) -> DayTotals:
        """The day's totals so far (all zero before any data)."""
        if self.day is None:
            return _empty_totals()
        if self._totals is None:
            start, end = self._bounds
            span = self._span
            lived = LabelSpan(span.t0, span.labels[: max(0, self._filled_end - span.t0)])
            self._totals = day_totals(lived, start, end, list(self._nudges.values()), self._min_break_s)
        return self._totals

    def _begin(self, day: date, carry: LabelSpan | None) -> None:
        start, end = day_bounds(day, self._tz)
        t0 = start - CONTEXT_S
        self.day = day
        self._bounds = (start, end)
        self._span = LabelSpan(t0, np.full(end - t0, PostureCode.UNKNOWN, dtype=np.uint8))
        self._filled_end = t0
        if carry is not None:
            self._write(carry.t0, carry.labels)
        # Nudges decided before the new day stay with the old one (outcomes for them are ignored).
        self._nudges = {k: h for k, h in self._nudges.items() if h.nudge.ts >= start}
        self._totals = None

    def _write(self, t0: int, labels: CodeArray) -> None:
        span = self._span
        lo, hi = max(t0, span.t0), min(t0 + int(labels.shape[0]), span.t_end)
        if lo < hi:
            span.labels[lo - span.t0 : hi - span.t0] = labels[lo - t0 : hi - t0]
            self._filled_end = max(self._filled_end, hi)
