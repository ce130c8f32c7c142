"""Words shared by every renderer: posture names, durations, and the day's summary sentence. Pure."""

from __future__ import annotations

from monitor.core.types import Placement, Posture
from monitor.reports.daily import PROLONGED_S, DayStats
from monitor.reports.trend import DayReport

# Changes smaller than this against the recent average are "about the same": a quarter of an hour
# is within the day-to-day noise of anyone's sitting.
NOTABLE_CHANGE_S = 15 * 60

_NAMES: dict[Posture, str] = {
    Posture.SIT: "sitting",
    Posture.LIE: "lying",
    Posture.STAND: "standing",
    Posture.MOVE: "moving",
    Posture.CYCLE: "cycling",
    Posture.NON_WEAR: "not worn",
    Posture.UNKNOWN: "no data",
}

_WRIST_NAMES: dict[Posture, str] = {Posture.SIT: "inactive", Posture.MOVE: "active"}


def posture_name(posture: Posture, placement: Placement) -> str:
    """What to call a label. From the wrist only activity is seen: `sit` reads 'inactive' and `move`
    'active'."""
    if placement is Placement.WRIST:
        return _WRIST_NAMES.get(posture, _NAMES[posture])
    return _NAMES[posture]


def sitting_word(placement: Placement) -> str:
    return posture_name(Posture.SIT, placement)


# A no-break space keeps a number with its unit when text wraps ("72 %", not "72" / "%").
NBSP = "\u00a0"


def duration(seconds: float) -> str:
    """'6 h 12 min', '45 min', '0 min' (rounded to the minute; no-break spaces inside each part)."""
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}{NBSP}h {minutes}{NBSP}min"
    if hours:
        return f"{hours}{NBSP}h"
    return f"{minutes}{NBSP}min"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}{NBSP}%"


def long_date(stats: DayStats) -> str:
    return f"{stats.day:%A} {stats.day.day} {stats.day:%B %Y}"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def summary(report: DayReport) -> str:
    """One or two kind, plain sentences about the day."""
    stats = report.stats
    word = sitting_word(stats.placement)
    if stats.wear_s == 0:
        return f"The sensor was not worn on {long_date(stats)}, so there is nothing to report for this day."
    verb = "were inactive" if word == "inactive" else "sat"
    parts = [
        f"You {verb} for {duration(stats.sit_s)} of the {duration(stats.wear_s)} you wore the sensor "
        f"({percent(stats.sitting_share)})."
    ]
    prolonged = stats.prolonged
    threshold = PROLONGED_S // 60
    if not prolonged:
        parts.append(f"No stretch went past {threshold} minutes: well done.")
    else:
        longest = stats.longest
        assert longest is not None  # prolonged bouts exist
        stretch = plural(len(prolonged), "stretch", "stretches")
        parts.append(
            f"{stretch} went past {threshold} minutes; the longest was {duration(longest.duration)}."
        )
    change = report.sit_change_s
    if change is not None:
        if change <= -NOTABLE_CHANGE_S:
            parts.append(f"That is {duration(-change)} less than your recent average: nice.")
        elif change >= NOTABLE_CHANGE_S:
            parts.append(
                f"That is {duration(change)} more than your recent average; tomorrow is a fresh start."
            )
        else:
            parts.append("About the same as your recent average.")
    nudges = stats.nudges
    if nudges.sent:
        parts.append(
            f"You took {nudges.followed} of {plural(nudges.sent, 'suggested break')} within 10 minutes."
        )
    return " ".join(parts)
