"""`setting()`: one line per key, metadata with exactly the keys given, typed as the value it holds."""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import assert_type

import pytest

import monitor.core.fields
from monitor.core.fields import setting, setting_metadata


def _no_big_words(text: str) -> str | None:
    return "too long" if len(text) > 3 else None


@dataclass(frozen=True)
class Inner:
    level: int = setting(2, "how deep", unit="count", min=0, max=5)


@dataclass(frozen=True)
class Sample:
    name: str = field(metadata=setting_metadata("what to call it", pattern=r"\w+", pattern_doc="a word"))
    rate: float = setting(50.0, "samples per second", unit="Hz", min=10, max=200.5)
    kind: str = setting("a", "which kind", choices=("a", "b"), check=_no_big_words)
    tags: tuple[str, ...] = setting((), "labels")
    inner: Inner = setting(default_factory=Inner, doc="a nested table")
    maybe: Inner | None = setting(None, "an optional table")


def _meta(name: str) -> dict[str, object]:
    return dict(next(f for f in dataclasses.fields(Sample) if f.name == name).metadata)


def test_metadata_holds_exactly_the_keys_given() -> None:
    assert _meta("name") == {"doc": "what to call it", "pattern": r"\w+", "pattern_doc": "a word"}
    # Bounds keep the type they were written with: messages print "at least 10 Hz", not "10.0 Hz".
    assert _meta("rate") == {"doc": "samples per second", "unit": "Hz", "min": 10, "max": 200.5}
    assert type(_meta("rate")["min"]) is int
    assert _meta("kind") == {"doc": "which kind", "choices": ("a", "b"), "check": _no_big_words}
    assert _meta("tags") == {"doc": "labels"}
    assert _meta("inner") == {"doc": "a nested table"}


def test_zero_bounds_are_kept() -> None:
    assert setting_metadata("x", min=0, max=0) == {"doc": "x", "min": 0, "max": 0}


def test_defaults_and_factories_behave_like_field() -> None:
    s = Sample(name="x")
    assert (s.rate, s.kind, s.tags, s.inner, s.maybe) == (50.0, "a", (), Inner(2), None)
    assert Sample(name="x").inner is not Sample(name="x").inner  # a fresh table per instance
    with pytest.raises(TypeError):
        Sample()  # type: ignore[call-arg]


def test_a_setting_needs_one_default_and_a_doc() -> None:
    with pytest.raises(TypeError, match="exactly one"):
        setting(1, "both", default_factory=int)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="exactly one"):
        setting(doc="neither")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="needs a doc"):
        setting(1, "")


def test_typed_as_the_value() -> None:
    # mypy checks these; at run time assert_type returns its argument.
    assert_type(setting(1.5, "x"), float)
    assert_type(setting(default_factory=Inner, doc="x"), Inner)
    assert_type(setting((), "x", choices=("a",)), tuple[()])


def test_imports_nothing_of_monitor() -> None:
    tree = ast.parse(Path(monitor.core.fields.__file__).read_text(encoding="utf-8"))
    imported = [
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])
    ]
    assert not [name for name in imported if name.split(".")[0] == "monitor"]
