"""Where the configuration and the state live when no path is given.

Root (the system service, `sudo sitbreak ...`) keeps the system paths, which the systemd unit also
passes explicitly: /etc/sitbreak/sitbreak.toml and /var/lib/sitbreak. Anyone else gets the XDG base
directories (freedesktop.org's Base Directory Specification): `$XDG_CONFIG_HOME/sitbreak/sitbreak.toml`
(default ~/.config) and `$XDG_STATE_HOME/sitbreak` (default ~/.local/state), so `sitbreak run` and the
`systemd --user` unit (systemd/sitbreak-user.service) work without root. A relative XDG_* value is
ignored, as the specification says.

The commands that only read (`report`, `export`, `check-config`) look in the user's place first and
then in the system's, so a person can read the reports of the system service (README: "Reports") as
well as those of their own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SYSTEM_CONFIG_DIR = Path("/etc/sitbreak")
SYSTEM_STATE_DIR = Path("/var/lib/sitbreak")
CONFIG_NAME = "sitbreak.toml"
DATABASE_NAME = "sitbreak.db"


@dataclass(frozen=True, slots=True)
class Places:
    """The default config file and state directory for one user (root or not)."""

    config: Path
    state_dir: Path
    root: bool

    @classmethod
    def here(cls, env: Mapping[str, str] | None = None, euid: int | None = None) -> Places:
        """The places for this process: its effective user and its environment."""
        env = os.environ if env is None else env
        root = (os.geteuid() if euid is None else euid) == 0
        if root:
            return cls(SYSTEM_CONFIG_DIR / CONFIG_NAME, SYSTEM_STATE_DIR, root=True)
        config = _xdg(env, "XDG_CONFIG_HOME", ".config")
        state = _xdg(env, "XDG_STATE_HOME", ".local/state")
        return cls(config / "sitbreak" / CONFIG_NAME, state / "sitbreak", root=False)

    @property
    def database(self) -> Path:
        return self.state_dir / DATABASE_NAME

    def config_candidates(self) -> tuple[Path, ...]:
        """Where a reading command looks for the config file, in order."""
        system = SYSTEM_CONFIG_DIR / CONFIG_NAME
        return (self.config,) if self.config == system else (self.config, system)

    def database_candidates(self) -> tuple[Path, ...]:
        """Where a reading command looks for the database, in order."""
        system = SYSTEM_STATE_DIR / DATABASE_NAME
        return (self.database,) if self.database == system else (self.database, system)


def _xdg(env: Mapping[str, str], name: str, fallback: str) -> Path:
    value = env.get(name, "")
    if value and os.path.isabs(value):
        return Path(value)
    home = env.get("HOME") or str(Path.home())
    return Path(home) / fallback


def first_existing(paths: tuple[Path, ...]) -> Path | None:
    return next((p for p in paths if p.exists()), None)
