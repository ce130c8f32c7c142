"""How the config is written back to people: values in TOML notation, key paths and unit suffixes.

Shared by the loader's error messages, `sitbreak check-config` and the example file, so a value or a
key reads the same everywhere it appears.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

# Long values are cut in error messages so that one line stays one line.
_MAX_SHOWN = 60
# Units that are not worth repeating after a number ("at least 0 count" reads worse than "at least 0").
_SILENT_UNITS = frozenset({"count", "factor"})


def toml_text(value: object) -> str:
    """A value as TOML writes it: `true`, `"text"`, `[1, 2]`, `{a = 1}`; numbers as Python prints them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, enum.Enum):
        return toml_text(value.value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _toml_string(value: str) -> str:
    """A TOML basic string. Everything not printable is escaped, not only what JSON escapes: a NEL
    (U+0085) or LINE SEPARATOR echoed raw would break one error line into two."""
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(f"\\U{ord(ch):08X}")
    out.append('"')
    return "".join(out)


def show_value(value: object) -> str:
    """A value in TOML notation, cut to one line's worth, for messages and summaries."""
    text = toml_text(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def key_path(prefix: str, key: str) -> str:
    """The dotted path of `key` inside the table at `prefix` ("" for the root)."""
    return f"{prefix}.{key}" if prefix else key


def unit_suffix(meta: Mapping[str, Any]) -> str:
    """The unit to print after a number (" min"); "" when the field has none worth printing."""
    unit = meta.get("unit")
    return f" {unit}" if unit and unit not in _SILENT_UNITS else ""


def plain(value: object) -> object:
    """An enum member as its value (what the user writes), anything else as it is."""
    return value.value if isinstance(value, enum.Enum) else value
