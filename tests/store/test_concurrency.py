"""The daemon writes from worker threads and paho's thread while `sitbreak report` reads from another
process: no 'database is locked', no lost or mixed-up rows."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

from monitor.core.outbox import OutboxKind
from monitor.store import Store

T0 = 1_700_000_000
BLOCKS = 200


def test_threads_share_one_store(store: Store) -> None:
    errors: list[BaseException] = []

    def epochs(wearable: str) -> None:
        try:
            for k in range(BLOCKS):
                with store.atomic():
                    store.epochs.write(wearable, T0 + 10 * k, np.full(10, k % 5, dtype=np.uint8))
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    def outbox() -> None:
        try:
            for k in range(BLOCKS):
                entry = store.outbox.enqueue("t", str(k).encode(), 1, False, OutboxKind.EVENT, float(k))
                store.outbox.mark_sent(entry, float(k))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=epochs, args=(w,)) for w in ("a", "b")]
    threads.append(threading.Thread(target=outbox))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    expected = np.repeat(np.arange(BLOCKS) % 5, 10)
    for w in ("a", "b"):
        assert np.array_equal(store.epochs.read(w, T0, T0 + 10 * BLOCKS).labels, expected)
    assert store.outbox.pending() == []


READER = """
import sys
from monitor.store import Store
with Store.open(sys.argv[1]) as store:
    for _ in range(50):
        n = store.epochs.count("w")
        assert n % 100 == 0, n
print("ok")
"""


def test_a_second_process_reads_while_the_service_writes(db_path: Path) -> None:
    with Store.open(db_path) as store:
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(db_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        for k in range(300):
            store.epochs.write("w", T0 + 100 * k, np.zeros(100, dtype=np.uint8))
        out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    assert out.strip() == "ok"
