"""Hostile options and files for `sitbreak analyze` (issue 11 #8): one line naming the file and row or the
option, long values shortened, exit 2, no traceback, no output left behind; and property-based tests of
the CSV reader: whatever the bytes, a result or a UserError.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.analysis import format_summary
from monitor.cli import main
from monitor.commands.analyze import analyze_file
from monitor.core.errors import UserError
from monitor.core.types import Placement
from monitor.recording.csv_reader import MAX_ABS_G, CsvRecording
from monitor.recording.format import CsvFormat, TimeUnit, Units
from monitor.recording.times import TIME_MAX_S, TIME_MIN_S
from tests.conftest import examples
from tests.plain_user import as_plain_user

# One error line, however long the value that caused it.
MAX_ERROR_CHARS = 600
OK_ROWS = "".join(f"{i * 0.02:.2f},0,0,1\n" for i in range(1000))


def _error(capsys: pytest.CaptureFixture[str], out: Path, *argv: str) -> str:
    assert main(["analyze", "--quiet", "--out-dir", str(out), *argv]) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("sitbreak: error: "), err[:500]
    assert err.count("\n") == 1 and err.endswith("\n"), err[:500]  # one line
    assert len(err) < MAX_ERROR_CHARS, err[:500]
    assert captured.out == ""
    if os.path.isdir(out):  # (Path.is_dir raises on a name too long)
        assert not [p for p in out.iterdir() if p.is_file()]
    return err.removeprefix("sitbreak: error: ").rstrip("\n")


@pytest.fixture
def files(tmp_path: Path) -> Callable[[str, str], str]:
    def make(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return make


# --- options -----------------------------------------------------------------------------------------

OPTION_CASES: list[tuple[list[str], str]] = [
    (["--delimiter", ""], '--delimiter "": give one character, e.g. , or ; (\\t or tab for a tab)'),
    (["--delimiter", ";;"], '--delimiter ";;": give one character'),
    (["--delimiter", "."], '--delimiter ".": cannot separate fields'),
    (["--delimiter", '"'], '--delimiter "\\"": cannot separate fields'),
    (["--rate", "inf"], "--rate must be between 1 and 10000 Hz, got inf"),
    (["--rate", "1e-300"], "--rate must be between 1 and 10000 Hz, got 1e-300"),
    (["--rate", "nan"], "--rate must be between 1 and 10000 Hz, got nan"),
    (["--rate", "-5"], "--rate must be above 0 Hz, got -5"),
    (["--scale", "inf"], "--scale must be a finite number above 0, got inf"),
    (["--scale", "nan"], "--scale must be a finite number above 0, got nan"),
    (["--min-break", "0"], '--min-break must be 1 to 600 s (as [report] min_break_s), got "0"'),
    (["--min-break", "9" * 330], '--min-break must be 1 to 600 s (as [report] min_break_s), got "999'),
    (["--start", "9999-12-31T23:00:00"], '--start "9999-12-31T23:00:00": outside 1900-01-01 to 9999-01-01'),
    (["--start", "0001-01-01T00:00:00+14:00"], '--start "0001-01-01T00:00:00+14:00": outside'),
    (["--start", "x" * 100_000], '--start "xxxxxxxxxx'),
    (["--timezone", "Mars/" + "x" * 100_000], '--timezone "Mars/xxxxxx'),
    (["--timezone", "../../etc/passwd"], '--timezone "../../etc/passwd": unknown time zone'),
    (["--timezone", "a\nb"], '--timezone "a\\nb": unknown time zone'),
]


@pytest.mark.parametrize(("argv", "start"), OPTION_CASES, ids=[" ".join(a)[:40] for a, _ in OPTION_CASES])
def test_bad_options(
    argv: list[str],
    start: str,
    files: Callable[[str, str], str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = files("ok.csv", "t,x,y,z\n" + OK_ROWS)
    assert _error(capsys, tmp_path / "out", *argv, path).startswith(start)


def test_odd_out_dirs(
    files: Callable[[str, str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = files("ok.csv", "t,x,y,z\n" + OK_ROWS)
    a_file = Path(files("afile", "x"))
    assert _error(capsys, a_file, path) == f"--out-dir {a_file}: exists and is not a folder"
    below = a_file / "sub"
    assert _error(capsys, below, path) == f"--out-dir {below}: part of the path is a file, not a folder"
    long = tmp_path / ("x" * 300)
    assert _error(capsys, long, path).endswith(": cannot create the folder: File name too long")
    assert _error(capsys, Path("nul\x00here"), path) == "--out-dir nul\\x00here: not a usable folder name"
    # An output name taken by a folder: nothing of this run stays behind, the other output included.
    out = tmp_path / "taken"
    (out / "ok.epochs.csv").mkdir(parents=True)
    assert _error(capsys, out, path) == f"{out / 'ok.epochs.csv'}: cannot write: Is a directory"
    assert sorted(p.name for p in out.iterdir()) == ["ok.epochs.csv"]


def test_read_only_out_dir(files: Callable[[str, str], str], tmp_path: Path) -> None:
    """Run as a user the folder's mode binds (root too, see tests/plain_user.py)."""
    path = files("ok.csv", "t,x,y,z\n" + OK_ROWS)
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        got = as_plain_user(
            f"""
            import sys
            from monitor.cli import main
            sys.exit(main(["analyze", {str(path)!r}, "--out-dir", {str(out)!r}, "--quiet"]))
            """
        )
    finally:
        out.chmod(0o755)
    assert got.returncode == 2, got.stderr
    assert got.stderr.strip() == f"sitbreak: error: {out / 'ok.epochs.csv'}: cannot write: Permission denied"


# --- values in the file ------------------------------------------------------------------------------

FILE_CASES: list[tuple[str, str]] = [
    # Beyond float32: once read as inf and silently dropped, or worse.
    (
        "t,x,y,z\n" + OK_ROWS + "20.1,1e39,0,1\n",
        'ok.csv:1002: x = "1e39" is 1e+39 g after --units and --scale',
    ),
    ("t,x,y,z\n" + OK_ROWS + "20.1,0,-2000,1\n", 'ok.csv:1002: y = "-2000" is -2e+03 g'),
    # A 330-digit integer: beyond float64, echoed shortened.
    ("t,x,y,z\n" + OK_ROWS + "20.1," + "1" * 330 + ",0,1\n", 'ok.csv:1002: x = "1111111111'),
    ("t,x,y,z\n" + OK_ROWS + "20.1,0,0,inf\n", 'ok.csv:1002: z = "inf" is not a finite number'),
    # A 10 MB value: neither read whole nor echoed whole.
    ("t,x,y,z\n" + OK_ROWS + "20.1,0," + "9" * (10 << 20) + ",1\n", "ok.csv:1002: a line longer than 1 MiB"),
    (
        "t,x,y,z\n" + OK_ROWS + "20.1,0,abc" + "d" * 500_000 + ",1\n",
        "ok.csv:1002: not a CSV row (field larger",
    ),
    ("t,x,y,z\n" + OK_ROWS + "20.1,0,abc" + "d" * 100_000 + ",1\n", 'ok.csv:1002: y = "abcdddd'),
    (
        "t,x,y,z\n" + OK_ROWS + "1e300,0,0,1\n",
        'ok.csv:1002: t = "1e300" falls outside 1900-01-01 to 9999-01-01',
    ),
    ("t,x,y,z\n" + OK_ROWS + '20.1,"0,0,1\n', "ok.csv:1002: not a CSV row (unexpected end of data)"),
    ("t,x,y,z\n0,0,0,1\n0x10,0,0,1\n", 'ok.csv:3: t = "0x10" is not a number'),
    ("t,x,y,z\n0,0,0,1\n1_0,0,0,1\n", 'ok.csv:3: t = "1_0" is not a number'),
    ("t,x,y,z\n0,0,0,1\n0,0,0\x1b[2J,1\n", 'ok.csv:3: y = "0\\x1b[2J" is not a number'),
    ("t,x,y,z\n0001-01-01T00:00:00+14:00,0,0,1\n", 'ok.csv:2: t = "0001-01-01T00:00:00+14:00" is outside'),
    ("t,x,y\n", "ok.csv: no z column"),
    ("t," + ",".join(f"c{i}" for i in range(20_000)) + "\n0,0\n", "ok.csv: no x column"),
    ("x,y,z\n" + "0,0,1\n" * 100, "ok.csv: no time column"),
]


@pytest.mark.parametrize(("text", "start"), FILE_CASES, ids=[s[:40] for _, s in FILE_CASES])
def test_bad_values_name_the_row(
    text: str,
    start: str,
    files: Callable[[str, str], str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = files("ok.csv", text)
    assert _error(capsys, tmp_path / "out", path).startswith(str(tmp_path / start))


def test_start_at_year_9998_runs_past_9999(
    files: Callable[[str, str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = files("ok.csv", "x,y,z\n" + "0,0,1\n" * 1000)
    assert _error(capsys, tmp_path / "out", "--rate", "50", "--start", "9998-12-31T23:59:50Z", path) == (
        f"{path}:502: --start plus 500 samples at 50 Hz falls outside 1900-01-01 to 9999-01-01, the times "
        "analyze handles"
    )


def test_file_names_with_control_characters_stay_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "two\nlines.csv"
    path.write_text("x,y,z\n")
    assert _error(capsys, tmp_path / "out", "--rate", "50", str(path)) == (
        f"{tmp_path}/two\\nlines.csv: no samples after the header (line 1)"
    )
    assert main(["analyze", "-q", "--rate", "50", str(tmp_path / "no\udcffsuch.csv")]) == 2
    assert "no\\udcffsuch.csv: no such file" in capsys.readouterr().err


def test_delimiter_tab_spelled_out(files: Callable[[str, str], str], tmp_path: Path) -> None:
    path = files("tab.csv", "t\tx\ty\tz\n" + OK_ROWS.replace(",", "\t"))
    assert main(["analyze", "-q", "--delimiter", "\\t", "--out-dir", str(tmp_path), path]) == 0


# --- property-based: the reader ----------------------------------------------------------------------

_HYPOTHESIS = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

FORMATS = st.builds(
    CsvFormat,
    time_unit=st.sampled_from([None, TimeUnit.S, TimeUnit.MS]),
    units=st.sampled_from(list(Units)),
    scale=st.sampled_from([1.0, 1 / 16384, 1e300]),
    rate_hz=st.sampled_from([None, 50.0]),
    delimiter=st.sampled_from([",", ";", "\t"]),
    use_time_column=st.booleans(),
)
JUNK = st.one_of(
    st.text(alphabet=st.sampled_from(list(',;\t"# .e-+0123456789abcT:Z\x00\r\ufeff\udcff')), max_size=12),
    st.integers(-(10**400), 10**400).map(str),
    st.floats().map(repr),
    st.datetimes().map(lambda d: d.isoformat()),
    st.just("9" * 5000),
)


NAIVE_START = datetime(2024, 3, 4, 8, tzinfo=UTC).replace(tzinfo=None)  # --start without an offset


@st.composite
def recordings(draw: st.DrawFn) -> tuple[bytes, CsvFormat]:
    """Mostly well-formed recordings of every time kind, then damaged in a few places."""
    d = draw(st.sampled_from([",", ";", "\t"]))
    kind = draw(st.sampled_from(["relative", "unix", "iso", "iso-naive", "none"]))
    n = draw(st.integers(0, 400))
    t0 = {"relative": 0.0, "unix": 1.7e9, "iso": 1.7e9, "iso-naive": 1.7e9, "none": 0.0}[kind]
    step = draw(st.sampled_from([0.02, 0.04, 1.0, 3600.0, 1e7]))
    t = t0 + np.arange(n) * step
    xyz = draw(st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3))
    rows = []
    for i in range(n):
        fields = [f"{v + 0.001 * (i % 7):.4f}" for v in xyz]
        if kind in ("iso", "iso-naive"):
            iso = datetime.fromtimestamp(float(t[i]), UTC).isoformat()
            fields.insert(0, iso if kind == "iso" else iso[:-6])
        elif kind != "none":
            fields.insert(0, f"{t[i]:.3f}")
        rows.append(fields)
    header = (["x", "y", "z"] if kind == "none" else ["t", "x", "y", "z"]) + draw(
        st.lists(st.sampled_from(["gyro", "label", "x"]), max_size=2)
    )
    for _ in range(draw(st.integers(0, 3))):  # damage
        if rows:
            row = rows[draw(st.integers(0, len(rows) - 1))]
            action = draw(st.sampled_from(["replace", "drop", "add", "swap"]))
            if action == "replace":
                row[draw(st.integers(0, len(row) - 1))] = draw(JUNK)
            elif action == "drop":
                row.pop()
            elif action == "add":
                row.append(draw(JUNK))
            else:
                rows.reverse()
    lines = [d.join(header)] + [d.join(r) for r in rows]
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "# note", "   "])))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = draw(st.sampled_from(["", "\ufeff"])) + end.join(lines) + draw(st.sampled_from(["", end]))
    fmt = CsvFormat(
        delimiter=d,
        rate_hz=draw(st.sampled_from([None, 50.0, 25.0])) if kind != "none" else 50.0,
        start=draw(st.sampled_from([None, NAIVE_START, datetime(9998, 12, 31, tzinfo=UTC)])),
        time_unit=draw(st.sampled_from([None, TimeUnit.S, TimeUnit.MS])),
        tz=draw(st.sampled_from([None, UTC])),
        scale=draw(st.sampled_from([1.0, 1e-300, 1e300])),
    )
    return text.encode("utf-8", "surrogateescape"), fmt


def _read_all(data: bytes, fmt: CsvFormat, chunk_bytes: int) -> None:
    """Read every block; check what comes out. Anything but a UserError fails the test."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rec.csv"
        path.write_bytes(data)
        try:
            with CsvRecording(path, fmt) as rec:
                last = -math.inf
                for block in rec.blocks(chunk_bytes):
                    assert len(block) > 0
                    assert block.xyz.dtype == np.float32
                    assert np.isfinite(block.xyz).all() and (np.abs(block.xyz) <= MAX_ABS_G).all()
                    assert np.isfinite(block.t).all()
                    assert block.t[0] >= max(last, TIME_MIN_S) and block.t[-1] < TIME_MAX_S
                    assert (np.diff(block.t) >= 0).all()
                    last = float(block.t[-1])
        except UserError as exc:
            text = str(exc)
            assert "\n" not in text and "\r" not in text, text
            assert len(text) < MAX_ERROR_CHARS, text


@_HYPOTHESIS
@given(data=st.binary(max_size=2000), fmt=FORMATS, chunk=st.integers(1, 300))
def test_any_bytes_give_samples_or_a_user_error(data: bytes, fmt: CsvFormat, chunk: int) -> None:
    _read_all(data, fmt, chunk)


@_HYPOTHESIS
@given(recording=recordings(), chunk=st.sampled_from([7, 64, 4096, 1 << 20]))
def test_damaged_recordings_give_samples_or_a_user_error(
    recording: tuple[bytes, CsvFormat], chunk: int
) -> None:
    data, fmt = recording
    _read_all(data, fmt, chunk)


@settings(
    max_examples=examples(60), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(recording=recordings(), placement=st.sampled_from(list(Placement)))
def test_analyzing_damaged_recordings_gives_results_or_a_user_error(
    recording: tuple[bytes, CsvFormat], placement: Placement
) -> None:
    """The whole of analyze (rate, stream, outputs, summary), not only the reader."""
    data, fmt = recording
    warnings: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rec.csv"
        path.write_bytes(data)
        outputs = (Path(tmp) / "rec.epochs.csv", Path(tmp) / "rec.bouts.csv")
        try:
            result = analyze_file(path, fmt, placement, outputs, progress=False, warn=warnings.append)
        except UserError as exc:
            assert "\n" not in str(exc) and len(str(exc)) < MAX_ERROR_CHARS
            assert not outputs[0].exists() and not outputs[1].exists()
            return
        assert result.summary.length_s >= 0 and result.samples > 0
        format_summary(result.summary, "rec.csv")
        assert all("\n" not in w for w in warnings)
