"""Renderers: text fits 80 columns, JSON carries ts/wearable, HTML is one well-formed offline file."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from monitor.core.records import LabelSpan, NudgeHistory, NudgeOutcome, NudgeRecord, OutcomeRecord
from monitor.core.types import Placement, Posture
from monitor.reports import html, payload, text
from monitor.reports.build import day_report, week_report
from monitor.reports.daily import DayInput
from monitor.reports.days import day_bounds
from monitor.reports.html import charts, theme
from monitor.reports.trend import DayReport, WeekReport
from tests.reports.synth import office_day, span

CPH = ZoneInfo("Europe/Copenhagen")
TODAY = date(2026, 11, 24)
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def day_input(day: date, seed: int = 0, placement: Placement = Placement.THIGH) -> DayInput:
    start, end = day_bounds(day, CPH)
    labels = np.resize(office_day(start, seed), end - start)
    nudges: tuple[NudgeHistory, ...] = ()
    if seed == 0:
        ts = start + 10 * 3600
        nudges = (
            NudgeHistory(
                NudgeRecord("n1", "thigh-1", ts),
                (OutcomeRecord("n1", ts + 300, NudgeOutcome.FOLLOWED, 300.0),),
            ),
        )
    return DayInput("thigh-1", placement, day, CPH, LabelSpan(start, labels), nudges)


def make_report(day: date = TODAY, placement: Placement = Placement.THIGH) -> DayReport:
    previous = [day_input(day - timedelta(days=k), k, placement) for k in range(7, 0, -1)]
    return day_report(day_input(day, 0, placement), previous, day_bounds(day, CPH)[0] + 21.5 * 3600)


def make_week() -> WeekReport:
    return week_report([day_input(TODAY - timedelta(days=k), k) for k in range(7)], 0.0)


def empty_report(day: date) -> DayReport:
    start, end = day_bounds(day, CPH)
    inp = DayInput("thigh-1", Placement.THIGH, day, CPH, span(start, total=end - start))
    return day_report(inp, [], end)


class TagBalance(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.svg_titles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "title" and "svg" in self.stack:
            self.svg_titles += 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def assert_self_contained_html(doc: str) -> None:
    parser = TagBalance()
    parser.feed(doc)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    assert doc.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in doc
    for banned in ("http:", "https:", "//", "src=", "href=", "url(", "@import", "<script", "<link"):
        assert banned not in doc, banned
    svgs = re.findall(r"<svg\b.*?</svg>", doc, flags=re.S)
    assert svgs
    for svg in svgs:
        root = ET.fromstring(svg)  # each chart is well-formed XML on its own
        assert root.tag == "svg"
    assert parser.svg_titles > 20


def test_day_text_fits_80_columns_and_says_the_numbers() -> None:
    report = make_report()
    out = text.render_day(report)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    stats = report.stats
    assert f"{len(stats.prolonged)} prolonged sitting bouts" in out
    assert "upright ≥ 5 s" in out
    assert "Sitting minutes per hour" in out
    assert "1 nudge: 1 followed within 10 min" in out
    chart = lines[-6:]
    assert chart[-1].split() == [h.hour.label for h in stats.hours]
    assert any("█" in line for line in chart)


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_dst_day_text_still_fits(day: date) -> None:
    out = text.render_day(make_report(day))
    assert max(len(line) for line in out.splitlines()) <= 80
    labels = out.splitlines()[-1].split()
    assert len(labels) == (23 if day.month == 3 else 25)


def test_week_and_empty_text_fit() -> None:
    for out in (text.render_week(make_week()), text.render_day(empty_report(TODAY))):
        assert max(len(line) for line in out.splitlines()) <= 80
    assert "not worn on Tuesday 24 November 2026" in text.render_day(empty_report(TODAY))


def test_wrist_reports_say_inactive() -> None:
    report = make_report(placement=Placement.WRIST)
    out = text.render_day(report)
    assert "prolonged inactive bouts" in out
    assert "You were inactive for" in out
    assert "Sitting" not in out
    page = html.render_day(report)
    assert '<span class="lbl">inactive</span>' in page and "rather than sitting" in page


def test_daily_json_is_the_mqtt_payload_shape() -> None:
    report = make_report()
    doc = json.loads(payload.dumps(payload.daily_json(report)))
    assert doc["kind"] == "daily"
    assert doc["wearable"] == "thigh-1"
    assert doc["ts"] == "2026-11-24T21:30:00+01:00"
    assert ISO_WITH_OFFSET.match(doc["ts"])
    assert doc["date"] == "2026-11-24"
    assert doc["timezone"] == "Europe/Copenhagen"
    stats = report.stats
    assert doc["prolonged_bouts"] == len(stats.prolonged)
    assert doc["wear_s"] == stats.wear_s
    assert sum(doc["posture_s"].values()) == doc["day_length_s"] == 86_400
    assert [b["count"] for b in doc["bout_bins"]] == list(stats.bins)
    assert [(b["from_min"], b["to_min"]) for b in doc["bout_bins"]] == [
        (0, 10),
        (10, 30),
        (30, 60),
        (60, None),
    ]
    assert doc["min_break_s"] == 5
    assert doc["nudges"]["followed_within_10_min"] == 1
    assert len(doc["hourly"]) == 24 and all(ISO_WITH_OFFSET.match(h["start"]) for h in doc["hourly"])
    assert len(doc["trend"]["days"]) == 7
    assert doc["summary"].startswith("You sat for")


def test_summer_json_has_summer_offset() -> None:
    doc = payload.daily_json(make_report(date(2026, 7, 1)))
    assert doc["ts"].endswith("+02:00")


def test_weekly_json() -> None:
    doc = json.loads(payload.dumps(payload.weekly_json(make_week())))
    assert (doc["kind"], doc["first_date"], doc["last_date"]) == ("weekly", "2026-11-18", "2026-11-24")
    assert len(doc["days"]) == 7 and doc["valid_days"] == 7


def test_day_html_is_one_self_contained_well_formed_file() -> None:
    report = make_report()
    page = html.render_day(report)
    assert_self_contained_html(page)
    assert "<title>Sitting report · thigh-1 · Tuesday 24 November 2026</title>" in page
    assert f'<span class="num">{len(report.stats.prolonged)}</span>' in page
    assert 'aria-label="Day timeline for Tuesday 24 November 2026, 07:00–20:00, coloured by posture"' in page
    for colour in theme.COLOURS.values():
        assert colour in page


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_dst_day_html(day: date) -> None:
    assert_self_contained_html(html.render_day(make_report(day)))


def test_week_and_empty_html() -> None:
    assert_self_contained_html(html.render_week(make_week()))
    page = html.render_day(empty_report(TODAY))
    parser = TagBalance()
    parser.feed(page)
    assert parser.errors == [] and parser.stack == []
    assert "nothing to report" in page


def test_timeline_marks_every_prolonged_bout() -> None:
    report = make_report()
    svg = charts.timeline_svg(report.stats)
    assert svg.count("<title>Prolonged sitting") == len(report.stats.prolonged)
    root = ET.fromstring(svg)
    colours = {r.get("fill") for r in root.iter("rect")}
    assert theme.COLOURS[Posture.SIT] in colours and theme.COLOURS[Posture.MOVE] in colours
    # ... and a class, through which the dark colour scheme recolours it
    classes = {r.get("class") for r in root.iter("rect")}
    assert {"k-sit", "k-move"} <= classes
