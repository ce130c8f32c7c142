"""The CSV files `sitbreak analyze` and `sitbreak export` write: one set of columns, one time format.

    epochs: t,iso_time,label                              one row per second
    bouts:  start,end,start_t,end_t,duration_s,label      maximal runs of one label

`t`, `start_t` and `end_t` are Unix seconds; `iso_time`, `start` and `end` the same instants as
ISO-8601 to the second with their UTC offset (`Z` for UTC). `label` is a posture (sit, lie, stand,
move, cycle, non_wear, unknown); for a wrist, which tells activity rather than posture, sit and move
are written `inactive` and `active`. analyze writes its times in UTC (a recording's own zone is often
unknown); export in the configured time zone, whose local days it exports.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from monitor.core.types import Placement, Posture, PostureCode

EPOCH_COLUMNS: tuple[str, ...] = ("t", "iso_time", "label")
BOUT_COLUMNS: tuple[str, ...] = ("start", "end", "start_t", "end_t", "duration_s", "label")


def label_names(placement: Placement) -> list[str]:
    """The `label` written for each posture code, indexed by `PostureCode`."""
    names = [Posture.from_code(int(c)).value for c in PostureCode]
    if placement is Placement.WRIST:
        # A wrist tells active from inactive, not sitting from standing: say so in the file too.
        names[PostureCode.SIT] = "inactive"
        names[PostureCode.MOVE] = "active"
    return names


def csv_time(t: float, tz: tzinfo = UTC) -> str:
    """ISO-8601 to the whole second with the offset of `tz`; an offset of zero is written `Z`, as
    analyze's vectorised writer does (`numpy.datetime_as_string(..., timezone="UTC")`).

    >>> csv_time(0.0)
    '1970-01-01T00:00:00Z'
    """
    text = datetime.fromtimestamp(int(t), tz).isoformat(timespec="seconds")
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
