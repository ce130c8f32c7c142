"""The SQLite connection: opening safely, transactions, migrations.

One `Database` per file. It is shared by the asyncio loop's worker threads and paho's network thread,
so every statement runs under one re-entrant lock; `atomic()` is the only way to write.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.core.errors import UserError

log = logging.getLogger(__name__)

# Written into the file header (PRAGMA application_id) so that we recognise our own databases and
# refuse to migrate somebody else's SQLite file. ASCII "SitB".
APPLICATION_ID = 0x53697442
# Only the service user may read posture history: it is health data.
FILE_MODE = 0o600
DIR_MODE = 0o700
# Writers hold the lock for milliseconds; a report run from the shell may wait this long for the daemon.
BUSY_TIMEOUT_MS = 5000

Params = Sequence[Any] | dict[str, Any]


class StoreError(UserError):
    """The database cannot be used as it is. The text names the file and what to do."""


class TransactionError(StoreError):
    """A transaction was misused (e.g. a pragma that cannot run inside one)."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One named schema step. `apply` runs inside the transaction that also records its name."""

    name: str
    apply: Callable[[sqlite3.Connection], None]


def sql_migration(name: str, *statements: str) -> Migration:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return Migration(name, apply)


def _create_private_file(path: Path) -> None:
    """Create the file with mode 0600 before SQLite opens it; tighten an existing looser mode."""
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=DIR_MODE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise StoreError(f"{path}: cannot open the database: {exc.strerror}") from exc
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & ~FILE_MODE:
            os.fchmod(fd, FILE_MODE)
            log.warning("%s: mode was %o, tightened to %o (it holds health data)", path, mode, FILE_MODE)
    finally:
        os.close(fd)


class Database:
    """An open sitbreak database: WAL journal, checked at open, migrated to the current schema."""

    def __init__(
        self, path: str | os.PathLike[str], migrations: Sequence[Migration], *, check: bool = True
    ) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        _create_private_file(self.path)
        try:
            # isolation_level=None: we issue BEGIN/SAVEPOINT ourselves in atomic().
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
            )
        except sqlite3.Error as exc:
            raise self._corrupt(exc) from exc
        try:
            self._prepare(check)
            self.migrate(migrations)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise self._corrupt(exc) from exc
        except BaseException:
            self._conn.close()
            raise

    def _corrupt(self, exc: BaseException) -> StoreError:
        return StoreError(
            f"{self.path}: not a sitbreak database or corrupt: {exc}; move it aside to start afresh"
        )

    def _prepare(self, check: bool) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if check:
            result = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if result != ["ok"]:
                # One line per problem from SQLite, some with embedded newlines: keep the error one line.
                details = "; ".join(" ".join(str(r).split()) for r in result[:3])
                raise sqlite3.DatabaseError("quick_check: " + details)
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id == 0 and tables == 0:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        elif app_id != APPLICATION_ID:
            raise sqlite3.DatabaseError(f"application_id is {app_id:#x}, not sitbreak's {APPLICATION_ID:#x}")
        self.enable_wal()
        # NORMAL in WAL mode: a killed process loses nothing committed; a power cut may lose the last
        # second or so but never corrupts. FULL would fsync every epoch block and wear SD cards.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")

    def enable_wal(self) -> None:
        if self._conn.in_transaction:
            raise TransactionError(f"{self.path}: enable_wal() cannot run inside a transaction")
        mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"{self.path}: SQLite refused WAL mode (journal_mode is {mode})")

    @property
    def journal_mode(self) -> str:
        return str(self.query_one("PRAGMA journal_mode")[0])

    # -- transactions ------------------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """One transaction; nested calls become savepoints. Any exception rolls back and re-raises."""
        with self._lock:
            conn = self._conn
            depth = self._depth
            savepoint = f"sp{depth}"
            conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {savepoint}")
            self._depth = depth + 1
            try:
                yield conn
            except BaseException:
                if depth == 0:
                    conn.execute("ROLLBACK")
                else:
                    conn.execute(f"ROLLBACK TO {savepoint}")
                    conn.execute(f"RELEASE {savepoint}")
                raise
            else:
                conn.execute("COMMIT" if depth == 0 else f"RELEASE {savepoint}")
            finally:
                self._depth = depth

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one writing statement in its own transaction (or the caller's); return rows changed."""
        with self.atomic() as conn:
            return conn.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        with self.atomic() as conn:
            return conn.executemany(sql, rows).rowcount

    def query(self, sql: str, params: Params = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Params = ()) -> Any:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    # -- migrations --------------------------------------------------------------------------------

    def applied_migrations(self) -> list[str]:
        return [row[0] for row in self.query("SELECT name FROM _migrations ORDER BY rowid")]

    def migrate(self, migrations: Sequence[Migration]) -> list[str]:
        """Apply the named migrations not yet recorded, each with its record in one transaction."""
        known = {m.name for m in migrations}
        exists = self.query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'")
        if exists is None:  # checked first so a reader opening a busy database takes no write lock
            with self.atomic() as conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
        applied = set(self.applied_migrations())
        unknown = sorted(applied - known)
        if unknown:
            raise StoreError(
                f"{self.path}: written by a newer sitbreak (unknown schema steps: {', '.join(unknown)}); "
                "upgrade sitbreak or point it at another database"
            )
        done: list[str] = []
        for migration in migrations:
            if migration.name in applied:
                continue
            with self.atomic() as conn:
                migration.apply(conn)
                conn.execute(
                    "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                    (migration.name, datetime.now(UTC).isoformat(timespec="seconds")),
                )
            log.info("%s: applied schema step %s", self.path, migration.name)
            done.append(migration.name)
        return done

    def close(self) -> None:
        with self._lock:
            self._conn.close()
