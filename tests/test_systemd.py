"""The systemd unit passes systemd's own checks, and the notify protocol reaches a real socket."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.sdnotify import SystemdNotifier

REPO = Path(__file__).resolve().parent.parent
UNIT = REPO / "systemd" / "sitbreak.service"
USER_UNIT = REPO / "systemd" / "sitbreak-user.service"
MAX_EXPOSURE = 2.0
# A user's service cannot take the system unit's mount and capability settings (they need root); what
# it can restrict (seccomp, no new privileges) brings systemd's rating from 9.1 to 6.3.
MAX_USER_EXPOSURE = 6.5

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (Debian package systemd)"
)


def unit_with_local_binary(tmp_path: Path) -> Path:
    """The unit as shipped, but ExecStart pointing at this checkout's console script so verify finds it."""
    script = Path(sys.executable).parent / "sitbreak"
    text = UNIT.read_text().replace("/opt/sitbreak/.venv/bin/sitbreak", str(script))
    out = tmp_path / "sitbreak.service"
    out.write_text(text)
    return out


@needs_systemd_analyze
def test_unit_verifies(tmp_path: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit_with_local_binary(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "sitbreak.service" not in result.stderr, result.stderr


@needs_systemd_analyze
def test_unit_exposure_is_low() -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        check=False,
    )
    line = next(x for x in result.stdout.splitlines() if "Overall exposure level" in x)
    exposure = float(line.split(":")[1].split()[0])
    assert exposure <= MAX_EXPOSURE, line


def test_unit_declares_what_the_daemon_relies_on() -> None:
    text = UNIT.read_text()
    for directive in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "SupplementaryGroups=bluetooth",
        "StateDirectory=sitbreak",
        "ConfigurationDirectory=sitbreak",
        "LoadCredential=mqtt-password:",
        "After=bluetooth.target",
        "ProtectSystem=strict",
    ):
        assert directive in text, directive


def user_manager_env(tmp_path: Path) -> dict[str, str]:
    """`systemd-analyze --user` needs a runtime directory (a user session has one); here a temporary."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}


def user_unit_with_local_binary(tmp_path: Path) -> Path:
    script = Path(sys.executable).parent / "sitbreak"
    text = USER_UNIT.read_text()
    assert "ExecStart=%h/sitbreak/.venv/bin/sitbreak run\n" in text
    out = tmp_path / "sitbreak-user.service"
    out.write_text(text.replace("%h/sitbreak/.venv/bin/sitbreak", str(script)))
    return out


@needs_systemd_analyze
def test_user_unit_verifies_for_a_user_manager(tmp_path: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "--user", "verify", str(user_unit_with_local_binary(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
        env=user_manager_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "sitbreak-user.service" not in result.stderr, result.stderr


@needs_systemd_analyze
def test_user_unit_exposure(tmp_path: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "--user", "security", "--offline=yes", "--no-pager", str(USER_UNIT)],
        capture_output=True,
        text=True,
        check=False,
        env=user_manager_env(tmp_path),
    )
    line = next(x for x in result.stdout.splitlines() if "Overall exposure level" in x)
    assert float(line.split(":")[1].split()[0]) <= MAX_USER_EXPOSURE, line


def test_user_unit_runs_on_the_xdg_defaults() -> None:
    """No paths and no StateDirectory= (systemd before 253 puts it under ~/.config for user units):
    `sitbreak run` as a user picks ~/.config/sitbreak and ~/.local/state/sitbreak itself
    (tests/test_paths.py); no User=, since a user manager runs it as that user."""
    text = USER_UNIT.read_text()
    for directive in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "WantedBy=default.target"):
        assert directive in text, directive
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    assert exec_start.endswith("sitbreak run"), exec_start
    for absent in ("User=", "StateDirectory=", "ConfigurationDirectory=", "LoadCredential="):
        assert f"\n{absent}" not in text, absent


def test_notifier_speaks_the_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2)
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    notifier = SystemdNotifier(str(path))
    try:
        assert notifier.watchdog_interval() == 15.0
        notifier.ready("searching for wearables")
        assert server.recv(256) == b"READY=1\nSTATUS=searching for wearables"
        notifier.watchdog()
        assert server.recv(256) == b"WATCHDOG=1"
    finally:
        notifier.close()
        server.close()


def test_notifier_is_silent_outside_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    notifier = SystemdNotifier()
    assert not notifier.enabled
    assert notifier.watchdog_interval() is None
    notifier.ready("nothing listens")  # must not raise
