"""Errors a user can fix. The CLI prints their text without a traceback."""


class UserError(Exception):
    """A mistake the user can correct: bad config, unreadable file, wrong option."""


class ConfigError(UserError):
    """A configuration file breaks a rule. The text names the file, key path, value and rule."""


def why_unreadable(exc: OSError | ValueError, kind: str) -> str:
    """Why a file could not be opened for reading, in a few words for `path: ...`; `kind` is what
    it should have been ("a CSV file"), for a directory given instead."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return f"is a directory, not {kind}"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror}"
    return "not a usable file name"  # ValueError: a NUL byte in the name
