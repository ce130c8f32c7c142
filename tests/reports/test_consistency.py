"""Text, HTML and JSON say the same thing, and the page works on a phone (issue 12): day names follow
the report's day, durations and clock times are written one way, the trend window is named alike,
nudge outcomes are named for what happened, the timeline covers the worn hours, every tooltip is also
on the page for a finger, and there is a dark mode with enough contrast."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest

from monitor.core.records import NudgeHistory, NudgeLevel, NudgeOutcome, NudgeRecord, OutcomeRecord
from monitor.core.types import Placement, Posture
from monitor.reports import html, payload, text
from monitor.reports.build import day_report
from monitor.reports.daily import DayInput, NudgeCounts, compute_day
from monitor.reports.days import day_bounds
from monitor.reports.html import charts, theme
from monitor.reports.html.page import duration_html
from monitor.reports.trend import DayReport
from monitor.reports.wording import (
    clock_time,
    duration,
    nudge_outcomes,
    posture_name,
    time_span,
)
from tests.reports.synth import span
from tests.reports.test_render import CPH, TODAY, assert_self_contained_html, day_input, make_report

TODAY_WORD = re.compile(r"\btoday\b", re.IGNORECASE)
H = 3600


class Visible(HTMLParser):
    """The words a reader sees: no CSS, no tooltips (<title> inside SVG), cells split by ' | '."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0
        self.in_svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.in_svg += 1
        if tag == "style" or (tag == "title" and self.in_svg) or (tag == "title" and not self.parts):
            self.hidden += 1
        if tag in ("td", "th", "li", "p", "tr", "h1", "h2", "summary", "div", "span"):
            self.parts.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.in_svg -= 1
        if tag in ("style", "title") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible(page: str) -> str:
    parser = Visible()
    parser.feed(page)
    return "".join(parser.parts)


def cells(fragment: str) -> list[str]:
    """The rows of every table in the fragment, each as its cells' words joined by ' | '."""
    rows = re.findall(r"<tr>(.*?)</tr>", fragment, flags=re.S)
    return [
        " | ".join(
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)
        )
        for r in rows
    ]


def report_for(day: date, as_of: float) -> DayReport:
    previous = [day_input(day - timedelta(days=k), k) for k in range(7, 0, -1)]
    return day_report(day_input(day, 0), previous, as_of)


def words(doc: str) -> str:
    """Runs of white space as one space: the text report wraps its sentences."""
    return re.sub(r"[ \n]+", " ", doc)  # not str.split(): that splits on no-break spaces too


def all_three(report: DayReport) -> tuple[str, str, str]:
    """The text report (rewrapped), the page's visible words and the JSON, as text."""
    return (
        words(text.render_day(report)),
        visible(html.render_day(report)),
        payload.dumps(payload.daily_json(report)),
    )


# -- day names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "after_h",
    [-2.5, 0.0, 8.0, 3 * 24.0],
    ids=[
        "made that evening (the service, the demo's simulated day)",
        "at its end (report --date yesterday)",
        "next morning",
        "days later",
    ],
)
def test_the_report_names_its_day_by_its_date_never_today(after_h: float) -> None:
    """ "Today" on a page is read on another day (the evening report the next morning, `sitbreak
    demo`'s simulated yesterday): the report's own day goes by its date, the day by "this day"."""
    end = day_bounds(TODAY, CPH)[1]
    report = report_for(TODAY, end + after_h * H)
    for out in all_three(report):
        assert not TODAY_WORD.search(out), TODAY_WORD.search(out)
    page = visible(html.render_day(report))
    assert "| Tue 24 |" in page  # its own row in the trend, named by its date
    assert "Tuesday 24 November 2026" in page
    assert re.search(r"this day \d+\u00a0(h|min)", words(text.render_day(report)))


# -- durations and clock times ---------------------------------------------------------------------

CLOCK_OR_DURATION = re.compile(r"\b\d{1,2}:\d\d\b")


def _only_clock_times(doc: str) -> None:
    """Every h:mm in the document is a clock time (in a span 'HH:MM–HH:MM' or 'as of HH:MM'):
    no duration is written '6:19'."""
    for m in CLOCK_OR_DURATION.finditer(doc):
        around = doc[max(m.start() - 6, 0) : m.end() + 1]
        clock = "–" in around or any(w in around for w in ("as of ", "from ", " to "))
        assert clock, f"{around!r} reads as a duration"


def test_durations_are_written_one_way_in_text_and_html() -> None:
    report = make_report()
    out, page, _ = all_three(report)
    stats = report.stats
    longest = stats.longest
    assert longest is not None
    assert report.trend.mean_sit_s is not None
    for seconds in (stats.sit_s, stats.wear_s, longest.duration, report.trend.mean_sit_s):
        assert duration(seconds) in out
        assert duration(seconds) in page
    headline = re.search(r'<div class="stat"><span class="num">(.*?)</span>', html.render_day(report))
    assert headline is not None
    assert visible(headline[1]) == duration(stats.sit_s)  # "8 h 47 min", not "8:47 hours"
    assert "hours" not in page.replace("24 hours", "")
    for doc in (out, page):
        _only_clock_times(doc)


def test_week_durations_are_written_one_way() -> None:
    from tests.reports.test_render import make_week

    week = make_week()
    out, page = text.render_week(week), visible(html.render_week(week))
    for d in week.days:
        assert duration(d.sit_s) in out and duration(d.sit_s) in page
    for doc in (out, page):
        _only_clock_times(doc)
    assert max(len(line) for line in out.splitlines()) <= 80


def test_clock_times_round_to_the_nearest_minute() -> None:
    t = datetime(2026, 11, 24, 9, 12, 29, tzinfo=CPH).timestamp()
    assert clock_time(t, CPH) == "09:12"
    assert clock_time(t + 1, CPH) == "09:13"
    assert time_span(t + 1, t + 3600, CPH) == "09:13–10:12"


def test_a_bout_has_the_same_times_in_text_tooltip_and_timeline() -> None:
    """A bout from 09:12:40 to 10:30:50. The timeline draws whole minutes (the label of most of each
    minute): 09:13 to 10:31. Text, the bout's tooltip and the drawn run's tooltip all say so."""
    start, end = day_bounds(TODAY, CPH)
    pieces = [
        (Posture.NON_WEAR, 9 * H + 12 * 60 + 40),
        (Posture.SIT, H + 18 * 60 + 10),
        (Posture.STAND, 600),
        (Posture.NON_WEAR, 8 * H),
    ]
    inp = DayInput("thigh-1", Placement.THIGH, TODAY, CPH, span(start, *pieces, total=end - start))
    report = day_report(inp, [], end)
    length = duration(H + 18 * 60 + 10)
    assert length == "1\u00a0h 18\u00a0min"
    assert f"Longest {length} (09:13–10:31)" in words(text.render_day(report))
    page = html.render_day(report)
    assert f"<title>Prolonged sitting 09:13–10:31 ({length})</title>" in page
    assert f"<title>Sitting 09:13–10:31 ({length})</title>" in page


def test_big_figures_say_the_same_words_as_the_duration() -> None:
    for seconds in (0, 59, 60 * 45, 3600, 6 * 3600 + 19 * 60 + 20, 12 * 3600 + 59 * 60 + 40):
        assert visible(duration_html(seconds)) == duration(seconds)


# -- the trend window ------------------------------------------------------------------------------


def test_one_trend_window_in_text_html_and_json() -> None:
    report = make_report()
    out, page, doc = all_three(report)
    for said in (out, page, json.loads(doc)["summary"]):
        assert "the 7 days before" in said
    for wrong in ("last 8 days", "last 7 days", "recent average"):
        for said in (out, page, doc):
            assert wrong not in said.lower()
    assert len(json.loads(doc)["trend"]["days"]) == 7
    trend = re.search(r'<ol class="trend">(.*?)</ol>', html.render_day(report), flags=re.S)
    assert trend is not None and trend[1].count("<li") == 8  # the 7 days before and the day itself
    assert "the 7 days before (7 of them worn 4\u00a0h or more)" in page


def test_a_day_worn_a_few_hours_is_not_praised_for_sitting_less() -> None:
    start, end = day_bounds(TODAY, CPH)
    pieces = [(Posture.NON_WEAR, 9 * H), (Posture.SIT, 2 * H), (Posture.MOVE, 600)]
    inp = DayInput("thigh-1", Placement.THIGH, TODAY, CPH, span(start, *pieces, total=end - start))
    previous = [day_input(TODAY - timedelta(days=k), k) for k in range(7, 0, -1)]
    report = day_report(inp, previous, end)
    assert report.sit_change_s is not None and report.sit_change_s < 0
    for said in all_three(report):
        assert "nice" not in said
    assert "not compared with the 7 days before" in words(text.render_day(report))


# -- nudge outcomes --------------------------------------------------------------------------------


def _rounds_day() -> DayReport:
    """Three rounds: followed, answered Done but kept sitting (with an escalation), no answer."""
    start = day_bounds(TODAY, CPH)[0]

    def prompt(
        nid: str, t: int, level: NudgeLevel, *outs: tuple[NudgeOutcome, int, float | None]
    ) -> NudgeHistory:
        return NudgeHistory(
            NudgeRecord(nid, "thigh-1", t, level),
            tuple(OutcomeRecord(nid, t + dt, o, d) for o, dt, d in outs),
        )

    nudges = (
        prompt("a", start + 9 * H, NudgeLevel.NUDGE, (NudgeOutcome.FOLLOWED, 300, 300.0)),
        prompt("b", start + 11 * H, NudgeLevel.NUDGE, (NudgeOutcome.IGNORED, 1800, None)),
        prompt("b2", start + 11 * H + 600, NudgeLevel.ESCALATION, (NudgeOutcome.ACKED, 20, None)),
        prompt("c", start + 14 * H, NudgeLevel.NUDGE, (NudgeOutcome.IGNORED, 2400, None)),
    )
    base = day_input(TODAY, 0)
    inp = DayInput(base.wearable, base.placement, TODAY, CPH, base.epochs, nudges)
    return day_report(inp, [], start + 21.5 * H)


def test_done_then_sitting_is_named_alike_in_text_html_and_json() -> None:
    report = _rounds_day()
    n = report.stats.nudges
    assert (n.rounds, n.followed, n.acknowledged, n.no_response) == (3, 1, 1, 1)
    out, page, doc = all_three(report)
    assert "Nudges 3 nudges (4 messages, 1 firmer): 1 followed within 10 min · 1 answered Done," in out
    rows = cells(html.render_day(report))
    for count, words in nudge_outcomes(n, Placement.THIGH):
        assert f"{count} {words}" in out
        assert f"{words} |  | {count}" in rows
    for said in (out, page):
        assert "ignored" not in said.lower()
    nudges = json.loads(doc)["nudges"]
    assert "ignored" not in nudges
    assert (nudges["followed_within_10_min"], nudges["acknowledged"], nudges["no_response"]) == (1, 1, 1)
    assert "1 of 3 nudges was followed by a break within 10 minutes" in json.loads(doc)["summary"]


# -- the timeline on the worn hours ----------------------------------------------------------------


def _worn(first_s: int, last_s: int, day: date = TODAY) -> DayInput:
    start, end = day_bounds(day, CPH)
    pieces = [
        (Posture.NON_WEAR, first_s),
        (Posture.SIT, (last_s - first_s) // 2),
        (Posture.MOVE, (last_s - first_s) - (last_s - first_s) // 2),
    ]
    return DayInput("thigh-1", Placement.THIGH, day, CPH, span(start, *pieces, total=end - start))


def _local(day: date, hour: int) -> int:
    return day_bounds(day, CPH)[0] + hour * H


def test_timeline_spans_the_worn_hours_of_a_short_day() -> None:
    stats = compute_day(_worn(9 * H + 40 * 60, 12 * H + 50 * 60))  # 09:40 to 12:50
    assert charts.worn_window(stats) == (_local(TODAY, 9), _local(TODAY, 14))
    svg = charts.timeline_svg(stats)
    labels = re.findall(r"<text[^>]*>(\d\d)</text>", svg)
    assert labels == ["09", "10", "11", "12", "13", "14"]
    bars = re.findall(r'<rect [^>]*class="k-sit"', charts.hourly_svg(stats))
    assert len(bars) == 5  # 09 to 13
    # the worn stretch fills most of the width: 3 h 10 of the 5 h drawn
    worn = re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)" height="\d+" class="k-(?:sit|move)"', svg)
    assert sum(float(w) for w in worn) / 980 == pytest.approx(190 / 300, abs=0.01)


@pytest.mark.parametrize(
    ("worn", "window"),
    [
        ((10 * H, 11 * H), (9, 13)),  # an hour worn: at least 4 h drawn, widened after it first
        ((7 * H + 30 * 60, 22 * H + 40 * 60), (7, 23)),
        ((20 * H, 23 * H + 55 * 60), (19, 24)),  # up to midnight: the day's end, widened before
        ((5 * 60, 2 * H), (0, 4)),
    ],
)
def test_worn_window_margins_and_minimum(worn: tuple[int, int], window: tuple[int, int]) -> None:
    stats = compute_day(_worn(*worn))
    assert charts.worn_window(stats) == (_local(TODAY, window[0]), _local(TODAY, window[1]))


def test_an_unworn_day_shows_the_whole_day() -> None:
    start, end = day_bounds(TODAY, CPH)
    inp = DayInput("w", Placement.THIGH, TODAY, CPH, span(start, total=end - start))
    assert charts.worn_window(compute_day(inp)) == (start, end)
    labels = re.findall(r"<text[^>]*>(\d\d)</text>", charts.timeline_svg(compute_day(inp)))
    assert labels[0] == "00" and labels[-1] == "24"
    page = html.render_day(day_report(inp, [], end))
    assert "nothing to report" in page and "<script" not in page


def test_a_dst_day_window_uses_its_own_hours() -> None:
    day = date(2026, 10, 25)  # 25 hours: 02:00-03:00 twice
    stats = compute_day(_worn(H + 30 * 60, 5 * H, day))  # 01:30 to 04:00 local, winter time
    w0, w1 = charts.worn_window(stats)
    assert w1 - w0 == 5 * H  # 01 to 05 local is five real hours that day
    labels = re.findall(r"<text[^>]*>(\d\d)</text>", charts.timeline_svg(stats))
    assert labels == ["01", "02", "03", "04", "05"]  # 02 once


# -- details without hover -------------------------------------------------------------------------


def test_every_tooltip_is_also_on_the_page_for_a_finger() -> None:
    report = make_report()
    stats = report.stats
    page = html.render_day(report)
    assert_self_contained_html(page)
    rows = set(cells(page))
    window = charts.worn_window(stats)
    runs = charts.drawn_runs(stats, window)
    assert len(runs) > 20
    for run in runs:
        name = posture_name(run.label, stats.placement).capitalize()
        assert f"<title>{charts.run_words(run, stats)}</title>" in page
        assert f"{name} | {time_span(run.start, run.end, stats.tz)} | {duration(run.duration)}" in rows
    seen = visible(page)
    for bout in stats.prolonged:
        assert charts.bout_words(bout.start, bout.end, stats) in seen  # written out, no tap needed
    for h in stats.hours:
        if window[0] <= h.hour.start < window[1]:
            assert f"<title>{charts.hour_words(h, stats)}</title>" in page
            assert f"{time_span(h.hour.start, h.hour.end, stats.tz)} | {duration(h.sit_s)} |" in " ".join(
                rows
            )
    for row in re.findall(r'<ol class="trend">(.*?)</ol>', page, flags=re.S)[0].split("</li>")[:-1]:
        assert re.search(r"\d+\u00a0(h|min)", visible(row)), row  # each day's value written beside it
    assert page.count("<details>") == 2 and "<summary>" in page
    assert "<script" not in page


# -- dark mode -------------------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    def lin(c: int) -> float:
        x = c / 255
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_dark_mode_is_in_the_page() -> None:
    page = html.render_day(make_report())
    assert '<meta name="color-scheme" content="light dark">' in page
    dark = re.search(r"@media \(prefers-color-scheme:dark\)\{:root\{([^}]*)\}", page)
    assert dark is not None
    declared = dict(d.split(":", 1) for d in dark[1].split(";"))
    assert declared["--card"] == theme.DARK["card"] and declared["--ink"] == theme.DARK["ink"]
    assert declared["--p-non_wear"] == theme.DARK_COLOURS[Posture.NON_WEAR]
    # chart text and lines follow the scheme through classes, not fixed fills
    assert 'class="ts tx"' in page and 'class="ln"' in page


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_has_enough_contrast(scheme: str) -> None:
    c = theme.LIGHT if scheme == "light" else theme.DARK
    for ground in (c["card"], c["bg"]):
        assert contrast(c["ink"], ground) >= 7
        assert contrast(c["muted"], ground) >= 4.5
    assert contrast(c["key-ink"], c["key"]) >= 4.5


def test_dark_chart_colours_stand_out_from_the_card() -> None:
    card = theme.DARK["card"]
    for posture, colour in theme.DARK_COLOURS.items():
        if posture is not Posture.UNKNOWN:  # "no data" is meant to recede
            assert contrast(colour, card) >= 3, posture
    assert contrast(theme.SIT_LIGHT_DARK, card) >= 3


def test_nudge_outcomes_on_the_wrist_say_inactive() -> None:
    counts = NudgeCounts(rounds=2, prompts=2, followed=1, acknowledged=1)
    assert nudge_outcomes(counts, Placement.WRIST) == [
        (1, "followed within 10 min"),
        (1, "answered Done, stayed inactive"),
    ]
    assert len(nudge_outcomes(counts, Placement.THIGH, all_=True)) == 7


def test_the_first_week_shows_the_day_alone_not_seven_unworn_rows() -> None:
    """Before the first data the loader still passes the 7 days before, unworn."""
    end = day_bounds(TODAY, CPH)[1]

    def unworn(day: date) -> DayInput:
        s, e = day_bounds(day, CPH)
        return DayInput("thigh-1", Placement.THIGH, day, CPH, span(s, total=e - s))

    previous = [unworn(TODAY - timedelta(days=k)) for k in range(7, 0, -1)]
    report = day_report(day_input(TODAY, 0), previous, end)
    page = html.render_day(report)
    trend = re.search(r'<ol class="trend">(.*?)</ol>', page, flags=re.S)
    assert trend is not None and trend[1].count("<li") == 1
    assert "None of the 7 days before was worn." in page
    assert "Grey bars" not in page
    assert "with the 7 days before: none worn 4 h or more yet" in words(text.render_day(report))
