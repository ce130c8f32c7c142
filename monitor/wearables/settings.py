"""Settings of the wearable link, loaded from the `[link]` table by monitor.config.

Pure: no I/O imports. Each field documents itself for the generic TOML loader (doc, unit, bounds).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.core.fields import setting


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """How the link finds, keeps and recovers the wearable's stream."""

    silence_timeout_s: float = setting(
        10.0,
        "No notification for this long while connected means the link is dead (bluetoothd "
        "may have died without telling Bleak): tear it down and reconnect. A 50 Hz stream sends "
        "several packets a second, so 10 s is many missed packets, yet costs at most 10 s of data.",
        unit="s",
        min=1.0,
        max=600.0,
    )
    backoff_min_s: float = setting(
        0.5,
        "First wait before reconnecting after a loss or failure; short so a brief drop costs about a second.",
        unit="s",
        min=0.0,
        max=60.0,
    )
    backoff_max_s: float = setting(
        60.0,
        "Longest wait between reconnect attempts; the wait doubles from backoff_min_s up to "
        "this while the wearable stays away.",
        unit="s",
        min=1.0,
        max=3600.0,
    )
    scan_timeout_s: float = setting(
        30.0,
        "How long one scan waits for the wearable's advertisement before backing off.",
        unit="s",
        min=1.0,
        max=600.0,
    )
    connect_timeout_s: float = setting(
        30.0,
        "Safety limit on one connection attempt (connect, service discovery); an out-of-range "
        "device can make BlueZ's Connect hang.",
        unit="s",
        min=1.0,
        max=300.0,
    )
    connect_attempts: int = setting(
        2, "Attempts bleak-retry-connector makes per connection cycle before we back off.", min=1, max=10
    )
    start_timeout_s: float = setting(
        5.0,
        "How long to wait for the wearable to answer a start/configure write.",
        unit="s",
        min=0.5,
        max=60.0,
    )
    queue_size: int = setting(
        256,
        "Sample blocks held for a slow consumer (one block per `block_max_s` of data). When "
        "full, the oldest block is dropped and its time recorded as a gap, so the pipeline marks it "
        "unknown; the Bluetooth callback never waits.",
        unit="blocks",
        min=4,
        max=100000,
    )
    block_max_s: float = setting(
        5.0,
        "Longest span of samples gathered into one block before it is handed on (also how "
        "long notifications wait to be decoded together). Each block wakes the service once and gets "
        "a pipeline pass: larger blocks cost less CPU, but `state` and nudges trail the samples by up "
        "to this much more, and a crash loses up to this much data (docs/design.md, 'Cost on a Pi').",
        unit="s",
        min=0.05,
        max=60.0,
    )
    arrival_gap_s: float = setting(
        0.5,
        "For wearables without a clock (micro:bit, Thingy:52): a sample arriving this much "
        "later than expected starts a gap (unknown time) instead of being stretched over it.",
        unit="s",
        min=0.05,
        max=10.0,
    )
    disconnect_timeout_s: float = setting(
        5.0,
        "Limit on a deliberate disconnect; past it the link is abandoned and rebuilt.",
        unit="s",
        min=0.5,
        max=60.0,
    )
    acquire_notify: bool = setting(
        True,
        "Receive data through BlueZ's AcquireNotify socket instead of D-Bus signals (Bleak's "
        "own default): about 15 % less CPU per packet (bench/link_cpu.py). Turn it off for a "
        "device whose data characteristic BlueZ will not hand out as a socket.",
    )
    malformed_log_interval_s: float = setting(
        60.0,
        "At most one log line per this interval for malformed, duplicate or reordered "
        "packets (each line carries the counts since the last one).",
        unit="s",
        min=1.0,
        max=3600.0,
    )

    def __post_init__(self) -> None:
        if self.backoff_max_s < self.backoff_min_s:
            raise ValueError(
                f"backoff_max_s={self.backoff_max_s} is below backoff_min_s={self.backoff_min_s}; "
                "the maximum wait must be at least the minimum"
            )
