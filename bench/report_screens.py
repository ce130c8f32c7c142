"""Screenshots of the HTML report in a real headless Chromium, at a phone's and a desktop's width, light
and dark: to look at, since what a person meets is the page, not its source.

    python bench/report_screens.py                    # synthetic days; prints the folder it wrote
    python bench/report_screens.py --out /tmp/screens
    python bench/report_screens.py --db /var/lib/sitbreak/sitbreak.db --wearable thigh --date 2026-12-02
    python bench/report_screens.py --demo             # runs `sitbreak demo` first (2-6 min) and uses its day

Needs Debian's `chromium` (apt-get install chromium). Not part of `make test`.

Pages (synthetic days, from tests/reports/synth.py; with --db the day's report as the store gives it,
and the week to that day; with --demo also the page the demo wrote itself):
- today:     an office day as of 21:30, with nudges of every outcome, after 7 days (one worn 3 h);
- yesterday: the same report made the next morning: no "Today" anywhere;
- short:     a day worn from 09:40 to 12:50 only: the timeline covers those hours, not 24;
- week:      the 7 days to the office day;
- today-opened (412 px, light only): the first page with every <details> tapped open.

Each page is shot at 412 px (a common Android phone's CSS width) and 1280 px, light and dark
(`--force-dark-mode` makes Chromium report `prefers-color-scheme: dark`). The shot is as tall as the
page: a copy of the page with one line of script added (the report itself has none) is loaded first,
and says its height, its width (wider than the window means something overflows sideways) and
whether dark mode applied. Those numbers are printed and checked; the screenshots are for your eyes.

Chromium runs with networking off (and the page names no URL), a throw-away profile, and no sandbox
(it runs as root here).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

if __package__ in (None, ""):  # run as a script: make `tests` and `monitor` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.core.records import (
    LabelSpan,
    NudgeHistory,
    NudgeLevel,
    NudgeOutcome,
    NudgeRecord,
    OutcomeRecord,
)
from monitor.core.types import Placement, Posture
from monitor.reports import html
from monitor.reports.build import day_report, week_report
from monitor.reports.daily import DayInput
from monitor.reports.days import day_bounds
from monitor.reports.zone import resolve_zone
from tests.reports.synth import office_day

TZ = ZoneInfo("Europe/Copenhagen")
DAY = date(2026, 11, 24)
WIDTHS = (412, 1280)
SCHEMES = ("light", "dark")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
TIMEOUT_S = 60
# Chromium's window is at least 500 px wide while the page loads (the screenshot itself is laid out
# at the asked width), so the probe loads the page in an iframe of the exact width, tall enough for no
# scrollbar, and puts what it measured in its own title, which --dump-dom prints.
PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>probe</title></head>
<body style="margin:0"><iframe id="f" style="display:block;border:0;width:{width}px;height:40000px"
srcdoc="{page}"></iframe><script>
addEventListener("load", () => {{
  const w = document.getElementById("f").contentWindow, d = w.document.documentElement;
  const wide = [...d.querySelectorAll("*")].filter(e => e.getBoundingClientRect().right > {width} + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")).slice(0, 5);
  document.title = ["probe", Math.ceil(d.getBoundingClientRect().height), d.scrollWidth,
    w.matchMedia("(prefers-color-scheme: dark)").matches, wide.join(",")].join(" ");
}});
</script></body></html>
"""
PROBE_TITLE = re.compile(r"<title>probe (\d+) (\d+) (true|false) ?([^<]*)</title>")


@dataclass(frozen=True)
class Shot:
    page: str
    width: int
    scheme: str
    height: int
    scroll_width: int
    dark: bool
    too_wide: str  # the first elements whose right edge is past the window
    png: Path

    @property
    def problems(self) -> list[str]:
        found = []
        if self.scroll_width > self.width:
            found.append(f"{self.scroll_width - self.width} px wider than the window: {self.too_wide}")
        if self.dark != (self.scheme == "dark"):
            found.append(f"prefers-color-scheme was {'dark' if self.dark else 'light'}")
        return found


# -- pages from synthetic days ---------------------------------------------------------------------


def _nudges(start: int) -> tuple[NudgeHistory, ...]:
    """One round of each outcome, timed as the policy times them (prompts 10 min apart)."""

    def prompt(t: int, level: NudgeLevel = NudgeLevel.NUDGE, *outs: tuple[int, NudgeOutcome]) -> NudgeHistory:
        nid = f"thigh-1-{t}"
        return NudgeHistory(
            NudgeRecord(nid, "thigh-1", t, level),
            tuple(
                OutcomeRecord(nid, t + dt, o, float(dt) if o is NudgeOutcome.FOLLOWED else None)
                for dt, o in outs
            ),
        )

    h = 3600
    esc = NudgeLevel.ESCALATION
    return (
        prompt(start + 9 * h, NudgeLevel.NUDGE, (240, NudgeOutcome.FOLLOWED)),
        prompt(start + 10 * h, NudgeLevel.NUDGE, (30, NudgeOutcome.ACKED), (1800, NudgeOutcome.IGNORED)),
        prompt(start + 11 * h, NudgeLevel.NUDGE, (20, NudgeOutcome.SNOOZED), (1500, NudgeOutcome.FOLLOWED)),
        prompt(start + 11 * h + 600),
        prompt(start + 12 * h, NudgeLevel.NUDGE, (60, NudgeOutcome.SNOOZED), (1800, NudgeOutcome.IGNORED)),
        prompt(start + 12 * h + 660),
        prompt(start + 13 * h, NudgeLevel.NUDGE, (2400, NudgeOutcome.IGNORED)),
        prompt(start + 13 * h + 600, esc),
        prompt(start + 13 * h + 1200, esc),
        prompt(start + 14 * h, NudgeLevel.NUDGE, (20, NudgeOutcome.SNOOZED), (1860, NudgeOutcome.IGNORED)),
        prompt(start + 14 * h + 620, NudgeLevel.NUDGE, (30, NudgeOutcome.ACKED)),
        prompt(start + 15 * h, NudgeLevel.NUDGE, (120, NudgeOutcome.FOLLOWED)),
        prompt(start + 16 * h, NudgeLevel.NUDGE, (1200, NudgeOutcome.EXPIRED)),
    )


def _day(day: date, seed: int, *, worn: tuple[int, int] | None = None, nudges: bool = False) -> DayInput:
    start, end = day_bounds(day, TZ)
    labels = np.resize(office_day(start, seed), end - start)
    if worn is not None:  # only these seconds of the day worn, the rest on the charger
        keep = labels[worn[0] : worn[1]].copy()
        labels[:] = Posture.NON_WEAR.code
        labels[worn[0] : worn[1]] = keep
    return DayInput(
        "thigh-1", Placement.THIGH, day, TZ, LabelSpan(start, labels), _nudges(start) if nudges else ()
    )


def synthetic_pages() -> dict[str, str]:
    def previous(day: date) -> list[DayInput]:
        out = []
        for k in range(7, 0, -1):
            d = day - timedelta(days=k)
            out.append(_day(d, k, worn=(9 * 3600, 12 * 3600) if k == 3 else None))
        return out

    start, end = day_bounds(DAY, TZ)
    today = day_report(_day(DAY, 0, nudges=True), previous(DAY), start + 21.5 * 3600)
    yesterday = day_report(_day(DAY, 0, nudges=True), previous(DAY), end + 8 * 3600)
    short_day = DAY + timedelta(days=1)
    worn = (9 * 3600 + 40 * 60, 12 * 3600 + 50 * 60)
    short = day_report(_day(short_day, 5, worn=worn), previous(short_day), day_bounds(short_day, TZ)[1])
    week = week_report([_day(DAY - timedelta(days=k), k) for k in range(6, -1, -1)], end)
    return {
        "today": html.render_day(today),
        "yesterday": html.render_day(yesterday),
        "short": html.render_day(short),
        "week": html.render_week(week),
    }


# -- pages from a database -------------------------------------------------------------------------


def store_pages(db: Path, wearable: str, day: date, tz_name: str) -> dict[str, str]:
    from monitor.store import Store, StoreSettings
    from monitor.store.report_source import load_day_report, load_week_report

    tz = resolve_zone(tz_name)
    end = day_bounds(day, tz)[1]
    with Store(StoreSettings(path=str(db))) as store:
        report = load_day_report(store, wearable, day, tz, as_of=float(end))
        week = load_week_report(store, wearable, day, tz, as_of=float(end))
    return {"day": html.render_day(report), "week": html.render_week(week)}


def run_demo(folder: Path) -> tuple[Path, date, str]:
    """`sitbreak demo` into `folder`: its database, its day and the page it wrote itself."""
    state = folder / "demo"
    print("running sitbreak demo (2-6 min) ...", file=sys.stderr)
    done = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "demo", "--state-dir", str(state), "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        raise SystemExit(f"sitbreak demo failed ({done.returncode}):\n{done.stderr[-2000:]}")
    html_files = sorted(state.glob("report-*.html"))
    if not html_files:
        raise SystemExit(f"sitbreak demo wrote no report in {state}")
    day = date.fromisoformat(html_files[-1].stem.removeprefix("report-"))
    return state / "sitbreak.db", day, html_files[-1].read_text(encoding="utf-8")


# -- Chromium --------------------------------------------------------------------------------------


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("Chromium is not installed: apt-get install chromium")
    return found


def _run(browser: str, profile: Path, width: int, height: int, dark: bool, *args: str) -> str:
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
    if dark:
        flags.append("--force-dark-mode")
    done = subprocess.run(
        [browser, *flags, *args], capture_output=True, text=True, check=False, timeout=TIMEOUT_S
    )
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-1500:]}")
    return done.stdout


def shoot(browser: str, page: Path, *, width: int, scheme: str, out: Path, work: Path) -> Shot:
    name = page.stem
    dark = scheme == "dark"
    profile = work / "profile"
    probe = work / f"probe-{name}.html"
    doc = page.read_text(encoding="utf-8")
    probe.write_text(PROBE.format(width=width, page=escape(doc, quote=True)), encoding="utf-8")
    dom = _run(browser, profile, max(width, 500), 900, dark, "--dump-dom", probe.as_uri())
    found = PROBE_TITLE.search(dom)
    if found is None:
        raise RuntimeError(f"the probe of {page} said nothing: {dom[-300:]!r}")
    height, scroll_width, is_dark = int(found[1]), int(found[2]), found[3] == "true"
    png = out / f"{name}-{width}-{scheme}.png"
    _run(browser, profile, width, height, dark, f"--screenshot={png}", page.as_uri())
    return Shot(name, width, scheme, height, scroll_width, is_dark, found[4], png)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, help="folder for the pages and PNGs (default: a new one in /tmp)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--db", type=Path, help="a sitbreak database to report from")
    source.add_argument("--demo", action="store_true", help="run `sitbreak demo` and report its day")
    parser.add_argument("--wearable", default="thigh", help="with --db (default: thigh)")
    parser.add_argument("--date", help="with --db: the day, YYYY-MM-DD")
    parser.add_argument("--tz", default="", help="with --db: IANA zone (default: the system's)")
    args = parser.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="report-screens-"))
    out.mkdir(parents=True, exist_ok=True)
    browser = chromium()
    if args.demo:
        db, day, own = run_demo(out)
        # The demo's own page (as of its simulated day's end), then the day and week from its store;
        # the demo's days follow the system's zone.
        pages = {"demo": own, **store_pages(db, "thigh", day, "")}
    elif args.db:
        if not args.date:
            parser.error("--db needs --date")
        pages = store_pages(args.db, args.wearable, date.fromisoformat(args.date), args.tz)
    else:
        pages = synthetic_pages()

    # What a tap shows: the first page again with every <details> open, at the phone's width.
    first = next(iter(pages))
    pages[f"{first}-opened"] = pages[first].replace("<details>", "<details open>")
    shots: list[Shot] = []
    started = datetime.now().astimezone()
    with tempfile.TemporaryDirectory(prefix="report-screens-chromium-") as tmp:
        work = Path(tmp)
        for name, doc in pages.items():
            page = out / f"{name}.html"
            page.write_text(doc, encoding="utf-8")
            opened = name.endswith("-opened")
            for width in WIDTHS[:1] if opened else WIDTHS:
                for scheme in SCHEMES[:1] if opened else SCHEMES:
                    shot = shoot(browser, page, width=width, scheme=scheme, out=out, work=work)
                    shots.append(shot)
                    trouble = "; ".join(shot.problems) or "ok"
                    print(f"  {shot.png.name:<28} {width:>5} x {shot.height:<5} {trouble}")
    took = (datetime.now().astimezone() - started).total_seconds()
    bad = [s for s in shots if s.problems]
    print(f"{len(shots)} screenshots in {took:.0f} s, {len(bad)} with problems")
    print(f"folder: {out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
