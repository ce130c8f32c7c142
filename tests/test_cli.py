from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import monitor.commands
from monitor import __version__
from monitor.cli import COMMANDS, build_parser, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"sitbreak {__version__}"


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "sitbreak demo" in capsys.readouterr().out


def test_every_command_module_is_registered_in_help_order() -> None:
    # The registry is static: a new module under monitor/commands must be added to COMMANDS by hand.
    # (A module without `register`, such as vocabulary.py, is a helper of the commands, not one.)
    on_disk = {
        name
        for m in pkgutil.iter_modules(monitor.commands.__path__)
        if hasattr(importlib.import_module(name := f"monitor.commands.{m.name}"), "register")
    }
    assert sorted(getattr(c, "__name__", "") for c in COMMANDS) == sorted(on_disk)
    listed = re.findall(r"^    ([a-z-]+) ", build_parser().format_help(), flags=re.MULTILINE)
    assert listed == ["run", "demo", "analyze", "report", "scan", "doctor", "check-config", "export"]
