"""The machine's Mosquitto as the demo's broker: a child process on a free loopback port.

When the user names no broker, the demo prefers a `mosquitto` installed on the machine (the broker
production uses) to the embedded one in `monitor.demo.broker`. It runs from a temporary config: one
listener on 127.0.0.1 only, anonymous clients allowed (nothing outside the machine can reach it), no
persistence (the demo's sessions end with it), its log in the temporary directory. The demo stops it
by PID when it ends, also on errors and Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

_LOGGER = logging.getLogger(__name__)

# Debian and Raspberry Pi OS install the broker here, and /usr/sbin is not on an ordinary user's PATH.
DEBIAN_MOSQUITTO = Path("/usr/sbin/mosquitto")
# Mosquitto listens within a few milliseconds; this only bounds a broken installation.
START_TIMEOUT_S = 10.0
# How often the port is tried while Mosquitto starts.
POLL_S = 0.05
# Mosquitto exits at once on SIGTERM (nothing to save without persistence); SIGKILL after this.
STOP_TIMEOUT_S = 5.0
# The end of Mosquitto's log quoted when it fails to start: its reason is in the last lines.
LOG_TAIL_CHARS = 600

_CONFIG = """\
# sitbreak demo: a private broker for one run (written by monitor.demo.mosquitto)
listener {port} {host}
allow_anonymous true
persistence false
log_dest stderr
"""


class MosquittoStartError(RuntimeError):
    """The machine's Mosquitto did not start listening; the message says why."""


def find_mosquitto(path: str | None = None, fallback: Path = DEBIAN_MOSQUITTO) -> Path | None:
    """`mosquitto` on PATH (or `path`), else `fallback` when it is an executable file, else None."""
    found = shutil.which("mosquitto", path=path)
    if found is not None:
        return Path(found)
    if fallback.is_file() and os.access(fallback, os.X_OK):
        return fallback
    return None


def free_port(host: str) -> int:
    """A TCP port nothing listens on now (Mosquitto has no "any free port" of its own)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MosquittoProcess:
    """One Mosquitto child process; `await start()`, then `host`, `port`, `pid`; `stop()` at the end."""

    def __init__(self, binary: Path, host: str = "127.0.0.1") -> None:
        self.binary = binary
        self.host = host
        self.port = 0
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start Mosquitto and wait until its port accepts connections; on any failure it is stopped."""
        try:
            self._folder = tempfile.TemporaryDirectory(prefix="sitbreak-demo-mosquitto-")
            folder = Path(self._folder.name)
            self.port = free_port(self.host)
            conf = folder / "mosquitto.conf"
            conf.write_text(_CONFIG.format(host=self.host, port=self.port), encoding="utf-8")
            # A file, not a pipe: nobody reads Mosquitto's log during the demo, and a full pipe would
            # block it.
            self._log = (folder / "mosquitto.log").open("wb")
            self._process = subprocess.Popen(
                [str(self.binary), "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                # Out of the terminal's process group: a Ctrl-C reaches the demo, which stops the
                # service before the broker (by PID); a broker killed by the same Ctrl-C would make
                # the service log a lost broker on its way out.
                start_new_session=True,
            )
            await self._wait_listening(timeout_s)
        except OSError as exc:
            self.stop()
            raise MosquittoStartError(f"{self.binary} could not be started: {exc}") from exc
        except BaseException:
            # Also on cancellation (Ctrl-C while it starts): no broker is left behind.
            self.stop()
            raise
        _LOGGER.info("mosquitto %s (pid %d) listening on %s:%d", self.binary, self.pid, self.host, self.port)

    async def _wait_listening(self, timeout_s: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        while True:
            code = self._process.poll()
            if code is not None:
                raise MosquittoStartError(
                    f"{self.binary} exited with code {code} before listening on "
                    f"{self.host}:{self.port}: {self._log_tail()}"
                )
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                if time.monotonic() >= deadline:
                    raise MosquittoStartError(
                        f"{self.binary} did not listen on {self.host}:{self.port} within {timeout_s:g} s: "
                        f"{self._log_tail()}"
                    ) from None
                await asyncio.sleep(POLL_S)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

    def _log_tail(self) -> str:
        if self._folder is None:
            return ""
        log = Path(self._folder.name) / "mosquitto.log"
        text = log.read_text(encoding="utf-8", errors="replace").strip() if log.exists() else ""
        return text[-LOG_TAIL_CHARS:] or "(its log is empty)"

    def stop(self) -> None:
        """SIGTERM to its PID (SIGKILL if it lingers), wait for it, remove the temporary directory."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            _LOGGER.info("mosquitto (pid %d) stopped", process.pid)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
