"""Readers for the labelled recordings used by bench/accuracy.py (HuGaDB v1 thigh, HAPT waist).

Each reader turns one file into a `Recording`: sample times in seconds, acceleration in g (float32,
device axes as stored), and the dataset's own activity id per sample. Mapping ids to our classes is the
evaluator's job (bench/accuracy.py), not the reader's.

Folder formats (see the README.md beside each data set):

- HuGaDB: ``S<PP>/HuGaDB_v1_<activity>_<PP>_<CC>.csv.gz``, ``#`` comment lines, then a header with
  ``acc_rt_x..acc_lt_z`` in raw int16 counts (g = counts / 16384) and ``act``. No timestamps: samples
  are placed on the nominal 58.82 Hz grid. Subject = PP.
- HAPT: ``user<UU>_exp<EE>.csv.gz`` with ``acc_x..acc_z`` in g at 50 Hz and ``label`` (-1 unlabeled).
  Subject = UU.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

# HuGaDB's official table gives every activity's duration as samples / 58.82.
HUGADB_RATE_HZ = 58.82
# MPU-6050-class accelerometer at +-2 g full scale, stored as int16 counts.
HUGADB_COUNTS_PER_G = 16384.0
HAPT_RATE_HZ = 50.0

FORMATS = ("hugadb", "hapt")

_HUGADB_NAME = re.compile(
    r"HuGaDB_v\d+_(?P<activity>.+)_(?P<subject>\d+)_(?P<counter>\d+)\.(csv|txt)(\.gz)?$"
)
_HAPT_NAME = re.compile(r"user(?P<subject>\d+)_exp(?P<exp>\d+)\.csv(\.gz)?$")


@dataclass(frozen=True)
class Recording:
    """One labelled file: times [s] from 0, acceleration [g] (N, 3) float32, dataset label id per sample."""

    path: Path
    subject: str
    kind: str
    rate_hz: float
    t: npt.NDArray[np.float64]
    xyz: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int16]


class DatasetError(Exception):
    """A file or folder that does not match the expected format; the text names it."""


def _open_text(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        yield from handle


def _read_table(path: Path, comment: str | None) -> tuple[list[str], npt.NDArray[np.float64]]:
    lines = (line for line in _open_text(path) if not (comment and line.startswith(comment)))
    try:
        header = next(lines).strip().split(",")
    except StopIteration:
        raise DatasetError(f"{path}: empty file") from None
    try:
        data = np.loadtxt(lines, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise DatasetError(f"{path}: not a numeric CSV table ({exc})") from exc
    if data.shape[0] == 0:
        raise DatasetError(f"{path}: no data rows")
    if data.shape[1] != len(header):
        raise DatasetError(f"{path}: {data.shape[1]} columns but the header names {len(header)}")
    return header, data


def _columns(path: Path, header: list[str], names: tuple[str, ...]) -> list[int]:
    missing = [name for name in names if name not in header]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}; header is {','.join(header)}")
    return [header.index(name) for name in names]


def read_hugadb(path: Path, sensor: str = "rt") -> Recording:
    """One HuGaDB file, one thigh (``rt`` right, ``lt`` left)."""
    if sensor not in ("rt", "lt"):
        raise ValueError(f"sensor must be 'rt' or 'lt', not {sensor!r}")
    match = _HUGADB_NAME.search(path.name)
    if match is None:
        raise DatasetError(f"{path}: name does not look like HuGaDB_v1_<activity>_<PP>_<CC>.csv.gz")
    header, data = _read_table(path, comment="#")
    acc = _columns(path, header, (f"acc_{sensor}_x", f"acc_{sensor}_y", f"acc_{sensor}_z"))
    (act,) = _columns(path, header, ("act",))
    n = data.shape[0]
    return Recording(
        path=path,
        subject=match["subject"],
        kind=match["activity"],
        rate_hz=HUGADB_RATE_HZ,
        t=np.arange(n, dtype=np.float64) / HUGADB_RATE_HZ,
        xyz=(data[:, acc] / HUGADB_COUNTS_PER_G).astype(np.float32),
        labels=data[:, act].astype(np.int16),
    )


def read_hugadb_sensors(path: Path, sensors: Sequence[str] = ("rt", "lt")) -> dict[str, Recording]:
    """Several thighs of one HuGaDB file, parsing it once."""
    match = _HUGADB_NAME.search(path.name)
    if match is None:
        raise DatasetError(f"{path}: name does not look like HuGaDB_v1_<activity>_<PP>_<CC>.csv.gz")
    header, data = _read_table(path, comment="#")
    (act,) = _columns(path, header, ("act",))
    n = data.shape[0]
    t = np.arange(n, dtype=np.float64) / HUGADB_RATE_HZ
    labels = data[:, act].astype(np.int16)
    out = {}
    for sensor in sensors:
        if sensor not in ("rt", "lt"):
            raise ValueError(f"sensor must be 'rt' or 'lt', not {sensor!r}")
        acc = _columns(path, header, (f"acc_{sensor}_x", f"acc_{sensor}_y", f"acc_{sensor}_z"))
        out[sensor] = Recording(
            path=path,
            subject=match["subject"],
            kind=match["activity"],
            rate_hz=HUGADB_RATE_HZ,
            t=t,
            xyz=(data[:, acc] / HUGADB_COUNTS_PER_G).astype(np.float32),
            labels=labels,
        )
    return out


def read_hapt(path: Path) -> Recording:
    """One HAPT experiment (waist)."""
    match = _HAPT_NAME.search(path.name)
    if match is None:
        raise DatasetError(f"{path}: name does not look like user<UU>_exp<EE>.csv.gz")
    header, data = _read_table(path, comment=None)
    acc = _columns(path, header, ("acc_x", "acc_y", "acc_z"))
    (label,) = _columns(path, header, ("label",))
    n = data.shape[0]
    return Recording(
        path=path,
        subject=match["subject"],
        kind=f"exp{match['exp']}",
        rate_hz=HAPT_RATE_HZ,
        t=np.arange(n, dtype=np.float64) / HAPT_RATE_HZ,
        xyz=data[:, acc].astype(np.float32),
        labels=data[:, label].astype(np.int16),
    )


def list_files(root: Path, fmt: str) -> list[Path]:
    """The data files of one format under `root` (recursively), in a stable order."""
    if not root.is_dir():
        raise DatasetError(f"{root}: not a directory")
    pattern = _HUGADB_NAME if fmt == "hugadb" else _HAPT_NAME
    files = sorted(p for p in root.rglob("*") if p.is_file() and pattern.search(p.name))
    if not files:
        raise DatasetError(f"{root}: no {fmt} files found (expected names like {_example(fmt)})")
    return files


def _example(fmt: str) -> str:
    return "S01/HuGaDB_v1_various_01_00.csv.gz" if fmt == "hugadb" else "user01_exp01.csv.gz"


def guess_format(root: Path) -> str:
    """'hugadb' or 'hapt', from the file names found under `root`."""
    for fmt in FORMATS:
        pattern = _HUGADB_NAME if fmt == "hugadb" else _HAPT_NAME
        if any(pattern.search(p.name) for p in root.rglob("*") if p.is_file()):
            return fmt
    raise DatasetError(f"{root}: found neither HuGaDB nor HAPT files; pass --format")


def read(path: Path, fmt: str, sensor: str = "rt") -> Recording:
    if fmt == "hugadb":
        return read_hugadb(path, sensor)
    if fmt == "hapt":
        return read_hapt(path)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
