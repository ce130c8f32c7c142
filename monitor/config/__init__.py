"""The configuration file: TOML into frozen dataclasses, with errors a user can act on.

    schema.py    the root `Config`, `WearableSettings`, the cross-key checks, DEFAULT_CONFIG_PATH
    load.py      the generic TOML -> frozen dataclass converter; `parse_config`, `load_config`
    example.py   the documented key list and config/sitbreak.example.toml
    notation.py  values, key paths and units as people read them (messages, summaries, the example)

Each room owns the settings dataclass of its table; field metadata (doc, unit, bounds, choices, pattern)
drives the checks and the example alike. Import from here; the modules are the layout, not the API.
"""

from monitor.config.example import KeyDoc, example_toml, iter_keys
from monitor.config.load import load_config, load_section, parse_config
from monitor.config.notation import show_value
from monitor.config.schema import DEFAULT_CONFIG_PATH, Config, WearableSettings, changed_keys

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
