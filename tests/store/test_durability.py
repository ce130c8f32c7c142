"""A writer killed with SIGKILL mid-stream loses nothing it committed and leaves no half block."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from monitor.core.outbox import OutboxKind
from monitor.store import Store

BLOCK = 5_000  # big enough that the kill usually lands inside a transaction
T0 = 1_700_000_000

WRITER = f"""
import sys
import numpy as np
from monitor.core.outbox import OutboxKind
from monitor.store import Store

store = Store.open(sys.argv[1])
i = 0
while True:
    labels = np.full({BLOCK}, i % 5, dtype=np.uint8)
    with store.atomic():
        store.epochs.write("w1", {T0} + i * {BLOCK}, labels)
        store.outbox.enqueue("sitbreak/w1/event", str(i).encode(), 1, False, OutboxKind.EVENT, float(i))
    print(i, flush=True)
    i += 1
"""


def test_sigkill_mid_write_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "sitbreak.db"
    Store.open(path).close()
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert child.stdout is not None
        committed = -1
        deadline = time.monotonic() + 30
        while committed < 20 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            committed = int(line)
        time.sleep(0.013)  # land somewhere inside the next transaction
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert committed >= 20, "the writer never got going"

    with Store.open(path) as store:  # quick_check at open: consistent
        n = store.epochs.count("w1")
        blocks = n // BLOCK
        assert n % BLOCK == 0, "a block was half written"
        assert blocks >= committed + 1, "a committed block was lost"
        expected = np.repeat(np.arange(blocks) % 5, BLOCK).astype(np.uint8)
        assert np.array_equal(store.epochs.read("w1", T0, T0 + n).labels, expected)
        events = store.outbox.pending()
        assert [e.payload for e in events] == [str(i).encode() for i in range(blocks)]
        assert all(e.kind is OutboxKind.EVENT for e in events)
