"""Opening, transactions and migrations against real SQLite files."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from monitor.store import (
    Database,
    Migration,
    Store,
    StoreError,
    StoreSettings,
    TransactionError,
    storage_problem,
)
from monitor.store.db import sql_migration
from monitor.store.store import ALL_MIGRATIONS
from tests.diskfull import small_disk

EXPECTED_TABLES = {
    "_migrations",
    "wearables",
    "epochs",
    "bouts",
    "open_bouts",
    "nudges",
    "nudge_outcomes",
    "policy_events",
    "link_events",
    "calibration",
    "policy_snapshots",
    "mqtt_outbox",
}


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrates_from_empty_and_reopen_is_idempotent(db_path: Path) -> None:
    with Store.open(db_path) as store:
        assert store.db.applied_migrations() == [m.name for m in ALL_MIGRATIONS]
        store.epochs.write("w1", 100, np.array([0, 2, 3], dtype=np.uint8))
    assert tables(db_path) >= EXPECTED_TABLES
    with Store.open(db_path) as store:
        assert store.db.migrate(ALL_MIGRATIONS) == []
        assert store.db.applied_migrations() == [m.name for m in ALL_MIGRATIONS]
        assert store.epochs.read("w1", 100, 103).labels.tolist() == [0, 2, 3]


def test_wal_mode_and_private_file_modes(db_path: Path) -> None:
    with Store.open(db_path) as store:
        assert store.db.journal_mode == "wal"
        store.epochs.write("w1", 0, np.zeros(10, dtype=np.uint8))
        wal = Path(f"{db_path}-wal")
        assert wal.exists()
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700


def test_loose_mode_of_existing_file_is_tightened(db_path: Path) -> None:
    Store.open(db_path).close()
    os.chmod(db_path, 0o666)
    Store.open(db_path).close()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o640  # never writable by the group, nothing for others
    os.chmod(db_path, 0o640)  # group read is an administrator's choice (reports as one's own login)
    Store.open(db_path).close()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o640


def test_corrupt_file_is_a_clear_error_and_left_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = b"this is not SQLite at all, just text someone saved here\n" * 100
    db_path.write_bytes(garbage)
    with pytest.raises(StoreError) as exc:
        Store.open(db_path)
    assert str(exc.value) == (
        f"{db_path}: not a sitbreak database or corrupt: file is not a database; "
        "move it aside to start afresh"
    )
    assert db_path.read_bytes() == garbage


def test_damaged_pages_fail_quick_check(db_path: Path) -> None:
    with Store.open(db_path) as store:
        for block in range(40):
            store.epochs.write("w1", block * 1000, np.ones(1000, dtype=np.uint8))
    data = bytearray(db_path.read_bytes())
    page = 4096
    assert len(data) > 6 * page
    data[3 * page + 100 : 5 * page] = b"\xa5" * (2 * page - 100)
    db_path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"not a sitbreak database or corrupt: .*move it aside"):
        Store.open(db_path)


def test_someone_elses_sqlite_file_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    with pytest.raises(StoreError, match=r"application_id is 0x0, not sitbreak's 0x53697442"):
        Store.open(db_path)


def test_database_from_a_newer_version_is_refused(db_path: Path) -> None:
    Store.open(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO _migrations VALUES ('0099_future', 'x')")
    with pytest.raises(StoreError, match=r"newer sitbreak \(unknown schema steps: 0099_future\)"):
        Store.open(db_path)


def test_failed_migration_leaves_no_trace(tmp_path: Path) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (x)")
        raise RuntimeError("step failed midway")

    path = tmp_path / "m.db"
    ok = sql_migration("0001_ok", "CREATE TABLE ok (x)")
    with pytest.raises(RuntimeError, match="step failed midway"):
        Database(path, [ok, Migration("0002_broken", broken)])
    db = Database(path, [ok])
    assert db.applied_migrations() == ["0001_ok"]
    assert "half" not in tables(path)
    db.close()


def test_atomic_rolls_back_and_nests_as_savepoints(store: Store) -> None:
    db = store.db
    with pytest.raises(ValueError, match="outer"), db.atomic():
        store.epochs.write("w1", 0, np.zeros(5, dtype=np.uint8))
        raise ValueError("outer")
    assert store.epochs.count("w1") == 0

    with db.atomic():
        store.epochs.write("w1", 0, np.zeros(5, dtype=np.uint8))
        with pytest.raises(ValueError, match="inner"), db.atomic():
            store.epochs.write("w1", 5, np.zeros(5, dtype=np.uint8))
            raise ValueError("inner")
        store.epochs.write("w1", 10, np.zeros(5, dtype=np.uint8))
    assert store.epochs.count("w1") == 10
    assert store.epochs.read("w1", 0, 15).labels.tolist() == [0] * 5 + [6] * 5 + [0] * 5


def test_a_full_disk_inside_a_savepoint_raises_disk_full_and_the_store_writes_again(tmp_path: Path) -> None:
    """On a real full filesystem SQLite rolls the whole transaction back by itself; undoing the
    savepoint after that must not replace "database or disk is full" (which the service waits out)
    with "no transaction is active" (which it would take for a bug), and once space is back the
    same connection writes again."""
    with (
        small_disk(tmp_path / "disk", 3072) as disk,
        Store.open(disk.path / "state" / "sitbreak.db") as store,
    ):
        store.epochs.write("w1", 0, np.zeros(60, dtype=np.uint8))
        disk.fill()
        with pytest.raises(sqlite3.OperationalError) as raised, store.atomic(), store.atomic() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS big (x BLOB)")
            for _ in range(40):  # more than the page cache holds: the INSERT itself spills and fails
                conn.execute("INSERT INTO big VALUES (?)", (os.urandom(200_000),))
        assert raised.value.sqlite_errorname == "SQLITE_FULL"
        assert storage_problem(raised.value) == "the disk is full"
        assert not store.db._conn.in_transaction
        with pytest.raises(sqlite3.OperationalError, match="full"):
            store.epochs.write("w1", 60, np.ones(3000, dtype=np.uint8))  # the COMMIT fails
        disk.free()
        store.epochs.write("w1", 60, np.ones(60, dtype=np.uint8))
        assert store.epochs.count("w1") == 120


def test_what_counts_as_a_storage_problem() -> None:
    def error(cls: type[sqlite3.Error], name: str) -> sqlite3.Error:
        exc = cls("x")
        exc.sqlite_errorname = name
        return exc

    assert storage_problem(error(sqlite3.OperationalError, "SQLITE_IOERR_WRITE")) == "disk I/O error"
    assert storage_problem(error(sqlite3.OperationalError, "SQLITE_READONLY_DBMOVED"))
    assert storage_problem(error(sqlite3.OperationalError, "SQLITE_BUSY")) == "the database is locked"
    # A constraint or a misuse fails the same way every time: not something to wait out.
    assert storage_problem(error(sqlite3.IntegrityError, "SQLITE_CONSTRAINT_UNIQUE")) is None
    assert storage_problem(error(sqlite3.OperationalError, "SQLITE_ERROR")) is None
    assert storage_problem(ValueError("labels must be 1-D")) is None


def test_enable_wal_refuses_inside_a_transaction(store: Store) -> None:
    with store.db.atomic(), pytest.raises(TransactionError, match=r"enable_wal\(\) cannot run inside"):
        store.db.enable_wal()


def test_unwritable_location_names_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    path = blocker / "x" / "sitbreak.db"
    with pytest.raises(StoreError) as exc:
        Store(StoreSettings(path=str(path)))
    assert str(exc.value) == f"{path}: cannot open the database: Not a directory"


def test_upgrade_to_daily_reports_counts_reports_already_in_the_outbox(db_path: Path) -> None:
    """A database from before `daily_reports` (schema 0002): the days whose reports are in its outbox
    are reported already, so the first start after the upgrade does not send one of them again.
    Malformed or foreign outbox rows are skipped, not fatal."""
    before = [m for m in ALL_MIGRATIONS if m.name != "0003_daily_reports"]
    assert len(before) == len(ALL_MIGRATIONS) - 1
    old = Database(db_path, before)
    with old.atomic() as conn:
        conn.executemany("INSERT INTO wearables (name) VALUES (?)", [("thigh",), ("waist",)])
        rows = [
            b'{"ts": "2026-11-23T21:00:00+01:00", "wearable": "thigh", "date": "2026-11-23", "summary": {}}',
            b'{"ts": "2026-11-24T21:00:00+01:00", "wearable": "thigh", "date": "2026-11-24", "summary": {}}',
            b'{"wearable": "waist", "date": "2026-11-22"}',
            b'{"wearable": "nobody", "date": "2026-11-24"}',  # a wearable the store never had
            b'{"wearable": "waist", "date": 20261124}',
            b"\xff{not json",
        ]
        conn.executemany(
            "INSERT INTO mqtt_outbox (topic, payload, qos, retain, kind, created_ts, status) "
            "VALUES ('t', ?, 1, 1, 'report', 1.0, 'sent')",
            [(r,) for r in rows],
        )
        conn.execute(
            "INSERT INTO mqtt_outbox (topic, payload, qos, retain, kind, created_ts) "
            """VALUES ('t', '{"wearable": "waist", "date": "2026-11-25"}', 1, 0, 'event', 1.0)"""
        )
    old.close()
    with Store.open(db_path) as store:
        assert store.reports.last_day("thigh") == date(2026, 11, 24)
        assert store.reports.last_day("waist") == date(2026, 11, 22)  # events are not reports
        assert store.reports.last_day("nobody") is None
