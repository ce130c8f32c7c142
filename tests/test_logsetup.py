"""Log lines reach journald with their priority, and only journald gets the `<N>` prefixes."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from monitor.logsetup import JournalFormatter, is_journal_stream, syslog_priority

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import logging, sys
from monitor.logsetup import configure_logging
configure_logging("DEBUG", sys.stdout)
log = logging.getLogger("monitor.test")
log.debug("d"); log.info("i"); log.warning("w"); log.error("e")
try:
    raise ValueError("boom")
except ValueError:
    log.exception("failed")
"""


def run_child(journal: bool) -> list[str]:
    """The child's stdout is a pipe; with `journal` the environment names that pipe as systemd would
    name the journal's stream (JOURNAL_STREAM=device:inode)."""
    read_fd, write_fd = os.pipe()
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    if journal:
        info = os.fstat(write_fd)
        env["JOURNAL_STREAM"] = f"{info.st_dev}:{info.st_ino}"
    with os.fdopen(read_fd, "r", encoding="utf-8") as reader:
        proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=write_fd, env=env, cwd=REPO)
        os.close(write_fd)
        lines = reader.read().splitlines()
    assert proc.wait(timeout=60) == 0
    return lines


def test_under_journald_every_line_carries_its_priority() -> None:
    lines = run_child(journal=True)
    assert lines[:4] == [
        "<7>DEBUG monitor.test: d",
        "<6>INFO monitor.test: i",
        "<4>WARNING monitor.test: w",
        "<3>ERROR monitor.test: e",
    ]
    # A traceback's lines stay at the record's priority, so `journalctl -p err` shows all of it.
    assert lines[4] == "<3>ERROR monitor.test: failed"
    assert len(lines) > 6 and all(line.startswith("<3>") for line in lines[4:])
    assert lines[-1] == "<3>ValueError: boom"


def test_a_terminal_or_pipe_gets_plain_lines() -> None:
    lines = run_child(journal=False)
    assert lines[:2] == ["DEBUG monitor.test: d", "INFO monitor.test: i"]
    assert not any(line.startswith("<") for line in lines)


def test_a_journal_stream_naming_another_stream_is_ignored() -> None:
    """JOURNAL_STREAM inherited by a command run from a service's shell names the service's stream,
    not this one; a malformed value names nothing."""
    info = os.fstat(sys.stderr.fileno())
    other = f"{info.st_dev}:{info.st_ino + 1}"
    assert not is_journal_stream(sys.stderr, {"JOURNAL_STREAM": other})
    assert not is_journal_stream(sys.stderr, {"JOURNAL_STREAM": "garbage"})
    assert is_journal_stream(sys.stderr, {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"})


def test_levels_between_the_named_ones_round_down() -> None:
    assert syslog_priority(logging.WARNING + 5) == 4
    assert syslog_priority(logging.CRITICAL) == 2
    assert syslog_priority(1) == 7
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "a\nb", None, None)
    assert JournalFormatter("%(message)s").format(record) == "<4>a\n<4>b"
