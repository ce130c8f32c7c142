"""A user's values and file names as error lines show them: quoted, control characters escaped, long
ones shortened, so that a bad value still makes one readable line."""

from __future__ import annotations

from pathlib import Path

# Values quoted in error lines are cut to this many characters.
MAX_SHOWN_CHARS = 60


def shown(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """A user's value for an error line: quoted, control characters escaped, cut to `limit` characters."""
    clean = printable(text)
    if len(clean) <= limit:
        return '"' + clean.replace('"', '\\"') + '"'
    return '"' + clean[:limit].replace('"', '\\"') + f'…" ({len(text)} characters)'


def shown_path(path: str | Path, limit: int = 200) -> str:
    """A file name for a message: control characters and undecodable bytes escaped, long ones cut from
    the front (the end names the file)."""
    clean = printable(str(path))
    return clean if len(clean) <= limit else "…" + clean[-limit:]


def printable(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode() for c in text
    )
