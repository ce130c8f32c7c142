"""`sitbreak check-config FILE`: load a config file, say what was understood, or list every error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from monitor.config import Config, WearableSettings, changed_keys, example_toml, load_config, show_value
from monitor.config.paths import Places
from monitor.core.errors import UserError

_HELP = "check a config file and summarise what it sets"
_DESCRIPTION = """\
Load a sitbreak TOML config file and check every key: unknown keys, wrong types, values out of range.
All problems are listed at once (exit status 2); a good file prints a summary of what it sets (exit 0).

Without FILE it checks the file `sitbreak run` would read: {default}.

examples:
  sitbreak check-config /etc/sitbreak/sitbreak.toml
  sitbreak check-config --example > sitbreak.toml     start from a file documenting every key
"""


def register(subparsers: Any) -> None:
    default = Places.here().config
    parser = subparsers.add_parser(
        "check-config",
        help=_HELP,
        description=_DESCRIPTION.format(default=default),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help=f"the TOML file to check (default: {default})"
    )
    parser.add_argument(
        "--example", action="store_true", help="print a config file documenting every key and exit"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    file = args.file
    if args.example:
        if file is not None:
            raise UserError(
                "--example prints the example and checks nothing: give FILE or --example, not both"
            )
        sys.stdout.write(example_toml())
        return 0
    if file is None:
        file = str(Places.here().config)
        if not Path(file).exists():
            raise UserError(
                f"{file}: no such file (the default for this user); give a FILE to check, or start "
                f"one: mkdir -p {Path(file).parent} && sitbreak check-config --example > {file}"
            )
    config = load_config(file)
    sys.stdout.write(summary(config, file))
    return 0


def _wearable_line(w: WearableSettings) -> str:
    match = [
        f"{label} {show_value(value)}"
        for label, value in (("address", w.address), ("name", w.name), ("service", w.service_uuid))
        if value
    ]
    how = " and ".join(match) if match else f"the first {w.profile} device found"
    line = f"  {w.id}: {w.profile} worn on the {w.placement}, {w.rate_hz:g} Hz, ±{w.range_g} g; matches {how}"
    if w.placement == "wrist":
        line += "\n    (wrist: measures inactivity, not sitting)"
    return line


def summary(config: Config, file: str) -> str:
    """What the config sets, in words, then every key that differs from the default."""
    p = config.policy
    lines = [f"{file}: OK"]
    lines.append(f"time zone: {config.timezone or 'the system time zone'}")
    if config.wearables:
        lines.append(f"wearables ({len(config.wearables)}):")
        lines += [_wearable_line(w) for w in config.wearables]
    else:
        lines.append("wearables: none configured")
    lines.append(
        f"policy: nudge after {p.nudge_after:g} min of sitting; a break is {p.break_min:g} min upright; "
        f"firmer reminder after {p.escalate_after:g} min, at most {p.max_escalations} times"
    )
    m = config.mqtt
    if m.enabled:
        auth = f"user {m.username!r}" if m.username else "anonymous"
        tls = "TLS" if m.tls else "no TLS"
        lines.append(f'mqtt: {m.host}:{m.port}, topics under "{m.prefix}/<wearable>/", {auth}, {tls}')
    else:
        lines.append("mqtt: off")
    lines.append(f"store: {config.store.path}, epochs kept {config.store.retention_days} days")
    changed = changed_keys(config, Config())
    for i, w in enumerate(config.wearables):
        if w.policy is not None:
            changed += [(f"wearables[{i}].policy.{k}", v) for k, v in changed_keys(w.policy, config.policy)]
    changed = [(k, v) for k, v in changed if k != "wearables"]
    if changed:
        lines.append(f"changed from the defaults ({len(changed)}):")
        lines += [f"  {key} = {show_value(value)}" for key, value in changed]
    else:
        lines.append("every other key has its default")
    return "\n".join(lines) + "\n"
