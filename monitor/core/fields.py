"""Declaring a setting: a dataclass field that carries its own doc, unit and rules.

Each area's settings dataclass declares its keys with `setting()`; the config loader (monitor/config/)
reads the metadata both to check values from a file and to write the documented example file:

    nudge_after: float = setting(30.0, "sitting time before the first nudge", unit="min", min=5, max=240)

Metadata keys, set only when given (so an absent unit or bound reads exactly as before):

    doc          what the key is for; always
    unit         "s", "min", "Hz", "g", ...; "count" and "factor" are not repeated after numbers
    min, max     inclusive bounds, in `unit`
    choices      the allowed values (for an array: the allowed items)
    pattern      a regular expression the whole string must match
    pattern_doc  the pattern in words, for messages: "1-32 letters, digits, _ or -"
    check        value -> problem text or None, for a rule metadata cannot state

A key without a default uses `field(metadata=setting_metadata(...))` instead: mypy's dataclass plugin
recognises only `dataclasses.field` as "no default", and would otherwise let code omit the key.

Imports nothing of monitor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


def setting_metadata(
    doc: str,
    *,
    unit: str = "",
    min: float | None = None,
    max: float | None = None,
    choices: tuple[object, ...] | None = None,
    pattern: str | None = None,
    pattern_doc: str = "",
    check: Callable[[Any], str | None] | None = None,
) -> dict[str, object]:
    """The field metadata the config loader reads: only the keys given, `doc` always.

    `min` and `max` shadow the builtins on purpose: they are the metadata keys' own names, and this
    module does not use the builtins.
    """
    if not doc:
        raise ValueError("a setting needs a doc: the example file and check-config show it")
    given: dict[str, object] = {
        "unit": unit or None,
        "min": min,
        "max": max,
        "choices": choices,
        "pattern": pattern,
        "pattern_doc": pattern_doc or None,
        "check": check,
    }
    return {"doc": doc} | {key: value for key, value in given.items() if value is not None}


@overload
def setting(
    default: T,
    doc: str,
    *,
    unit: str = "",
    min: float | None = None,
    max: float | None = None,
    choices: tuple[object, ...] | None = None,
    pattern: str | None = None,
    pattern_doc: str = "",
    check: Callable[[T], str | None] | None = None,
) -> T: ...


@overload
def setting(
    *,
    default_factory: Callable[[], T],
    doc: str,
    unit: str = "",
    min: float | None = None,
    max: float | None = None,
    choices: tuple[object, ...] | None = None,
    pattern: str | None = None,
    pattern_doc: str = "",
    check: Callable[[T], str | None] | None = None,
) -> T: ...


def setting(
    default: Any = dataclasses.MISSING,
    doc: str = "",
    *,
    default_factory: Any = dataclasses.MISSING,
    unit: str = "",
    min: float | None = None,
    max: float | None = None,
    choices: tuple[object, ...] | None = None,
    pattern: str | None = None,
    pattern_doc: str = "",
    check: Callable[[Any], str | None] | None = None,
) -> Any:
    """A dataclass field with a default (or a default_factory for a nested table) and its metadata."""
    if (default is dataclasses.MISSING) == (default_factory is dataclasses.MISSING):
        raise TypeError("a setting takes a default or a default_factory (exactly one)")
    metadata = setting_metadata(
        doc,
        unit=unit,
        min=min,
        max=max,
        choices=choices,
        pattern=pattern,
        pattern_doc=pattern_doc,
        check=check,
    )
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)
