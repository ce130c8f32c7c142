"""A private D-Bus "system" bus for the BlueZ emulator, and a fake ``bluetoothctl`` for Bleak.

    with PrivateBus() as bus:                 # or: async with PrivateBus() as bus
        os.environ.update(bus.environ())      # DBUS_SYSTEM_BUS_ADDRESS and PATH for Bleak
        ...

`PrivateBus` runs ``dbus-daemon --nofork --print-address`` with a generated config that lets the
current user own ``org.bluez`` and send and receive anything, reads the address it prints, and cleans
up by PID (terminate, wait, kill). Bleak asks ``bluetoothctl --version`` once to check the BlueZ
version; the fake one on PATH answers like BlueZ 5.72 so that check is quiet and passes.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Final

DBUS_DAEMON_PACKAGE: Final = "dbus-daemon"  # Debian/Ubuntu package that ships /usr/bin/dbus-daemon
FAKE_BLUEZ_VERSION: Final = "5.72"
START_TIMEOUT_S: Final = 10.0
STOP_TIMEOUT_S: Final = 5.0

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <!-- A private stand-in for the system bus: only this user, only this socket. -->
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
  <limit name="max_replies_per_connection">50000</limit>
  <limit name="reply_timeout">30000</limit>
</busconfig>
"""

_FAKE_BLUETOOTHCTL = f"""#!/bin/sh
# Fake bluetoothctl written by firmware_sim.bus: Bleak only runs `bluetoothctl --version`.
echo "bluetoothctl: {FAKE_BLUEZ_VERSION}"
"""


class DBusDaemonMissingError(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "dbus-daemon not found on PATH: the BlueZ emulator needs a private D-Bus. "
            f"Install it with: apt-get install {DBUS_DAEMON_PACKAGE}"
        )


# Where Debian puts it, for environments whose PATH lacks /usr/bin (systemd units, sudo -E ...).
DBUS_DAEMON_FALLBACKS: tuple[str, ...] = ("/usr/bin/dbus-daemon", "/bin/dbus-daemon")


def find_dbus_daemon() -> str:
    path = shutil.which("dbus-daemon") or next(
        (p for p in DBUS_DAEMON_FALLBACKS if os.access(p, os.X_OK)), None
    )
    if path is None:
        raise DBusDaemonMissingError
    return path


class PrivateBus:
    """A dbus-daemon of our own, for as long as the context lasts."""

    def __init__(self, workdir: Path | None = None) -> None:
        self._own_dir = workdir is None
        self.workdir = workdir
        self.address = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.bin_dir: Path | None = None

    # ---- life cycle ------------------------------------------------------------------------------
    def start(self) -> PrivateBus:
        if self.process is not None:
            raise RuntimeError("PrivateBus already started")
        daemon = find_dbus_daemon()
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="sitbreak-bus-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "bus.conf"
        config.write_text(_CONFIG.format(socket=self.workdir / "system_bus_socket"))
        self.bin_dir = self.workdir / "bin"
        self.bin_dir.mkdir(exist_ok=True)
        fake = self.bin_dir / "bluetoothctl"
        fake.write_text(_FAKE_BLUETOOTHCTL)
        fake.chmod(0o755)
        self.process = subprocess.Popen(
            [daemon, f"--config-file={config}", "--print-address", "--nofork", "--nopidfile"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Own session: a Ctrl-C in the terminal reaches us, and we stop the daemon in order.
            start_new_session=True,
        )
        # A test run or demo that exits without reaching stop() must not leave the daemon behind.
        atexit.register(self.stop)
        try:
            self.address = self._read_address()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_address(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        os.set_blocking(self.process.stdout.fileno(), False)
        buffer = b""
        while time.monotonic() < deadline:
            chunk = self.process.stdout.read()
            if chunk:
                buffer += chunk
                if b"\n" in buffer:
                    return buffer.split(b"\n", 1)[0].decode().strip()
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"dbus-daemon exited with {self.process.returncode}: {err.strip()}")
            time.sleep(0.01)
        raise RuntimeError(f"dbus-daemon printed no address within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        """Terminate the daemon by PID (kill if it lingers) and remove our files."""
        process, self.process = self.process, None
        atexit.unregister(self.stop)
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=STOP_TIMEOUT_S)
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        if self._own_dir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def environ(self) -> dict[str, str]:
        """Environment for a process that should use this bus as its system bus (Bleak, sitbreak)."""
        if not self.address or self.bin_dir is None:
            raise RuntimeError("PrivateBus is not running")
        return {
            "DBUS_SYSTEM_BUS_ADDRESS": self.address,
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    @contextlib.contextmanager
    def activated(self) -> Iterator[None]:
        """Point this process's environment at the bus for the duration (restoring it after)."""
        saved = {key: os.environ.get(key) for key in ("DBUS_SYSTEM_BUS_ADDRESS", "PATH")}
        os.environ.update(self.environ())
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # ---- context managers --------------------------------------------------------------------------
    def __enter__(self) -> PrivateBus:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> PrivateBus:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
