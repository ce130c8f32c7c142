"""One vocabulary across commands (issue 12, "The CLI and the first run").

Every visible option of every command comes from one table (`monitor.commands.vocabulary.OPTIONS`)
with its metavar and short form, so a new command cannot drift; older spellings are hidden aliases
(`ALIASES`) that still work. --log-level goes before or after the command, -q wherever a command
prints progress, today/yesterday wherever a date goes, the simulator's profile names are the
config's, analyze and export write the same CSV columns and time format, and options that do not
apply to a mode are refused in one line.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

import firmware_sim.__main__ as sim_main
from firmware_sim.motion import Activity, MotionConfig, MotionModel, Segment, write_csv
from firmware_sim.wearable import Profile
from monitor.cli import build_parser, main
from monitor.commands.vocabulary import ALIASES, OPTIONS
from monitor.core.types import Bout, Posture
from monitor.reports.csvformat import BOUT_COLUMNS, EPOCH_COLUMNS
from monitor.reports.days import day_bounds
from monitor.store import Store
from monitor.wearables.profiles import ProfileName

# Commands that print progress or status lines, and so take -q/--quiet.
QUIET = {"demo", "analyze", "report", "export", "scan", "doctor"}


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def options(parser: argparse.ArgumentParser) -> Iterator[tuple[argparse.Action, bool]]:
    """(action, hidden) for every optional argument."""
    for action in parser._actions:
        if action.option_strings:
            yield action, action.help == argparse.SUPPRESS


def test_every_visible_option_is_in_the_one_table() -> None:
    used: set[str] = set()
    parsers = {"sitbreak": build_parser(), **commands()}
    for name, parser in parsers.items():
        for action, hidden in options(parser):
            longs = [s for s in action.option_strings if s.startswith("--")]
            shorts = [s for s in action.option_strings if not s.startswith("--")]
            assert len(longs) == 1, (name, action.option_strings)
            (long,) = longs
            if hidden:
                continue
            assert long in OPTIONS, f"sitbreak {name} {long}: not in vocabulary.OPTIONS"
            spec = OPTIONS[long]
            metavar = action.metavar
            assert metavar == spec.metavar, f"sitbreak {name} {long} {metavar}: the table says {spec.metavar}"
            assert shorts == ([spec.short] if spec.short else []), (name, long, shorts)
            used.add(long)
    assert used == set(OPTIONS), f"table entries no command uses: {set(OPTIONS) - used}"


def test_hidden_options_are_the_listed_aliases_of_an_option_beside_them() -> None:
    seen: set[str] = set()
    for name, parser in commands().items():
        by_long = {a.option_strings[-1]: a for a, hidden in options(parser) if not hidden}
        for action, hidden in options(parser):
            if not hidden or action.dest == "log_level":
                continue
            (alias,) = action.option_strings
            assert alias in ALIASES, f"sitbreak {name} {alias}: hidden but not in vocabulary.ALIASES"
            target = ALIASES[alias]
            assert target in by_long, f"sitbreak {name} {alias}: its option {target} is not there"
            assert action.dest == by_long[target].dest, (name, alias)
            seen.add(alias)
    assert seen == set(ALIASES)


@pytest.mark.parametrize("name", sorted(commands()))
def test_log_level_goes_before_or_after_the_command(name: str) -> None:
    parser = build_parser()
    needs = {"analyze": ["x.csv"], "export": ["--from", "today", "--to", "today"]}.get(name, [])
    after = parser.parse_args([name, *needs, "--log-level", "DEBUG"])
    before = parser.parse_args(["--log-level", "WARNING", name, *needs])
    neither = parser.parse_args([name, *needs])
    assert (after.log_level, before.log_level, neither.log_level) == ("DEBUG", "WARNING", "INFO")


def test_quiet_wherever_a_command_prints_progress() -> None:
    for name, parser in commands().items():
        flags = {s for a, _ in options(parser) for s in a.option_strings}
        assert ({"-q", "--quiet"} <= flags) == (name in QUIET), name


def test_every_date_option_takes_today_and_yesterday() -> None:
    dated = {
        (name, a.option_strings[0])
        for name, parser in commands().items()
        for a, _ in options(parser)
        if a.metavar == "DATE"
    }
    assert dated == {("report", "--date"), ("export", "--from"), ("export", "--to")}


def test_the_simulator_names_profiles_as_the_config_does() -> None:
    assert [p.value for p in Profile] == [p.value for p in ProfileName]
    assert sim_main.options(["--profile", "thingy52"]).profiles == (Profile.THINGY52,)
    # The old spelling still works for scripts that use it.
    assert sim_main.options(["--profile", "thingy"]).profiles == (Profile.THINGY52,)
    assert Profile("thingy") is Profile.THINGY52


# --- analyze and export write the same files ------------------------------------------------------

CPH = ZoneInfo("Europe/Copenhagen")
DAY = date(2026, 11, 24)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "sitbreak.db"
    start = day_bounds(DAY, CPH)[0] + 9 * 3600
    labels = np.array([Posture.SIT.code] * 600 + [Posture.STAND.code] * 300, dtype=np.uint8)
    with Store.open(path) as store:
        store.epochs.write("thigh", start, labels)
        store.bouts.add(
            "thigh", [Bout(start, start + 600, Posture.SIT), Bout(start + 600, start + 900, Posture.STAND)]
        )
    return path


def test_analyze_and_export_write_the_same_columns_and_time_format(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "day.csv"
    model = MotionModel([Segment(Activity.WALK, 60), Segment(Activity.SIT, 60)], MotionConfig(seed=1))
    write_csv(model, recording, datetime(2026, 11, 24, 8, tzinfo=UTC).timestamp())
    assert main(["analyze", "-q", "--out-dir", str(tmp_path / "a"), str(recording)]) == 0
    args = ["export", "-q", "--db", str(db), "--timezone", "Europe/Copenhagen"]
    assert main([*args, "--from", "2026-11-24", "--to", "2026-11-24", "--out-dir", str(tmp_path / "e")]) == 0
    capsys.readouterr()
    analyzed = {
        "epochs": _read(tmp_path / "a" / "day.epochs.csv"),
        "bouts": _read(tmp_path / "a" / "day.bouts.csv"),
    }
    exported = {
        "epochs": _read(tmp_path / "e" / "epochs_thigh_2026-11-24_2026-11-24.csv"),
        "bouts": _read(tmp_path / "e" / "bouts_thigh_2026-11-24_2026-11-24.csv"),
    }
    for kind, header in (("epochs", EPOCH_COLUMNS), ("bouts", BOUT_COLUMNS)):
        assert analyzed[kind][0] == exported[kind][0] == list(header), kind
    for rows in (analyzed, exported):
        t, iso, label = rows["epochs"][1]
        assert ISO.match(iso) and datetime.fromisoformat(iso).timestamp() == int(t)
        assert label in {p.value for p in Posture}
        for start, end, start_t, end_t, duration, _label in rows["bouts"][1:]:
            assert ISO.match(start) and ISO.match(end)
            assert datetime.fromisoformat(start).timestamp() == int(start_t)
            assert datetime.fromisoformat(end).timestamp() == int(end_t)
            assert int(end_t) - int(start_t) == int(duration)
    assert analyzed["epochs"][1][1] == "2026-11-24T08:00:00Z"  # analyze: UTC
    assert exported["epochs"][1][1] == "2026-11-24T09:00:00+01:00"  # export: the days' own zone
    assert exported["bouts"][1][-1] == "sit" and exported["bouts"][2][-1] == "stand"


def test_export_takes_today_and_yesterday(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["export", "-q", "--db", str(db), "--out-dir", str(tmp_path)]
    assert main([*args, "--from", "yesterday", "--to", "today"]) == 0
    today = datetime.now().astimezone().date()
    names = capsys.readouterr().out.split()
    assert names[0].endswith(f"epochs_thigh_{today - timedelta(days=1)}_{today}.csv")
    assert main([*args, "--from", "someday", "--to", "today"]) == 2
    assert "--from 'someday': use YYYY-MM-DD, 'today' or 'yesterday'" in capsys.readouterr().err


def test_old_spellings_still_work(tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "old"
    args = ["export", "--quiet", "--db", str(db), "--tz", "Europe/Copenhagen", "--out", str(out)]
    assert main([*args, "--from", "2026-11-24", "--to", "2026-11-24"]) == 0
    assert (out / "epochs_thigh_2026-11-24_2026-11-24.csv").is_file()
    assert main(["report", "--db", str(db), "--tz", "Europe/Copenhagen", "--date", "2026-11-24"]) == 0
    assert "Tuesday 24 November 2026" in capsys.readouterr().out


# --- options that do not apply are refused ---------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--offline", "--speed", "10"], "--speed: only for the live demo, not with --offline"),
        (
            ["demo", "--offline", "--mqtt-host", "h", "--state-dir", "d"],
            "--state-dir, --mqtt-host: only for the live demo, not with --offline",
        ),
        (
            ["demo", "--schedule", "day"],
            "--schedule: only with --offline; the live demo is a thigh office day",
        ),
        (["demo", "--rate", "25"], "--rate: only with --offline"),
        (["demo", "--placement", "thigh"], "--placement: only with --offline"),  # even the default value
        (["demo", "--mqtt-port", "1884"], "--mqtt-port goes with --mqtt-host"),
        (["check-config", "--example", "a.toml"], "--example prints the example and checks nothing"),
    ],
)
def test_options_that_do_not_apply_are_refused_in_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("sitbreak: error: ") and message in err and err.count("\n") == 1, err
