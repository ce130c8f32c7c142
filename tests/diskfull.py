"""A small real filesystem that fills up: a tmpfs mounted for one test, then filled and freed.

Storage faults are tested on a real filesystem running out of space (SQLite sees ENOSPC from the
kernel and says `database or disk is full`), not on a mocked error. Mounting needs root (or
CAP_SYS_ADMIN); where that is impossible the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

CHUNK = 64 * 1024


class SmallDisk:
    """A mounted tmpfs at `path`; `fill()` takes every free byte, `free()` gives them back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> int:
        """Write a filler file until the filesystem is full; the bytes written."""
        written = 0
        chunk = b"\0" * CHUNK
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (CHUNK, 4096, 512, 1):
                while True:
                    try:
                        written += os.write(fd, chunk[:size])
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
        finally:
            os.close(fd)
        return written

    def free(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.filler.unlink()

    def available(self) -> int:
        return shutil.disk_usage(self.path).free


def mount_tmpfs(path: Path, size_kib: int) -> str | None:
    """Mount a tmpfs of `size_kib` at `path` (created); None, or why it cannot be done here."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(path)],
            check=True,
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return f"cannot mount a tmpfs ({exc}; {detail.decode(errors='replace').strip()})"
    return None


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True, timeout=10)


@contextlib.contextmanager
def small_disk(path: Path, size_kib: int) -> Iterator[SmallDisk]:
    """A tmpfs of `size_kib` at `path` for the block; the test is skipped where none can be mounted."""
    why = mount_tmpfs(path, size_kib)
    if why is not None:
        pytest.skip(f"storage-fault test on a real full disk: {why}")
    try:
        yield SmallDisk(path)
    finally:
        unmount(path)
