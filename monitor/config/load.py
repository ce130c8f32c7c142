"""Reading sitbreak.toml: a generic TOML -> frozen dataclass converter that reports every error at once.

Given a settings dataclass, the converter reads the matching TOML table, checks every value against the
field's annotation and metadata ("doc" always; "unit", "min", "max", "choices", "pattern", "check" when
they apply; a number must be finite), and collects ALL errors before it gives up, each naming the file,
the key path, the value and the rule:

    sitbreak.toml: wearables[0].placement = "knee": must be one of thigh, waist, wrist
    sitbreak.toml: mqtt.hots: unknown key (did you mean "host"?)

Supported annotations: bool, int, float, str, StrEnum/Enum, tuple[X, ...], list[X], fixed tuples,
nested dataclasses, tuples of dataclasses (arrays of tables) and `X | None`.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import re
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from monitor.config.notation import key_path, plain, show_value, unit_suffix
from monitor.config.schema import Config
from monitor.core.errors import ConfigError, why_unreadable
from monitor.nudges.settings import PolicySettings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Ctx:
    file: str
    errors: list[str]

    def error(self) -> ConfigError:
        if len(self.errors) == 1:
            return ConfigError(self.errors[0])
        # One line per problem, each complete on its own (file: key = value: rule), so they grep well.
        return ConfigError(f"{len(self.errors)} problems in {self.file}:\n" + "\n".join(self.errors))

    def fail(self, path: str, message: str, value: object = dataclasses.MISSING) -> None:
        shown = "" if value is dataclasses.MISSING else f" = {show_value(value)}"
        self.errors.append(f"{self.file}: {path}{shown}: {message}")


def is_dataclass_type(tp: object) -> bool:
    """True for a dataclass itself (a table), not for an instance of one."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _convert(tp: Any, value: Any, meta: Mapping[str, Any], path: str, ctx: _Ctx) -> Any:
    """Check one value against its annotation and metadata; return the converted value or MISSING."""
    bad = dataclasses.MISSING
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"{path}: unions other than X | None are not supported: {tp}")
        return _convert(options[0], value, meta, path, ctx)
    if is_dataclass_type(tp):
        if not isinstance(value, dict):
            ctx.fail(path, "must be a table", value)
            return bad
        return _build(tp, value, path, ctx)
    if origin in (tuple, list):
        return _convert_array(tp, value, meta, path, ctx)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = [m.value for m in tp]
        if value not in allowed or isinstance(value, bool):
            ctx.fail(path, "must be one of " + ", ".join(str(a) for a in allowed), value)
            return bad
        return tp(value)
    if tp is bool:
        if not isinstance(value, bool):
            ctx.fail(path, "must be true or false", value)
            return bad
        return value
    if tp is int or tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            ctx.fail(path, "must be an integer" if tp is int else "must be a number", value)
            return bad
        if tp is int and not isinstance(value, int):
            ctx.fail(path, "must be an integer", value)
            return bad
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an integer with hundreds of digits is no float at all
            ctx.fail(path, "is out of range", value)
            return bad
        if not finite:
            # TOML has nan and inf; both pass every `<` bound test and would reach the pipeline or
            # the policy as a duration or threshold. Only finite values get to the bounds below.
            ctx.fail(path, "must be a finite number", value)
            return bad
        return _check_scalar(tp(value), value, meta, path, ctx)
    if tp is str:
        if isinstance(value, date) and not isinstance(value, datetime):
            value = value.isoformat()  # `holidays = [2026-12-25]` is a TOML date; the field wants text
        if not isinstance(value, str):
            ctx.fail(path, "must be a string", value)
            return bad
        pattern = meta.get("pattern")
        if pattern is not None and not re.fullmatch(pattern, value):
            ctx.fail(path, f"must be {meta.get('pattern_doc', 'of the form ' + pattern)}", value)
            return bad
        return _check_scalar(value, value, meta, path, ctx)
    if tp is Any:
        return value
    raise TypeError(f"{path}: unsupported annotation {tp!r} in a settings dataclass")


def _convert_array(tp: Any, value: Any, meta: Mapping[str, Any], path: str, ctx: _Ctx) -> Any:
    """A TOML array as a tuple or list; the field's metadata applies to each item."""
    bad = dataclasses.MISSING
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if not isinstance(value, list):
        tables = bool(args) and is_dataclass_type(args[0])
        ctx.fail(path, "must be an array of tables" if tables else "must be an array", value)
        return bad
    fixed = origin is tuple and not (len(args) == 2 and args[1] is Ellipsis)
    if fixed and len(value) != len(args):
        ctx.fail(path, f"must be an array of {len(args)} values", value)
        return bad
    items = []
    ok = True
    for i, item in enumerate(value):
        item_tp = args[i] if fixed else (args[0] if args else Any)
        converted = _convert(item_tp, item, meta, f"{path}[{i}]", ctx)
        ok = ok and converted is not bad
        items.append(converted)
    if not ok:
        return bad
    return tuple(items) if origin is tuple else items


def _check_scalar(converted: Any, raw: Any, meta: Mapping[str, Any], path: str, ctx: _Ctx) -> Any:
    choices = meta.get("choices")
    if choices is not None and converted not in choices:
        ctx.fail(path, "must be one of " + ", ".join(str(plain(c)) for c in choices), raw)
        return dataclasses.MISSING
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and converted < lo:
        ctx.fail(path, f"must be at least {lo}{unit_suffix(meta)}", raw)
        return dataclasses.MISSING
    if hi is not None and converted > hi:
        ctx.fail(path, f"must be at most {hi}{unit_suffix(meta)}", raw)
        return dataclasses.MISSING
    check: Callable[[Any], str | None] | None = meta.get("check")
    problem = check(converted) if check is not None else None
    if problem:
        ctx.fail(path, problem, raw)
        return dataclasses.MISSING
    return converted


def _build(cls: type[T], table: Mapping[str, Any], path: str, ctx: _Ctx, base: T | None = None) -> T:
    """One dataclass from one TOML table. Errors go to ctx, and then the result is MISSING."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    ok = True
    for key, value in table.items():
        f = fields.get(key)
        if f is None:
            ok = False
            close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
            hint = f' (did you mean "{close[0]}"?)' if close else "; known keys: " + ", ".join(fields)
            ctx.fail(key_path(path, key), "unknown key" + hint)
            continue
        converted = _convert(hints[key], value, f.metadata, key_path(path, key), ctx)
        if converted is dataclasses.MISSING:
            ok = False
        else:
            kwargs[key] = converted
    for name, f in fields.items():
        if (
            name not in table
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ):
            ok = False
            ctx.fail(key_path(path, name), "required key missing")
    if not ok:
        return typing.cast(T, dataclasses.MISSING)
    try:
        if base is not None:
            return dataclasses.replace(base, **kwargs)  # type: ignore[type-var]
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        ctx.errors.append(_post_init_error(ctx.file, path, str(exc), fields))
        return typing.cast(T, dataclasses.MISSING)


def _post_init_error(file: str, path: str, message: str, fields: Mapping[str, object]) -> str:
    # A settings class names the offending field first ("snooze_min = 90 min is above ..."); put it
    # under its full key path so that every error reads the same way.
    head = re.match(r"(\w+(?:\[\d+\])?(?:\.\w+)*)(\s*=|:)", message)
    if head and head.group(1).split("[")[0].split(".")[0] in fields:
        return f"{file}: {key_path(path, message)}"
    return f"{file}: {path}: {message}" if path else f"{file}: {message}"


def load_section(cls: type[T], table: Mapping[str, Any], *, file: str = "<config>", path: str = "") -> T:
    """One settings dataclass from a mapping (e.g. a TOML table); ConfigError lists every error."""
    ctx = _Ctx(file, [])
    out = _build(cls, table, path, ctx)
    if ctx.errors:
        raise ctx.error()
    return out


def parse_config(text: str, file: str = "sitbreak.toml") -> Config:
    """Config from TOML text; `file` is the name errors start with."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively; thousands deep exhaust the stack.
        raise ConfigError(f"{file}: not valid TOML: arrays or tables nested too deeply") from None
    ctx = _Ctx(file, [])
    # Per-wearable policy tables override the global [policy] key by key, so they are checked after it,
    # on top of it.
    overrides: dict[int, object] = {}
    raw_wearables = doc.get("wearables")
    if isinstance(raw_wearables, list):
        stripped = []
        for i, raw in enumerate(raw_wearables):
            entry = raw
            if isinstance(raw, dict) and "policy" in raw:
                entry = {k: v for k, v in raw.items() if k != "policy"}
                overrides[i] = raw["policy"]
            stripped.append(entry)
        doc = {**doc, "wearables": stripped}
    config = _build(Config, doc, "", ctx)
    failed = typing.cast(object, config) is dataclasses.MISSING
    base = PolicySettings() if failed else config.policy
    own_policies: dict[int, PolicySettings] = {}
    for i, raw in overrides.items():
        path = f"wearables[{i}].policy"
        if not isinstance(raw, dict):
            ctx.fail(path, "must be a table", raw)
            continue
        own = _build(PolicySettings, raw, path, ctx, base=base)
        if typing.cast(object, own) is not dataclasses.MISSING:
            own_policies[i] = own
    if ctx.errors:
        raise ctx.error()
    wearables = tuple(
        dataclasses.replace(w, policy=own_policies[i]) if i in own_policies else w
        for i, w in enumerate(config.wearables)
    )
    return dataclasses.replace(config, wearables=wearables)


def load_config(path: str | Path) -> Config:
    """Read and check a sitbreak.toml. Raises ConfigError listing every problem found."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:  # before ValueError, which it is
        raise ConfigError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{p}: {why_unreadable(exc, 'a config file')}") from None
    return parse_config(text, str(p))
