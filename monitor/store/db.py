"""The SQLite connection: opening safely, transactions, migrations.

One `Database` per file. It is shared by the asyncio loop's worker threads and paho's network thread,
so every statement runs under one re-entrant lock; `atomic()` is the only way to write.
"""

from __future__ import annotations

import errno
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
from typing import Any, TypeVar

from monitor.core.errors import UserError

log = logging.getLogger(__name__)

# Written into the file header (PRAGMA application_id) so that we recognise our own databases and
# refuse to migrate somebody else's SQLite file. ASCII "SitB".
APPLICATION_ID = 0x53697442
# Only the service user may read posture history: it is health data.
FILE_MODE = 0o600
DIR_MODE = 0o700
# ... but an administrator may let a group read it (to run reports as their own login): group read
# is kept, anything beyond it (group write, any access for others) is taken away at start.
ALLOWED_MODE = 0o640
# Writers hold the lock for milliseconds; a report run from the shell may wait this long for the daemon.
BUSY_TIMEOUT_MS = 5000

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")


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


# What each SQLite failure means for the person reading the error. Keys are SQLite's primary result
# codes (the extended name up to its second underscore, e.g. SQLITE_READONLY_DIRECTORY -> READONLY).
# Only NOTADB and CORRUPT say the file itself is damaged: advising to move a file aside is for those
# alone, never for a permission or disk problem, where the data is fine and moving it loses history.
_ADVICE: dict[str, str] = {
    "NOTADB": "not a sitbreak database or corrupt: {error}; move it aside to start afresh",
    "CORRUPT": "not a sitbreak database or corrupt: {error}; move it aside to start afresh",
    "READONLY": "cannot write it ({error}): the file or its mount is read-only for this user; "
    "the data is intact; check `ls -l` and `findmnt` for the file",
    "CANTOPEN": "cannot open it ({error}): check that the directory exists and that this user may "
    "read and write both the file and its directory",
    "PERM": "permission denied ({error}); check the file's owner and mode",
    "AUTH": "permission denied ({error}); check the file's owner and mode",
    "FULL": "the disk is full ({error}); free some space, nothing stored is lost",
    "IOERR": "an I/O error ({error}); check the disk (`dmesg`), nothing is moved or deleted",
    "BUSY": "locked by another process for more than {busy_s:g} s ({error})",
    "LOCKED": "locked by another process for more than {busy_s:g} s ({error})",
}
_READONLY_DIRECTORY = (
    "cannot write beside it ({error}): SQLite keeps its -wal and -shm files in the database's "
    "directory, so the service needs write access to {directory} (systemd's StateDirectory= gives "
    "it); the data is intact"
)


_PERMISSION_HINT = (
    " (this user may not write it, or its mount is read-only; the data is intact: check the file's "
    "owner and mode with `ls -l` and the mount with `findmnt`)"
)


# A failed write that says the storage has a problem which may pass (space freed, the disk back, the
# mount writable again, another writer done): the write can wait in memory and be tried again.
# Anything else (a constraint, a misuse) fails the same way every time. Words for STATUS and the phone.
_STORAGE_PROBLEMS: dict[str, str] = {
    "FULL": "the disk is full",
    "IOERR": "disk I/O error",
    "READONLY": "the database is read-only",
    "CANTOPEN": "cannot open the database file",
    "PERM": "permission denied",
    "AUTH": "permission denied",
    "BUSY": "the database is locked",
    "LOCKED": "the database is locked",
    "NOTADB": "the database file is damaged",
    "CORRUPT": "the database file is damaged",
    "NOMEM": "out of memory",
}


def storage_problem(exc: BaseException) -> str | None:
    """What a failed read or write says about the storage, in a few words ("the disk is full"), or
    None when it is not a storage problem (a bad record, a bug): those fail the same way every time,
    while a storage problem may pass and the write be retried."""
    if type(exc) not in (sqlite3.OperationalError, sqlite3.DatabaseError):
        return None
    name = getattr(exc, "sqlite_errorname", "") or ""
    return _STORAGE_PROBLEMS.get(name.removeprefix("SQLITE_").split("_")[0])


def explain(path: Path, exc: sqlite3.Error) -> StoreError:
    """A StoreError whose text names the file and says what the SQLite failure means."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    primary = name.removeprefix("SQLITE_").split("_")[0]
    error = " ".join(str(exc).split()) or name or type(exc).__name__
    if name == "SQLITE_READONLY_DIRECTORY":
        return StoreError(f"{path}: " + _READONLY_DIRECTORY.format(error=error, directory=path.parent))
    advice = _ADVICE.get(primary, "cannot use the database: {error}")
    return StoreError(f"{path}: " + advice.format(error=error, busy_s=BUSY_TIMEOUT_MS / 1000))


def _open_regular_file(path: Path, *, create: bool) -> int:
    """Open `path` itself, never through a symbolic link, and only if it is a regular file.

    The database holds health data and the service may run with privileges: following a link
    somebody planted (or chmod-ing its target) would hand that data, or the mode change, to a file
    of their choosing. SQLite opens the path again by name; this check is what stands in front.
    """
    flags = os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_RDWR | os.O_CREAT if create else os.O_RDONLY)
    try:
        fd = os.open(path, flags, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreError(
                f"{path}: is a symbolic link; sitbreak opens its database only as a regular file "
                "(point the path at the file itself)"
            ) from None
        hint = _PERMISSION_HINT if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else ""
        raise StoreError(f"{path}: cannot open the database: {exc.strerror}{hint}") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise StoreError(f"{path}: is not a regular file; sitbreak keeps its database in a plain file")
    return fd


def _create_private_file(path: Path) -> None:
    """Create the file with mode 0600 before SQLite opens it; tighten a looser mode of our own file
    (group read may stay, see ALLOWED_MODE)."""
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=DIR_MODE)
    except OSError as exc:
        raise StoreError(f"{path}: cannot open the database: {exc.strerror}") from exc
    fd = _open_regular_file(path, create=True)
    try:
        info = os.fstat(fd)
        mode = stat.S_IMODE(info.st_mode)
        # Only a file this user owns: a file deliberately shared (another owner, e.g. group-readable
        # for reports) is somebody's decision, not ours to undo.
        if mode & ~ALLOWED_MODE and info.st_uid == os.geteuid():
            tightened = mode & ALLOWED_MODE
            os.fchmod(fd, tightened)
            log.warning("%s: mode was %o, tightened to %o (it holds health data)", path, mode, tightened)
    finally:
        os.close(fd)


# SQLite's answers when a WAL reader could not create the -shm file it needs.
_NEEDS_SHM = frozenset({"SQLITE_READONLY_DIRECTORY", "SQLITE_CANTOPEN", "SQLITE_READONLY_CANTINIT"})


def _readonly_uri(path: Path, *, immutable: bool) -> str:
    # abspath, not resolve(): resolving would follow the links _open_regular_file refuses.
    uri = Path(os.path.abspath(path)).as_uri() + "?mode=ro"
    return uri + "&immutable=1" if immutable else uri


class Database:
    """An open sitbreak database: WAL journal, checked at open, migrated to the current schema."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        migrations: Sequence[Migration],
        *,
        check: bool = True,
        readonly: bool = False,
    ) -> None:
        """Open (creating and migrating it unless `readonly`) the database at `path`.

        Read-only opens need no write access to the file or its directory (a report run by another
        user, a read-only mount): nothing is created, migrated or chmod-ed, and a database the
        service has not yet upgraded is refused with a hint instead of being changed."""
        self.path = Path(path)
        self.readonly = readonly
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._conn = self._open_readonly() if readonly else self._open_writable()
        except sqlite3.Error as exc:
            raise explain(self.path, exc) from exc
        try:
            self._prepare(check)
            if readonly:
                self._check_schema(migrations)
            else:
                self.migrate(migrations)
        except sqlite3.Error as exc:
            self._conn.close()
            raise explain(self.path, exc) from exc
        except BaseException:
            self._conn.close()
            raise

    def _open_writable(self) -> sqlite3.Connection:
        _create_private_file(self.path)
        # isolation_level=None: we issue BEGIN/SAVEPOINT ourselves in atomic().
        return sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )

    def _open_readonly(self) -> sqlite3.Connection:
        os.close(_open_regular_file(self.path, create=False))
        conn = self._connect_uri(_readonly_uri(self.path, immutable=False))
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as exc:
            # A WAL database read with no writer running has no -wal/-shm files, and a reader that
            # may not create them (read-only directory) cannot open it the normal way. With no -wal
            # file every committed page is in the main file, so reading it as immutable is exact.
            conn.close()
            if Path(f"{self.path}-wal").exists() or exc.sqlite_errorname not in _NEEDS_SHM:
                raise
            conn = self._connect_uri(_readonly_uri(self.path, immutable=True))
        return conn

    @staticmethod
    def _connect_uri(uri: str) -> sqlite3.Connection:
        return sqlite3.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )

    def _prepare(self, check: bool) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if check:
            result = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if result != ["ok"]:
                # One line per problem from SQLite, some with embedded newlines: keep the error one line.
                details = "; ".join(" ".join(str(r).split()) for r in result[:3])
                raise StoreError(
                    f"{self.path}: not a sitbreak database or corrupt: quick_check: {details}; "
                    "move it aside to start afresh"
                )
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id == 0 and tables == 0 and not self.readonly:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        elif app_id != APPLICATION_ID:
            raise StoreError(
                f"{self.path}: not a sitbreak database: application_id is {app_id:#x}, "
                f"not sitbreak's {APPLICATION_ID:#x}; point the path at sitbreak's own database"
            )
        if self.readonly:
            return
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
                # Inside the try: a COMMIT that fails (the disk full as the WAL grows) is undone like
                # any other failure, or the connection would stay in a transaction that every later
                # BEGIN refuses, and nothing would be written again.
                conn.execute("COMMIT" if depth == 0 else f"RELEASE {savepoint}")
            except BaseException:
                self._undo(conn, depth, savepoint)
                raise
            finally:
                self._depth = depth

    def _undo(self, conn: sqlite3.Connection, depth: int, savepoint: str) -> None:
        """Roll back after a failure, keeping the original error. SQLite itself may already have
        rolled the whole transaction back (it does so on SQLITE_FULL, IOERR, BUSY and NOMEM), which
        leaves no transaction or savepoint to undo."""
        try:
            if depth == 0:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            elif conn.in_transaction:
                conn.execute(f"ROLLBACK TO {savepoint}")
                conn.execute(f"RELEASE {savepoint}")
        except sqlite3.Error as exc:
            log.debug("%s: rollback after a failed write: %s", self.path, exc)

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

    def query_rows(self, sql: str, params: Params, consume: Callable[[Iterator[Any]], T]) -> T:
        """`consume` the result's rows one at a time as SQLite steps through them (under the
        connection's lock), for a large result read into something compact: `query` holds every row
        as a tuple at once (for a week of epochs some 50 MiB of small objects, whose memory Python's
        allocator keeps for good once a few survivors are scattered through it)."""
        with self._lock:
            return consume(self._conn.execute(sql, params))

    def query_one(self, sql: str, params: Params = ()) -> Any:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    # -- migrations --------------------------------------------------------------------------------

    def applied_migrations(self) -> list[str]:
        return [row[0] for row in self.query("SELECT name FROM _migrations ORDER BY rowid")]

    def _check_schema(self, migrations: Sequence[Migration]) -> None:
        """Read-only: the schema must be exactly the one these migrations make."""
        exists = self.query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'")
        applied = set(self.applied_migrations()) if exists else set()
        known = [m.name for m in migrations]
        self._refuse_newer(applied, set(known))
        missing = [name for name in known if name not in applied]
        if missing:
            raise StoreError(
                f"{self.path}: written by an older sitbreak (schema steps not applied yet: "
                f"{', '.join(missing)}); start the service once to upgrade it, then read it"
            )

    def _refuse_newer(self, applied: set[str], known: set[str]) -> None:
        unknown = sorted(applied - known)
        if unknown:
            raise StoreError(
                f"{self.path}: written by a newer sitbreak (unknown schema steps: {', '.join(unknown)}); "
                "upgrade sitbreak or point it at another database"
            )

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
        self._refuse_newer(applied, known)
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
