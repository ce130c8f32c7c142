"""Peak memory and CPU of `sitbreak analyze` on recordings that span far more time than they hold samples
(a benchmark: it prints numbers; tests/test_analyze_gaps.py holds the limits).

Each case is written to a temporary folder and analysed in a fresh interpreter, which reports its own
peak RSS (VmHWM: ru_maxrss would include this parent's, carried across fork and exec) and CPU time:
numbers that do not depend on how busy the machine is. The first
line is `analyze --help`, i.e. what the imports alone take.

Cases (issue 11 #5: 2000 rows an hour apart peaked at 2.1 GB, a 1e9 s jump hung):
- hourly: 2000 rows an hour apart, --rate 50 (one sample an hour cannot be classified on its own);
- jump: 30 s of 50 Hz data, a jump of 1e9 s, 30 s more;
- monthly: 30 s of 25 Hz data every 28 days for 30 years (390 gaps);
- sparse: 20000 rows 599 s apart, --rate 50 (just below the pipeline's 10 min gap: summed densely);
- office day: 8 h of 50 Hz from the motion model, for comparison with ordinary input.

Examples:
  python bench/analyze_memory.py
  python bench/analyze_memory.py --json --skip-day
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench`, `monitor`, `firmware_sim` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firmware_sim.motion import MotionConfig, MotionModel, office_day, write_csv

REPO = Path(__file__).resolve().parent.parent
MIB = 1 << 20
_CHILD = (
    "import json, resource, sys\n"
    "from monitor.cli import main\n"
    "try:\n"
    "    rc = main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    rc = exc.code\n"
    "u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "hwm = next(int(ln.split()[1]) for ln in open('/proc/self/status') if ln.startswith('VmHWM:'))\n"
    "used = {'rc': rc, 'rss': hwm * 1024, 'cpu': u.ru_utime + u.ru_stime}\n"
    "sys.stderr.write('\\n' + json.dumps(used))\n"
)


def _rows(path: Path, lines: list[str]) -> None:
    path.write_text("t,x,y,z\n" + "".join(lines))


def hourly(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "hourly.csv"
    _rows(path, [f"{1.7e9 + i * 3600:.3f},0.01,0.02,-1.0\n" for i in range(2000)])
    return path, ["--rate", "50"]


def jump(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "jump.csv"
    burst = [f"{i * 0.02:.2f},0.0,0.0,1.0\n" for i in range(1500)]
    _rows(path, burst + [f"{1e9 + i * 0.02:.2f},0.0,0.0,1.0\n" for i in range(1500)])
    return path, []


def monthly(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "monthly.csv"
    lines = []
    for k in range(30 * 13):
        base = 1e9 + k * 28 * 86400
        lines += [f"{base + i * 0.04:.2f},0.0,0.0,1.0\n" for i in range(750)]
    _rows(path, lines)
    return path, []


def sparse(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "sparse.csv"
    _rows(path, [f"{1.7e9 + i * 599:.3f},0.01,0.02,-1.0\n" for i in range(20_000)])
    return path, ["--rate", "50"]


def office(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "office.csv"
    write_csv(MotionModel(office_day(), MotionConfig(rate_hz=50.0, seed=1)), path, 1.7e9)
    return path, []


def measure(argv: list[str], out_dir: Path) -> dict[str, float]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, "analyze", "--quiet", "--out-dir", str(out_dir), *argv],
        capture_output=True,
        check=False,
        text=True,
        cwd=REPO,
    )
    used: dict[str, float] = json.loads(proc.stderr.rstrip().splitlines()[-1])
    used["wall"] = time.perf_counter() - started
    return used


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    parser.add_argument("--skip-day", action="store_true", help="leave out the 8 h office day (54 MB)")
    args = parser.parse_args()
    cases: list[tuple[str, Callable[[Path], tuple[Path, list[str]]]]] = [
        ("hourly", hourly),
        ("jump", jump),
        ("monthly", monthly),
        ("sparse", sparse),
    ]
    if not args.skip_day:
        cases.append(("office day", office))
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results["imports (--help)"] = measure(["--help"], folder)
        for name, make in cases:
            path, extra = make(folder)
            used = measure([*extra, str(path)], folder / "out")
            stem = path.name.removesuffix(".csv")
            used["input_bytes"] = path.stat().st_size
            used["epochs_bytes"] = (folder / "out" / f"{stem}.epochs.csv").stat().st_size
            used["bouts_bytes"] = (folder / "out" / f"{stem}.bouts.csv").stat().st_size
            results[name] = used
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    columns = (
        f"{'rc':>3}{'peak RSS':>11}{'CPU s':>8}{'wall s':>8}{'input B':>13}{'epochs B':>12}{'bouts B':>10}"
    )
    print(f"{'case':<18}{columns}")
    for name, u in results.items():
        keys = ("input_bytes", "epochs_bytes", "bouts_bytes")
        sizes = "".join(
            f"{u[k]:>{w},.0f}" if k in u else " " * w for k, w in zip(keys, (13, 12, 10), strict=True)
        )
        print(f"{name:<18}{u['rc']:>3.0f}{u['rss'] / MIB:>7.0f} MiB{u['cpu']:>8.2f}{u['wall']:>8.2f}{sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
