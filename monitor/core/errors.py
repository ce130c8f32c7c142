"""Errors a user can fix. The CLI prints their text without a traceback."""


class UserError(Exception):
    """A mistake the user can correct: bad config, unreadable file, wrong option."""


class ConfigError(UserError):
    """A configuration file breaks a rule. The text names the file, key path, value and rule."""
