"""Every `sitbreak` command line in the README parses as written, and those that can run here do
(issue 12: "a test runs the README's examples").

Command lines are taken from the README's ```sh blocks and from `$ ` prompts in its other blocks,
with `\\` continuations joined, `sudo [-u USER]` dropped, and anything from a pipe or redirection on cut
off. Each is parsed by the real parser (an option that does not exist, or a wrong value, fails here).
Those that need no hardware, root or service run for real in a scratch folder: `check-config
--example`, `demo --offline`, `report`/`export` with `--db` (on a database this test fills), `--help`.
The analyze examples run in tests/test_analyze_time.py; the rest (the service, scan, doctor, the live
demo, the system paths) are parse-only, and listed as such below so that a new runnable example is not
skipped unnoticed.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

import firmware_sim.__main__ as sim_main
from monitor.cli import build_parser, main
from monitor.core.types import Bout, Posture
from monitor.demo.run import DAY_START, DEMO_WEARABLE, demo_day
from monitor.reports.zone import resolve_zone
from monitor.store import Store

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PARSE_ONLY = {"run", "scan", "doctor"}


def _lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    out: list[str] = []
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", text, re.S):
        joined = body.replace("\\\n", " ")
        for line in joined.splitlines():
            if lang == "sh":
                out.append(line)
            elif line.startswith("$ "):
                out.append(line[2:])
    return out


def _program(words: list[str]) -> tuple[str, list[str]] | None:
    """(program, its arguments) with sudo and its -u USER dropped; None for an empty line."""
    while words and words[0] == "sudo":
        words = words[1:]
        if words[:1] == ["-u"]:
            words = words[2:]
    if not words:
        return None
    for i, word in enumerate(words):
        if word in ("|", ">", ">>", "&&", ";"):
            words = words[:i]
            break
    return words[0], words[1:]


def readme_commands() -> tuple[list[list[str]], list[list[str]]]:
    """(sitbreak argument lists, python -m firmware_sim argument lists) in the README."""
    sitbreak: list[list[str]] = []
    sim: list[list[str]] = []
    for line in _lines():
        found = _program(shlex.split(line, comments=True))
        if found is None:
            continue
        program, argv = found
        if program == "sitbreak" or program.endswith("/sitbreak"):
            sitbreak.append(argv)
        elif program in ("python", "python3") and argv[:2] == ["-m", "firmware_sim"]:
            sim.append(argv[2:])
    return sitbreak, sim


def test_the_readme_has_command_lines_to_check() -> None:
    sitbreak, _ = readme_commands()
    commands = {argv[0] for argv in sitbreak if argv}
    assert {"analyze", "check-config", "demo", "report", "scan", "doctor"} <= commands, commands


def test_every_sitbreak_line_parses() -> None:
    sitbreak, sim = readme_commands()
    for argv in sitbreak:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            pytest.fail(f"README: `sitbreak {shlex.join(argv)}` does not parse (exit {exc.code})")
        assert isinstance(args, argparse.Namespace)
    for argv in sim:
        sim_main.options(argv)


def _demo_database(path: Path) -> None:
    """What `make demo` leaves: a worn office day on the demo's day."""
    tz = resolve_zone("")
    day = demo_day(tz)
    start = int(datetime.combine(day, DAY_START, tzinfo=tz).timestamp())
    labels = np.repeat(
        np.array([Posture.MOVE.code, Posture.SIT.code, Posture.STAND.code], dtype=np.uint8), [600, 3000, 600]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with Store.open(path) as store:
        store.epochs.write(DEMO_WEARABLE, start, labels)
        store.bouts.add(
            DEMO_WEARABLE,
            [
                Bout(start, start + 600, Posture.MOVE),
                Bout(start + 600, start + 3600, Posture.SIT),
                Bout(start + 3600, start + 4200, Posture.STAND),
            ],
        )


def runnable(argv: list[str]) -> bool:
    command = argv[0] if argv else ""
    if "--help" in argv or "-h" in argv:
        return True
    if command == "check-config":
        return "--example" in argv
    if command == "demo":
        return "--offline" in argv
    if command in ("report", "export"):
        return "--db" in argv
    return False


def test_the_lines_that_can_run_here_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    sitbreak, _ = readme_commands()
    ran: list[str] = []
    for argv in sitbreak:
        command = argv[0]
        if not runnable(argv):
            # Needs Bluetooth, the service, root's paths or a running broker; analyze runs elsewhere.
            assert command in PARSE_ONLY | {"analyze", "check-config", "demo", "report", "export"}, argv
            continue
        db = argv[argv.index("--db") + 1] if "--db" in argv else None
        if db is not None and not Path(db).exists():
            _demo_database(Path(db))
        capsys.readouterr()
        with contextlib.suppress(SystemExit):  # --help exits 0
            rc = main(["--log-level", "WARNING", *argv])
            assert rc == 0, (argv, capsys.readouterr())
        ran.append(shlex.join(argv))
        out_file = argv[argv.index("--out") + 1] if "--out" in argv else None
        if out_file is not None:
            assert Path(out_file).stat().st_size > 0, argv
    assert any(r.startswith("check-config --example") for r in ran), ran
    assert any(r.startswith("demo --offline") for r in ran), ran
    assert any(r.startswith("report ") for r in ran), ran
