"""The JSON shape of reports. `DailyReportJson` is also the `report/daily` MQTT payload.

Durations are whole seconds; times are ISO-8601 with the configured zone's offset. Example (abridged):

    {"ts": "2026-11-24T21:30:00+01:00", "wearable": "thigh-1", "kind": "daily", "date": "2026-11-24",
     "timezone": "Europe/Copenhagen", "placement": "thigh", "sitting_word": "sitting",
     "day_length_s": 86400, "wear_s": 34800, "posture_s": {"sit": 22320, "lie": 0, ...},
     "sitting_share": 0.64, "prolonged_bouts": 3, "prolonged_s": 7740,
     "longest_bout": {"start": "...", "end": "...", "duration_s": 4320},
     "bout_bins": [{"label": "<10", "from_min": 0, "to_min": 10, "count": 23}, ...],
     "breaks": 31, "breaks_per_sedentary_hour": 5.0, "min_break_s": 5, "sit_to_stand": 36,
     "hourly": [{"start": "...", "label": "09", "sit_s": 2400, "upright_s": 600, "wear_s": 3600}, ...],
     "nudges": {"rounds": 6, "prompts": 10, "escalations": 2, "followed_within_10_min": 3,
                "acknowledged": 3, "no_response": 0, ...},
     "trend": {"days": [...], "valid_days": 6, "mean_sit_s": 20400.0, ...},
     "summary": "You sat for 6 h 12 min of ..."}
"""

from __future__ import annotations

import json
from typing import Literal, TypedDict

from monitor.core.timefmt import iso_time
from monitor.core.types import Posture
from monitor.reports.daily import BIN_EDGES_S, BIN_LABELS, DayStats, SittingBout
from monitor.reports.trend import DayReport, Trend, WeekReport
from monitor.reports.wording import sitting_word, summary


class BoutJson(TypedDict):
    start: str
    end: str
    duration_s: int


class BinJson(TypedDict):
    label: str
    from_min: int
    to_min: int | None  # None: open-ended
    count: int


class HourJson(TypedDict):
    start: str
    label: str
    sit_s: int
    upright_s: int
    wear_s: int


class NudgesJson(TypedDict):
    """The day's nudges by round (a first prompt and its reminders): each round under exactly one
    outcome, so the outcomes add up to `rounds` (`monitor.reports.daily.NudgeCounts`)."""

    rounds: int
    prompts: int  # messages of every level in those rounds
    escalations: int
    followed_within_10_min: int
    followed_later: int
    acknowledged: int  # answered Done, then kept sitting: not followed
    snoozed: int  # last answer a snooze, then kept sitting
    no_response: int
    expired: int  # outcome unknown (sensor off, active hours over, never delivered)
    open: int  # no outcome yet when the report was made


class TrendDayJson(TypedDict):
    date: str
    wear_s: int
    sit_s: int
    prolonged_bouts: int
    valid: bool


class TrendJson(TypedDict):
    days: list[TrendDayJson]  # the 7 days before the report's day, oldest first: what is averaged
    valid_days: int
    mean_sit_s: float | None
    mean_prolonged_bouts: float | None
    sit_change_s: float | None  # the report's day minus the average
    prolonged_change: float | None


class DayJson(TypedDict):
    wearable: str
    date: str
    timezone: str
    placement: str
    sitting_word: str  # "sitting", or "inactive" for a wrist
    day_start: str
    day_end: str
    day_length_s: int  # 82800 / 86400 / 90000
    wear_s: int
    posture_s: dict[str, int]
    sitting_share: float | None
    prolonged_bouts: int
    prolonged_s: int
    prolonged: list[BoutJson]
    longest_bout: BoutJson | None
    bout_count: int
    bout_bins: list[BinJson]
    breaks: int
    breaks_per_sedentary_hour: float | None
    min_break_s: int
    sit_to_stand: int
    hourly: list[HourJson]
    nudges: NudgesJson


class DailyReportJson(DayJson):
    ts: str
    kind: Literal["daily"]
    trend: TrendJson
    summary: str


class WeeklyReportJson(TypedDict):
    ts: str
    wearable: str
    kind: Literal["weekly"]
    first_date: str
    last_date: str
    days: list[DayJson]
    valid_days: int
    mean_sit_s: float | None
    mean_prolonged_bouts: float | None
    mean_sitting_share: float | None


def _bout(stats: DayStats, bout: SittingBout) -> BoutJson:
    return {
        "start": iso_time(bout.start, stats.tz),
        "end": iso_time(bout.end, stats.tz),
        "duration_s": bout.duration,
    }


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def day_json(stats: DayStats) -> DayJson:
    edges = (0, *BIN_EDGES_S, None)
    longest = stats.longest
    n = stats.nudges
    return {
        "wearable": stats.wearable,
        "date": stats.day.isoformat(),
        "timezone": str(stats.tz),
        "placement": str(stats.placement),
        "sitting_word": sitting_word(stats.placement),
        "day_start": iso_time(stats.start, stats.tz),
        "day_end": iso_time(stats.end, stats.tz),
        "day_length_s": stats.length_s,
        "wear_s": stats.wear_s,
        "posture_s": {str(p): stats.posture_s[p] for p in Posture},
        "sitting_share": _round(stats.sitting_share),
        "prolonged_bouts": len(stats.prolonged),
        "prolonged_s": stats.prolonged_s,
        "prolonged": [_bout(stats, b) for b in stats.prolonged],
        "longest_bout": None if longest is None else _bout(stats, longest),
        "bout_count": len(stats.bouts),
        "bout_bins": [
            {
                "label": label,
                "from_min": int(lo or 0) // 60,
                "to_min": None if hi is None else hi // 60,
                "count": count,
            }
            for label, lo, hi, count in zip(BIN_LABELS, edges[:-1], edges[1:], stats.bins, strict=True)
        ],
        "breaks": stats.breaks,
        "breaks_per_sedentary_hour": _round(stats.breaks_per_sedentary_hour, 2),
        "min_break_s": stats.min_break_s,
        "sit_to_stand": stats.transitions,
        "hourly": [
            {
                "start": iso_time(h.hour.start, stats.tz),
                "label": h.hour.label,
                "sit_s": h.sit_s,
                "upright_s": h.upright_s,
                "wear_s": h.wear_s,
            }
            for h in stats.hours
        ],
        "nudges": {
            "rounds": n.rounds,
            "prompts": n.prompts,
            "escalations": n.escalations,
            "followed_within_10_min": n.followed,
            "followed_later": n.followed_later,
            "acknowledged": n.acknowledged,
            "snoozed": n.snoozed,
            "no_response": n.no_response,
            "expired": n.expired,
            "open": n.open,
        },
    }


def trend_json(trend: Trend, report: DayReport | None = None) -> TrendJson:
    return {
        "days": [
            {
                "date": d.day.isoformat(),
                "wear_s": d.wear_s,
                "sit_s": d.sit_s,
                "prolonged_bouts": d.prolonged,
                "valid": d.valid,
            }
            for d in trend.previous
        ],
        "valid_days": trend.valid_days,
        "mean_sit_s": _round(trend.mean_sit_s, 1),
        "mean_prolonged_bouts": _round(trend.mean_prolonged, 2),
        "sit_change_s": None if report is None else _round(report.sit_change_s, 1),
        "prolonged_change": None if report is None else _round(report.prolonged_change, 2),
    }


def daily_json(report: DayReport) -> DailyReportJson:
    stats = report.stats
    return {
        "ts": iso_time(report.as_of, stats.tz),
        "kind": "daily",
        **day_json(stats),
        "trend": trend_json(report.trend, report),
        "summary": summary(report),
    }


def weekly_json(report: WeekReport) -> WeeklyReportJson:
    first, last = report.days[0], report.days[-1]
    overall = report.overall
    return {
        "ts": iso_time(report.as_of, last.tz),
        "wearable": last.wearable,
        "kind": "weekly",
        "first_date": first.day.isoformat(),
        "last_date": last.day.isoformat(),
        "days": [day_json(d) for d in report.days],
        "valid_days": overall.valid_days,
        "mean_sit_s": _round(overall.mean_sit_s, 1),
        "mean_prolonged_bouts": _round(overall.mean_prolonged, 2),
        "mean_sitting_share": _round(overall.mean_sitting_share),
    }


def dumps(payload: DailyReportJson | WeeklyReportJson) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
