"""tests.service.daemon_proc with faults injected into the service's handlers, to break each task.

usage: SITBREAK_TEST_FAULTS=fault,fault,... python -m tests.service.fault_proc (daemon_proc's args)

Faults (each wraps one real handler; everything else is the product unchanged):
  policy:<word>   NudgePolicy.command raises RuntimeError for a pause whose reason is <word>
  store:<word>    Store.record_decision raises ValueError for a decision whose note mentions <word>
  block:<n>       the service's handler of the n-th sample block raises RuntimeError
  link            WearableLink.run raises OSError at once, every time it is started
  report:<s>      building the daily report takes <s> wall seconds (a worker thread that hangs)
  nudge-after:<m> NudgePolicy refuses settings with nudge_after == <m> (ValueError): a value the
                  config checks accept but a part of the service cannot take
  fast            the supervisor restarts after 0.05 s instead of 1 s (to see it give up quickly),
                  and a report counts as stuck after 2 s instead of 10 min
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import monitor.daemon
import monitor.service.stalls
from monitor.core.records import DecisionRecords
from monitor.core.types import SampleBlock
from monitor.nudges.commands import Command, Pause
from monitor.nudges.events import PolicyEvent
from monitor.nudges.policy import NudgePolicy
from monitor.nudges.settings import PolicySettings
from monitor.service.daily_reporter import BuiltReport, DailyReporter
from monitor.service.supervisor import Supervisor
from monitor.service.wearable import WearableService
from monitor.store import Store
from monitor.wearables.link import WearableLink
from tests.service import daemon_proc


def install(faults: list[str]) -> None:
    for fault in faults:
        name, _, arg = fault.partition(":")
        if name == "policy":
            _policy_raises_on(arg)
        elif name == "store":
            _store_raises_on(arg)
        elif name == "block":
            _block_raises(int(arg))
        elif name == "link":
            _link_fails()
        elif name == "report":
            _report_hangs(float(arg))
        elif name == "nudge-after":
            _policy_refuses(float(arg))
        elif name == "fast":
            monitor.daemon.Supervisor = _FastSupervisor  # type: ignore[attr-defined,assignment]
            monitor.service.stalls.REPORT_STALL_S = 2.0
        else:
            raise SystemExit(f"unknown fault {fault!r}")


class _FastSupervisor(Supervisor):
    def __init__(self, on_fatal: Callable[[str], None] | None = None) -> None:
        super().__init__(on_fatal, backoff_first_s=0.05)


def _policy_raises_on(word: str) -> None:
    real = NudgePolicy.command

    def command(self: NudgePolicy, cmd: Command) -> list[PolicyEvent]:
        if isinstance(cmd, Pause) and cmd.reason == word:
            raise RuntimeError(f"injected: the policy fails on a pause for {word!r}")
        return real(self, cmd)

    NudgePolicy.command = command  # type: ignore[method-assign]


def _policy_refuses(minutes: float) -> None:
    real = NudgePolicy.__init__

    def init(self: NudgePolicy, settings: PolicySettings, *args: Any, **kwargs: Any) -> None:
        if settings.nudge_after == minutes:
            raise ValueError(f"injected: the policy cannot take nudge_after = {minutes:g}")
        real(self, settings, *args, **kwargs)

    NudgePolicy.__init__ = init  # type: ignore[method-assign]


def _store_raises_on(word: str) -> None:
    real = Store.record_decision

    def record_decision(self: Store, wearable: str, records: DecisionRecords) -> None:
        if word in str(records.event.detail.get("note", "")):
            raise ValueError(f"injected: the store refuses a decision about {word!r}")
        real(self, wearable, records)

    Store.record_decision = record_decision  # type: ignore[method-assign]


def _block_raises(n: int) -> None:
    real = WearableService._on_block
    seen = [0]

    def on_block(self: WearableService, block: SampleBlock) -> None:
        seen[0] += 1
        if seen[0] == n:
            raise RuntimeError(f"injected: sample block {n} breaks its handler")
        real(self, block)

    WearableService._on_block = on_block  # type: ignore[method-assign]


def _link_fails() -> None:
    async def run(self: WearableLink) -> None:
        raise OSError("injected: the link task fails at once")

    WearableLink.run = run  # type: ignore[method-assign]


def _report_hangs(seconds: float) -> None:
    real = DailyReporter.build

    def build(self: DailyReporter, day: date, now: float) -> BuiltReport:
        print(f"injected: the report build hangs for {seconds:g} s", flush=True)
        time.sleep(seconds)
        return real(self, day, now)

    DailyReporter.build = build  # type: ignore[method-assign]


if __name__ == "__main__":
    install([f for f in os.environ.get("SITBREAK_TEST_FAULTS", "").split(",") if f])
    sys.exit(daemon_proc.main(sys.argv[1:]))
