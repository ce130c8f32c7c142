"""Not root -> XDG paths (issue 12, "Packaging"): without a path given, a user's config is
$XDG_CONFIG_HOME/sitbreak/sitbreak.toml (~/.config) and their state $XDG_STATE_HOME/sitbreak
(~/.local/state); root keeps /etc/sitbreak and /var/lib/sitbreak. The commands that only read look in
the user's place, then the system's. --help shows the default actually used.

The end-to-end tests run `sitbreak` as the user `nobody` (setpriv, when the tests run as root) with a
home directory of their own, as a person without root would.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config.paths import SYSTEM_CONFIG_DIR, SYSTEM_STATE_DIR, Places

SITBREAK = Path(sys.executable).parent / "sitbreak"
NOBODY = 65534


def test_root_keeps_the_system_paths() -> None:
    places = Places.here({"HOME": "/root", "XDG_CONFIG_HOME": "/x"}, euid=0)
    assert places.config == Path("/etc/sitbreak/sitbreak.toml")
    assert places.state_dir == Path("/var/lib/sitbreak")
    assert places.database == Path("/var/lib/sitbreak/sitbreak.db")
    assert places.config_candidates() == (places.config,)
    assert places.database_candidates() == (places.database,)


def test_a_user_gets_the_xdg_defaults() -> None:
    places = Places.here({"HOME": "/home/ann"}, euid=1000)
    assert places.config == Path("/home/ann/.config/sitbreak/sitbreak.toml")
    assert places.state_dir == Path("/home/ann/.local/state/sitbreak")
    # Reading commands fall back to the system service's files.
    assert places.config_candidates() == (places.config, SYSTEM_CONFIG_DIR / "sitbreak.toml")
    assert places.database_candidates() == (places.database, SYSTEM_STATE_DIR / "sitbreak.db")


def test_xdg_variables_win_and_relative_ones_are_ignored() -> None:
    env = {"HOME": "/home/ann", "XDG_CONFIG_HOME": "/cfg", "XDG_STATE_HOME": "/st"}
    places = Places.here(env, euid=1000)
    assert (places.config, places.state_dir) == (Path("/cfg/sitbreak/sitbreak.toml"), Path("/st/sitbreak"))
    # The Base Directory Specification: a relative path in these variables is invalid and ignored.
    places = Places.here({**env, "XDG_CONFIG_HOME": "cfg", "XDG_STATE_HOME": ""}, euid=1000)
    assert places.config == Path("/home/ann/.config/sitbreak/sitbreak.toml")
    assert places.state_dir == Path("/home/ann/.local/state/sitbreak")


# --- as a user without root -----------------------------------------------------------------------


@pytest.fixture
def home() -> Iterator[Path]:
    """A home directory `nobody` owns, in a folder it can reach."""
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"sitbreak-home-{os.getpid()}-{time.monotonic_ns()}"
    base.mkdir(mode=0o755)
    home = base / "home"
    home.mkdir()
    if os.geteuid() == 0:
        os.chown(home, NOBODY, NOBODY)
    try:
        yield home
    finally:
        shutil.rmtree(base, ignore_errors=True)


def as_user(home: Path, *argv: str) -> subprocess.Popen[str]:
    """`sitbreak ARGV` as a user who is not root, with `home` as HOME and no XDG variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    # COLUMNS: --help on one line per option (argparse would break the long paths at their hyphens).
    env.update(
        HOME=str(home), DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/system_bus_socket", COLUMNS="500"
    )
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.fail("setpriv (Debian package util-linux) is needed to run as another user")
        prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return subprocess.Popen(
        [*prefix, str(SITBREAK), *argv],
        env=env,
        cwd=home,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def output(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def write_config(home: Path) -> Path:
    path = home / ".config" / "sitbreak" / "sitbreak.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[[wearables]]\nid = "me"\naddress = "F0:00:00:00:00:09"\n\n[mqtt]\nenabled = false\n')
    if os.geteuid() == 0:
        for p in (home / ".config", path.parent, path):
            os.chown(p, NOBODY, NOBODY)
    return path


def test_help_shows_the_users_own_defaults(home: Path) -> None:
    rc, out = output(as_user(home, "run", "--help"))
    assert rc == 0, out
    flat = " ".join(out.split())
    assert f"--config FILE the configuration file (default: {home}/.config/sitbreak/sitbreak.toml)" in flat
    assert f"(default: {home}/.local/state/sitbreak)" in flat
    rc, out = output(as_user(home, "report", "--help"))
    flat = " ".join(out.split())
    assert (
        f"{home}/.config/sitbreak/sitbreak.toml or /etc/sitbreak/sitbreak.toml, the first that exists" in flat
    )


def test_run_check_config_and_report_use_the_xdg_places(home: Path) -> None:
    config = write_config(home)
    rc, out = output(as_user(home, "check-config"))
    assert rc == 0 and out.startswith(f"{config}: OK"), out

    service = as_user(home, "run")
    database = home / ".local" / "state" / "sitbreak" / "sitbreak.db"
    try:
        deadline = time.monotonic() + 30
        while not database.exists():
            assert service.poll() is None, output(service)[1]
            assert time.monotonic() < deadline, "no database in $XDG_STATE_HOME/sitbreak"
            time.sleep(0.1)
    finally:
        service.send_signal(signal.SIGTERM)
    rc, out = output(service)
    assert rc == 0, out
    assert f"store {database}" in out

    # report finds that database without being told (the wearable has no data yet: an empty day).
    rc, out = output(as_user(home, "report", "--format", "json"))
    assert rc == 0 and '"wearable": "me"' in out, out


def test_check_config_without_a_file_says_where_it_looked(home: Path) -> None:
    rc, out = output(as_user(home, "check-config"))
    config = home / ".config" / "sitbreak" / "sitbreak.toml"
    assert rc == 2
    assert out == (
        f"sitbreak: error: {config}: no such file (the default for this user); give a FILE to check, or "
        f"start one: mkdir -p {config.parent} && sitbreak check-config --example > {config}\n"
    )
