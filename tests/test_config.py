"""The config loader: every rule has a test on each side, and error texts are asserted exactly."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.config import (
    Config,
    changed_keys,
    example_toml,
    iter_keys,
    load_config,
    load_section,
    parse_config,
)
from monitor.core.errors import ConfigError
from monitor.nudges.settings import PolicySettings

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config" / "sitbreak.example.toml"


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(text, "sitbreak.toml")
    lines = str(exc.value).splitlines()
    if len(lines) > 1:
        assert lines[0] == f"{len(lines) - 1} problems in sitbreak.toml:"
        return lines[1:]
    return lines


def error_of(text: str) -> str:
    errors = errors_of(text)
    assert len(errors) == 1, errors
    return errors[0]


# --- the example file ----------------------------------------------------------------------------------


def _example_keys(doc: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in doc.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            keys |= _example_keys(value, path)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                keys |= _example_keys(item, path + "[]")
        else:
            keys.add(path)
    return keys


def test_example_file_loads_cleanly() -> None:
    config = load_config(EXAMPLE)
    assert config.wearables[0].id == "thigh"
    # Apart from the example wearable, the example sets nothing but the defaults.
    assert dataclasses.replace(config, wearables=()) == Config()


def _commented_blocks(text: str) -> dict[str, dict[str, Any]]:
    """Tables the example shows commented out ("# [[exercises.custom]]" and the "# key = value" after it)."""
    blocks: dict[str, dict[str, Any]] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.fullmatch(r"# (\[\[?)([\w.]+)\]\]?", line)
        if not m:
            continue
        body = []
        for follow in lines[i + 1 :]:
            if not follow.startswith("#"):
                break
            body.append(follow[2:])
        name = m.group(2) + ("[]" if m.group(1) == "[[" else "")
        blocks[name] = tomllib.loads("\n".join(body))
    return blocks


def test_example_file_documents_every_key_and_no_other() -> None:
    """Like sqlite-utils' test_docs: a new settings field fails here until the example shows it."""
    text = EXAMPLE.read_text()
    in_example = _example_keys(tomllib.loads(text))
    blocks = _commented_blocks(text)
    # Per-wearable overrides take [policy]'s keys: the example shows one, commented out.
    override = blocks.pop("wearables.policy")
    assert set(override) <= {f.name for f in dataclasses.fields(PolicySettings)}
    for name, block in blocks.items():
        in_example |= {f"{name}.{key}" for key in block}
    schema = {k.path for k in iter_keys() if k.path != "wearables[].policy"}
    assert sorted(schema - in_example) == [], "keys missing from config/sitbreak.example.toml"
    assert sorted(in_example - schema) == [], "keys in the example that the schema lacks"


def test_example_file_is_what_the_generator_writes() -> None:
    # Regenerate with: sitbreak check-config --example > config/sitbreak.example.toml
    assert EXAMPLE.read_text() == example_toml()


def test_every_key_has_a_doc() -> None:
    undocumented = [k.path for k in iter_keys() if not k.doc]
    assert undocumented == []


# --- rules, both sides ---------------------------------------------------------------------------------


def test_choices() -> None:
    text = '[[wearables]]\nid = "a"\nplacement = "{}"\n'
    assert error_of(text.format("knee")) == (
        'sitbreak.toml: wearables[0].placement = "knee": must be one of thigh, waist, wrist'
    )
    assert parse_config(text.format("waist")).wearables[0].placement == "waist"


def test_choices_inside_an_array() -> None:
    assert error_of('[exercises]\nconditions = ["arthritis", "knee"]') == (
        'sitbreak.toml: exercises.conditions[1] = "knee": must be one of arthritis, recent_hip_injury, '
        "hip_replacement, pregnancy, balance_problems"
    )
    assert parse_config('[exercises]\nconditions = ["arthritis"]').exercises.conditions == ("arthritis",)


def test_integer_type() -> None:
    assert error_of('[mqtt]\nport = "1883"') == 'sitbreak.toml: mqtt.port = "1883": must be an integer'
    assert error_of("[mqtt]\nport = 1883.0") == "sitbreak.toml: mqtt.port = 1883.0: must be an integer"
    assert parse_config("[mqtt]\nport = 8883").mqtt.port == 8883


def test_number_type_accepts_integers() -> None:
    assert (
        error_of('[policy]\nnudge_after = "30"')
        == 'sitbreak.toml: policy.nudge_after = "30": must be a number'
    )
    assert (
        error_of("[policy]\nnudge_after = true")
        == "sitbreak.toml: policy.nudge_after = true: must be a number"
    )
    value = parse_config("[policy]\nnudge_after = 45").policy.nudge_after
    assert value == 45.0 and isinstance(value, float)


def test_bool_and_string_types() -> None:
    assert error_of('[mqtt]\ntls = "yes"') == 'sitbreak.toml: mqtt.tls = "yes": must be true or false'
    assert error_of("[mqtt]\nhost = 10") == "sitbreak.toml: mqtt.host = 10: must be a string"
    assert parse_config('[mqtt]\ntls = true\nhost = "pi.local"').mqtt.host == "pi.local"


def test_minimum_and_maximum_with_unit() -> None:
    assert error_of("[policy]\nnudge_after = 4.5") == (
        "sitbreak.toml: policy.nudge_after = 4.5: must be at least 5 min"
    )
    assert error_of("[policy]\nnudge_after = 241") == (
        "sitbreak.toml: policy.nudge_after = 241: must be at most 240 min"
    )
    assert parse_config("[policy]\nnudge_after = 5").policy.nudge_after == 5
    assert parse_config("[policy]\nnudge_after = 240").policy.nudge_after == 240


@pytest.mark.parametrize(
    ("raw", "shown"), [("nan", "nan"), ("+nan", "nan"), ("inf", "inf"), ("+inf", "inf"), ("-inf", "-inf")]
)
def test_non_finite_numbers(raw: str, shown: str) -> None:
    # Bounds are checked on finite values only: -inf is not "below 5 min", nan is not "in range".
    assert error_of(f"[policy]\nnudge_after = {raw}") == (
        f"sitbreak.toml: policy.nudge_after = {shown}: must be a finite number"
    )


def _float_keys() -> list[str]:
    return [k.path for k in iter_keys() if isinstance(k.default, float)]


@pytest.mark.parametrize("path", _float_keys())
def test_every_float_key_refuses_nan(path: str) -> None:
    table, _, key = path.rpartition(".")
    if table.endswith("[]"):  # an array of tables: wearables[].rate_hz
        array = table.removesuffix("[]")
        text, shown = f'[[{array}]]\nid = "a"\n{key} = nan\n', f"{array}[0].{key}"
    else:
        text, shown = f"[{table}]\n{key} = nan\n", path
    assert error_of(text) == f"sitbreak.toml: {shown} = nan: must be a finite number"


def test_finite_rule_in_overrides_and_with_other_errors() -> None:
    assert errors_of(
        '[[wearables]]\nid = "a"\nrate_hz = inf\n[wearables.policy]\nsnooze_max = -inf\n'
        "[pipeline]\nlowpass_hz = nan\nmin_sit_s = 0.5\n"
    ) == [
        "sitbreak.toml: wearables[0].rate_hz = inf: must be a finite number",
        "sitbreak.toml: pipeline.lowpass_hz = nan: must be a finite number",
        "sitbreak.toml: pipeline.min_sit_s = 0.5: must be at least 1 s",
        "sitbreak.toml: wearables[0].policy.snooze_max = -inf: must be a finite number",
    ]
    # Large finite values still meet the bounds, not the finite rule.
    assert error_of("[policy]\nnudge_after = 1e308") == (
        "sitbreak.toml: policy.nudge_after = 1e+308: must be at most 240 min"
    )


def test_pattern() -> None:
    assert error_of('[[wearables]]\nid = "my thigh"') == (
        'sitbreak.toml: wearables[0].id = "my thigh": must be 1-32 letters, digits, _ or -'
    )
    assert error_of('[[wearables]]\nid = "a"\naddress = "AA:BB:CC:DD:EE"') == (
        'sitbreak.toml: wearables[0].address = "AA:BB:CC:DD:EE": must be AA:BB:CC:DD:EE:FF or a UUID'
    )
    w = parse_config('[[wearables]]\nid = "my-thigh_2"\naddress = "aa:bb:cc:dd:ee:0f"').wearables[0]
    assert (w.id, w.address) == ("my-thigh_2", "aa:bb:cc:dd:ee:0f")


def test_unknown_key_suggests_the_closest() -> None:
    assert error_of('[mqtt]\nhots = "x"') == 'sitbreak.toml: mqtt.hots: unknown key (did you mean "host"?)'
    assert error_of("[mqqt]\nhost = 1") == 'sitbreak.toml: mqqt: unknown key (did you mean "mqtt"?)'


def test_unknown_key_without_a_close_match_lists_the_known_ones() -> None:
    assert (
        error_of("[store]\nzzz = 1")
        == "sitbreak.toml: store.zzz: unknown key; known keys: path, retention_days"
    )


def test_required_key() -> None:
    assert (
        error_of('[[wearables]]\nplacement = "thigh"')
        == "sitbreak.toml: wearables[0].id: required key missing"
    )


def test_table_and_array_shapes() -> None:
    assert error_of("policy = 5") == "sitbreak.toml: policy = 5: must be a table"
    assert error_of('[wearables]\nid = "a"') == (
        'sitbreak.toml: wearables = {id = "a"}: must be an array of tables'
    )
    assert error_of('[policy]\nholidays = "2026-12-25"') == (
        'sitbreak.toml: policy.holidays = "2026-12-25": must be an array'
    )


def test_holidays_may_be_toml_dates() -> None:
    assert parse_config("[policy]\nholidays = [2026-12-25]").policy.holidays == ("2026-12-25",)


def test_timezone() -> None:
    assert error_of('timezone = "Europe/Berln"') == (
        'sitbreak.toml: timezone = "Europe/Berln": unknown time zone (did you mean "Europe/Berlin"?)'
    )
    assert parse_config('timezone = "Europe/Berlin"').timezone == "Europe/Berlin"


def test_duplicate_wearable_ids() -> None:
    text = '[[wearables]]\nid = "a"\n[[wearables]]\nid = "{}"\n'
    assert error_of(text.format("a")) == 'sitbreak.toml: wearables[1].id = "a": duplicate of wearables[0].id'
    assert [w.id for w in parse_config(text.format("b")).wearables] == ["a", "b"]


def test_wearable_ids_that_home_assistant_would_merge_are_refused() -> None:
    text = '[[wearables]]\nid = "Thigh-1"\n[[wearables]]\nid = "{}"\n'
    assert error_of(text.format("thigh_1")) == (
        'sitbreak.toml: wearables[1].id = "thigh_1": too like wearables[0].id = "Thigh-1" (Home Assistant '
        'and the MQTT client id see both as "thigh_1"); choose ids that differ in letters or digits'
    )
    assert [w.id for w in parse_config(text.format("thigh_2")).wearables] == ["Thigh-1", "thigh_2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[mqtt]\nreconnect_min_s = 120\nreconnect_max_s = 60",
            "mqtt.reconnect_min_s = 120 s is above reconnect_max_s = 60 s",
        ),
        ("[policy]\nsnooze_default = 90", "policy.snooze_default = 90.0 min is above snooze_max = 60.0 min"),
        ("[policy]\nsnooze_default = 3", "policy.snooze_default = 3.0 min is below snooze_min = 5.0 min"),
        (
            # The override lowers the maximum under the default it inherits from [policy].
            '[[wearables]]\nid = "a"\n[wearables.policy]\nsnooze_max = 8',
            "wearables[0].policy.snooze_default = 10.0 min is above snooze_max = 8.0 min",
        ),
        # The rules that were there before, for the record of their texts.
        (
            "[policy]\nsnooze_min = 30\nsnooze_max = 20\nsnooze_default = 25",
            "policy.snooze_min = 30.0 min is above snooze_max = 20.0 min",
        ),
        (
            "[link]\nbackoff_min_s = 5\nbackoff_max_s = 1",
            "link.backoff_max_s=1.0 is below backoff_min_s=5.0; "
            "the maximum wait must be at least the minimum",
        ),
        (
            "[pipeline]\nnonwear_flat_s = 700\nnonwear_long_s = 600",
            "pipeline: nonwear_long_s (600.0) must be >= nonwear_flat_s (700.0)",
        ),
    ],
)
def test_cross_key_rules_name_both_keys(text: str, message: str) -> None:
    assert error_of(text) == f"sitbreak.toml: {message}"


def test_cross_key_rules_accept_equal_values() -> None:
    config = parse_config(
        "[mqtt]\nreconnect_min_s = 60\nreconnect_max_s = 60\n"
        "[policy]\nsnooze_min = 10\nsnooze_default = 10\nsnooze_max = 10\n"
    )
    assert (config.mqtt.reconnect_min_s, config.mqtt.reconnect_max_s) == (60, 60)
    assert (config.policy.snooze_min, config.policy.snooze_default, config.policy.snooze_max) == (10, 10, 10)


def test_all_errors_are_reported_at_once() -> None:
    errors = errors_of(
        """
[[wearables]]
id = "a"
placement = "knee"
[wearables.policy]
snoze_min = 3
[policy]
nudge_after = 2
[mqtt]
hots = "x"
port = 0
"""
    )
    assert errors == [
        'sitbreak.toml: wearables[0].placement = "knee": must be one of thigh, waist, wrist',
        "sitbreak.toml: policy.nudge_after = 2: must be at least 5 min",
        'sitbreak.toml: mqtt.hots: unknown key (did you mean "host"?)',
        "sitbreak.toml: mqtt.port = 0: must be at least 1",
        'sitbreak.toml: wearables[0].policy.snoze_min: unknown key (did you mean "snooze_min"?)',
    ]


def test_wearable_policy_overrides_the_global_policy_key_by_key() -> None:
    config = parse_config(
        """
[[wearables]]
id = "desk"
[wearables.policy]
nudge_after = 20
[[wearables]]
id = "home"
[policy]
nudge_after = 45
break_min = 3
"""
    )
    desk = config.policy_for("desk")
    assert (desk.nudge_after, desk.break_min) == (20.0, 3.0)
    assert config.policy_for("home") is config.policy
    assert config.policy.nudge_after == 45.0


def test_invalid_toml_names_the_file_and_line() -> None:
    assert error_of("[policy\nnudge_after = 3") == (
        "sitbreak.toml: not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 8)"
    )


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^.*missing\.toml: no such file$"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r": is a directory, not a config file$"):
        load_config(tmp_path)
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'timezone = "Z\xfcrich"\n')
    with pytest.raises(ConfigError, match=r"latin1\.toml: not UTF-8 text \(byte 13\)$"):
        load_config(bad)


# --- the generic loader on shapes the product's sections do not use yet ---------------------------------


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Point:
    x: float = field(default=0.0, metadata={"doc": "x", "min": -1, "max": 1})
    label: Colour = field(default=Colour.RED, metadata={"doc": "colour"})


@dataclass(frozen=True)
class Shape:
    name: str = field(metadata={"doc": "name"})
    corner: tuple[float, float] = field(default=(0.0, 0.0), metadata={"doc": "corner"})
    points: tuple[Point, ...] = field(default=(), metadata={"doc": "points"})
    tags: list[str] = field(default_factory=list, metadata={"doc": "tags"})
    origin: Point | None = field(default=None, metadata={"doc": "origin"})


@dataclass(frozen=True)
class Window:
    low: float = field(default=0.0, metadata={"doc": "low"})
    high: float = field(default=1.0, metadata={"doc": "high"})

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"low = {self.low} is above high = {self.high}")


def test_cross_field_rule_is_reported_under_its_key() -> None:
    with pytest.raises(ConfigError) as exc:
        load_section(Window, {"low": 2, "high": 1}, file="f.toml", path="window")
    assert str(exc.value) == "f.toml: window.low = 2.0 is above high = 1.0"
    assert load_section(Window, {"low": 1, "high": 1}) == Window(1.0, 1.0)


def test_generic_loader_refuses_non_finite_numbers_without_bounds() -> None:
    with pytest.raises(ConfigError) as exc:
        load_section(Window, {"low": float("-inf")}, file="f.toml", path="window")
    assert str(exc.value) == "f.toml: window.low = -inf: must be a finite number"
    with pytest.raises(ConfigError) as exc:
        load_section(Shape, {"name": "s", "corner": [0, float("nan")]}, file="f.toml")
    assert str(exc.value) == "f.toml: corner[1] = nan: must be a finite number"


def test_generic_loader_shapes() -> None:
    shape = load_section(
        Shape,
        {"name": "s", "corner": [1, 2.5], "points": [{"x": 0.5, "label": "blue"}, {}], "origin": {"x": -1}},
    )
    assert shape == Shape(
        name="s",
        corner=(1.0, 2.5),
        points=(Point(0.5, Colour.BLUE), Point()),
        origin=Point(-1.0),
    )
    with pytest.raises(ConfigError) as exc:
        load_section(
            Shape,
            {"name": "s", "corner": [1], "points": [{"x": 2}, {"label": "green"}], "tags": [1]},
            file="f.toml",
            path="shape",
        )
    assert str(exc.value).splitlines() == [
        "4 problems in f.toml:",
        "f.toml: shape.corner = [1]: must be an array of 2 values",
        "f.toml: shape.points[0].x = 2: must be at most 1",
        'f.toml: shape.points[1].label = "green": must be one of red, blue',
        "f.toml: shape.tags[0] = 1: must be a string",
    ]


# --- helpers and the command ---------------------------------------------------------------------------


def test_changed_keys_lists_only_what_differs() -> None:
    config = parse_config('[policy]\nnudge_after = 45\n[mqtt]\nhost = "pi"')
    assert changed_keys(config, Config()) == [("policy.nudge_after", 45.0), ("mqtt.host", "pi")]


def test_check_config_summarises_a_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sitbreak.toml"
    path.write_text(
        'timezone = "Europe/Berlin"\n[[wearables]]\nid = "wrist"\nplacement = "wrist"\n'
        'address = "AA:BB:CC:DD:EE:FF"\n[policy]\nnudge_after = 45\n'
    )
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"{path}: OK",
        "time zone: Europe/Berlin",
        "wearables (1):",
        '  wrist: sitsense worn on the wrist, 50 Hz, ±8 g; matches address "AA:BB:CC:DD:EE:FF"',
        "    (wrist: measures inactivity, not sitting)",
        "policy: nudge after 45 min of sitting; a break is 2 min upright; firmer reminder after 10 min, "
        "at most 2 times",
        'mqtt: localhost:1883, topics under "sitbreak/<wearable>/", anonymous, no TLS',
        "store: /var/lib/sitbreak/sitbreak.db, epochs kept 90 days",
        "changed from the defaults (2):",
        '  timezone = "Europe/Berlin"',
        "  policy.nudge_after = 45.0",
    ]


def test_check_config_lists_errors_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sitbreak.toml"
    path.write_text('[[wearables]]\nid = "a"\nplacement = "knee"\n[mqtt]\nport = 70000\n')
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"sitbreak: error: 2 problems in {path}:\n"
        f'{path}: wearables[0].placement = "knee": must be one of thigh, waist, wrist\n'
        f"{path}: mqtt.port = 70000: must be at most 65535\n"
    )


def test_check_config_refuses_nan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Before, nan passed every check here and `run` then died with a traceback.
    path = tmp_path / "sitbreak.toml"
    path.write_text("[link]\nsilence_timeout_s = nan\n")
    assert main(["check-config", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"sitbreak: error: {path}: link.silence_timeout_s = nan: must be a finite number\n"
    )


def test_check_config_example_prints_a_loadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "--example"]) == 0
    path = tmp_path / "generated.toml"
    path.write_text(capsys.readouterr().out)
    assert load_config(path).wearables[0].id == "thigh"
