"""Accuracy of the posture pipeline on labelled recordings (HuGaDB thigh, HAPT waist).

Run `python bench/accuracy.py --help` for the label mapping and the scoring rules.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypedDict

import numpy as np
import numpy.typing as npt

if __package__ in (None, ""):  # run as a script: make `bench` and `monitor` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import datasets
from monitor.core.types import EpochBlock, Placement, PostureCode, SampleBlock
from monitor.pipeline import PostureStream
from monitor.pipeline.reference import UprightReference
from monitor.pipeline.settings import PipelineSettings

# Truth classes scored. Codes reuse PostureCode; EXCLUDED marks seconds that are not scored.
EXCLUDED = -1
SIT, LIE, STAND, MOVE, CYCLE = (
    int(c) for c in (PostureCode.SIT, PostureCode.LIE, PostureCode.STAND, PostureCode.MOVE, PostureCode.CYCLE)
)

# HuGaDB activity id -> truth class (see ../shared/data/hugadb/README.md).
HUGADB_MAP: dict[int, int] = {
    1: MOVE,  # walking
    2: MOVE,  # running
    3: MOVE,  # going up stairs
    4: MOVE,  # going down stairs
    5: SIT,  # sitting on a chair
    6: EXCLUDED,  # sitting down (transition)
    7: EXCLUDED,  # standing up (transition)
    8: STAND,  # standing
    9: CYCLE,  # bicycling
    10: STAND,  # up by elevator: standing still in a moving cabin
    11: STAND,  # down by elevator
    12: SIT,  # sitting in a car (passenger)
}
# HAPT activity id -> truth class (see ../shared/data/hapt/README.md).
HAPT_MAP: dict[int, int] = {
    1: MOVE,  # walking
    2: MOVE,  # walking upstairs
    3: MOVE,  # walking downstairs
    4: SIT,
    5: STAND,
    6: LIE,  # laying
    # 7..12 are postural transitions, -1 unlabeled: excluded
}
# Labels on both sides of a change are uncertain (HuGaDB v1 vs v2 boundaries move by up to 0.4 s).
TOLERANCE_S = 0.5

CLASS_NAMES = {SIT: "sit", LIE: "lie", STAND: "stand", MOVE: "move", CYCLE: "cycle"}
FOUR_CLASSES = (SIT, STAND, MOVE, CYCLE)
PRED_NAMES = ["sit", "lie", "stand", "move", "cycle", "non_wear", "unknown"]
PLACEMENT = {"hugadb": Placement.THIGH, "hapt": Placement.WAIST}

HELP = f"""\
Score the posture pipeline against labelled recordings, per second.

Every file is one recording: a new PostureStream classifies it from its first sample. With
--reference file (default) the stream starts with the upright reference it learned from walking in the
same file in a first pass (no labels are used), which is what a wearer has once the reference learned on
an earlier day is persisted, and what acti-motus does offline; files without walking fall back to the
profile default. --reference fresh starts every file cold from the profile default.

Truth per second [k, k+1): the dataset label of its samples, mapped below, when every sample from
{TOLERANCE_S} s before to {TOLERANCE_S} s after the second carries the same class; otherwise the second
is not scored (label changes, transitions, unlabeled stretches).

HuGaDB (thigh, --sensor rt|lt):  walking, running, stairs up/down -> move; sitting, sitting in a car
  -> sit; standing, up/down by elevator -> stand; bicycling -> cycle; sitting down and standing up
  (transitions) are not scored. HuGaDB has no timestamps: samples are placed at 58.82 Hz.
HAPT (waist): walking, up/downstairs -> move; sitting -> sit; standing -> stand; laying -> lie; the six
  postural transitions and unlabeled samples (-1) are not scored.

Bout minimums matter here: HuGaDB's sit-stand drills hold sitting for 1-3 s, which the default 5 s
minimum (Acti4) absorbs by design; --min-sit shows how the scores depend on it.

Metrics (per subject and pooled over all scored seconds):
  sedentary = sit or lie, in truth and prediction: sensitivity, specificity, balanced accuracy;
  4 classes (sit, stand, move, cycle; lie counts as sit): accuracy and macro-F1, the mean F1 over the
  classes present in the truth (so a data set without cycling is not scored on cycling, but every
  false 'cycle' still costs the true class its recall). Predicted non_wear / unknown are errors.

Examples:
  python bench/accuracy.py ../shared/data/hugadb --sensor lt
  python bench/accuracy.py ../shared/data/hapt --json
"""


class SedentaryJson(TypedDict):
    sensitivity: float
    specificity: float
    balanced_accuracy: float


class ClassesJson(TypedDict):
    macro_f1: float
    accuracy: float


class ResultJson(TypedDict):
    sedentary: SedentaryJson
    classes: ClassesJson
    seconds: int


@dataclass
class Scores:
    """Per-second truth and prediction codes pooled over files."""

    truth: list[npt.NDArray[np.int8]] = field(default_factory=list)
    pred: list[npt.NDArray[np.uint8]] = field(default_factory=list)

    def add(self, truth: npt.NDArray[np.int8], pred: npt.NDArray[np.uint8]) -> None:
        keep = truth != EXCLUDED
        self.truth.append(truth[keep])
        self.pred.append(pred[keep])

    def arrays(self) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.uint8]]:
        if not self.truth:
            return np.zeros(0, np.int8), np.zeros(0, np.uint8)
        return np.concatenate(self.truth), np.concatenate(self.pred)

    def merge(self, other: Scores) -> None:
        self.truth.extend(other.truth)
        self.pred.extend(other.pred)


@dataclass(frozen=True)
class Metrics:
    seconds: int
    sensitivity: float
    specificity: float
    balanced_accuracy: float
    macro_f1: float
    accuracy: float
    confusion: npt.NDArray[np.int64]  # rows: truth sit lie stand move cycle; cols: PRED_NAMES

    def to_json(self) -> ResultJson:
        return {
            "sedentary": {
                "sensitivity": self.sensitivity,
                "specificity": self.specificity,
                "balanced_accuracy": self.balanced_accuracy,
            },
            "classes": {"macro_f1": self.macro_f1, "accuracy": self.accuracy},
            "seconds": self.seconds,
        }


def _ratio(num: int, den: int) -> float:
    return float(num) / den if den else float("nan")


def metrics(scores: Scores) -> Metrics:
    truth, pred = scores.arrays()
    t = truth.astype(np.int64)
    p = pred.astype(np.int64)
    confusion = np.zeros((5, len(PRED_NAMES)), dtype=np.int64)
    np.add.at(confusion, (t, p), 1)
    t_sed = (t == SIT) | (t == LIE)
    p_sed = (p == SIT) | (p == LIE)
    sens = _ratio(int((t_sed & p_sed).sum()), int(t_sed.sum()))
    spec = _ratio(int((~t_sed & ~p_sed).sum()), int((~t_sed).sum()))
    t4 = np.where(t == LIE, SIT, t)
    p4 = np.where(p == LIE, SIT, p)
    f1s = []
    for c in FOUR_CLASSES:
        support = int((t4 == c).sum())
        if support == 0:
            continue
        tp = int(((t4 == c) & (p4 == c)).sum())
        predicted = int((p4 == c).sum())
        f1s.append(2.0 * tp / (support + predicted))
    return Metrics(
        seconds=int(t.shape[0]),
        sensitivity=sens,
        specificity=spec,
        balanced_accuracy=(sens + spec) / 2.0,
        macro_f1=float(np.mean(f1s)) if f1s else float("nan"),
        accuracy=_ratio(int((t4 == p4).sum()), int(t.shape[0])),
        confusion=confusion,
    )


def truth_per_second(rec: datasets.Recording, mapping: dict[int, int], n_epochs: int) -> npt.NDArray[np.int8]:
    """Class of each second [k, k+1) for k in 0..n_epochs-1, or EXCLUDED (see HELP)."""
    lut = np.full(max(*mapping, int(rec.labels.max()), 0) + 2, EXCLUDED, dtype=np.int8)
    for k, v in mapping.items():
        lut[k] = v
    labels = np.where(rec.labels >= 0, rec.labels, lut.shape[0] - 1)
    cls = lut[labels]
    out = np.full(n_epochs, EXCLUDED, dtype=np.int8)
    lo = np.searchsorted(rec.t, np.arange(n_epochs) - TOLERANCE_S, side="left")
    hi = np.searchsorted(rec.t, np.arange(n_epochs) + 1 + TOLERANCE_S, side="left")
    # A stretch is homogeneous when no class change falls inside it.
    change = np.concatenate(([0], np.cumsum(cls[1:] != cls[:-1])))
    nonempty = hi > lo
    first = cls[np.minimum(lo, cls.shape[0] - 1)]
    same = nonempty & (change[np.maximum(hi - 1, 0)] == change[np.minimum(lo, cls.shape[0] - 1)])
    # Only whole seconds of data are scored (the last, partial second is not).
    whole = np.arange(n_epochs) + 1 <= rec.t[-1] + 1.0 / rec.rate_hz + 1e-9
    same &= whole
    out[same] = first[same]
    return out


def learn_reference(
    rec: datasets.Recording, placement: Placement, settings: PipelineSettings
) -> UprightReference | None:
    stream = PostureStream(placement, rec.rate_hz, settings)
    stream.feed(SampleBlock(rec.t, rec.xyz))
    stream.flush()
    return stream.reference


def classify(
    rec: datasets.Recording, placement: Placement, settings: PipelineSettings, mode: str
) -> EpochBlock:
    reference = learn_reference(rec, placement, settings) if mode == "file" else None
    stream = PostureStream(placement, rec.rate_hz, settings, reference)
    first = stream.feed(SampleBlock(rec.t, rec.xyz))
    return EpochBlock.concat([first, stream.flush()])


def score_recording(rec: datasets.Recording, fmt: str, settings: PipelineSettings, mode: str) -> Scores:
    epochs = classify(rec, PLACEMENT[fmt], settings, mode)
    mapping = HUGADB_MAP if fmt == "hugadb" else HAPT_MAP
    scores = Scores()
    if len(epochs) == 0:
        return scores
    if epochs.t0 != 0.0:
        raise AssertionError(f"{rec.path}: epochs start at {epochs.t0}, expected 0")
    scores.add(truth_per_second(rec, mapping, len(epochs)), epochs.labels)
    return scores


@dataclass
class Evaluation:
    fmt: str
    sensor: str
    per_subject: dict[str, Scores]

    def overall(self) -> Metrics:
        pooled = Scores()
        for s in self.per_subject.values():
            pooled.merge(s)
        return metrics(pooled)


def evaluate(
    root: Path,
    fmt: str,
    *,
    sensors: Sequence[str] = ("rt",),
    mode: str = "file",
    settings: PipelineSettings | None = None,
    files: Iterable[Path] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Evaluation]:
    """Score every file of `fmt` under `root` (or the given files); one Evaluation per thigh sensor."""
    settings = settings or PipelineSettings()
    paths = list(files) if files is not None else datasets.list_files(root, fmt)
    sensors = list(sensors) if fmt == "hugadb" else ["waist"]
    out = {s: Evaluation(fmt, s, {}) for s in sensors}
    for i, path in enumerate(paths):
        recs = (
            datasets.read_hugadb_sensors(path, sensors)
            if fmt == "hugadb"
            else {"waist": datasets.read_hapt(path)}
        )
        for sensor, rec in recs.items():
            scores = score_recording(rec, fmt, settings, mode)
            out[sensor].per_subject.setdefault(rec.subject, Scores()).merge(scores)
        if progress is not None:
            progress(i + 1, len(paths))
    return out


def _fmt(x: float) -> str:
    return f"{x:6.3f}" if np.isfinite(x) else "   n/a"


def report(ev: Evaluation) -> str:
    lines = [
        f"{ev.fmt} ({ev.sensor}): per-second scores",
        "subject  seconds  sed.sens  sed.spec  sed.BA  macroF1  accuracy",
    ]
    for subject in sorted(ev.per_subject):
        m = metrics(ev.per_subject[subject])
        lines.append(
            f"{subject:>7}  {m.seconds:7d}  {_fmt(m.sensitivity)}    {_fmt(m.specificity)}    "
            f"{_fmt(m.balanced_accuracy)}  {_fmt(m.macro_f1)}   {_fmt(m.accuracy)}"
        )
    m = ev.overall()
    lines.append(
        f"{'all':>7}  {m.seconds:7d}  {_fmt(m.sensitivity)}    {_fmt(m.specificity)}    "
        f"{_fmt(m.balanced_accuracy)}  {_fmt(m.macro_f1)}   {_fmt(m.accuracy)}"
    )
    lines.append("")
    lines.append("confusion (rows truth, columns prediction, seconds):")
    lines.append("        " + "".join(f"{n:>9}" for n in PRED_NAMES))
    for row, code in enumerate((SIT, LIE, STAND, MOVE, CYCLE)):
        if m.confusion[row].sum():
            lines.append(f"{CLASS_NAMES[code]:>7} " + "".join(f"{v:9d}" for v in m.confusion[row]))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="accuracy.py", description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dir", type=Path, help="folder with HuGaDB (S*/...) or HAPT (user*_exp*) files")
    parser.add_argument("--format", choices=datasets.FORMATS, help="data set format (default: guessed)")
    parser.add_argument("--sensor", choices=("rt", "lt"), default="rt", help="HuGaDB thigh (default rt)")
    parser.add_argument(
        "--reference", choices=("file", "fresh"), default="file", help="upright reference (see above)"
    )
    parser.add_argument(
        "--min-sit",
        type=float,
        metavar="S",
        help=f"shortest sitting/lying bout kept, s (pipeline default {PipelineSettings().min_sit_s:g})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args(argv)
    settings = PipelineSettings()
    if args.min_sit is not None:
        if not 1 <= args.min_sit <= 60:
            parser.error(f"--min-sit {args.min_sit:g}: must be between 1 and 60 s")
        settings = replace(settings, min_sit_s=args.min_sit, min_lie_s=args.min_sit)
    try:
        fmt = args.format or datasets.guess_format(args.dir)
        show = (not args.json) and sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            if show:
                print(f"\r{done}/{total} files", end="" if done < total else "\n", file=sys.stderr)

        ev = evaluate(
            args.dir, fmt, sensors=(args.sensor,), mode=args.reference, settings=settings, progress=progress
        )
    except datasets.DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    (only,) = ev.values()
    if args.json:
        result = only.overall().to_json()
        print(json.dumps(result))
    else:
        print(report(only))
        print(
            f"\nsettings: min bouts sit {settings.min_sit_s:g} s, lie {settings.min_lie_s:g} s, "
            f"stand {settings.min_stand_s:g} s, move {settings.min_move_s:g} s, "
            f"cycle {settings.min_cycle_s:g} s; reference: {args.reference}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
