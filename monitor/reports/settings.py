"""Settings for daily and weekly reports. Pure: `monitor.config` fills it from TOML.

Days follow the top-level `timezone` of the config, shared with the nudge schedule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.core.fields import setting

# A stand-up must last this long to count as a break in sitting. The pipeline already drops stands
# shorter than 2 s; 5 s also drops half-rising to reach for something, and equals the pipeline's
# minimum sitting bout, so both sides of a break share one floor. (activPAL's default is 10 s, which
# gives ~8 breaks/h where 1 s gives ~28/h: the value changes the number, so every report states it.)
DEFAULT_MIN_BREAK_S = 5
_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True)
class ReportSettings:
    min_break_s: int = setting(
        DEFAULT_MIN_BREAK_S,
        "Shortest upright time after sitting that counts as a break (stated in every report).",
        unit="s",
        min=1,
        max=600,
    )
    daily_at: str = setting(
        "21:30",
        "Local time (HH:MM) the day's report is published on report/daily and saved, also "
        "when the wearable is off; a report due while the service was down goes out at its next "
        "start. Each day is sent once.",
    )

    def __post_init__(self) -> None:
        if not _CLOCK.fullmatch(self.daily_at):
            raise ValueError(f"daily_at must be a local time HH:MM (00:00-23:59), got {self.daily_at!r}")
