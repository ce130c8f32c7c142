"""The motion model: deterministic, chunking-independent, physically plausible."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from firmware_sim.motion import (
    Activity,
    MotionConfig,
    MotionModel,
    Segment,
    full_day,
    main,
    office_day,
)

RATE = 50.0
# An ideal sensor worn straight: lets the tests read limb geometry off the axes.
IDEAL = {"rotation_deg": (0.0, 0.0, 0.0), "offset_g": (0.0, 0.0, 0.0), "scale_error": (0.0, 0.0, 0.0)}


def _segment_samples(model: MotionModel, index: int, margin_s: float = 3.0) -> np.ndarray:
    start, end, _ = model.truth()[index]
    i0 = math.ceil((start + margin_s) * model.rate_hz)
    i1 = math.floor((end - margin_s) * model.rate_hz)
    return model.render(i0, i1 - i0).astype(np.float64)


def _dominant_hz(signal: np.ndarray, rate: float) -> float:
    spectrum = np.abs(np.fft.rfft(signal - signal.mean()))
    freqs = np.fft.rfftfreq(signal.shape[0], 1.0 / rate)
    return float(freqs[int(np.argmax(spectrum))])


def _one(activity: Activity, seconds: float = 120.0, **config: object) -> MotionModel:
    return MotionModel([Segment(activity, seconds)], MotionConfig(**{**IDEAL, **config}))  # type: ignore[arg-type]


def test_same_seed_same_samples_other_seed_differs() -> None:
    schedule = office_day()[:6]
    a = MotionModel(schedule, MotionConfig(seed=7)).render(0, 20_000)
    b = MotionModel(schedule, MotionConfig(seed=7)).render(0, 20_000)
    c = MotionModel(schedule, MotionConfig(seed=8)).render(0, 20_000)
    assert a.dtype == np.float32 and a.shape == (20_000, 3)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c, atol=0.05)


@pytest.mark.parametrize("placement", ["thigh", "waist", "wrist"])
def test_render_is_independent_of_chunking(placement: str) -> None:
    # Every activity, each boundary (sit-to-stand, onto and off the desk), and two noise blocks.
    schedule = [Segment(a, 30.0) for a in Activity] + [Segment(Activity.SIT, 30.0)]
    model = MotionModel(schedule, MotionConfig(placement=placement, seed=3))
    start, n = 10_000, 9_000
    whole = model.render(start, n)
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.choice(np.arange(1, n), size=40, replace=False))
    # BLE-sized chunks at the start: 1..40 samples each.
    small = np.cumsum(rng.integers(1, 41, size=30))
    cuts = np.unique(np.concatenate([small[small < n], cuts]))
    pieces = []
    prev = 0
    for cut in [*cuts.tolist(), n]:
        pieces.append(model.render(start + prev, cut - prev))
        prev = cut
    assert np.array_equal(np.concatenate(pieces), whole)
    # Past the end the last activity goes on, whichever chunk asks.
    end = model.n_samples
    assert np.array_equal(model.render(end - 100, 300)[200:], model.render(end + 100, 100))


def test_still_postures_read_one_g_along_the_expected_axis() -> None:
    stand = _segment_samples(_one(Activity.STAND), 0)
    sit = _segment_samples(_one(Activity.SIT), 0)
    for still in (stand, sit):
        magnitude = np.linalg.norm(still, axis=1)
        assert abs(magnitude.mean() - 1.0) < 0.01
    # HuGaDB's convention: x towards the knee reads -1 g standing, z out of the thigh +1 g seated.
    assert stand.mean(axis=0)[0] < -0.97
    assert sit.mean(axis=0)[2] > 0.85


def test_sensor_noise_on_a_desk_is_the_configured_sd() -> None:
    desk = _segment_samples(_one(Activity.DESK, noise_g=0.008), 0)
    assert desk.std(axis=0) == pytest.approx([0.008] * 3, rel=0.1)
    assert desk.mean(axis=0)[2] > 0.99  # flat, face up, on a nearly level table


@pytest.mark.parametrize(
    ("activity", "low_hz", "high_hz"),
    [
        (Activity.WALK, 1.75, 2.1),  # steps
        (Activity.RUN, 2.5, 3.1),
        (Activity.STAIRS_UP, 1.35, 1.75),
    ],
)
def test_gait_has_a_plausible_step_frequency(activity: Activity, low_hz: float, high_hz: float) -> None:
    samples = _segment_samples(_one(activity, 300.0), 0)
    # x lies near vertical during gait, where the body's bounce at every step shows.
    step_hz = _dominant_hz(samples[:, 0], RATE)
    assert low_hz <= step_hz <= high_hz


def test_walking_swings_the_thigh_about_25_degrees() -> None:
    samples = _segment_samples(_one(Activity.WALK, 300.0), 0)
    # Gravity direction in the sagittal plane, smoothed over a quarter second to damp impacts.
    kernel = np.ones(12) / 12
    x = np.convolve(samples[:, 0], kernel, mode="valid")
    z = np.convolve(samples[:, 2], kernel, mode="valid")
    incl = np.degrees(np.arctan2(z, -x))
    swing = (np.percentile(incl, 95) - np.percentile(incl, 5)) / 2
    assert 15.0 <= swing <= 40.0
    assert np.linalg.norm(samples, axis=1).std() > 0.2  # clearly moving, unlike sitting


def test_cycling_swings_the_thigh_at_pedal_cadence_around_a_forward_tilt() -> None:
    samples = _segment_samples(_one(Activity.CYCLE, 300.0), 0)
    cadence = _dominant_hz(samples[:, 0], RATE)
    assert 0.95 <= cadence <= 1.55
    mean = samples.mean(axis=0)
    tilt = math.degrees(math.atan2(mean[2], -mean[0]))
    assert 20.0 <= tilt <= 65.0  # neither upright nor seated


def test_explicit_rotation_turns_the_device_axes() -> None:
    # 90 deg about z carries the limb's x axis onto the device's y axis.
    stand = _segment_samples(_one(Activity.STAND, rotation_deg=(0.0, 0.0, 90.0)), 0)
    mean = stand.mean(axis=0)
    assert mean[1] < -0.97
    assert abs(mean[0]) < 0.1


def test_random_rotation_is_seeded_and_bounded() -> None:
    def upright(seed: int) -> np.ndarray:
        model = MotionModel(
            [Segment(Activity.STAND, 60)], MotionConfig(seed=seed, random_rotation_max_deg=35)
        )
        mean = _segment_samples(model, 0).mean(axis=0)
        unit: np.ndarray = mean / np.linalg.norm(mean)
        return unit

    angles = []
    for seed in range(6):
        u = upright(seed)
        angles.append(math.degrees(math.acos(float(np.clip(-u[0], -1, 1)))))
    assert np.array_equal(upright(2), upright(2))
    # Standing thigh sways a few degrees; the rotation adds at most 35.
    assert max(angles) <= 35.0 + 8.0
    assert len({round(a) for a in angles}) > 3


def test_sit_to_stand_shows_a_transition_at_the_boundary() -> None:
    model = MotionModel([Segment(Activity.SIT, 30), Segment(Activity.STAND, 30)], MotionConfig(**IDEAL))  # type: ignore[arg-type]
    around = model.render(int(29 * RATE), int(2 * RATE)).astype(np.float64)
    still = model.render(int(40 * RATE), int(2 * RATE)).astype(np.float64)
    # Rising accelerates the body by ~0.25 g; standing still only fidgets.
    assert np.abs(np.linalg.norm(around, axis=1) - 1).max() > 0.18
    assert np.abs(np.linalg.norm(still, axis=1) - 1).max() < 0.12
    # The thigh goes from horizontal to vertical within the transition.
    assert around[0, 2] > 0.8 and around[-1, 0] < -0.9


def test_truth_and_sample_count_follow_the_schedule() -> None:
    schedule = [Segment(Activity.SIT, 10.5), Segment(Activity.WALK, 20.0), Segment(Activity.DESK, 5.0)]
    model = MotionModel(schedule, MotionConfig(rate_hz=25.0))
    assert model.truth() == [
        (0.0, 10.5, Activity.SIT),
        (10.5, 30.5, Activity.WALK),
        (30.5, 35.5, Activity.DESK),
    ]
    assert model.duration_s == 35.5
    assert model.n_samples == math.floor(35.5 * 25)


def test_office_day_has_what_the_demo_and_tests_rely_on() -> None:
    day = office_day()
    hours = sum(s.duration_s for s in day) / 3600
    assert 7.5 <= hours <= 8.5
    desk = [s.duration_s for s in day if s.activity is Activity.DESK]
    assert len(desk) == 1 and 20 * 60 <= desk[0] <= 40 * 60
    assert any(s.activity is Activity.SIT and s.duration_s >= 45 * 60 for s in day)
    assert any(s.activity is Activity.STAND and s.duration_s < 120 for s in day)
    assert {Activity.STAIRS_UP, Activity.STAIRS_DOWN, Activity.WALK} <= {s.activity for s in day}
    assert day[0].activity is Activity.WALK  # the upright reference is learned first thing
    assert sum(s.duration_s for s in full_day()) == 24 * 3600


def test_bad_config_is_refused_with_the_rule() -> None:
    with pytest.raises(ValueError, match="placement must be one of thigh, waist, wrist, got 'knee'"):
        MotionConfig(placement="knee")
    with pytest.raises(ValueError, match="Segment duration_s must be > 0 s, got 0"):
        Segment(Activity.SIT, 0)


def test_cli_writes_a_csv_analyze_can_read(tmp_path: Path) -> None:
    out = tmp_path / "walk.csv"
    truth = tmp_path / "truth.csv"
    rc = main(
        ["--schedule", "office", "--rate", "10", "--seed", "1", "--out", str(out), "--truth", str(truth)]
    )
    assert rc == 0
    with out.open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["t", "x", "y", "z"]
    model = MotionModel(office_day(), MotionConfig(rate_hz=10.0, seed=1))
    assert len(rows) - 1 == model.n_samples
    assert float(rows[2][0]) - float(rows[1][0]) == pytest.approx(0.1)
    first = model.render(0, 1)[0]
    assert [float(v) for v in rows[1][1:]] == pytest.approx(first.tolist(), abs=1e-4)
    with truth.open() as fh:
        assert sum(1 for _ in fh) == len(office_day()) + 1
