"""Words shared by every renderer: posture names, durations, clock times, day names, the trend's
window, nudge outcomes and the day's summary sentence. Pure.

Text, HTML and JSON say the same thing because each of these is written in one place only: a
duration is always "6 h 19 min", a clock time always rounded to the nearest minute.
"""

from __future__ import annotations

import math
from datetime import date, datetime, tzinfo

from monitor.core.types import Placement, Posture
from monitor.reports.daily import PROLONGED_S, DayStats, NudgeCounts
from monitor.reports.trend import MIN_VALID_WEAR_S, DayReport, Trend

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


def _nearest(x: float) -> int:
    """Half up, not to even: 09:12:30 is 09:13 and 90 s is 2 min, whatever the neighbours."""
    return math.floor(x + 0.5)


def duration_parts(seconds: float) -> list[tuple[int, str]]:
    """(number, unit) pairs of a duration rounded to the minute: [(6, "h"), (19, "min")]."""
    minutes = _nearest(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return [(hours, "h"), (minutes, "min")]
    if hours:
        return [(hours, "h")]
    return [(minutes, "min")]


def duration(seconds: float) -> str:
    """'6 h 19 min', '45 min', '0 min': the one way every report writes a duration (rounded to the
    minute; a no-break space inside each part)."""
    return " ".join(f"{n}{NBSP}{unit}" for n, unit in duration_parts(seconds))


def clock_time(t: float, tz: tzinfo) -> str:
    """Local 'HH:MM' of data time t, rounded to the nearest minute. The timeline draws whole minutes
    (the label of most of each minute), so rounding, not truncating, puts a written time on the
    minute the picture shows it."""
    return datetime.fromtimestamp(_nearest(t / 60) * 60, tz).strftime("%H:%M")


def time_span(start: float, end: float, tz: tzinfo) -> str:
    """'09:12–10:24'."""
    return f"{clock_time(start, tz)}–{clock_time(end, tz)}"


def short_day(day: date) -> str:
    """'Tue 24', what the trend calls each day, the report's own too: a weekday alone repeats in a
    window of 8 days."""
    return f"{day:%a} {day.day}"


# What running text calls the report's own day. Never "today": a report is read later than it is
# made (the evening report the next morning, a saved page next week), and its data time need not be
# the reader's day at all (`sitbreak demo` simulates yesterday), so a word relative to a clock is
# wrong as often as not. The date heads every report; beside it the day is "this day".
THIS_DAY = "this day"


def trend_window(trend: Trend) -> str:
    """The days the report's day is compared with: 'the 7 days before' (the loader passes the 7 days
    before the report's day; the day itself is not in its own average)."""
    return f"the {plural(len(trend.previous), 'day')} before"


# What became of the day's nudge rounds, in the order reports list them, with the words the text and
# HTML reports use after the count ("3 followed within 10 min"); JSON keys are the field names, but
# `followed_within_10_min` for `followed`. "Done" is the phone's button for an ack: it stops the
# reminders, but only a break follows a nudge. "{sat}": "kept sitting", or "stayed inactive" (wrist).
NUDGE_OUTCOMES: tuple[tuple[str, str], ...] = (
    ("followed", "followed within 10 min"),
    ("followed_later", "followed after more than 10 min"),
    ("acknowledged", "answered Done, {sat}"),
    ("snoozed", "snoozed, {sat}"),
    ("no_response", "no response, {sat}"),
    ("expired", "outcome unknown"),
    ("open", "still open at report time"),
)


def nudge_outcomes(counts: NudgeCounts, placement: Placement, *, all_: bool = False) -> list[tuple[int, str]]:
    """(count, words) for each outcome that happened (every outcome with `all_`)."""
    sat = "stayed inactive" if placement is Placement.WRIST else "kept sitting"
    pairs = [(int(getattr(counts, key)), words.format(sat=sat)) for key, words in NUDGE_OUTCOMES]
    return pairs if all_ else [(n, words) for n, words in pairs if n]


def nudge_total(counts: NudgeCounts) -> str:
    """'6 nudges (10 messages, 2 firmer)': rounds, and the messages they took."""
    text = plural(counts.rounds, "nudge")
    if counts.prompts > counts.rounds:
        text += f" ({counts.prompts} messages"
        text += f", {counts.escalations} firmer)" if counts.escalations else ")"
    return text


def percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}{NBSP}%"


def long_date(stats: DayStats) -> str:
    """'Tuesday 24 November 2026'."""
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
    if change is not None and stats.wear_s < MIN_VALID_WEAR_S:
        # Less sitting on a day worn 3 h is no achievement: say why there is no comparison.
        parts.append(
            f"Worn under {MIN_VALID_WEAR_S // 3600} hours, this day is not compared with "
            f"{trend_window(report.trend)}."
        )
    elif change is not None:
        window = trend_window(report.trend)
        if change <= -NOTABLE_CHANGE_S:
            parts.append(f"That is {duration(-change)} less than your average for {window}: nice.")
        elif change >= NOTABLE_CHANGE_S:
            parts.append(
                f"That is {duration(change)} more than your average for {window}; a new day is a fresh start."
            )
        else:
            parts.append(f"About the same as your average for {window}.")
    nudges = stats.nudges
    if nudges.rounds:
        verb = "was" if nudges.followed == 1 else "were"
        parts.append(
            f"{nudges.followed} of {plural(nudges.rounds, 'nudge')} {verb} followed by a break "
            "within 10 minutes."
        )
    return " ".join(parts)
