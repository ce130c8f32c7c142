"""`sitbreak analyze`, its CSV reader and summary: end to end and every error."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from firmware_sim.motion import Activity, MotionConfig, MotionModel, Segment, write_csv
from monitor.analysis import format_summary, summarize
from monitor.cli import main
from monitor.core.types import Placement, Posture
from monitor.pipeline import classify_recording
from monitor.progress import Progress
from monitor.recording.csv_reader import CsvRecording
from monitor.recording.format import CsvFormat, TimeUnit, Units

START = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
# A short day with known structure: the walk teaches the upright reference, a 35 min sit is the one
# prolonged bout, a 3 min stand is a break, and 15 min on a desk is non-wear.
SCHEDULE = [
    Segment(Activity.WALK, 180),
    Segment(Activity.SIT, 35 * 60),
    Segment(Activity.STAND, 180),
    Segment(Activity.SIT, 12 * 60),
    Segment(Activity.WALK, 120),
    Segment(Activity.DESK, 15 * 60),
    Segment(Activity.WALK, 180),  # long enough not to be a wear island between non-wear and the end
]
RATE = 25.0


@pytest.fixture(scope="module")
def day_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "day.csv"
    write_csv(MotionModel(SCHEDULE, MotionConfig(rate_hz=RATE, seed=5)), path, START.timestamp())
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def rate_only(path: Path, rows: int, header: str = "x,y,z", row: str = "0.0,0.0,-1.0") -> Path:
    return write(path, header + "\n" + (row + "\n") * rows)


def analyze_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["analyze", "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sitbreak: error: ")
    return err.removeprefix("sitbreak: error: ").rstrip("\n")


# --- end to end ----------------------------------------------------------------------------------------


def test_analyze_a_simulated_day_end_to_end(
    day_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["analyze", "--quiet", "--out-dir", str(out), str(day_csv)]) == 0
    text = capsys.readouterr().out
    epochs = read_rows(out / "day.epochs.csv")
    bouts = read_rows(out / "day.bouts.csv")

    duration = int(sum(s.duration_s for s in SCHEDULE))
    assert len(epochs) == duration  # one row per second, no more, no less
    assert epochs[0] == {
        "t": str(int(START.timestamp())),
        "iso_time": "2024-03-04T08:00:00Z",
        "label": "move",
    }
    assert int(epochs[-1]["t"]) == int(START.timestamp()) + duration - 1

    # Bouts tile the epochs exactly, in order.
    assert sum(int(b["duration_s"]) for b in bouts) == duration
    assert bouts[0]["start"] == "2024-03-04T08:00:00Z"
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(bouts))
    long_ones = [(b["label"], round(int(b["duration_s"]) / 60)) for b in bouts if int(b["duration_s"]) >= 60]
    assert long_ones == [
        ("move", 3),
        ("sit", 35),
        ("stand", 3),
        ("sit", 12),
        ("move", 2),
        ("non_wear", 15),
        ("move", 3),
    ]

    # The summary counts what the schedule holds.
    assert "  sitting bouts  2: <10 min 0, 10–30 min 1, 30–60 min 1, ≥60 min 0\n" in text
    assert "  prolonged      1 sitting bouts of 30 min or more, 35 min in all\n" in text
    assert "  longest        35 min sitting, from 2024-03-04 08:03 UTC\n" in text
    assert "  not worn       15 min\n" in text
    assert "(upright for at least 5 s after sitting)" in text
    assert f"  wrote          {out / 'day.epochs.csv'}, {out / 'day.bouts.csv'}\n" in text


def test_analyze_gives_the_batch_labels_of_the_pipeline(day_csv: Path, tmp_path: Path) -> None:
    """Reading in chunks and streaming must change nothing against one batch call."""
    assert main(["analyze", "--quiet", "--out-dir", str(tmp_path), str(day_csv)]) == 0
    labels = [row["label"] for row in read_rows(tmp_path / "day.epochs.csv")]
    data = np.loadtxt(day_csv, delimiter=",", skiprows=1)
    batch = classify_recording(data[:, 0], data[:, 1:].astype(np.float32), RATE, Placement.THIGH)
    assert labels == [Posture.from_code(int(c)).value for c in batch.labels]


def test_rate_only_file_in_ms2_gzipped_with_start_and_timezone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = MotionModel([Segment(Activity.SIT, 40), Segment(Activity.WALK, 30)], MotionConfig(rate_hz=20))
    xyz = model.render(0, model.n_samples).astype(np.float64) * 9.80665
    path = tmp_path / "phone.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("# exported by a phone app\nacc_x;acc_y;acc_z\n")
        np.savetxt(fh, xyz, fmt="%.5f", delimiter=";")
    argv = ["--rate", "20", "--units", "m/s2", "--delimiter", ";", "--start", "2024-03-04T09:00:00"]
    assert (
        main(
            [
                "analyze",
                "--quiet",
                *argv,
                "--timezone",
                "Europe/Berlin",
                "--out-dir",
                str(tmp_path),
                str(path),
            ]
        )
        == 0
    )
    epochs = read_rows(tmp_path / "phone.epochs.csv")
    assert len(epochs) == 70
    assert epochs[0]["iso_time"] == "2024-03-04T08:00:00Z"  # 09:00 in Berlin, CET
    assert "phone.csv.gz: 1 min from 2024-03-04 08:00 UTC" in capsys.readouterr().out


def test_wrist_output_speaks_of_inactivity(
    day_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", "--quiet", "--placement", "wrist", "--out-dir", str(tmp_path), str(day_csv)]) == 0
    text = capsys.readouterr().out
    assert "  note: wrist placement: this measures inactivity, not sitting\n" in text
    assert "  inactive bouts " in text and "sitting bouts" not in text
    labels = {row["label"] for row in read_rows(tmp_path / "day.epochs.csv")}
    assert "sit" not in labels and "inactive" in labels


# --- the CSV reader ------------------------------------------------------------------------------------


def test_reader_time_column_forms(tmp_path: Path) -> None:
    body = "".join(f"{i * 20},{'0' if i % 2 else '0.01'},0,-1\n" for i in range(5))
    ms = write(tmp_path / "ms.csv", "time,x,y,z\n" + body)
    with CsvRecording(ms, CsvFormat(time_unit=TimeUnit.MS)) as rec:
        (block,) = list(rec.blocks())
    assert block.t.tolist() == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08])
    assert block.xyz.dtype == np.float32 and block.xyz[0].tolist() == pytest.approx([0.01, 0.0, -1.0])

    iso = write(
        tmp_path / "iso.csv",
        "timestamp,x,y,z\n2024-03-04T09:00:00.000+01:00,0,0,-1\n2024-03-04T08:00:00.040Z,0,0,-1\n",
    )
    with CsvRecording(iso) as rec:
        (block,) = list(rec.blocks())
    assert block.t.tolist() == pytest.approx([START.timestamp(), START.timestamp() + 0.04])

    naive = write(tmp_path / "naive.csv", "t,x,y,z\n2024-03-04 08:00:00,0,0,-1\n")
    with CsvRecording(naive, CsvFormat(tz=UTC)) as rec:
        assert next(rec.blocks()).t[0] == START.timestamp()


def test_reader_chunking_changes_nothing(day_csv: Path) -> None:
    def read(chunk_bytes: int) -> tuple[np.ndarray, np.ndarray]:
        with CsvRecording(day_csv) as rec:
            blocks = list(rec.blocks(chunk_bytes))
        assert len(blocks) > 1
        return np.concatenate([b.t for b in blocks]), np.concatenate([b.xyz for b in blocks])

    t1, x1 = read(10_000)
    t2, x2 = read(1 << 20)
    assert np.array_equal(t1, t2) and np.array_equal(x1, x2)


def test_units_and_scale_convert_to_g(tmp_path: Path) -> None:
    counts = rate_only(tmp_path / "counts.csv", 3, row="8192,0,-16384")
    with CsvRecording(counts, CsvFormat(rate_hz=10.0, scale=1 / 16384)) as rec:
        assert next(rec.blocks()).xyz[0].tolist() == [0.5, 0.0, -1.0]
    ms2 = rate_only(tmp_path / "ms2.csv", 3, row="0,4.903325,-9.80665")
    with CsvRecording(ms2, CsvFormat(rate_hz=10.0, units=Units.MS2)) as rec:
        block = next(rec.blocks())
    assert block.xyz[0].tolist() == pytest.approx([0.0, 0.5, -1.0])
    assert block.t.tolist() == pytest.approx([0.0, 0.1, 0.2])


# --- errors, each with its exact text ------------------------------------------------------------------


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nope.csv"
    assert analyze_error(capsys, str(path)) == f"{path}: no such file"


def test_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert analyze_error(capsys, str(tmp_path)) == f"{tmp_path}: is a directory, not a CSV file"


def test_empty_file_and_header_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = write(tmp_path / "empty.csv", "# nothing\n\n")
    assert analyze_error(capsys, str(empty)) == f"{empty}: empty file: no header row and no samples"
    header = write(tmp_path / "header.csv", "t,x,y,z\n")
    assert analyze_error(capsys, str(header)) == f"{header}: no samples after the header (line 1)"


def test_encoding_and_compression_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"x,y,z\n0,0,-1\n0,0\xb0,-1\n")
    assert (
        analyze_error(capsys, "--rate", "50", str(latin1))
        == f"{latin1}:3: not UTF-8 text (byte 4 of the line)"
    )
    fake = write(tmp_path / "plain.csv.gz", "x,y,z\n")
    assert (
        analyze_error(capsys, "--rate", "50", str(fake)) == f"{fake}: cannot read: Not a gzipped file (b'x,')"
    )


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfx,y,z\n0,0,-1\n")
    with CsvRecording(path, CsvFormat(rate_hz=50.0)) as rec:
        assert rec.columns == ["x", "y", "z"]


def test_missing_columns_list_the_ones_present(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = rate_only(tmp_path / "cols.csv", 10, header="time,ax,ay,accel")
    assert analyze_error(capsys, "--rate", "50", str(path)) == (
        f"{path}: no z column (looked for z, acc_z, az, accel_z, accz, z_g); columns present: time, ax, ay, "
        "accel; name it with --z-column"
    )
    assert analyze_error(capsys, "--rate", "50", "--z-column", "accz", str(path)) == (
        f'{path}: no column "accz"; columns present: time, ax, ay, accel'
    )


def test_no_time_column_and_no_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = rate_only(tmp_path / "norate.csv", 10)
    assert analyze_error(capsys, str(path)) == (
        f"{path}: no time column (looked for t, time, timestamp, time_s, datetime, ts); columns present: "
        "x, y, z; give the sample rate with --rate HZ or name it with --time-column"
    )


def test_non_numeric_value_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["# comment", "x,y,z"] + ["0,0,-1"] * 600 + ["0,abc,-1"] + ["0,0,-1"] * 10
    path = write(tmp_path / "bad.csv", "\n".join(lines) + "\n")
    assert analyze_error(capsys, "--rate", "50", str(path)) == f'{path}:603: y = "abc" is not a number'


def test_nan_and_short_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "nan.csv", "x,y,z\n0,0,-1\n0,nan,-1\n")
    assert analyze_error(capsys, "--rate", "50", str(path)) == f'{path}:3: y = "nan" is not a finite number'
    path = write(tmp_path / "short.csv", "x,y,z\n0,0,-1\n0,0\n")
    assert analyze_error(capsys, "--rate", "50", str(path)) == (
        f"{path}:3: 2 fields where the header has 3: x, y, z"
    )


def test_time_going_backwards(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "back.csv", "t,x,y,z\n0.00,0,0,-1\n0.02,0,0,-1\n0.01,0,0,-1\n")
    assert analyze_error(capsys, str(path)) == (
        f"{path}:4: time goes backwards (0.010 s after 0.020 s); sort the file by time"
    )


def test_bad_iso_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "iso.csv", "t,x,y,z\n2024-03-04T08:00:00Z,0,0,-1\nyesterday,0,0,-1\n")
    assert analyze_error(capsys, str(path)) == (
        f'{path}:3: t = "yesterday" is not an ISO-8601 time (e.g. 2024-03-04T08:00:00.020+01:00) or a '
        "number of seconds"
    )


def test_too_short_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = rate_only(tmp_path / "short.csv", 450)
    assert analyze_error(capsys, "--rate", "50", str(path)) == (
        f"{path}: too short: 9.0 s of data (450 samples); analyze needs at least 10 s"
    )
    assert not (Path.cwd() / "short.epochs.csv").exists()
    ok = rate_only(tmp_path / "ok.csv", 500)
    assert main(["analyze", "--quiet", "--rate", "50", "--out-dir", str(tmp_path), str(ok)]) == 0
    assert len(read_rows(tmp_path / "ok.epochs.csv")) == 10


def test_units_that_look_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = rate_only(tmp_path / "ms2.csv", 600, row="0.1,0.2,-9.8")
    assert analyze_error(capsys, "--rate", "50", str(path)) == (
        f"{path}: the acceleration magnitude is around 9.8 g at the start, where a worn accelerometer "
        "reads about 1 g; these look like m/s²: pass --units m/s2"
    )
    assert analyze_error(
        capsys, "--rate", "50", "--units", "m/s2", str(rate_only(tmp_path / "g.csv", 600))
    ) == (
        f"{tmp_path / 'g.csv'}: the acceleration magnitude is around 0.102 g at the start, where a worn "
        "accelerometer reads about 1 g; these look like g: pass --units g"
    )


def test_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = rate_only(tmp_path / "a.csv", 600)
    assert analyze_error(capsys, "--start", "soon", str(path)) == (
        '--start "soon": not an ISO-8601 time, e.g. 2024-03-04T08:00:00+01:00'
    )
    assert analyze_error(capsys, "--timezone", "Mars/Olympus", str(path)) == (
        '--timezone "Mars/Olympus": unknown time zone (use an IANA name like Europe/Berlin)'
    )
    assert analyze_error(capsys, "--rate", "0", str(path)) == "--rate must be above 0 Hz, got 0"
    other = tmp_path / "sub"
    other.mkdir()
    twin = rate_only(other / "a.csv", 600)
    assert analyze_error(capsys, "--rate", "50", str(path), str(twin)) == (
        f"{path} and {twin} would both write a.epochs.csv; "
        "analyze them in separate runs with different --out-dir"
    )


# --- the summary and the progress bar ------------------------------------------------------------------


def test_summary_numbers_on_known_labels() -> None:
    codes = {p: p.code for p in Posture}
    parts = [
        (Posture.SIT, 40 * 60),
        (Posture.STAND, 60),  # a break
        (Posture.SIT, 20 * 60),
        (Posture.STAND, 3),  # too short to be a break at 5 s
        (Posture.SIT, 10 * 60),
        (Posture.MOVE, 300),
        (Posture.NON_WEAR, 600),
    ]
    labels = np.concatenate([np.full(n, codes[p], dtype=np.uint8) for p, n in parts])
    s = summarize(1_000_000, labels, Placement.THIGH, min_break_s=5)
    assert s.length_s == labels.shape[0]
    assert s.wear_s == labels.shape[0] - 600
    assert s.sit_s == 70 * 60
    assert [b.duration for b in s.sitting_bouts] == [2400, 1200, 600]
    assert len(s.prolonged) == 1 and s.longest is not None and s.longest.duration == 2400
    assert (s.breaks, s.transitions) == (2, 3)
    assert s.breaks_per_sedentary_hour == pytest.approx(2 / (70 / 60))
    assert s.bout_counts[Posture.SIT] == 3 and s.bout_counts[Posture.STAND] == 2
    assert s.posture_s[Posture.NON_WEAR] == 600 and s.posture_s[Posture.UNKNOWN] == 0
    text = format_summary(s, "x.csv")
    assert "  breaks         2, 1.7 per sedentary hour (upright for at least 5 s after sitting)\n" in text
    assert "  prolonged      1 sitting bouts of 30 min or more, 40 min in all\n" in text


def test_progress_bar_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    pipe = io.StringIO()
    with Progress(100, "file.csv", stream=pipe) as bar:
        bar.update(50)
    assert pipe.getvalue() == ""

    term = Terminal()
    with Progress(100, "file.csv", stream=term) as bar:
        bar.update(50)
    assert term.getvalue().startswith("\rfile.csv [###############---------------]  50 %")
    assert term.getvalue().endswith("\r")  # the line is cleared at the end

    quiet = Terminal()
    with Progress(100, "file.csv", enabled=False, stream=quiet) as bar:
        bar.update(50)
    assert quiet.getvalue() == ""


def test_config_supplies_the_break_minimum_and_pipeline_settings(
    day_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path / "sitbreak.toml", "[report]\nmin_break_s = 120\n[pipeline]\nmin_sit_s = 10\n")
    argv = ["analyze", "--quiet", "--out-dir", str(tmp_path), "--config", str(config), str(day_csv)]
    assert main(argv) == 0
    assert "(upright for at least 120 s after sitting)" in capsys.readouterr().out
    assert main([*argv[:2], "--min-break", "30", *argv[2:]]) == 0
    assert "(upright for at least 30 s after sitting)" in capsys.readouterr().out
    bad = write(tmp_path / "bad.toml", "[pipeline]\nmin_sit_s = 0\n")
    assert analyze_error(capsys, "--config", str(bad), str(day_csv)) == (
        f"{bad}: pipeline.min_sit_s = 0: must be at least 1 s"
    )
