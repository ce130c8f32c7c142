"""Logging for the command line and the service: short lines, and priorities journald understands.

Under systemd, stdout goes to the journal, which stores every line at the unit's default priority
(info) unless the line starts with a syslog priority prefix such as `<4>` (sd-daemon(3)). Without the
prefix `journalctl -p warning -u sitbreak` shows nothing, however bad things are; with it, warnings and
errors can be filtered and are highlighted. systemd sets JOURNAL_STREAM to the device and inode of the
stream it connected, so the prefix is used only when our stream really is that journal stream, never
on a terminal or in a pipe (where it would be noise).
"""

from __future__ import annotations

import logging
import os
from typing import TextIO

# journald adds its own timestamps and unit name; keep lines short and greppable.
FORMAT = "%(levelname)s %(name)s: %(message)s"

# syslog(3) priorities for Python's levels.
_PRIORITY = {
    logging.CRITICAL: 2,  # LOG_CRIT
    logging.ERROR: 3,  # LOG_ERR
    logging.WARNING: 4,  # LOG_WARNING
    logging.INFO: 6,  # LOG_INFO
    logging.DEBUG: 7,  # LOG_DEBUG
}


def syslog_priority(levelno: int) -> int:
    """The syslog priority of a logging level (levels between the named ones round down to them)."""
    for level in sorted(_PRIORITY, reverse=True):
        if levelno >= level:
            return _PRIORITY[level]
    return _PRIORITY[logging.DEBUG]


class JournalFormatter(logging.Formatter):
    """Prefixes each line with its priority as `<N>`, once per physical line of a multi-line record
    (a traceback's lines would otherwise land at info)."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).split("\n"))


def is_journal_stream(stream: TextIO, env: dict[str, str] | None = None) -> bool:
    """True when `stream` is the journal connection systemd announced in JOURNAL_STREAM."""
    value = (os.environ if env is None else env).get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not device.isdigit() or not inode.isdigit():
        return False
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):  # no file descriptor (captured by a test runner, closed)
        return False
    return (info.st_dev, info.st_ino) == (int(device), int(inode))


def configure_logging(level: str, stream: TextIO) -> None:
    """Log `level` and above to `stream`, with journald priorities when it is the journal."""
    handler = logging.StreamHandler(stream)
    formatter = JournalFormatter(FORMAT) if is_journal_stream(stream) else logging.Formatter(FORMAT)
    handler.setFormatter(formatter)
    logging.basicConfig(level=getattr(logging, level), handlers=[handler])
