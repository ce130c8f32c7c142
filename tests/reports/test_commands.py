"""`sitbreak report` and `sitbreak export` against a real database file."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from monitor.cli import main
from monitor.core.records import LabelSpan, NudgeOutcome, NudgeRecord, OutcomeRecord
from monitor.core.types import Bout, Placement, Posture
from monitor.reports.build import day_report
from monitor.reports.daily import DayInput, runs
from monitor.reports.days import day_bounds
from monitor.reports.trend import DayReport
from monitor.store import Store
from tests.reports.synth import office_day

CPH = ZoneInfo("Europe/Copenhagen")
LAST = date(2026, 10, 25)  # a 25-hour day at the end
DAYS = [LAST - timedelta(days=k) for k in range(7, -1, -1)]


def day_labels(day: date) -> np.ndarray:
    start, end = day_bounds(day, CPH)
    return np.resize(office_day(start, seed=day.toordinal() % 97), end - start)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "sitbreak.db"
    with Store.open(path) as store:
        for day in DAYS:
            start, _ = day_bounds(day, CPH)
            labels = day_labels(day)
            for block in range(0, labels.size, 3600):
                store.epochs.write("thigh", start + block, labels[block : block + 3600])
            store.bouts.add("thigh", [Bout(r.start, r.end, r.label) for r in runs(start, labels)])
        ts = day_bounds(LAST, CPH)[0] + 10 * 3600
        store.nudges.record(NudgeRecord("n1", "thigh", ts))
        store.nudges.add_outcome(OutcomeRecord("n1", ts + 240, NudgeOutcome.FOLLOWED, 240.0))
    return path


def expected_report(day: date) -> DayReport:
    """The same numbers computed straight from the labels, no store in between."""

    def inp(d: date) -> DayInput:
        start, end = day_bounds(d, CPH)
        labels = np.full(end - start, Posture.UNKNOWN.code, dtype=np.uint8)
        if d in DAYS:
            labels = day_labels(d)
        return DayInput("thigh", Placement.THIGH, d, CPH, LabelSpan(start, labels))

    return day_report(inp(day), [inp(day - timedelta(days=k)) for k in range(7, 0, -1)], 0)


def test_json_report_matches_the_computation(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        ["report", "--db", str(db), "--tz", "Europe/Copenhagen", "--date", "2026-10-25", "--format", "json"]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    want = expected_report(LAST).stats
    assert doc["wearable"] == "thigh"
    assert doc["day_length_s"] == 90_000
    assert doc["ts"] == "2026-10-26T00:00:00+01:00", "a past day is reported as of its end"
    assert doc["wear_s"] == want.wear_s
    assert doc["posture_s"]["sit"] == want.sit_s
    assert doc["prolonged_bouts"] == len(want.prolonged)
    assert [b["count"] for b in doc["bout_bins"]] == list(want.bins)
    assert doc["breaks"] == want.breaks
    assert doc["nudges"]["rounds"] == 1 and doc["nudges"]["followed_within_10_min"] == 1
    assert doc["trend"]["valid_days"] == 7


def test_text_report_and_week(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--db", str(db), "--tz", "Europe/Copenhagen", "--date", "2026-10-24"]) == 0
    out = capsys.readouterr().out
    assert "sitbreak · thigh · Saturday 24 October 2026" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_html_report_to_a_file(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "day.html"
    args = ["report", "--db", str(db), "--tz", "Europe/Copenhagen", "--date", "2026-10-25"]
    assert main([*args, "--format", "html", "--out", str(out)]) == 0
    assert capsys.readouterr().err == f"sitbreak: wrote {out}\n"
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Sunday 25 October 2026" in page


def test_missing_database_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "none.db"
    assert main(["report", "--db", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"sitbreak: error: {path}: no database yet (has `sitbreak run` or `sitbreak demo` written one?); "
        "point --db or store.path at it\n"
    )
    assert not path.exists(), "reporting must not create an empty database"


def test_bad_date_and_unknown_wearable(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--db", str(db), "--date", "24/10/2026"]) == 2
    assert "--date '24/10/2026': use YYYY-MM-DD, 'today' or 'yesterday'" in capsys.readouterr().err
    assert main(["report", "--db", str(db), "--wearable", "wrist"]) == 2
    assert f"no data for wearable 'wrist' in {db} (stored: thigh)" in capsys.readouterr().err


def test_corrupt_database_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"garbage" * 1000)
    assert main(["report", "--db", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"sitbreak: error: {path}: not a sitbreak database or corrupt: file is not a database; "
        "move it aside to start afresh\n"
    )


def test_export_writes_epochs_and_bouts(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "csv"
    rc = main(
        [
            "export",
            "--db",
            str(db),
            "--timezone",
            "Europe/Copenhagen",
            "--from",
            "2026-10-24",
            "--to",
            "2026-10-25",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    epochs_path = out / "epochs_thigh_2026-10-24_2026-10-25.csv"
    bouts_path = out / "bouts_thigh_2026-10-24_2026-10-25.csv"
    assert capsys.readouterr().out.splitlines() == [str(epochs_path), str(bouts_path)]
    with epochs_path.open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t", "iso_time", "label"]  # as `sitbreak analyze` writes them
    assert len(rows) - 1 == 86_400 + 90_000
    start = day_bounds(date(2026, 10, 24), CPH)[0]
    assert rows[1] == [str(start), "2026-10-24T00:00:00+02:00", "non_wear"]
    assert rows[-1][1] == "2026-10-25T23:59:59+01:00"
    labels = np.concatenate([day_labels(date(2026, 10, 24)), day_labels(LAST)])
    names = {"sit": 0, "lie": 1, "stand": 2, "move": 3, "cycle": 4, "non_wear": 5, "unknown": 6}
    assert [names[r[2]] for r in rows[1:]] == labels.tolist()
    with bouts_path.open() as f:
        bouts = list(csv.DictReader(f))
    assert sum(int(b["duration_s"]) for b in bouts) == 86_400 + 90_000
    assert all(b["start"].startswith("2026-10-2") for b in bouts)


def test_export_rejects_a_backwards_range(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--db", str(db), "--from", "2026-10-25", "--to", "2026-10-24"]) == 2
    assert "--to 2026-10-24 is before --from 2026-10-25" in capsys.readouterr().err


def test_week_json_and_text(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # --week ends today; with --tz and a store of past days, the JSON still names the 7 days.
    assert main(["report", "--db", str(db), "--tz", "Europe/Copenhagen", "--week", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "weekly" and len(doc["days"]) == 7
    first, last = date.fromisoformat(doc["first_date"]), date.fromisoformat(doc["last_date"])
    assert last - first == timedelta(days=6)
    stored = sum(1 for d in DAYS if first <= d <= last)  # every stored office day is worn ~12 h
    assert doc["valid_days"] == stored
    assert main(["report", "--db", str(db), "--tz", "Europe/Copenhagen", "--week"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    expected = f"On {stored} worn day" if stored else "No day this week was worn long enough"
    assert expected in out


def test_week_ends_on_the_date_given(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--week takes --date as its last day (before, the two were mutually exclusive and the week always
    ended today)."""
    args = ["report", "--db", str(db), "--timezone", "Europe/Copenhagen", "--format", "json"]
    assert main([*args, "--week", "--date", "2026-10-25"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["first_date"], doc["last_date"]) == ("2026-10-19", "2026-10-25")
    assert doc["valid_days"] == 7
