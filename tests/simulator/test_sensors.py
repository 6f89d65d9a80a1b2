from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from scipy.signal import find_peaks

from positioning.walkfile import ACCELEROMETER, BEACON, GYROSCOPE, ROTATION_VECTOR, WalkRow
from simulator.customers import make_customer_base
from simulator.demo_store import demo_store
from simulator.phone import SimulatedPhone, make_phone_profile, walk_rows
from simulator.radio import BLE_PATH_LOSS_EXPONENT, PHONE_HEIGHT_M, RadioEnvironment
from simulator.radio_plan import beacon_grid
from simulator.routes import RouteGrid
from simulator.run import FIRST_VISIT_MS, SimulationSettings, simulate_visit
from simulator.scanners import ScannerSettings
from simulator.store import Store
from simulator.walking import SAMPLE_HZ, Stop, Trajectory, build_trajectory, make_gait


def _visit(seed: int, index: int, ble_mode: str = "android") -> tuple[Trajectory, list[WalkRow]]:
    store = demo_store(seed)
    grid = RouteGrid.build(store.floor_plan().walkable)
    env = RadioEnvironment.for_store(store, seed)
    customers = make_customer_base(["dairy", "bakery"], 10, FIRST_VISIT_MS, seed)
    settings = SimulationSettings(ScannerSettings(ble_mode=ble_mode), max_stops=4)
    _, trajectory, phone = simulate_visit(store, grid, env, customers, index, seed, settings)
    return trajectory, list(walk_rows(trajectory, phone))


@pytest.fixture(scope="module")
def visit() -> tuple[Trajectory, list[WalkRow]]:
    return _visit(seed=11, index=0)


def _table(rows: list[WalkRow], kind: str) -> tuple[np.ndarray, np.ndarray]:
    chosen = [r for r in rows if r.kind == kind]
    return np.array([r.t_ms for r in chosen]), np.array([r.values[:3] for r in chosen], dtype=float)


def test_step_impacts_in_the_accelerometer_match_distance_over_step_length(
    visit: tuple[Trajectory, list[WalkRow]],
) -> None:
    trajectory, rows = visit
    t, accel = _table(rows, ACCELEROMETER)
    magnitude = np.convolve(np.linalg.norm(accel, axis=1), np.ones(5) / 5, mode="same")
    # A plain peak detector: impacts above g + 1 m/s², at most ~3 steps per second.
    peaks, _ = find_peaks(magnitude, height=9.81 + 1.0, distance=int(0.3 * SAMPLE_HZ))
    expected = trajectory.distance_m() / trajectory.gait.step_length_m
    assert expected > 100
    assert len(peaks) == pytest.approx(expected, rel=0.03)
    cadence = 1000.0 / np.median(np.diff(t[peaks]))
    assert 1.5 <= cadence <= 2.1


def _android_azimuth_deg(rotation_vector: np.ndarray) -> np.ndarray:
    """SensorManager.getRotationMatrixFromVector + getOrientation, from the textbook formulas."""
    x, y, z = rotation_vector.T
    w = np.sqrt(np.clip(1 - x * x - y * y - z * z, 0, None))
    r01 = 2 * (x * y - z * w)  # R[0][1]
    r11 = 1 - 2 * (x * x + z * z)  # R[1][1]
    return np.degrees(np.arctan2(r01, r11))


def test_rotation_vector_azimuth_gives_the_walking_direction(
    visit: tuple[Trajectory, list[WalkRow]],
) -> None:
    trajectory, rows = visit
    t, rotation = _table(rows, ROTATION_VECTOR)
    map_heading = 90.0 - _android_azimuth_deg(rotation)
    moving = np.interp(t, trajectory.t_ms, trajectory.speed_mps) > 0.5
    # Direction of travel from the true positions, one sample ahead.
    x, y, _ = trajectory.pose_at(t.astype(float))
    x2, y2, _ = trajectory.pose_at(t.astype(float) + 400)
    travel = np.degrees(np.arctan2(y2 - y, x2 - x))
    error = (map_heading - travel + 180) % 360 - 180
    assert np.median(np.abs(error[moving])) < 8.0
    assert np.percentile(np.abs(error[moving]), 90) < 25.0


def test_gyroscope_z_integrates_to_the_turns_counter_clockwise_positive(
    visit: tuple[Trajectory, list[WalkRow]],
) -> None:
    trajectory, rows = visit
    t, gyro = _table(rows, GYROSCOPE)
    first_minute = t < t[0] + 60_000
    turned = np.degrees(np.sum(gyro[first_minute, 2]) / SAMPLE_HZ)
    heading = np.interp(t[first_minute], trajectory.t_ms, trajectory.heading_deg)
    true_turn = heading[-1] - heading[0]
    assert abs(true_turn) > 45
    assert turned == pytest.approx(true_turn, abs=5.0)


def _hall_walk(ble_mode: str) -> tuple[Store, Trajectory, list[WalkRow]]:
    """Two minutes of walking round a 60 m hall under 144 beacons (many independent shadowing
    fields, so the fitted exponent is not at the mercy of one field's luck)."""
    rng = np.random.default_rng(4)
    outline = shapely.box(0, 0, 60, 60)
    store = Store("hall", 60, 60, outline, beacons=tuple(beacon_grid(outline, 25.0, rng)))
    env = RadioEnvironment.for_store(store, 4)
    square = np.array([[10.0, 10.0], [50.0, 10.0], [50.0, 50.0], [10.0, 50.0], [10.0, 10.0]])
    stop = Stop(10.0, 10.0, None, 1.0, "leave")
    gait = make_gait(rng)
    trajectory = build_trajectory((10.0, 10.0), [(square, stop)], gait, FIRST_VISIT_MS, rng)
    settings = ScannerSettings(ble_mode=ble_mode, wifi=False)
    phone = SimulatedPhone(make_phone_profile(rng), store, env, settings, FIRST_VISIT_MS, rng)
    return store, trajectory, list(walk_rows(trajectory, phone))


def _beacon_distances(
    store: Store, trajectory: Trajectory, rows: list[WalkRow]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(3-D distance, RSSI, whether the beacon is in front of the shopper) per beacon row."""
    where = {(b.major, b.minor): (b.x, b.y, b.height_m) for b in store.beacons}
    beacon_rows = [r for r in rows if r.kind == BEACON]
    t = np.array([r.t_ms for r in beacon_rows], dtype=float)
    rssi = np.array([r.values[4] for r in beacon_rows], dtype=float)
    bx, by, bz = np.array([where[(int(r.values[1]), int(r.values[2]))] for r in beacon_rows]).T
    x, y, heading = trajectory.pose_at(t)
    distance = np.sqrt((bx - x) ** 2 + (by - y) ** 2 + (bz - PHONE_HEIGHT_M) ** 2)
    ahead = (bx - x) * np.cos(np.radians(heading)) + (by - y) * np.sin(np.radians(heading)) > 0
    return distance, rssi, ahead


def test_rssi_falls_with_distance_at_the_model_exponent() -> None:
    distance, rssi, ahead = _beacon_distances(*_hall_walk("android"))
    # Beacons in front (no body loss), 2–12 m (beyond, the sensitivity edge truncates).
    chosen = ahead & (distance > 2.0) & (distance < 12.0)
    log_d = np.log10(distance[chosen])
    fit = np.polyfit(log_d, rssi[chosen], 1)
    # One shadowing realisation along one walk tilts the fit by ~0.12 (SD over seeds).
    assert -fit[0] / 10 == pytest.approx(BLE_PATH_LOSS_EXPONENT, abs=0.3)
    # Scatter around the fit: shadowing and fading (4.5 and 2.5 dB) make ~5 dB.
    assert 4.0 < (rssi[chosen] - np.polyval(fit, log_d)).std() < 6.5
    # Behind the shopper the body costs several dB at the same distance.
    behind = ~ahead & (distance > 5.0) & (distance < 12.0)
    in_front = ahead & (distance > 5.0) & (distance < 12.0)
    assert rssi[in_front].mean() - rssi[behind].mean() > 2.0


def test_ios_ranging_reports_once_a_second_per_beacon_with_averaged_rssi() -> None:
    trajectory, rows = _visit(seed=11, index=1, ble_mode="ios")
    beacon_rows = [r for r in rows if r.kind == BEACON]
    per_second: dict[tuple[int, int], int] = {}
    for r in beacon_rows:
        key = (r.t_ms // 1000, int(r.values[2]))
        per_second[key] = per_second.get(key, 0) + 1
    assert max(per_second.values()) == 1
    seconds = (trajectory.end_ms - trajectory.start_ms) / 1000
    assert len(beacon_rows) / seconds > 3  # several beacons ranged each second
    _, android_rows = _visit(seed=11, index=1)
    android_beacons = sum(r.kind == BEACON for r in android_rows)
    assert android_beacons > 1.5 * len(beacon_rows)


def test_readings_come_in_time_order_with_waypoints_every_few_seconds(
    visit: tuple[Trajectory, list[WalkRow]],
) -> None:
    trajectory, rows = visit
    times = np.array([r.t_ms for r in rows])
    assert np.all(np.diff(times) >= 0)
    waypoints = [r for r in rows if r.kind == "TYPE_WAYPOINT"]
    gaps = np.diff([w.t_ms for w in waypoints])
    assert gaps.max() <= 3000
    assert math.isclose(float(waypoints[0].values[0]), float(trajectory.x[0]))


def test_the_shopper_walks_in_the_aisles_never_through_shelves(
    visit: tuple[Trajectory, list[WalkRow]],
) -> None:
    trajectory, _ = visit
    shelves = shapely.union_all([o.polygon for o in demo_store(11).obstacles])
    path = shapely.LineString(np.column_stack([trajectory.x, trajectory.y]))
    assert path.distance(shelves) > 0.35
    speeds = trajectory.speed_mps[trajectory.speed_mps > 0.05]
    assert 0.6 < np.median(speeds) < 1.6


def test_first_order_filter_matches_the_recursion() -> None:
    from simulator.motion_sensors import _first_order

    inputs = np.random.default_rng(0).normal(size=200)
    expected, y = [], 0.7
    for u in inputs:
        y = 0.93 * y + u
        expected.append(y)
    assert np.allclose(_first_order(inputs, 0.93, 0.7), expected, rtol=0, atol=1e-12)
