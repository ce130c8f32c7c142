"""A day against the week before it, and a week of days. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from monitor.reports.daily import DayStats

# A day counts towards averages only with this much wear time: a morning's wear would make the
# average sitting look tiny. Research protocols ask for 10 h of waking wear; 4 h keeps part days of
# honest use while dropping days the sensor spent charging.
MIN_VALID_WEAR_S = 4 * 3600


@dataclass(frozen=True, slots=True)
class DaySummary:
    day: date
    wear_s: int
    sit_s: int
    prolonged: int
    breaks_per_sedentary_hour: float | None

    @property
    def valid(self) -> bool:
        return self.wear_s >= MIN_VALID_WEAR_S

    @classmethod
    def of(cls, stats: DayStats) -> DaySummary:
        return cls(
            stats.day, stats.wear_s, stats.sit_s, len(stats.prolonged), stats.breaks_per_sedentary_hour
        )


@dataclass(frozen=True, slots=True)
class Trend:
    """The previous days (oldest first) and their averages over valid days (None if none valid)."""

    previous: tuple[DaySummary, ...]
    mean_sit_s: float | None
    mean_prolonged: float | None
    mean_sitting_share: float | None

    @property
    def valid_days(self) -> int:
        return sum(1 for d in self.previous if d.valid)


def trend(previous: Sequence[DaySummary]) -> Trend:
    ordered = tuple(sorted(previous, key=lambda d: d.day))
    valid = [d for d in ordered if d.valid]
    if not valid:
        return Trend(ordered, None, None, None)
    n = len(valid)
    return Trend(
        ordered,
        mean_sit_s=sum(d.sit_s for d in valid) / n,
        mean_prolonged=sum(d.prolonged for d in valid) / n,
        mean_sitting_share=sum(d.sit_s / d.wear_s for d in valid) / n,
    )


@dataclass(frozen=True, slots=True)
class DayReport:
    stats: DayStats
    trend: Trend
    as_of: float  # data time the report was made

    @property
    def sit_change_s(self) -> float | None:
        """Today's sitting minus the recent average, seconds (None without a valid average)."""
        mean = self.trend.mean_sit_s
        return None if mean is None else self.stats.sit_s - mean

    @property
    def prolonged_change(self) -> float | None:
        mean = self.trend.mean_prolonged
        return None if mean is None else len(self.stats.prolonged) - mean


@dataclass(frozen=True, slots=True)
class WeekReport:
    days: tuple[DayStats, ...]  # oldest first
    as_of: float

    @property
    def summaries(self) -> tuple[DaySummary, ...]:
        return tuple(DaySummary.of(d) for d in self.days)

    @property
    def overall(self) -> Trend:
        return trend(self.summaries)
