"""Opening the database: never through a link, never a chmod of somebody else's file, errors that
name the real problem, and read-only opens for people reading their reports.

Permission problems are made real: when the tests run as root (CI), the code under test runs in a
child process whose capability bounding set lacks CAP_DAC_OVERRIDE and friends (`setpriv`), so file
modes bind it exactly as they bind an ordinary user.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest

from monitor.store import Store, StoreError
from monitor.store.store import ALL_MIGRATIONS
from tests.plain_user import as_plain_user


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_database(path: Path) -> None:
    with Store.open(path) as store:
        store.epochs.write("w1", 1_700_000_000, np.zeros(60, dtype=np.uint8))


def test_a_symlinked_database_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("not yours\n")
    os.chmod(target, 0o644)
    link = tmp_path / "state" / "sitbreak.db"
    link.parent.mkdir()
    link.symlink_to(target)
    for readonly in (False, True):
        with pytest.raises(StoreError) as exc:
            Store.open(link, readonly=readonly)
        assert str(exc.value) == (
            f"{link}: is a symbolic link; sitbreak opens its database only as a regular file "
            "(point the path at the file itself)"
        )
    assert target.read_text() == "not yours\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_dangling_symlink_is_not_followed_to_create_a_file(tmp_path: Path) -> None:
    target = tmp_path / "planted.db"
    link = tmp_path / "sitbreak.db"
    link.symlink_to(target)
    with pytest.raises(StoreError, match="is a symbolic link"):
        Store.open(link)
    assert not target.exists()


def test_a_fifo_or_directory_is_not_a_database(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.db"
    os.mkfifo(fifo)
    with pytest.raises(StoreError) as exc:
        Store.open(fifo)
    assert str(exc.value) == f"{fifo}: is not a regular file; sitbreak keeps its database in a plain file"
    folder = tmp_path / "folder.db"
    folder.mkdir()
    with pytest.raises(StoreError, match=r"folder.db: (cannot open the database: Is a directory|is not a)"):
        Store.open(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_the_mode_of_a_file_owned_by_someone_else_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    make_database(path)
    os.chown(path, 65534, 65534)
    os.chmod(path, 0o640)  # shared with a group on purpose: not ours to undo
    Store.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_read_only_directory_is_a_permission_problem(tmp_path: Path) -> None:
    state = tmp_path / "state"
    path = state / "sitbreak.db"
    make_database(path)
    os.chmod(path, 0o666)  # the file itself is writable ...
    os.chmod(state, 0o555)  # ... its directory is not, so SQLite cannot make its -wal file
    try:
        got = as_plain_user(
            f"""
            from monitor.store import Store, StoreError
            try:
                Store.open({str(path)!r})
            except StoreError as exc:
                print(exc)
            """
        )
    finally:
        os.chmod(state, 0o755)
    assert got.returncode == 0, got.stderr
    message = got.stdout.strip()
    assert message.startswith(f"{path}: cannot write beside it (")
    assert f"needs write access to {state}" in message and "the data is intact" in message
    words = message.removeprefix(f"{path}: ")
    assert "corrupt" not in words and "move it aside" not in words


def test_a_read_only_file_is_named_read_only_not_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "sitbreak.db"
    make_database(path)
    os.chmod(path, 0o444)
    got = as_plain_user(
        f"""
        from monitor.store import Store, StoreError
        try:
            Store.open({str(path)!r})
        except StoreError as exc:
            print(exc)
        """
    )
    assert got.returncode == 0, got.stderr
    message = got.stdout.strip()
    assert message == (
        f"{path}: cannot open the database: Permission denied (this user may not write it, or its mount "
        "is read-only; the data is intact: check the file's owner and mode with `ls -l` and the mount "
        "with `findmnt`)"
    )


@pytest.mark.parametrize("writer_running", [False, True], ids=["service-stopped", "service-running"])
def test_reports_read_a_database_they_may_not_write(tmp_path: Path, writer_running: bool) -> None:
    """`sitbreak report` as a person who may only read the service's files (another user, a read-only
    mount): it reads, and changes nothing, with or without the service holding the -wal file open."""
    state = tmp_path / "state"
    path = state / "sitbreak.db"
    make_database(path)
    writer = Store.open(path) if writer_running else None
    if writer is not None:
        writer.epochs.write("w1", 1_700_000_060, np.ones(60, dtype=np.uint8))  # only in the -wal yet
    os.chmod(path, 0o444)
    os.chmod(state, 0o555)
    before = digest(path)
    try:
        got = as_plain_user(
            f"""
            from monitor.store import Store
            with Store.open({str(path)!r}, readonly=True) as store:
                print(store.epochs.count("w1"))
            """
        )
    finally:
        os.chmod(state, 0o755)
        os.chmod(path, 0o600)
        if writer is not None:
            writer.close()
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == ("120" if writer_running else "60")
    if not writer_running:
        assert digest(path) == before
        assert not Path(f"{path}-wal").exists()


def test_read_only_open_refuses_a_database_the_service_has_not_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    make_database(path)
    newest = ALL_MIGRATIONS[-1].name
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM _migrations WHERE name = ?", (newest,))
    with pytest.raises(StoreError) as exc:
        Store.open(path, readonly=True)
    assert str(exc.value) == (
        f"{path}: written by an older sitbreak (schema steps not applied yet: {newest}); "
        "start the service once to upgrade it, then read it"
    )


def test_sitbreak_report_and_export_run_on_a_database_they_may_only_read(tmp_path: Path) -> None:
    state = tmp_path / "state"
    path = state / "sitbreak.db"
    make_database(path)  # one minute of sitting on 2023-11-14 (UTC)
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(path, 0o444)
    os.chmod(state, 0o555)
    before = digest(path)
    try:
        got = as_plain_user(
            f"""
            import sys
            from monitor.cli import main
            db = {str(path)!r}
            rc = main(["report", "--db", db, "--date", "2023-11-14", "--tz", "UTC"])
            rc2 = main(["export", "--db", db, "--from", "2023-11-14", "--to", "2023-11-14", "--tz", "UTC",
                        "--out", {str(out)!r}, "--quiet"])
            sys.exit(rc or rc2)
            """
        )
    finally:
        os.chmod(state, 0o755)
        os.chmod(path, 0o600)
    assert got.returncode == 0, got.stderr
    assert "Traceback" not in got.stderr
    assert "sitting" in got.stdout.lower()
    assert digest(path) == before
    assert sorted(p.name for p in out.iterdir())
