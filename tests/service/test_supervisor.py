"""The supervisor on its own: restarts with backoff, gives up (fatal) on a task that keeps failing,
per-item isolation, and what it reports as stuck. The daemon-level behaviour (exit code, STATUS,
watchdog pings as systemd sees them) is in test_never_half_alive.py."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import pytest

from monitor.service.supervisor import HandlerBrokenError, Isolation, Supervisor


def test_a_failing_task_is_logged_once_with_its_traceback_and_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) <= 3:
            raise ValueError(f"bad item {len(runs)}")
        await asyncio.Event().wait()  # then runs for ever

    async def scenario() -> Supervisor:
        sup = Supervisor(backoff_first_s=0.01)
        handle = sup.spawn("w1 data", flaky)
        while len(runs) < 4:
            await asyncio.sleep(0.01)
        assert handle.state == "running"
        assert sup.problems() == []
        await sup.cancel([handle])
        return sup

    caplog.set_level(logging.WARNING, logger="monitor.service.supervisor")
    sup = asyncio.run(scenario())
    assert sup.counts["w1 data"] == 3 and sup.failures("w1 ") == 3 and sup.fatal is None
    failed = [r for r in caplog.records if "the task failed" in r.getMessage()]
    assert len(failed) == 3
    assert failed[0].exc_info is not None and all(r.exc_info is None for r in failed[1:])
    assert "ValueError: bad item 1" in failed[0].getMessage()


def test_a_task_that_keeps_failing_ends_the_process() -> None:
    fatal: list[str] = []

    async def broken() -> None:
        raise OSError("the adapter is gone")

    async def scenario() -> Supervisor:
        sup = Supervisor(fatal.append, restart_limit=3, backoff_first_s=0.001)
        handle = sup.spawn("w1 link", broken)
        assert handle.task is not None
        await handle.task
        assert handle.state == "failed"
        assert sup.problems() == ["w1 link failed"]
        return sup

    sup = asyncio.run(scenario())
    assert fatal == [sup.fatal]
    assert fatal[0].startswith("w1 link failed 4 times in 10 min (last: OSError: the adapter is gone)")


def test_a_task_that_returns_is_a_failure_unless_it_may_end() -> None:
    async def returns() -> None:
        return

    async def scenario() -> tuple[str, str, int]:
        sup = Supervisor(backoff_first_s=10.0)
        watcher = sup.spawn("w1 mqtt watcher", returns, ends=True)
        loop = sup.spawn("w1 commands", returns)
        for _ in range(100):
            await asyncio.sleep(0)
        states = (watcher.state, loop.state, sup.counts["w1 commands"])
        await sup.cancel([watcher, loop])
        return states

    assert asyncio.run(scenario()) == ("ended", "backoff", 1)


def test_watched_work_that_is_stuck_is_a_problem() -> None:
    async def scenario() -> list[str]:
        sup = Supervisor()
        sup.watch("w1", lambda now: "w1 daily report stuck for 700 s")
        sup.watch("w2", lambda now: None)
        problems = sup.problems()
        sup.unwatch("w1")
        assert sup.problems() == []
        return problems

    assert asyncio.run(scenario()) == ["w1 daily report stuck for 700 s"]


def test_isolation_drops_a_bad_item_and_fails_a_handler_that_fails_half_the_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counts: Counter[str] = Counter()
    isolation = Isolation("w1 commands", counts, window=10)
    caplog.set_level(logging.ERROR, logger="monitor.service.supervisor")
    with isolation.item("the command pause"):
        _fail(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))
    for _ in range(3):
        with isolation.item("the command ack"):
            pass
    assert counts == Counter({"errors": 1, "errors w1 commands": 1})
    assert "the command pause failed and was dropped" in caplog.text
    with pytest.raises(HandlerBrokenError, match="5 of the last 8 items failed"):
        for _ in range(10):
            with isolation.item("a block"):
                _fail(KeyError("x"))
    # After the first traceback of a kind, repeats are one line at most once a minute.
    assert sum(1 for r in caplog.records if r.exc_info is not None) == 2


def _fail(exc: Exception) -> None:
    """Raise `exc` (a plain `raise` in the block would tell mypy the lines after it never run)."""
    raise exc
