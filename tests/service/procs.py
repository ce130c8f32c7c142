"""Running the service as a process for tests: config files, the process, a systemd notify socket.

The process inherits the session's private bus (``DBUS_SYSTEM_BUS_ADDRESS`` and the fake
``bluetoothctl`` on PATH, set by the ``private_bus`` fixture) and logs to a file the test reads. It is
stopped by PID at teardown (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.mqtt_fixtures import Phone, Received

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")
# Bleak's scan, the emulator's connect and the first notifications take a few seconds on a loaded CI.
CONNECT_TIMEOUT_S = 40.0
# The "exits within a few seconds".
STOP_WITHIN_S = 5.0
# Allowance on top, for a loaded 2-core machine where the interpreter's teardown is itself slow.
STOP_SLACK_S = 5.0
ALL_DAY = "\n".join(f'active_{d} = "00:00-24:00"' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))


def config_text(
    *,
    wearable: str,
    address: str,
    mqtt_port: int,
    prefix: str = "sitbreak",
    policy: str = "",
    timezone: str = "UTC",
    link: str = "",
    silence_s: float = 20.0,
) -> str:
    return f"""\
timezone = "{timezone}"

[[wearables]]
id = "{wearable}"
profile = "sitsense"
placement = "thigh"
address = "{address}"

[policy]
{ALL_DAY}
{policy}

[mqtt]
host = "127.0.0.1"
port = {mqtt_port}
prefix = "{prefix}"
client_id = "sitbreak-test-{wearable}"
discovery = false

[link]
# A loaded machine must not turn a slow moment into a reconnect the test did not ask for.
silence_timeout_s = {silence_s}
backoff_max_s = 2.0
{link}
"""


def wait_for(
    what: str, check: Callable[[], T | None], timeout: float, proc: ServiceProcess | None = None
) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` (and the log) otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if proc is not None and proc.returncode is not None:
            raise AssertionError(f"service exited ({proc.returncode}) while waiting for {what}\n{proc.log()}")
        if time.monotonic() > deadline:
            log = proc.log()[-4000:] if proc is not None else ""
            raise AssertionError(f"no {what} within {timeout} s\n{log}")
        time.sleep(0.05)


class ServiceProcess:
    """`sitbreak run` (or tests.service.daemon_proc) as a child process, logging to a file."""

    def __init__(self, argv: list[str], log_file: Path, env: dict[str, str] | None = None) -> None:
        self.log_file = log_file
        self._log = log_file.open("ab")
        self.proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @classmethod
    def run(
        cls, config: Path, state_dir: Path, log_file: Path, env: dict[str, str] | None = None
    ) -> ServiceProcess:
        argv = [
            sys.executable,
            "-m",
            "monitor.cli",
            "run",
            "--config",
            str(config),
            "--state-dir",
            str(state_dir),
        ]
        return cls(argv, log_file, env)

    @classmethod
    def simulated(
        cls,
        config: Path,
        state_dir: Path,
        log_file: Path,
        *,
        start_t: float,
        origin: float,
        speed: float,
        env: dict[str, str] | None = None,
    ) -> ServiceProcess:
        argv = [sys.executable, "-m", "tests.service.daemon_proc", str(config), str(state_dir)]
        return cls([*argv, repr(start_t), repr(origin), repr(speed)], log_file, env)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def wait_log(self, pattern: str, timeout: float = CONNECT_TIMEOUT_S, after: int = 0) -> re.Match[str]:
        rx = re.compile(pattern)
        return wait_for(f"log line /{pattern}/", lambda: rx.search(self.log(), after), timeout, self)

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """Teardown: by PID, SIGTERM then SIGKILL."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_WITHIN_S + STOP_SLACK_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


class NotifySocket:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET; records every message."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self._lock = threading.Lock()
        self._messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._messages.append((time.monotonic(), data.decode()))

    def messages(self) -> list[tuple[float, str]]:
        with self._lock:
            return list(self._messages)

    def fields(self, name: str) -> list[tuple[float, str]]:
        """(arrival, value) of every `NAME=value` line received."""
        out = []
        for at, msg in self.messages():
            for line in msg.split("\n"):
                key, _, value = line.partition("=")
                if key == name:
                    out.append((at, value))
        return out

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def payloads(phone: Phone, topic: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in phone.messages(topic):
        with contextlib.suppress(ValueError):
            value = json.loads(m.payload)
            if isinstance(value, dict):
                out.append(value)
    return out


def last_state(
    phone: Phone, topic: str, pred: Callable[[dict[str, Any]], bool] = lambda _s: True
) -> dict[str, Any] | None:
    states = payloads(phone, topic)
    return next((s for s in reversed(states) if pred(s)), None)


def retained(port: int, topic: str, timeout: float = 5.0) -> Received:
    """The retained message on `topic`, as a fresh subscriber receives it."""
    phone = Phone(port, topic)
    try:
        deadline = time.monotonic() + timeout
        while not phone.messages(topic):
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing retained on {topic}")
            time.sleep(0.02)
        return phone.messages(topic)[0]
    finally:
        phone.close()


def db_query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Read the service's database as an outside reader (read-only, never blocks the writer)."""
    if not db.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []  # tables not created yet
