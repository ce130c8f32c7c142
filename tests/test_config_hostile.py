"""Hostile configuration files: whatever the file holds, the loader returns a Config or raises one
ConfigError whose lines each name the file and stay short; `check-config` exits 2, never a traceback.

Found by a fault probe: TOML nested thousands deep and a 330-digit integer raised RecursionError and
OverflowError from `check-config`; a 10 MB value must not be echoed whole.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.cli import main
from monitor.config import Config, iter_keys, load_config, parse_config
from monitor.core.errors import ConfigError

# Every key the schema has, as TOML tables and keys (`wearables[]` entries become one array table).
KEYS = [k.path for k in iter_keys()]
MAX_LINE = 400  # one error line: file, key, a value cut short, the rule
DEEP = "hostile.toml: not valid TOML: arrays or tables nested too deeply"


def toml_value(value: Any) -> str:
    """A TOML literal for a Python value (strings with every escape TOML knows)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = "".join(
            ch if ch.isprintable() and ch not in '"\\' else f"\\u{ord(ch):04x}"
            for ch in value
            if ord(ch) < 0xD800 or ord(ch) > 0xDFFF
        )
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


SCALARS = (
    st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.text(max_size=80)
    | st.sampled_from(["thigh", "waist", "wrist", "sitsense", "polar_h10", "Europe/Berlin", "08:00-18:00"])
)
VALUES = SCALARS | st.lists(SCALARS, max_size=4)


def document(entries: list[tuple[str, Any]]) -> str:
    """TOML text setting each (key path, value); a path with `[]` goes into one [[wearables]] entry."""
    tables: dict[str, list[str]] = {}
    for path, value in entries:
        table, _, key = path.rpartition(".")
        tables.setdefault(table, []).append(f"{key} = {toml_value(value)}")
    parts = []
    for table, lines in tables.items():
        unique = list(dict.fromkeys(lines))
        seen_keys: set[str] = set()
        body = []
        for line in unique:
            key = line.split(" = ", 1)[0]
            if key not in seen_keys:  # TOML forbids a key twice in one table
                seen_keys.add(key)
                body.append(line)
        if table.endswith("[]"):
            parts.append(
                f'[[{table[:-2]}]]\nid = "w1"\n' + "\n".join(x for x in body if not x.startswith("id = "))
            )
        elif table:
            parts.append(f"[{table}]\n" + "\n".join(body))
        else:
            parts.insert(0, "\n".join(body))
    return "\n".join(parts) + "\n"


def check(text: str) -> None:
    try:
        config = parse_config(text, "hostile.toml")
    except ConfigError as err:
        lines = str(err).splitlines()
        assert lines and all(len(line) <= MAX_LINE for line in lines), lines
        assert all("hostile.toml" in line for line in lines[1:] or lines)
        return
    assert isinstance(config, Config)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=8))
def test_any_values_for_known_keys_load_or_fail_cleanly(entries: list[tuple[str, Any]]) -> None:
    check(document(entries))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_loads_or_fails_cleanly(text: str) -> None:
    check(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a = " + "[" * 5000 + "]" * 5000,
            "hostile.toml: not valid TOML: arrays or tables nested too deeply",
        ),
        (
            "x = " + "{a = " * 3000 + "1" + "}" * 3000,
            "hostile.toml: not valid TOML: arrays or tables nested too deeply",
        ),
        ("[policy]\nnudge_after = " + "9" * 330, "is out of range"),
        ("[policy]\nnudge_after = 1e400", "hostile.toml: policy.nudge_after = inf: must be a finite number"),
        ('timezone = "' + "x" * 10_000_000 + '"', "unknown time zone"),
    ],
    ids=["deep-arrays", "deep-tables", "330-digits", "beyond-float", "10-MB-value"],
)
def test_the_probes_get_one_short_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(text, "hostile.toml")
    line = str(err.value)
    assert "\n" not in line and len(line) <= MAX_LINE
    assert message in line


def test_check_config_exits_2_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sitbreak: error: ") and "Traceback" not in err


def test_a_config_path_that_names_no_file_is_a_config_error(tmp_path: Path) -> None:
    """The reasons a file cannot be read, in the words the CSV reader uses too (core.errors)."""
    with pytest.raises(ConfigError, match=r"not a usable file name$"):
        load_config("sitbreak\0.toml")
    with pytest.raises(ConfigError, match=r"is a directory, not a config file$"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match=r"no such file$"):
        load_config(tmp_path / "missing.toml")
