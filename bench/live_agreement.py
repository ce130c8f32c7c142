"""Live labels against final labels: how often they agree, and how often each changes posture.

    python bench/live_agreement.py                      # the office day, and the shared data if present
    SITBREAK_DATA=/path/to/data python bench/live_agreement.py --json

Each recording is fed to a live `PostureStream` (as the service makes it) in blocks of the link's
`block_max_s` (5 s). The live labels (monitor/pipeline/live.py: what `state` shows and the nudge
timer counts) are compared second by second with the final labels of the same stream (what the store
keeps and reports read; unchanged by the live ones). Also counted: posture changes in each (flicker
would show as many more live changes than final ones), and the agreement on sedentary (sit, lie)
against upright, the distinction the nudges rest on. Recordings: `firmware_sim.motion.office_day()`
(thigh, 50 Hz), HuGaDB right thigh and HAPT waist from SITBREAK_DATA (default ../shared/data).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from bench import datasets  # noqa: E402
from firmware_sim.motion import MotionConfig, MotionModel, office_day  # noqa: E402
from monitor.core.types import CodeArray, EpochBlock, Placement, PostureCode, SampleBlock  # noqa: E402
from monitor.pipeline import PostureStream  # noqa: E402
from monitor.wearables.settings import LinkSettings  # noqa: E402

BLOCK_S = LinkSettings().block_max_s
SEDENTARY = (int(PostureCode.SIT), int(PostureCode.LIE))
COMPARED = (int(PostureCode.UNKNOWN), int(PostureCode.NON_WEAR))


@dataclass
class Tally:
    name: str
    seconds: int = 0
    agree: int = 0
    agree_sedentary: int = 0
    live_changes: int = 0
    final_changes: int = 0
    files: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    def add(self, live: CodeArray, final: CodeArray) -> None:
        worn = ~np.isin(final, COMPARED)
        self.seconds += int(worn.sum())
        self.agree += int((live == final)[worn].sum())
        self.agree_sedentary += int((np.isin(live, SEDENTARY) == np.isin(final, SEDENTARY))[worn].sum())
        self.live_changes += _changes(live)
        self.final_changes += _changes(final)
        self.files += 1

    def result(self) -> dict[str, object]:
        share = self.agree / self.seconds if self.seconds else 0.0
        sed = self.agree_sedentary / self.seconds if self.seconds else 0.0
        out = asdict(self)
        out.pop("extra")
        return {**out, "agreement": round(share, 4), "sedentary_agreement": round(sed, 4)}


def _changes(labels: CodeArray) -> int:
    shown = labels[~np.isin(labels, COMPARED)]
    return int(np.count_nonzero(shown[1:] != shown[:-1]))


def live_and_final(
    t: np.ndarray, xyz: np.ndarray, rate_hz: float, placement: Placement
) -> tuple[CodeArray, CodeArray]:
    stream = PostureStream(placement, rate_hz, live=True)
    step = max(1, round(BLOCK_S * rate_hz))
    live: list[EpochBlock] = []
    final: list[EpochBlock] = []
    for i in range(0, t.shape[0], step):
        out = stream.feed_live(SampleBlock(t[i : i + step], xyz[i : i + step]))
        live.append(out.live)
        final.append(out.final)
    out = stream.flush_live()
    live.append(out.live)
    final.append(out.final)
    a = EpochBlock.concat([b for b in live if len(b)])
    b = EpochBlock.concat([b for b in final if len(b)])
    assert (a.t0, len(a)) == (b.t0, len(b)), "live and final cover the same epochs"
    return a.labels, b.labels


def recordings(root: Path) -> Iterator[tuple[str, np.ndarray, np.ndarray, float, Placement]]:
    model = MotionModel(office_day(), MotionConfig(placement="thigh", rate_hz=50.0, seed=0))
    n = model.n_samples
    yield (
        "office day (firmware_sim, thigh)",
        1.8e9 + model.times(0, n),
        model.render(0, n),
        50.0,
        Placement.THIGH,
    )
    for fmt, placement, name in (
        ("hugadb", Placement.THIGH, "HuGaDB right thigh"),
        ("hapt", Placement.WAIST, "HAPT waist"),
    ):
        folder = root / fmt
        if not folder.is_dir():
            continue
        for path in datasets.list_files(folder, fmt):
            rec = datasets.read(path, fmt)
            yield name, rec.t, rec.xyz.astype(np.float64), rec.rate_hz, placement


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    root = Path(os.environ.get("SITBREAK_DATA", REPO.parent / "shared" / "data"))
    tallies: dict[str, Tally] = {}
    for name, t, xyz, rate, placement in recordings(root):
        live, final = live_and_final(t, xyz, rate, placement)
        tallies.setdefault(name, Tally(name)).add(live, final)
    results = [tally.result() for tally in tallies.values()]
    if args.json:
        print(json.dumps(results))
        return 0
    print(
        f"{'recording':<34} {'files':>5} {'seconds':>8} {'agree':>7} {'sed. agree':>10}"
        f" {'changes live/final':>19}"
    )
    for r in results:
        print(
            f"{r['name']!s:<34} {r['files']!s:>5} {r['seconds']!s:>8} {r['agreement']:>7.2%} "
            f"{r['sedentary_agreement']:>10.2%} {r['live_changes']!s:>9} / {r['final_changes']!s:<8}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
