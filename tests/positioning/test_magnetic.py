"""The magnetic-field likelihood: earth-frame features, the survey's map, and two corridors
that only the field tells apart."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from positioning.heading import rotation_matrix
from positioning.hypotheses import split
from positioning.magnetic import (
    FieldWindow,
    MagneticMap,
    earth_field,
    field_features,
    fit_hyper,
    survey_windows,
)
from positioning.radiomap import RadioMap, SurveyFingerprint
from positioning.readings import MagReading, Reading, RotationVectorReading
from positioning.scans import Fingerprint
from positioning.steps import calibrate_weinberg_k
from positioning.survey import step_sums
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from positioning.walkfile import Walk
from tests.positioning.synthetic import SPEED_M_S, path_position, walk_readings
from tests.positioning.test_hypotheses import TWIN, TWIN_APS, levels_at

# The earth's field at the site: 50 µT, 53° below the horizon, pointing north.
DIP_RAD = math.radians(53.0)


def field_enu(strength: float) -> np.ndarray:
    return strength * np.array([0.0, math.cos(DIP_RAD), -math.sin(DIP_RAD)])


def quaternion_vector(axis: Sequence[float], angle_rad: float) -> tuple[float, float, float]:
    a = np.asarray(axis, float) / np.linalg.norm(axis)
    v = a * math.sin(angle_rad / 2)
    return float(v[0]), float(v[1]), float(v[2])


@pytest.mark.parametrize(
    "rotation_vector",
    [
        (0.0, 0.0, 0.0),  # flat, +y north
        quaternion_vector((0, 0, 1), 2.0),  # flat, turned
        quaternion_vector((1, 0.3, 0.2), 1.1),  # tilted towards the face, as in the hand
        quaternion_vector((-0.2, 1, 0.5), -2.5),
    ],
)
def test_a_phone_frame_reading_is_turned_into_the_earth_frame(
    rotation_vector: tuple[float, float, float],
) -> None:
    world = field_enu(50.0)
    # What the phone reads: the world field in its own axes, Rᵀ·B (R: phone → ENU).
    phone = rotation_matrix(*rotation_vector).T @ world
    assert earth_field(rotation_vector, tuple(phone)) == pytest.approx(world, abs=1e-9)
    up, horizontal, total = field_features(rotation_vector, tuple(phone))
    assert up == pytest.approx(-50.0 * math.sin(DIP_RAD))
    assert horizontal == pytest.approx(50.0 * math.cos(DIP_RAD))
    assert total == pytest.approx(50.0)


def test_the_window_is_the_mean_strength_of_completed_seconds_only() -> None:
    window = FieldWindow(1000)
    rv = quaternion_vector((0, 0, 1), 0.7)
    phone = tuple(rotation_matrix(*rv).T @ field_enu(40.0))
    assert window.take() is None
    window.push(RotationVectorReading(0, *rv))  # not a magnetometer sample: ignored
    for t in range(0, 1000, 20):
        window.push(MagReading(t, *phone))
    assert window.take() is None  # the second is not over
    window.push(MagReading(1000, *phone))
    ready = window.take()
    assert ready is not None
    assert ready == (500, pytest.approx(40.0))
    assert window.take() is None  # once


def strength(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A synthetic indoor field: 45 µT ± 8 µT over 16 m, in opposite phase north of y = 20."""
    sign = np.where(np.asarray(y) < 20.0, 1.0, -1.0)
    return 45.0 + 8.0 * sign * np.sin(2 * np.pi * np.asarray(x) / 16.0)


def survey_rows(y: float, phase: int) -> np.ndarray:
    """A survey walk's windows along y, every 1.25 m (shifted by ``phase``/4 of that), noiseless."""
    x = np.arange(4.0, 66.0, 1.25) + 0.3125 * phase
    return np.column_stack([x, np.full_like(x, y), strength(x, np.full_like(x, y))])


def test_the_map_follows_the_field_where_surveyed_and_the_prior_elsewhere() -> None:
    rng = np.random.default_rng(3)
    windows = {}
    for i in range(4):
        for y in (10.0, 30.0):
            rows = survey_rows(y, i)
            rows[:, 2] += rng.normal(0.0, 1.5, len(rows))  # reading noise 1.5 µT
            windows[f"w{i}{y}"] = rows
    magnetic = MagneticMap.from_windows(windows)
    h = magnetic.hyper
    # The nugget is the reading noise (plus the field's change within 1 m), the signal the
    # field's spread (8/√2 µT).
    assert 1.0 < math.sqrt(h.noise_var) < 3.5
    assert 4.0 < math.sqrt(h.signal_var) < 7.0
    x = np.arange(8.0, 62.0, 0.5)
    for y in (10.0, 30.0):
        mu, var = magnetic.at(x, np.full_like(x, y))
        truth = strength(x, np.full_like(x, y))
        assert np.sqrt(np.mean((mu - truth) ** 2)) < 2.0
        assert var.max() < h.noise_var + 0.5 * h.signal_var
    # 10 m from any survey (y = 20) and off the raster: the prior, the same at every place,
    # so no particle there is penalised against another.
    for y in (20.0, 200.0):
        mu, var = magnetic.at(x, np.full_like(x, y))
        assert mu == pytest.approx(h.mean, abs=1e-6)
        assert var == pytest.approx(h.signal_var + h.noise_var, rel=1e-6)


def test_a_surveyor_standing_still_counts_as_one_pass() -> None:
    """A walk's windows share its offset: a hundred at one spot weigh like one."""
    rng = np.random.default_rng(0)
    others = {f"w{i}": survey_rows(10.0, i) + np.array([0.0, 0.0, rng.normal()]) for i in range(3)}
    still = np.column_stack([np.full(100, 20.0), np.full(100, 10.0), np.full(100, 80.0)])
    one = np.array([[20.0, 10.0, 80.0]])
    many = MagneticMap.from_windows({**others, "still": still})
    once = MagneticMap.from_windows({**others, "still": one})
    here = np.array([20.0]), np.array([10.0])
    # Same pull on the mean (the hyperparameters differ a little with the extra windows).
    assert many.at(*here)[0][0] == pytest.approx(once.at(*here)[0][0], rel=0.1)


def test_fit_hyper_without_repeated_places_keeps_a_signal() -> None:
    rows = np.column_stack([np.arange(10.0), np.zeros(10), np.arange(10.0)])
    h = fit_hyper([rows])
    assert h.signal_var > 0
    assert h.noise_var > 0


def with_magnetometer(
    readings: list[Reading],
    path: Sequence[tuple[float, float]],
    field: Callable[[np.ndarray, np.ndarray], np.ndarray],
    seed: int,
    noise_ut: float = 1.0,
) -> list[Reading]:
    """``walk_readings``' readings with a magnetometer sample after each rotation vector: the
    world field at the shopper's place, in the phone's axes, plus noise."""
    rng = np.random.default_rng(seed)
    t0 = readings[0].t_ms
    out: list[Reading] = []
    for r in readings:
        out.append(r)
        if isinstance(r, RotationVectorReading):
            x, y, _ = path_position(path, SPEED_M_S * (r.t_ms - t0) / 1000.0)
            world = field_enu(float(field(np.array(x), np.array(y))))
            phone = rotation_matrix(r.x, r.y, r.z).T @ world + rng.normal(0.0, noise_ut, 3)
            out.append(MagReading(r.t_ms, *phone))
    return out


def test_survey_windows_place_the_strength_along_the_walk() -> None:
    path = [(4.0, 10.0), (66.0, 10.0)]
    readings, waypoints = walk_readings(path, seed=5)
    walk = Walk("s", tuple(with_magnetometer(readings, path, strength, 5)), tuple(waypoints))
    rows = survey_windows(walk)
    assert len(rows) > 40
    assert rows[:, 1] == pytest.approx(10.0)
    truth = strength(rows[:, 0], rows[:, 1])
    # A window's mean over 1.25 m of a 16 m wave, against the field at its mid-point.
    assert np.abs(rows[:, 2] - truth).max() < 1.5


# The twin corridors of test_hypotheses (y = 10 and y = 30, radio mirror-identical), walked
# straight along the southern one: no turn, no wall, no scan can tell them apart; the field can.
TWIN_WALK = [(6.0, 10.0), (64.0, 10.0)]


@pytest.fixture(scope="module")
def twin_magnetic() -> tuple[RadioMap, float, MagneticMap]:
    survey = [
        SurveyFingerprint(f"{side}{i // 20}", i / 2, y, Fingerprint(i, i, levels_at(i / 2, y)))
        for side, y in (("south", 10.0), ("north", 30.0))
        for i in range(8, 133)
    ]
    walks = []
    for seed, (y, reverse) in enumerate(((10.0, False), (10.0, True), (30.0, False), (30.0, True))):
        path = [(4.0, y), (66.0, y)][:: -1 if reverse else 1]
        readings, waypoints = walk_readings(path, seed=40 + seed)
        readings = with_magnetometer(readings, path, strength, 40 + seed)
        walks.append(Walk(f"m{seed}", tuple(readings), tuple(waypoints)))
    k = calibrate_weinberg_k([step_sums(w) for w in walks])
    return RadioMap.from_survey(survey, frozenset()), k, MagneticMap.from_walks(walks)


@pytest.fixture(scope="module")
def twin_straight_walk() -> list[Reading]:
    readings, _ = walk_readings(TWIN_WALK, seed=31, access_points=TWIN_APS)
    return with_magnetometer(readings, TWIN_WALK, strength, 31)


def run_twin(
    parts: tuple[RadioMap, float, MagneticMap], readings: list[Reading], magnetic: str, seed: int
) -> Tracker:
    radio_map, k, magnetic_map = parts
    settings = TrackerSettings(weinberg_k=k, seed=seed, magnetic=magnetic)
    tracker = Tracker(
        radio_map, WalkableGrid.from_plan(TWIN), settings=settings, magnetic_map=magnetic_map
    )
    tracker.estimates = [e for r in readings for e in tracker.push(r)]  # type: ignore[attr-defined]
    return tracker


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_only_the_field_tells_the_twin_corridors_apart(
    twin_magnetic: tuple[RadioMap, float, MagneticMap],
    twin_straight_walk: list[Reading],
    seed: int,
) -> None:
    t_end = twin_straight_walk[-1].t_ms
    with_field = run_twin(twin_magnetic, twin_straight_walk, "total", seed)
    last = [e for e in with_field.estimates if e.t_ms > t_end - 15_000]  # type: ignore[attr-defined]
    assert last
    assert all(abs(e.y - 10.0) < 3.0 for e in last)
    assert with_field._cloud is not None
    south = with_field._cloud.weight[np.abs(with_field._cloud.y - 10.0) < 5.0].sum()
    assert south > 0.9
    # Without it the cloud still holds both corridors: the radio and the walls could not say.
    without = run_twin(twin_magnetic, twin_straight_walk, "off", seed)
    assert without._cloud is not None
    held = [h.y for h in split(without._cloud) if h.mass >= 0.05]
    assert min(abs(y - 10.0) for y in held) < 3.0
    assert min(abs(y - 30.0) for y in held) < 3.0


def test_the_option_needs_a_map() -> None:
    with pytest.raises(ValueError, match="magnetic_map"):
        Tracker(None, None, settings=TrackerSettings(magnetic="total"))
    with pytest.raises(ValueError, match="magnetic must be one of"):
        Tracker(None, None, settings=TrackerSettings(magnetic="compass"))


def test_the_field_likelihood_stays_causal(
    twin_magnetic: tuple[RadioMap, float, MagneticMap], twin_straight_walk: list[Reading]
) -> None:
    full = run_twin(twin_magnetic, twin_straight_walk, "total", 4).estimates  # type: ignore[attr-defined]
    cut = len(twin_straight_walk) * 2 // 3 + 5
    part = run_twin(twin_magnetic, twin_straight_walk[:cut], "total", 4).estimates  # type: ignore[attr-defined]
    assert len(part) > 10
    assert part == full[: len(part)]
