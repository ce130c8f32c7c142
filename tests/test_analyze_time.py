"""Time options of `sitbreak analyze` (issue 12): conflicting ones are refused or explained, and every
`sitbreak analyze` example in the README runs as written, on inputs this test makes.

The README's own example once put `--start` on the motion model's CSV, whose time column holds Unix
times: the results came out in 2081, and `--rate` was silently ignored.
"""

from __future__ import annotations

import csv
import gzip
import re
import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from firmware_sim import motion
from firmware_sim.motion import Activity, MotionConfig, MotionModel, Segment, write_csv
from monitor.cli import main
from monitor.recording.format import G_MS2

REPO = Path(__file__).resolve().parent.parent
START = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
SHORT_DAY = [Segment(Activity.WALK, 60), Segment(Activity.SIT, 120), Segment(Activity.STAND, 40)]


def _epochs(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _analyze(capsys: pytest.CaptureFixture[str], out: Path, *argv: str) -> tuple[int, str, str]:
    rc = main(["analyze", "--quiet", "--out-dir", str(out), *argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def _model(rate: float = 50.0, seed: int = 1) -> MotionModel:
    return MotionModel(SHORT_DAY, MotionConfig(rate_hz=rate, seed=seed))


def _write_numeric(path: Path, t: np.ndarray, model: MotionModel, header: str = "t,x,y,z") -> Path:
    xyz = model.render(0, model.n_samples).astype(np.float64)
    with path.open("w") as fh:
        fh.write(header + "\n")
        np.savetxt(fh, np.column_stack([t, xyz]), fmt=("%.3f", "%.4f", "%.4f", "%.4f"), delimiter=",")
    return path


# --- the rules ---------------------------------------------------------------------------------------


def test_start_is_refused_with_unix_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    day = tmp_path / "day.csv"
    write_csv(_model(), day, START.timestamp())
    rc, out, err = _analyze(
        capsys, tmp_path, "--rate", "50", "--start", "2026-11-24T08:00:00+01:00", str(day)
    )
    assert (rc, out) == (2, "")
    assert err == (
        f'sitbreak: error: {day}: --start cannot apply: the time column "t" holds Unix times (line 2: '
        "2024-03-04T08:00:00.000+00:00), which are absolute. --start sets time zero of a relative time "
        "column or the first sample of a file without one: leave it out, or time the samples by --rate "
        "and --start with --ignore-time-column\n"
    )
    assert not list(tmp_path.glob("*.epochs.csv"))
    # Without --start the file's own times are used, and --rate agreeing with them says nothing.
    rc, out, err = _analyze(capsys, tmp_path, "--rate", "50", str(day))
    assert (rc, err) == (0, "")
    assert _epochs(tmp_path / "day.epochs.csv")[0]["iso_time"] == "2024-03-04T08:00:00Z"
    # Re-timed on purpose: the time column is set aside.
    rc, out, err = _analyze(
        capsys,
        tmp_path,
        "--ignore-time-column",
        "--rate",
        "50",
        "--start",
        "2026-11-24T08:00:00+01:00",
        str(day),
    )
    assert (rc, err) == (0, "")
    assert _epochs(tmp_path / "day.epochs.csv")[0]["iso_time"] == "2026-11-24T07:00:00Z"


def test_start_is_refused_with_iso_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "iso.csv"
    path.write_text(
        "time,x,y,z\n"
        + "".join(f"2024-03-04T08:00:{i // 50:02d}.{i % 50 * 2:02d}0Z,0,0,1\n" for i in range(600))
    )
    rc, _, err = _analyze(capsys, tmp_path, "--start", "2024-01-01T00:00:00Z", str(path))
    assert (
        rc == 2
        and 'the time column "time" holds ISO-8601 times (line 2: 2024-03-04T08:00:00.000+00:00)' in err
    )


def test_start_is_time_zero_of_a_relative_time_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model()
    path = _write_numeric(tmp_path / "rel.csv", model.times(0, model.n_samples), model)
    rc, _, err = _analyze(capsys, tmp_path, "--start", "2024-03-04T09:00:00+01:00", str(path))
    assert (rc, err) == (0, "")
    assert _epochs(tmp_path / "rel.epochs.csv")[0]["iso_time"] == "2024-03-04T08:00:00Z"
    # Without --start, a relative column starts at the epoch, as --help says.
    assert _analyze(capsys, tmp_path, str(path))[0] == 0
    assert _epochs(tmp_path / "rel.epochs.csv")[0]["iso_time"] == "1970-01-01T00:00:00Z"


def test_rate_beside_a_time_column_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _model(rate=25.0)
    path = _write_numeric(tmp_path / "d25.csv", START.timestamp() + model.times(0, model.n_samples), model)
    rc, _, err = _analyze(capsys, tmp_path, "--rate", "25.5", str(path))
    assert (rc, err) == (0, "")  # within 10 %: the nominal rate
    rc, _, err = _analyze(capsys, tmp_path, "--rate", "50", str(path))
    assert rc == 0
    assert err.startswith(
        f'sitbreak: warning: {path}: --rate 50 Hz, but the time column "t" gives 25 Hz (median spacing '
        "0.04 s over the first "
    )
    assert err.endswith(
        "The times come from the column; --rate only sets how many samples a second should hold. Check "
        "--time-unit, or use --ignore-time-column to time the samples by --rate\n"
    )
    assert err.count("\n") == 1


def test_a_time_column_in_the_wrong_unit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _model()
    ms = _write_numeric(tmp_path / "ms.csv", 1000 * model.times(0, model.n_samples), model, "ms,x,y,z")
    rc, _, err = _analyze(capsys, tmp_path, "--time-column", "ms", str(ms))
    assert rc == 2
    assert err.startswith(f'sitbreak: error: {ms}: the time column "ms" gives 0.05 Hz (median spacing 20 s ')
    assert err.endswith(
        "analyze needs 1 to 10000 Hz: check --time-unit, or give the nominal rate with --rate HZ\n"
    )
    assert _analyze(capsys, tmp_path, "--time-column", "ms", "--time-unit", "ms", str(ms))[0] == 0


def test_a_time_column_that_does_not_advance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "same.csv"
    path.write_text("t,x,y,z\n" + "5,0,0,1\n" * 700)
    rc, _, err = _analyze(capsys, tmp_path, str(path))
    assert (rc, err) == (
        2,
        f'sitbreak: error: {path}: the time column "t" does not advance over the first 700 samples: check '
        "--time-column, or give the rate with --rate HZ and --ignore-time-column\n",
    )


def test_options_that_cannot_apply_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rate_only = tmp_path / "r.csv"
    rate_only.write_text("x,y,z\n" + "0,0,1\n" * 600)
    day = tmp_path / "day.csv"
    write_csv(_model(), day, START.timestamp())
    iso = tmp_path / "iso.csv"
    iso.write_text(
        "t,x,y,z\n" + "".join(f"2024-03-04T08:00:{i // 50:02d}.{i % 50 * 2:02d}0,0,0,1\n" for i in range(600))
    )
    cases = [
        (
            ["--rate", "50", "--time-unit", "ms", str(rate_only)],
            "--time-unit applies only to a numeric time column: the file has no time column; leave it out",
        ),
        (
            ["--time-unit", "ms", str(iso)],
            '--time-unit applies only to a numeric time column: the time column "t" '
            "holds ISO-8601 text; leave it out",
        ),
        (
            ["--ignore-time-column", "--rate", "50", "--time-unit", "ms", str(day)],
            "--time-unit applies only to a numeric time column: --ignore-time-column sets the time column "
            "aside",
        ),
        (
            ["--timezone", "Europe/Berlin", str(day)],
            "--timezone applies only to times written without an offset",
        ),
        (["--rate", "50", "--timezone", "Europe/Berlin", str(rate_only)], "--timezone applies only to times"),
        (
            ["--rate", "50", "--ignore-time-column", "--time-column", "t", str(day)],
            "--time-column and --ignore-time-column contradict each other: drop one",
        ),
        (["--ignore-time-column", str(day)], "--ignore-time-column needs --rate HZ"),
    ]
    for argv, start in cases:
        rc, out, err = _analyze(capsys, tmp_path, *argv)
        assert (rc, out) == (2, ""), argv
        assert err.startswith("sitbreak: error: " + start), (argv, err)
    # Where they do apply, they are used: naive ISO times in Berlin's winter time.
    rc, _, err = _analyze(capsys, tmp_path, "--timezone", "Europe/Berlin", str(iso))
    assert (rc, err) == (0, "")
    assert _epochs(tmp_path / "iso.epochs.csv")[0]["iso_time"] == "2024-03-04T07:00:00Z"
    rc, _, err = _analyze(
        capsys,
        tmp_path,
        "--rate",
        "50",
        "--start",
        "2024-03-04T09:00",
        "--timezone",
        "Europe/Berlin",
        str(rate_only),
    )
    assert (rc, err) == (0, "")
    assert _epochs(tmp_path / "r.epochs.csv")[0]["iso_time"] == "2024-03-04T08:00:00Z"


# --- the README's examples ---------------------------------------------------------------------------


def readme_commands() -> list[list[str]]:
    """Every shell line of the README's offline-analysis block: continuation lines joined, comments
    dropped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Offline analysis") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the offline-analysis section has no ```sh block"
    joined = block.group(1).replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in joined.splitlines() if line.strip()]


def _hugadb(path: Path) -> None:
    """A HuGaDB v1 file as shared in the data folder: comment lines, a header, raw int16 counts at ±2 g,
    no time column, 58.82 Hz."""
    model = MotionModel(SHORT_DAY, MotionConfig(rate_hz=58.82, seed=2))
    counts = np.clip(np.round(model.render(0, model.n_samples) * 16384), -32768, 32767).astype(int)
    zeros = np.zeros_like(counts)
    with gzip.open(path, "wt") as fh:
        fh.write("#Activity\twalking sitting standing\n#ActivityID\t1 5 8\n#Date 10-26-17-47\n")
        fh.write(
            "sample,acc_rt_x,acc_rt_y,acc_rt_z,gyro_rt_x,gyro_rt_y,gyro_rt_z,acc_lt_x,acc_lt_y,acc_lt_z,"
        )
        fh.write("gyro_lt_x,gyro_lt_y,gyro_lt_z,act\n")
        for i, (c, z) in enumerate(zip(counts, zeros, strict=True)):
            fh.write(f"{i},{c[0]},{c[1]},{c[2]},{z[0]},{z[1]},{z[2]},{c[0]},{c[1]},{c[2]},0,0,0,5\n")


def _phone(path: Path) -> None:
    """A phone app's export: no time column, m/s², 50 Hz."""
    model = _model(seed=3)
    xyz = model.render(0, model.n_samples).astype(np.float64) * G_MS2
    with path.open("w") as fh:
        fh.write("acc_x,acc_y,acc_z\n")
        np.savetxt(fh, xyz, fmt="%.4f", delimiter=",")


# Inputs for files the README analyses but does not make itself.
INPUTS: dict[str, Callable[[Path], None]] = {
    "HuGaDB_v1_various_01_00.csv.gz": _hugadb,
    "phone.csv": _phone,
}


def _expected_start(argv: list[str], path: Path) -> int:
    """The first second the outputs must show: --start if given, else the file's first Unix time, else
    the epoch (rate-only files without --start)."""
    if "--start" in argv:
        return int(datetime.fromisoformat(argv[argv.index("--start") + 1]).timestamp())
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        rows = [line for line in fh if not line.startswith("#")]
    header = rows[0].strip().split(",")
    return int(float(rows[1].split(",")[0])) if header[0] == "t" else 0


def test_readme_examples_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    commands = readme_commands()
    assert sum(1 for c in commands if c[:2] == ["sitbreak", "analyze"]) >= 2
    for command in commands:
        if command[:3] == ["python", "-m", "firmware_sim.motion"]:
            assert motion.main(command[3:]) == 0, command
            continue
        assert command[:2] == ["sitbreak", "analyze"], f"README line this test cannot run: {command}"
        argv = command[2:]
        name = next(a for a in argv if a.endswith((".csv", ".csv.gz")))
        path = tmp_path / name
        if not path.exists():
            assert name in INPUTS, f"the README analyses {name}: add a generator for it to INPUTS"
            INPUTS[name](path)
        capsys.readouterr()
        rc = main(["analyze", "--quiet", *argv])
        out, err = capsys.readouterr()
        assert (rc, err) == (0, ""), (command, err)
        out_dir = Path(argv[argv.index("--out-dir") + 1]) if "--out-dir" in argv else Path(".")
        stem = name.removesuffix(".gz").removesuffix(".csv")
        epochs = _epochs(out_dir / f"{stem}.epochs.csv")
        first = int(epochs[0]["t"])
        assert abs(first - _expected_start(argv, path)) <= 1, (command, epochs[0])
        assert f"{name}: " in out and "sitting" in out
