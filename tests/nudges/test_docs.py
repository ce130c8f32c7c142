"""docs/policy.md stays true: every setting is explained, the exercise table and the TOML example
match the code."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from monitor.config import parse_config
from monitor.nudges import ExerciseLibrary, ExerciseSettings, PolicySettings
from monitor.nudges.library import BUILTIN_EXERCISES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")


def test_every_setting_is_explained() -> None:
    for cls in (PolicySettings, ExerciseSettings):
        for f in fields(cls):
            name = "active_mon" if f.name.startswith("active_") else f.name
            assert f"`{name}`" in DOC, f"docs/policy.md does not explain {cls.__name__}.{f.name}"


def test_exercise_table_matches_the_library() -> None:
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\| `([a-z0-9_]+)` \|(?:[^|]*\|){4} ([^|]*) \|$", DOC, re.MULTILINE)
    }
    assert set(rows) == {ex.id for ex in BUILTIN_EXERCISES}
    for ex in BUILTIN_EXERCISES:
        documented = {c.strip() for c in rows[ex.id].split(",")} - {"—"}
        assert documented == {str(c) for c in ex.unsafe_for}, ex.id


def test_toml_example_loads_into_the_settings() -> None:
    block = re.search(r"```toml\n(.*?)```", DOC, re.DOTALL)
    assert block is not None
    # through the real config loader, as `sitbreak run` reads it
    settings = parse_config(block.group(1), "policy.md").exercises
    lib = ExerciseLibrary.default(settings)
    assert "doorway_walk" in lib.usable_ids()
    assert lib.excluded["calf_raises"] == "disabled in config"
    assert "standing_figure_4" not in lib.usable_ids()
