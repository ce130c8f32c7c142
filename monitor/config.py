"""The configuration file: TOML into frozen dataclasses, with errors a user can act on.

Each room owns a settings dataclass whose fields carry `metadata` ("doc" always; "unit", "min", "max",
"choices", "pattern" when they apply). The loader here is generic: given a dataclass type it reads the
matching TOML table, checks every value against the field's annotation and metadata, and collects ALL
errors before it gives up, each naming the file, the key path, the value and the rule:

    sitbreak.toml: wearables[0].placement = "knee": must be one of thigh, waist, wrist
    sitbreak.toml: mqtt.hots: unknown key (did you mean "host"?)

Supported annotations: bool, int, float, str, StrEnum/Enum, tuple[X, ...], list[X], fixed tuples,
nested dataclasses, tuples of dataclasses (arrays of tables) and `X | None`.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import json
import re
import textwrap
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from monitor.core.errors import ConfigError
from monitor.core.types import Placement
from monitor.mqtt.settings import MqttSettings
from monitor.nudges.settings import ExerciseSettings, PolicySettings
from monitor.pipeline.settings import PipelineSettings
from monitor.reports.settings import ReportSettings
from monitor.store.settings import StoreSettings
from monitor.wearables.profiles.base import ProfileName
from monitor.wearables.settings import LinkSettings

T = TypeVar("T")

# Where `sitbreak run` looks when no --config is given (the systemd unit passes it explicitly).
DEFAULT_CONFIG_PATH = Path("/etc/sitbreak/sitbreak.toml")
# Long values are cut in error messages so that one line stays one line.
_MAX_SHOWN = 60

# --------------------------------------------------------------------------------------------------------
# Sections whose rooms have no settings module yet; each moves to its room when one appears.

# Ids end up in MQTT topics and file names: no slashes, wildcards or spaces.
WEARABLE_ID_PATTERN = r"[A-Za-z0-9_-]{1,32}"
# BlueZ reports addresses as six colon-separated hex bytes; macOS CoreBluetooth uses UUIDs instead.
ADDRESS_PATTERN = (
    r"|[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}"
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)
UUID_PATTERN = r"|[0-9A-Fa-f]{4}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"


@dataclass(frozen=True)
class WearableSettings:
    """One `[[wearables]]` entry: which device to stream from, how it is worn."""

    id: str = field(
        metadata={
            "doc": "short name used in MQTT topics and reports",
            "pattern": WEARABLE_ID_PATTERN,
            "pattern_doc": "1-32 letters, digits, _ or -",
        }
    )
    profile: ProfileName = field(
        default=ProfileName.SITSENSE,
        metadata={"doc": "wearable family (decides UUIDs and packet format)", "choices": tuple(ProfileName)},
    )
    placement: Placement = field(
        default=Placement.THIGH,
        metadata={
            "doc": "where it is worn; thigh recognises sitting best, wrist only measures inactivity",
            "choices": tuple(Placement),
        },
    )
    address: str = field(
        default="",
        metadata={
            "doc": "Bluetooth address (AA:BB:CC:DD:EE:FF); empty matches by name, service or profile",
            "pattern": ADDRESS_PATTERN,
            "pattern_doc": "AA:BB:CC:DD:EE:FF or a UUID",
        },
    )
    name: str = field(default="", metadata={"doc": "advertised name to match; empty matches any name"})
    service_uuid: str = field(
        default="",
        metadata={
            "doc": "advertised service UUID to match; empty uses the profile's",
            "pattern": UUID_PATTERN,
            "pattern_doc": "a 16-bit (180F) or 128-bit UUID",
        },
    )
    rate_hz: float = field(
        default=50.0,
        metadata={
            "doc": "sample rate to ask for; the device rounds to what it supports",
            "unit": "Hz",
            "min": 10,
            "max": 200,
        },
    )
    range_g: int = field(
        default=8,
        metadata={"doc": "accelerometer range to ask for", "unit": "g", "choices": (2, 4, 8, 16)},
    )
    policy: PolicySettings | None = field(
        default=None,
        metadata={"doc": "keys of [policy] to override for this wearable only ([wearables.policy])"},
    )


# --------------------------------------------------------------------------------------------------------
# The whole file.


def _check_timezone(name: str) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        return "unknown time zone" + (f' (did you mean "{close[0]}"?)' if close else "")
    return None


@dataclass(frozen=True)
class Config:
    """Root of sitbreak.toml."""

    timezone: str = field(
        default="",
        metadata={
            "doc": "IANA time zone for active hours and daily reports, e.g. Europe/Berlin; "
            "empty uses the system's",
            "check": _check_timezone,
        },
    )
    wearables: tuple[WearableSettings, ...] = field(
        default=(), metadata={"doc": "the wearables to stream from, one [[wearables]] table each"}
    )
    policy: PolicySettings = field(default_factory=PolicySettings, metadata={"doc": "when to nudge"})
    exercises: ExerciseSettings = field(
        default_factory=ExerciseSettings, metadata={"doc": "which exercises to suggest"}
    )
    mqtt: MqttSettings = field(default_factory=MqttSettings, metadata={"doc": "the MQTT broker"})
    store: StoreSettings = field(default_factory=StoreSettings, metadata={"doc": "the SQLite store"})
    report: ReportSettings = field(default_factory=ReportSettings, metadata={"doc": "daily reports"})
    link: LinkSettings = field(default_factory=LinkSettings, metadata={"doc": "Bluetooth links"})
    pipeline: PipelineSettings = field(
        default_factory=PipelineSettings,
        metadata={"doc": "posture classification; the defaults come from the literature, change with care"},
    )

    def __post_init__(self) -> None:
        problem = _check_timezone(self.timezone)
        if problem:
            raise ValueError(f"timezone = {_show(self.timezone)}: {problem}")
        seen: dict[str, int] = {}
        for i, w in enumerate(self.wearables):
            if w.id in seen:
                raise ValueError(
                    f"wearables[{i}].id = {_show(w.id)}: duplicate of wearables[{seen[w.id]}].id"
                )
            seen[w.id] = i

    def policy_for(self, wearable_id: str) -> PolicySettings:
        """The policy for one wearable: its own overrides, else the global [policy]."""
        for w in self.wearables:
            if w.id == wearable_id and w.policy is not None:
                return w.policy
        return self.policy


# --------------------------------------------------------------------------------------------------------
# Generic loader.


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
        shown = "" if value is dataclasses.MISSING else f" = {_show(value)}"
        self.errors.append(f"{self.file}: {path}{shown}: {message}")


def _show(value: object) -> str:
    """A value as the user wrote it in TOML."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, enum.Enum):
        text = _show(value.value)
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    else:
        text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _unit(meta: Mapping[str, Any]) -> str:
    unit = meta.get("unit")
    return f" {unit}" if unit and unit not in {"count", "factor"} else ""


def _is_dataclass_type(tp: object) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _describe(tp: object) -> str:
    """What a value of this annotation looks like, for 'must be ...' messages."""
    origin = typing.get_origin(tp)
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if _is_dataclass_type(tp):
        return "a table"
    if origin in (tuple, list):
        args = typing.get_args(tp)
        if args and _is_dataclass_type(args[0]):
            return "an array of tables"
        return "an array"
    return f"a {getattr(tp, '__name__', str(tp))}"


def _convert(tp: Any, value: Any, meta: Mapping[str, Any], path: str, ctx: _Ctx) -> Any:
    """Check one value against its annotation and metadata; return the converted value or MISSING."""
    bad = dataclasses.MISSING
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"{path}: unions other than X | None are not supported: {tp}")
        return _convert(options[0], value, meta, path, ctx)
    if _is_dataclass_type(tp):
        if not isinstance(value, dict):
            ctx.fail(path, "must be a table", value)
            return bad
        return _build(tp, value, path, ctx)
    if origin in (tuple, list):
        args = typing.get_args(tp)
        if not isinstance(value, list):
            ctx.fail(path, f"must be {_describe(tp)}", value)
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
            ctx.fail(path, f"must be {_describe(tp)}", value)
            return bad
        if tp is int and not isinstance(value, int):
            ctx.fail(path, "must be an integer", value)
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


def _check_scalar(converted: Any, raw: Any, meta: Mapping[str, Any], path: str, ctx: _Ctx) -> Any:
    choices = meta.get("choices")
    if choices is not None and converted not in choices:
        ctx.fail(path, "must be one of " + ", ".join(str(_plain(c)) for c in choices), raw)
        return dataclasses.MISSING
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and converted < lo:
        ctx.fail(path, f"must be at least {lo}{_unit(meta)}", raw)
        return dataclasses.MISSING
    if hi is not None and converted > hi:
        ctx.fail(path, f"must be at most {hi}{_unit(meta)}", raw)
        return dataclasses.MISSING
    check: Callable[[Any], str | None] | None = meta.get("check")
    problem = check(converted) if check is not None else None
    if problem:
        ctx.fail(path, problem, raw)
        return dataclasses.MISSING
    return converted


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


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
            ctx.fail(_join(path, key), "unknown key" + hint)
            continue
        converted = _convert(hints[key], value, f.metadata, _join(path, key), ctx)
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
            ctx.fail(_join(path, name), "required key missing")
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
        return f"{file}: {_join(path, message)}"
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
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{p}: is a directory, not a config file") from None
    except PermissionError:
        raise ConfigError(f"{p}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    return parse_config(text, str(p))


# --------------------------------------------------------------------------------------------------------
# Introspection: for check-config, the example-file test and documentation.


@dataclass(frozen=True, slots=True)
class KeyDoc:
    """One documented key: its dotted path (arrays of tables as `wearables[]`), default and rules."""

    path: str
    default: object
    doc: str
    unit: str = ""
    rule: str = ""


def _field_default(f: dataclasses.Field[Any]) -> object:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _rule(tp: Any, meta: Mapping[str, Any]) -> str:
    parts = []
    if "choices" in meta:
        parts.append("one of " + ", ".join(str(_plain(c)) for c in meta["choices"]))
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        parts.append("one of " + ", ".join(str(m.value) for m in tp))
    unit = _unit(meta)
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and hi is not None:
        parts.append(f"{lo} to {hi}{unit}")
    elif lo is not None:
        parts.append(f"at least {lo}{unit}")
    elif hi is not None:
        parts.append(f"at most {hi}{unit}")
    if "pattern_doc" in meta:
        parts.append(str(meta["pattern_doc"]))
    return "; ".join(parts)


def iter_keys(cls: type[Any] = Config, prefix: str = "") -> list[KeyDoc]:
    """Every leaf key of a settings dataclass tree, in declaration order."""
    out: list[KeyDoc] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = args[0] if typing.get_origin(tp) in (typing.Union, types.UnionType) else tp
        path = _join(prefix, f.name)
        if _is_dataclass_type(inner):
            if inner is PolicySettings and prefix.endswith("[]"):
                # Per-wearable overrides take the [policy] keys; documented there.
                out.append(KeyDoc(path, None, str(f.metadata.get("doc", ""))))
                continue
            out.extend(iter_keys(inner, path))
            continue
        if (
            typing.get_origin(inner) is tuple
            and typing.get_args(inner)
            and _is_dataclass_type(typing.get_args(inner)[0])
        ):
            out.extend(iter_keys(typing.get_args(inner)[0], path + "[]"))
            continue
        out.append(
            KeyDoc(
                path,
                _field_default(f),
                str(f.metadata.get("doc", "")),
                str(f.metadata.get("unit", "")),
                _rule(inner, f.metadata),
            )
        )
    return out


def changed_keys(config: object, default: object, prefix: str = "") -> list[tuple[str, object]]:
    """(path, value) of every leaf that differs from `default` (same dataclass type)."""
    out: list[tuple[str, object]] = []
    for f in dataclasses.fields(config):  # type: ignore[arg-type]
        value, base = getattr(config, f.name), getattr(default, f.name)
        path = _join(prefix, f.name)
        if dataclasses.is_dataclass(value) and dataclasses.is_dataclass(base):
            out.extend(changed_keys(value, base, path))
        elif value != base:
            out.append((path, value))
    return out


def show_value(value: object) -> str:
    """A value in TOML notation, for summaries."""
    return _show(value)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return _toml_value(value.value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _comment(text: str, width: int = 100) -> list[str]:
    return ["# " + line for line in textwrap.wrap(text, width - 2)] if text else []


_EXAMPLE_HEADER = """\
# sitbreak configuration. Every key is shown with its default value; delete what you do not change.
# Check a file with: sitbreak check-config /etc/sitbreak/sitbreak.toml
# Durations carry their unit in the comment above the key (s, min, d); times of day are local.
"""
# The example's wearable: the only value that has no default.
_EXAMPLE_WEARABLE_ID = "thigh"


def example_toml() -> str:
    """A config file documenting every key with its default, unit and allowed values."""
    lines = [_EXAMPLE_HEADER]
    root_hints = typing.get_type_hints(Config)
    sections: list[tuple[str, dataclasses.Field[Any]]] = []
    for f in dataclasses.fields(Config):
        tp = root_hints[f.name]
        if _is_dataclass_type(tp) or typing.get_origin(tp) is tuple:
            sections.append((f.name, f))
            continue
        lines += [*_key_lines(f, tp, f.default), ""]
    for name, f in sections:
        tp = root_hints[name]
        if typing.get_origin(tp) is tuple:
            item = typing.get_args(tp)[0]
            lines += _comment(str(f.metadata.get("doc", "")))
            lines.append(f"[[{name}]]")
            lines += _table_lines(item, None, overrides={"id": _EXAMPLE_WEARABLE_ID}, table=name)
        else:
            lines += _comment(str(f.metadata.get("doc", "")))
            lines.append(f"[{name}]")
            lines += _table_lines(tp, _field_default(f), table=name)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _key_lines(f: dataclasses.Field[Any], tp: Any, default: object) -> list[str]:
    meta = f.metadata
    unit = _unit(meta).strip()
    rule = _rule(tp, meta)
    if rule and unit and unit not in rule:
        rule += f" ({unit})"
    out = _comment(str(meta.get("doc", "")))
    if rule:
        out += _comment(f"allowed: {rule}")
    elif unit:
        out += _comment(f"unit: {unit}")
    return [*out, f"{f.name} = {_toml_value(default)}"]


def _table_lines(
    cls: type[Any], instance: object, overrides: Mapping[str, object] | None = None, table: str = ""
) -> list[str]:
    hints = typing.get_type_hints(cls)
    lines: list[str] = []
    nested: list[str] = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = args[0] if typing.get_origin(tp) in (typing.Union, types.UnionType) else tp
        doc = _comment(str(f.metadata.get("doc", "")))
        if _is_dataclass_type(inner):
            # Per-wearable policy overrides: show how, without overriding anything.
            nested += ["", *doc, f"# [{table}.{f.name}]", "# nudge_after = 45.0"]
            continue
        if (
            typing.get_origin(inner) is tuple
            and typing.get_args(inner)
            and _is_dataclass_type(typing.get_args(inner)[0])
        ):
            # Arrays of tables are empty by default: document one entry, commented out.
            item = typing.get_args(inner)[0]
            block = _table_lines(item, None, table=f"{table}.{f.name}")
            nested += ["", *doc, f"# [[{table}.{f.name}]]", *[f"# {line}".rstrip() for line in block]]
            continue
        if overrides and f.name in overrides:
            default = overrides[f.name]
        elif instance is not None:
            default = getattr(instance, f.name)
        else:
            default = _field_default(f)
        lines += [*_key_lines(f, inner, default), ""]
    return [*lines[:-1], *nested] if lines else nested


__all__ = [
    "DEFAULT_CONFIG_PATH",
    "Config",
    "KeyDoc",
    "WearableSettings",
    "changed_keys",
    "example_toml",
    "iter_keys",
    "load_config",
    "load_section",
    "parse_config",
    "show_value",
]
