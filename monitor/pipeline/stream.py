"""PostureStream: THE implementation of the pipeline. Batch classification just feeds it.

samples -> low-pass (state carried) -> half-second bin sums -> 2 s windows per epoch -> features ->
upright reference (learned from walking) -> raw label per epoch -> non-wear (lookahead only while
the device is still) -> short real sits lengthened to the minimum -> bout smoothing (fixed lookahead)
-> finalised epochs. A live stream also gives provisional labels with a lookahead of a few epochs
(live.py): the same non-wear decisions, the minimum-bout rule applied causally.

Every stage keeps only what its lookahead needs, and every computation is arranged so that its result
does not depend on where the block boundaries fall: feeding a recording in chunks of any size gives
exactly the labels of one call. Time comes from the samples only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from monitor.core.types import (
    CodeArray,
    EpochBlock,
    Float32Array,
    FloatArray,
    Placement,
    PostureCode,
    SampleBlock,
)

from .bouts import BoutSmoother, ShortSitPadder
from .features import WindowStats, total_var, window_stats
from .live import LiveFilter
from .nonwear import NonWearDetector
from .reference import DEFAULT_FORWARD, FORWARD_TRUST_DEG, ReferenceLearner, UprightReference
from .settings import PipelineSettings
from .thigh import profile_forward, thigh_codes
from .waist import waist_codes
from .windows import EpochGap, WindowAccumulator, WindowSums
from .wrist import wrist_codes

_PRIORITY: dict[Placement, tuple[PostureCode, ...]] = {
    # Non-wear overrides; then Acti4's order: specific movements first, then standing, then sitting.
    Placement.THIGH: (
        PostureCode.NON_WEAR,
        PostureCode.CYCLE,
        PostureCode.MOVE,
        PostureCode.STAND,
        PostureCode.LIE,
        PostureCode.SIT,
    ),
    Placement.WAIST: (
        PostureCode.NON_WEAR,
        PostureCode.MOVE,
        PostureCode.STAND,
        PostureCode.LIE,
        PostureCode.SIT,
    ),
    Placement.WRIST: (PostureCode.NON_WEAR, PostureCode.MOVE, PostureCode.SIT),
}
# Chunk size used by classify_recording: bounds memory whatever the recording length.
BATCH_CHUNK_SAMPLES = 1 << 19
_EMPTY_CODES = np.zeros(0, dtype=np.uint8)


def _epochs(seconds: float) -> int:
    return max(1, round(seconds))


@dataclass(frozen=True, slots=True)
class LivePosture:
    """The newest live label and the data time its run began (what `state` shows)."""

    code: PostureCode
    since: float


@dataclass(frozen=True, slots=True)
class StreamOutput:
    """What one feed of a live stream gives (see `PostureStream.feed_live`).

    final    finalised epochs, as feed() returns them: what the store keeps and reports read.
    live     provisional epochs (live.py), each once and in order, up to a few epochs behind the
             newest window; the final labels of the same seconds come later and replace them.
    held     the epochs after `live` that non-wear still holds because the device is still, labelled
             as if it were worn (what a flush would give now); recomputed at every pass.
    posture  the newest label of live + held and since when (None before any epoch).
    """

    final: EpochBlock
    live: EpochBlock
    held: EpochBlock
    posture: LivePosture | None

    @property
    def empty(self) -> bool:
        return len(self.final) == 0 and len(self.live) == 0 and len(self.held) == 0


def gap_settle_epochs(s: PipelineSettings) -> int:
    """Epochs of a silence after which every stage after the classifier holds only silence.

    Each stage remembers a bounded stretch of its input: non-wear holds still epochs (up to
    `nonwear_flat_s`) and wear islands (`wear_island_s`), the short-sit padder its moving sums, the
    bout smoother its two median passes. Once they have seen this many silent epochs (`unknown`, not
    still), more silence leaves them as they are and each silent epoch in yields one `unknown` epoch out,
    so the rest of a long silence needs no work and no memory. Twice every delay, to stay safe of
    off-by-ones; a few thousand epochs at most.
    """
    nonwear = _epochs(s.nonwear_flat_s) + round(s.wear_island_s)
    keep, target = _epochs(s.sit_keep_s), _epochs(s.min_sit_s)
    padder = 2 * keep + 4 * target  # its four moving sums plus the padding on both sides
    longest_bout = max(
        _epochs(v) for v in (s.min_sit_s, s.min_lie_s, s.min_stand_s, s.min_move_s, s.min_cycle_s)
    )
    smoother = 4 * longest_bout  # two median passes, each looking `longest - 1` back and ahead
    return 2 * (nonwear + padder + smoother) + 2


class PostureStream:
    """Per-second posture labels from accelerometer samples, live or offline, with identical results.

    feed() returns the epochs finalised so far (possibly none: bout smoothing looks a few seconds
    ahead, non-wear up to `nonwear_flat_s` while the device is still, and work may be batched every
    `process_every_s` of data). A caller that wants the labels sooner asks for a pass with
    `feed(block, process_now=True)`: the labels are the same either way, only their timing changes.
    flush() finalises everything at the end of a recording; the stream is finished afterwards. A stream
    made with `live=True` also gives live labels: feed_live() / flush_live() return a `StreamOutput`
    (final labels unchanged). feed_compact() and flush_compact() return the same epochs with a long
    silence as one `EpochGap` (all `unknown`) instead of a byte per second, for offline use where a
    recording may jump by years.
    """

    def __init__(
        self,
        placement: Placement,
        rate_hz: float,
        settings: PipelineSettings | None = None,
        reference: UprightReference | None = None,
        *,
        live: bool = False,
    ) -> None:
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be > 0, got {rate_hz}")
        self.placement = Placement(placement)
        self.rate_hz = float(rate_hz)
        self.settings = s = settings or PipelineSettings()
        if reference is not None and reference.placement is not self.placement:
            raise ValueError(f"reference is for {reference.placement}, stream is for {self.placement}")
        self._acc = WindowAccumulator(
            self.rate_hz, s.lowpass_hz, s.gap_s, magnitude=self.placement is Placement.WRIST
        )
        self._learner = ReferenceLearner(
            self.placement, _epochs(s.walk_confirm_s), s.reference_time_constant_s, reference
        )
        self._smoother = BoutSmoother(
            {
                PostureCode.SIT: _epochs(s.min_sit_s),
                PostureCode.LIE: _epochs(s.min_lie_s),
                PostureCode.STAND: _epochs(s.min_stand_s),
                PostureCode.MOVE: _epochs(s.min_move_s),
                PostureCode.CYCLE: _epochs(s.min_cycle_s),
                PostureCode.NON_WEAR: 1,
            },
            _PRIORITY[self.placement],
        )
        self._padder = ShortSitPadder(_epochs(s.sit_keep_s), _epochs(s.min_sit_s))
        self._nonwear = NonWearDetector(
            _epochs(s.nonwear_flat_s), _epochs(s.nonwear_long_s), round(s.wear_island_s)
        )
        self._min_samples = s.min_coverage * self.rate_hz / self._acc.factor
        self._cos_flat = float(np.cos(np.radians(s.flat_tolerance_deg)))
        self._still_var = 3.0 * s.still_sd_g**2
        self._default_forward = np.asarray(DEFAULT_FORWARD, dtype=np.float64)
        self._pending_t: list[FloatArray] = []
        self._pending_xyz: list[Float32Array] = []
        self._pending_since: float | None = None
        # Queued data that triggers a pass. Fixed: a caller that wants a pass sooner asks for one
        # (`feed(..., process_now=True)`) rather than retuning the stream.
        self._process_every_s = s.process_every_s
        self._raw = _EMPTY_CODES
        self._gap_settle = gap_settle_epochs(s)
        self._next_out: int | None = None
        self._finished = False
        self._live: LiveFilter | None = None
        if live:
            confirm = _epochs(s.live_confirm_s)
            minimum = {
                PostureCode.SIT: s.min_sit_s,
                PostureCode.LIE: s.min_lie_s,
                PostureCode.STAND: s.min_stand_s,
                PostureCode.MOVE: s.min_move_s,
                PostureCode.CYCLE: s.min_cycle_s,
            }
            cycle = _epochs(s.min_cycle_s)
            self._live = LiveFilter(
                {code: min(_epochs(v), confirm) for code, v in minimum.items()},
                {(PostureCode.MOVE, PostureCode.CYCLE): cycle, (PostureCode.CYCLE, PostureCode.MOVE): cycle},
            )
        # Live labels of the current pass (arrays, and counts of skipped `unknown` epochs).
        self._live_parts: list[CodeArray | int] = []
        self._live_out: tuple[EpochBlock, EpochBlock] | None = None
        self._posture: LivePosture | None = None

    # -- public API --

    @property
    def reference(self) -> UprightReference | None:
        """The learned upright reference (None until walking was seen and none was given)."""
        return self._learner.reference

    @property
    def dropped_samples(self) -> int:
        """Samples refused so far: not finite, or older than the newest sample already seen."""
        return self._acc.dropped

    @property
    def held_epochs(self) -> int:
        """Epochs computed but not yet final (lookahead), for diagnostics."""
        return self._nonwear.held + self._padder.held + self._smoother.held

    @property
    def process_every_s(self) -> float:
        """Queued data (seconds) after which feed() runs a pass by itself."""
        return self._process_every_s

    @property
    def queued_since(self) -> float | None:
        """Data time of the oldest sample waiting for the next pass (None when nothing waits)."""
        return self._pending_since

    @property
    def live_posture(self) -> LivePosture | None:
        """The newest live label and since when, as of the last pass (live streams only)."""
        return self._posture

    def feed_live(self, block: SampleBlock, *, process_now: bool = False) -> StreamOutput:
        """As feed(), with the live labels (the stream must be made with `live=True`)."""
        return self._with_live(lambda: self.feed(block, process_now=process_now))

    def flush_live(self) -> StreamOutput:
        """As flush(): every epoch is final, and the live labels catch up with them."""
        return self._with_live(self.flush)

    def _with_live(self, run: Callable[[], EpochBlock]) -> StreamOutput:
        live = self._live
        if live is None:
            raise RuntimeError("feed_live/flush_live need a stream made with live=True")
        final = run()
        made, self._live_out = self._live_out, None
        if made is None:  # no pass ran
            empty = EpochBlock.empty(float(live.next_epoch))
            return StreamOutput(final, empty, empty, self._posture)
        return StreamOutput(final, made[0], made[1], self._posture)

    def feed(self, block: SampleBlock, *, process_now: bool = False) -> EpochBlock:
        """Queue a block; run a pass when `process_every_s` of data waits, or now if asked to."""
        return self._joined(self.feed_compact(block, process_now=process_now))

    def flush(self) -> EpochBlock:
        return self._joined(self.flush_compact())

    def feed_compact(self, block: SampleBlock, *, process_now: bool = False) -> list[EpochBlock | EpochGap]:
        """As feed(), in consecutive pieces: a silence of any length is at most a few thousand bytes."""
        if self._finished:
            raise RuntimeError("PostureStream.feed after flush(): start a new stream")
        if len(block) > 0:
            self._pending_t.append(block.t)
            self._pending_xyz.append(block.xyz)
            if self._pending_since is None:
                self._pending_since = float(block.t[0])
        if self._pending_since is None:
            return []
        if not process_now and float(self._pending_t[-1][-1]) - self._pending_since < self._process_every_s:
            return []
        return self._run(final=False)

    def flush_compact(self) -> list[EpochBlock | EpochGap]:
        """As flush(), in consecutive pieces."""
        if self._finished:
            return []
        out = self._run(final=True)
        self._finished = True
        return out

    # -- internals --

    def _empty(self) -> EpochBlock:
        return EpochBlock.empty(float(self._next_out) if self._next_out is not None else 0.0)

    def _joined(self, pieces: list[EpochBlock | EpochGap]) -> EpochBlock:
        """One block, each gap written out as `unknown` epochs (what live callers store)."""
        if not pieces:
            return self._empty()
        if len(pieces) == 1 and isinstance(pieces[0], EpochBlock):
            return pieces[0]
        parts = [
            p.labels if isinstance(p, EpochBlock) else np.full(p.n, PostureCode.UNKNOWN, dtype=np.uint8)
            for p in pieces
        ]
        first = pieces[0]
        return EpochBlock(
            first.t0 if isinstance(first, EpochBlock) else float(first.k0), np.concatenate(parts)
        )

    def _take_pending(self) -> tuple[FloatArray, Float32Array]:
        if len(self._pending_t) == 1:
            t, xyz = self._pending_t[0], self._pending_xyz[0]
        else:
            t = np.concatenate(self._pending_t)
            xyz = np.concatenate(self._pending_xyz)
        self._pending_t, self._pending_xyz, self._pending_since = [], [], None
        return t, xyz

    def _run(self, final: bool) -> list[EpochBlock | EpochGap]:
        pieces: list[WindowSums | EpochGap] = []
        if self._pending_t:
            t, xyz = self._take_pending()
            pieces = self._acc.push(t, xyz)
        if final:
            tail = self._acc.flush()
            if tail is not None:
                pieces.append(tail)
        # Label arrays, and counts of `unknown` epochs that skipped the later stages.
        out: list[CodeArray | int] = []
        for piece in pieces:
            if self._next_out is None:
                self._next_out = piece.k0
                if self._live is not None:
                    self._live.begin(piece.k0)
            if isinstance(piece, EpochGap):
                # Epochs without data: only the first few pass through the later stages (see
                # gap_settle_epochs); a year away costs no more time or memory than an hour.
                n = min(piece.n, self._gap_settle)
                no = np.zeros(n, dtype=bool)
                out.append(self._finish(np.full(n, PostureCode.UNKNOWN, dtype=np.uint8), no, no, False))
                if piece.n > n:
                    out.append(piece.n - n)
                    if self._live is not None:
                        self._live.skip(piece.n - n)
                        self._live_parts.append(piece.n - n)
            else:
                codes, still, flat = self._classify(window_stats(piece, self._min_samples))
                out.append(self._finish(codes, still, flat, False))
        if final:
            out.append(self._finish(_EMPTY_CODES, np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), True))
        if self._live is not None:
            self._live_pass(final)
        return self._pieces(out)

    def _pieces(self, out: list[CodeArray | int]) -> list[EpochBlock | EpochGap]:
        """Consecutive output from the next epoch on: adjacent label arrays joined, skipped silences as
        gaps."""
        pieces: list[EpochBlock | EpochGap] = []
        arrays: list[CodeArray] = []
        for item in [*out, 0]:  # the sentinel flushes the last arrays
            if isinstance(item, np.ndarray):
                if item.shape[0]:
                    arrays.append(item)
                continue
            if arrays:
                assert self._next_out is not None
                labels = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
                pieces.append(EpochBlock(float(self._next_out), labels))
                self._next_out += int(labels.shape[0])
                arrays = []
            if item:
                assert self._next_out is not None
                pieces.append(EpochGap(self._next_out, item))
                self._next_out += item
        return pieces

    def _finish(self, codes: CodeArray, still: np.ndarray, flat: np.ndarray, final: bool) -> CodeArray:
        """Raw codes -> non-wear (decided first, so bout smoothing never stretches a posture over
        off-body time) -> short sits lengthened -> bout smoothing. Returns the epochs now final."""
        self._raw = np.concatenate((self._raw, codes)) if self._raw.shape[0] else codes
        nonwear = self._nonwear.push(still, flat, final)
        n = nonwear.shape[0]
        decided = self._raw[:n].copy()
        decided[nonwear & (decided != PostureCode.UNKNOWN)] = PostureCode.NON_WEAR
        self._raw = self._raw[n:]
        if self._live is not None:
            self._live_parts.append(self._live.push(decided, final))
        out: CodeArray = self._smoother.push(self._padder.push(decided, final), final)
        return out

    def _live_pass(self, final: bool) -> None:
        """After a pass: the live labels it made, the held tail and the newest live posture."""
        live = self._live
        assert live is not None
        parts, self._live_parts = self._live_parts, []
        if self._next_out is None:  # no epoch yet
            return
        arrays = [
            p if isinstance(p, np.ndarray) else np.full(p, PostureCode.UNKNOWN, dtype=np.uint8) for p in parts
        ]
        labels = (np.concatenate(arrays) if len(arrays) > 1 else arrays[0]) if arrays else _EMPTY_CODES
        tail, since = live.peek(_EMPTY_CODES if final else self._raw)
        newest = tail[-1] if tail.shape[0] else (labels[-1] if labels.shape[0] else None)
        if newest is not None and since is not None:
            self._posture = LivePosture(PostureCode(int(newest)), float(since))
        start = live.next_epoch - int(labels.shape[0])
        self._live_out = (EpochBlock(float(start), labels), EpochBlock(float(live.next_epoch), tail))

    def _classify(self, stats: WindowStats) -> tuple[CodeArray, np.ndarray, np.ndarray]:
        s = self.settings
        if self.placement is Placement.THIGH:
            up, forward, learned = self._learner.push(stats)
            forward_ok = learned
            if not learned.all():
                # Before any walking, the profile's front axis holds if the device sits as expected.
                profile_fwd, profile_ok = profile_forward(
                    up, self._learner.default_up, self._default_forward, FORWARD_TRUST_DEG
                )
                forward = np.where(learned[:, None], forward, profile_fwd)
                forward_ok = learned | profile_ok
            codes = thigh_codes(stats, up, forward, forward_ok, s)
        elif self.placement is Placement.WAIST:
            codes = waist_codes(stats, self._learner.push(stats)[0], s)
        else:
            codes = wrist_codes(stats, s)
        still = (total_var(stats.cov) < self._still_var) & stats.valid
        m = stats.mean
        g2 = np.einsum("ij,ij->i", m, m)
        flat = m[:, 2] * m[:, 2] >= (self._cos_flat**2) * g2
        return codes, still, flat


def classify_recording(
    t: FloatArray,
    xyz: Float32Array,
    rate_hz: float,
    placement: Placement,
    settings: PipelineSettings | None = None,
    *,
    reference: UprightReference | None = None,
) -> EpochBlock:
    """Label a whole recording: the same as feeding it to a PostureStream in any chunking, then flush."""
    stream = PostureStream(placement, rate_hz, settings, reference)
    t = np.asarray(t, dtype=np.float64)
    xyz = np.asarray(xyz, dtype=np.float32)
    if t.ndim != 1 or xyz.shape != (t.shape[0], 3):
        raise ValueError(
            f"classify_recording: t has shape {t.shape} and xyz {xyz.shape}; need (N,) and (N, 3)"
        )
    blocks = [
        stream.feed(SampleBlock(t[i : i + BATCH_CHUNK_SAMPLES], xyz[i : i + BATCH_CHUNK_SAMPLES]))
        for i in range(0, t.shape[0], BATCH_CHUNK_SAMPLES)
    ]
    blocks.append(stream.flush())
    return EpochBlock.concat(blocks)
