"""A text file as numbered lines, read in bounded chunks: `.gz` files are decompressed on the fly, the
file is read in fixed-size blocks rather than by line (so that no line, however long, is read whole)
and decoded as UTF-8 a chunk at a time."""

from __future__ import annotations

import gzip
import typing
import zlib
from pathlib import Path
from typing import BinaryIO

from monitor.core.errors import UserError, why_unreadable

# A CSV row of accelerometer data is well under 1 kB; a longer line is not a recording (and would
# otherwise be read whole into memory).
MAX_LINE_BYTES = 1 << 20


def _open(path: Path, name: str) -> tuple[BinaryIO, BinaryIO]:
    """The file and the byte stream to read lines from (decompressed for .gz)."""
    try:
        raw: BinaryIO = path.open("rb")
    except (OSError, ValueError) as exc:
        raise UserError(f"{name}: {why_unreadable(exc, 'a CSV file')}") from None
    if path.suffix == ".gz":
        return raw, typing.cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb"))
    return raw, raw


def _stat_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class LineReader:
    """One file's lines, a chunk at a time, numbered from 1. `bytes_read`/`size` drive a progress bar."""

    def __init__(self, path: Path, name: str) -> None:
        self.name = name  # the file as messages show it
        self._raw, self._bytes = _open(path, name)
        self.size = _stat_size(path)
        self._line_no = 0  # lines handed out so far
        self._carry = b""  # the start of a line whose end has not been read yet
        self._eof = False

    @property
    def bytes_read(self) -> int:
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return self.size

    def close(self) -> None:
        self._bytes.close()
        self._raw.close()

    def read_lines(self, chunk_bytes: int) -> tuple[int, list[str]]:
        """The next complete lines (about `chunk_bytes` of them) and the number of the first; [] at the end.

        Reads fixed-size blocks rather than lines, so that no line, however long, is read whole.
        """
        while True:
            if self._eof:
                return self._line_no + 1, []
            try:
                data = self._bytes.read(max(chunk_bytes, 1))
            except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
                raise UserError(f"{self.name}: cannot read: {exc}") from None
            if not data:
                self._eof = True
                text, self._carry = self._carry, b""
                if not text:
                    return self._line_no + 1, []
                batch = text.removesuffix(b"\n").split(b"\n")
            else:
                text = self._carry + data
                cut = text.rfind(b"\n")
                if cut < 0:
                    self._carry = text
                    self._check_length(len(text))
                    continue
                self._carry = text[cut + 1 :]
                self._check_length(len(self._carry))
                batch = text[:cut].split(b"\n")
            self._check_length(max(map(len, batch)), batch)
            first = self._line_no + 1
            lines = self._decode(batch, first)
            self._line_no += len(batch)
            return first, lines

    def _check_length(self, n: int, batch: list[bytes] | None = None) -> None:
        if n <= MAX_LINE_BYTES:
            return
        line = self._line_no + 1
        if batch is not None:
            line += next(i for i, b in enumerate(batch) if len(b) == n)
        raise UserError(
            f"{self.name}:{line}: a line longer than {MAX_LINE_BYTES >> 20} MiB: not a CSV recording "
            "(one sample per line)"
        )

    def _decode(self, batch: list[bytes], first_line: int) -> list[str]:
        try:
            # One decode for the whole batch; splitting on "\n" gives back exactly the batch's lines.
            lines = b"\n".join(batch).decode("utf-8").split("\n")
        except UnicodeDecodeError:
            for i, b in enumerate(batch):
                try:
                    b.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise UserError(
                        f"{self.name}:{first_line + i}: not UTF-8 text (byte {exc.start + 1} of the line)"
                    ) from None
            raise  # pragma: no cover - the loop finds the line that failed as a whole
        if first_line == 1 and lines:
            lines[0] = lines[0].removeprefix("\ufeff")  # spreadsheet exports often start with a BOM
        return lines
