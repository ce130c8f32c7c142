"""Run code bound by file modes, also when the tests run as root (CI).

Root ignores file modes through its DAC capabilities (capabilities(7)). The child drops them from its
capability bounding set with `setpriv` (util-linux), keeping uid 0 and so every file it owns under
/root: it is refused exactly where an ordinary user would be.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Without these a root process ignores file modes.
_DAC_CAPS = "-dac_override,-dac_read_search,-fowner"


def as_plain_user(code: str) -> subprocess.CompletedProcess[str]:
    """Run Python `code` (dedented) in a child bound by file modes; its output is captured as text."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.fail("setpriv (Debian package util-linux) is needed to test permissions as root")
        prefix = [setpriv, "--bounding-set", _DAC_CAPS]
    return subprocess.run(
        [*prefix, sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
