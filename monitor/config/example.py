"""The documented key list and `config/sitbreak.example.toml` (`sitbreak check-config --example`).

Both come from the same field metadata the loader checks, so the example cannot drift from the schema;
tests/test_config.py keeps the committed file equal to what `example_toml()` writes.
"""

from __future__ import annotations

import dataclasses
import enum
import textwrap
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.config.load import is_dataclass_type
from monitor.config.notation import key_path, plain, toml_text, unit_suffix
from monitor.config.schema import Config
from monitor.nudges.settings import PolicySettings

_EXAMPLE_HEADER = """\
# sitbreak configuration. Every key is shown with its default value; delete what you do not change.
# Check a file with: sitbreak check-config /etc/sitbreak/sitbreak.toml
# Durations carry their unit in the comment above the key (s, min, d); times of day are local.
"""
# The example's wearable: the only value that has no default.
_EXAMPLE_WEARABLE_ID = "thigh"
# Comment lines wrap here, like the rest of the project's text files.
_WIDTH = 100


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


def _optional_inner(tp: Any) -> Any:
    """X for `X | None`, else the annotation itself."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if typing.get_origin(tp) in (typing.Union, types.UnionType) else tp


def _table_array_item(tp: Any) -> Any:
    """The dataclass of an array of tables (`tuple[Wearable, ...]`), else None."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) is tuple and args and is_dataclass_type(args[0]):
        return args[0]
    return None


def _rule(tp: Any, meta: Mapping[str, Any]) -> str:
    parts = []
    if "choices" in meta:
        parts.append("one of " + ", ".join(str(plain(c)) for c in meta["choices"]))
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        parts.append("one of " + ", ".join(str(m.value) for m in tp))
    unit = unit_suffix(meta)
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
        inner = _optional_inner(hints[f.name])
        path = key_path(prefix, f.name)
        if is_dataclass_type(inner):
            if inner is PolicySettings and prefix.endswith("[]"):
                # Per-wearable overrides take the [policy] keys; documented there.
                out.append(KeyDoc(path, None, str(f.metadata.get("doc", ""))))
                continue
            out.extend(iter_keys(inner, path))
            continue
        item = _table_array_item(inner)
        if item is not None:
            out.extend(iter_keys(item, path + "[]"))
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


def _comment(text: str) -> list[str]:
    return ["# " + line for line in textwrap.wrap(text, _WIDTH - 2)] if text else []


def example_toml() -> str:
    """A config file documenting every key with its default, unit and allowed values."""
    lines = [_EXAMPLE_HEADER]
    root_hints = typing.get_type_hints(Config)
    sections: list[tuple[str, dataclasses.Field[Any]]] = []
    for f in dataclasses.fields(Config):
        tp = root_hints[f.name]
        if is_dataclass_type(tp) or typing.get_origin(tp) is tuple:
            sections.append((f.name, f))
            continue
        lines += [*_key_lines(f, tp, f.default), ""]
    for name, f in sections:
        tp = root_hints[name]
        lines += _comment(str(f.metadata.get("doc", "")))
        if typing.get_origin(tp) is tuple:
            lines.append(f"[[{name}]]")
            item = typing.get_args(tp)[0]
            lines += _table_lines(item, None, overrides={"id": _EXAMPLE_WEARABLE_ID}, table=name)
        else:
            lines.append(f"[{name}]")
            lines += _table_lines(tp, _field_default(f), table=name)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _key_lines(f: dataclasses.Field[Any], tp: Any, default: object) -> list[str]:
    meta = f.metadata
    unit = unit_suffix(meta).strip()
    rule = _rule(tp, meta)
    if rule and unit and unit not in rule:
        rule += f" ({unit})"
    out = _comment(str(meta.get("doc", "")))
    if rule:
        out += _comment(f"allowed: {rule}")
    elif unit:
        out += _comment(f"unit: {unit}")
    return [*out, f"{f.name} = {toml_text(default)}"]


def _table_lines(
    cls: type[Any], instance: object, overrides: Mapping[str, object] | None = None, table: str = ""
) -> list[str]:
    hints = typing.get_type_hints(cls)
    lines: list[str] = []
    nested: list[str] = []
    for f in dataclasses.fields(cls):
        inner = _optional_inner(hints[f.name])
        doc = _comment(str(f.metadata.get("doc", "")))
        if is_dataclass_type(inner):
            # Per-wearable policy overrides: show how, without overriding anything.
            nested += ["", *doc, f"# [{table}.{f.name}]", "# nudge_after = 45.0"]
            continue
        item = _table_array_item(inner)
        if item is not None:
            # Arrays of tables are empty by default: document one entry, commented out.
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
