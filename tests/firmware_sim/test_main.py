"""`python -m firmware_sim`: a private bus others can use by hand, cleaned up on Ctrl-C."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bleak import BleakScanner

from firmware_sim.__main__ import build_parser, parse_fault
from tests.ble_fixtures import run

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0


def read_header(proc: subprocess.Popen[str]) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("# Ctrl-C"):
            return lines
    pytest.fail(f"firmware_sim printed no ready line: {lines}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_runs_wearables_on_a_private_bus_and_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firmware_sim",
            "--speed",
            "10",
            "--profile",
            "sitsense",
            "--profile",
            "thingy52",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = read_header(proc)
        daemon_pid = int(re.findall(r"dbus-daemon pid (\d+)", lines[0])[0])
        export = next(line for line in lines if line.startswith("export DBUS_SYSTEM_BUS_ADDRESS="))
        address = export.split("=", 1)[1].strip("'")
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        assert sum(line.startswith("# SitSense-") for line in lines) == 1
        assert sum(line.startswith("# Thingy ") for line in lines) == 1

        async def scan() -> set[str]:
            found = await BleakScanner.discover(timeout=1.0)
            return {d.name or "" for d in found}

        seen = run(scan())
        assert any(n.startswith("SitSense-") for n in seen) and "Thingy" in seen
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        if proc.stdout is not None:
            proc.stdout.close()
    deadline = time.monotonic() + 5
    while pid_alive(daemon_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(daemon_pid), "the private dbus-daemon outlived firmware_sim"


def test_fault_option_names_the_rule() -> None:
    assert parse_fault("lost=0.25") == ("lost", 0.25)
    with pytest.raises(argparse.ArgumentTypeError, match="KIND=RATE with KIND one of lost"):
        parse_fault("melted=0.1")
    with pytest.raises(argparse.ArgumentTypeError, match=r"RATE in 0\.\.1"):
        parse_fault("lost=2")


def test_help_teaches_with_examples() -> None:
    text = build_parser().format_help()
    assert "examples:" in text and "--speed 60" in text and "export line" in text
