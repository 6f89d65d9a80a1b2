import math

import numpy as np
import pytest
import shapely
from shapely import affinity

from positioning import FloorPlan, Obstacle
from positioning.axes import HeadingBias, axis_residual_rad, plan_axes_rad
from positioning.heading import wrap_rad
from positioning.readings import RotationVectorReading
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from tests.positioning.synthetic import rotation_vector_for, walk_readings
from tests.positioning.test_tracker import CORRIDOR, calibrated_k


def rotated_store(angle_deg: float) -> FloorPlan:
    """A 60 m × 40 m store with two shelf blocks, the whole plan turned by ``angle_deg``."""
    turn = lambda g: affinity.rotate(g, angle_deg, origin=(50.0, 50.0))  # noqa: E731
    shelves = (
        Obstacle("a", "shelf a", turn(shapely.box(25, 40, 55, 44))),
        Obstacle("b", "shelf b", turn(shapely.box(25, 52, 55, 56))),
    )
    return FloorPlan("store", 100.0, 100.0, turn(shapely.box(20, 30, 80, 70)), shelves)


def test_plan_axes_are_the_directions_of_its_walls_whichever_way_the_building_is_turned():
    for angle in (0.0, 30.0, 72.0):
        axes = np.degrees(plan_axes_rad(rotated_store(angle)))
        expected = sorted([angle % 180.0, (angle + 90.0) % 180.0])
        assert np.allclose(sorted(axes), expected, atol=1.0), (angle, axes)


def test_a_plan_with_no_walkable_floor_has_no_axes_and_teaches_no_bias():
    blocked = FloorPlan.rectangle(
        "x", 10, 10, (Obstacle("all", "all", shapely.box(-1, -1, 11, 11)),)
    )
    assert len(plan_axes_rad(blocked)) == 0
    bias = HeadingBias(plan_axes_rad(blocked))
    for _ in range(20):
        bias.on_step(0.1)
    assert bias.bias_rad == 0.0


def test_residual_to_the_nearest_axis_takes_either_direction_along_it():
    axes = np.radians([0.0, 90.0])
    assert math.degrees(axis_residual_rad(math.radians(184.0), axes)) == pytest.approx(4.0)
    assert math.degrees(axis_residual_rad(math.radians(-95.0), axes)) == pytest.approx(-5.0)
    assert axis_residual_rad(0.3, np.zeros(0)) is None


def phone_headings(legs: list[tuple[float, int]], bias_deg: float, seed: int) -> list[float]:
    """Step headings of a walk along (true direction °, steps) legs, phone off by ``bias_deg``,
    with ±3° step sway."""
    rng = np.random.default_rng(seed)
    return [
        math.radians(direction + bias_deg + rng.normal(0.0, 3.0))
        for direction, steps in legs
        for _ in range(steps)
    ]


def test_a_walk_along_the_aisles_teaches_the_phones_bias():
    bias = HeadingBias(np.radians([0.0, 90.0]))
    legs = [(0.0, 20), (90.0, 15), (180.0, 25), (270.0, 10), (0.0, 20)]
    for heading in phone_headings(legs, bias_deg=7.0, seed=1):
        bias.on_step(heading)
    assert math.degrees(bias.bias_rad) == pytest.approx(7.0, abs=1.0)
    # the corrected heading of the last step is within the sway of the true direction (0°)
    corrected = math.degrees(wrap_rad(bias.corrected(math.radians(7.0))))
    assert abs(corrected) < 1.0


def test_a_diagonal_walk_or_a_curve_is_not_taken_for_a_bias():
    bias = HeadingBias(np.radians([0.0, 90.0]))
    for heading in phone_headings([(45.0, 40), (225.0, 40)], bias_deg=0.0, seed=2):
        bias.on_step(heading)  # 45° from both axes: beyond the gate
    for k in range(60):
        bias.on_step(math.radians(6.0 * k))  # a steady curve: never straight
    assert bias.bias_rad == 0.0


def test_tracker_reports_the_heading_with_the_phones_bias_removed():
    """A phone reading 8° left of the way it walks down an east-west corridor."""
    readings, _ = walk_readings([(4.0, 10.0), (76.0, 10.0)], seed=5)
    off = rotation_vector_for(8.0)
    skewed = [
        RotationVectorReading(r.t_ms, *off) if isinstance(r, RotationVectorReading) else r
        for r in readings
    ]
    last = {}
    for report in ("rotation-vector", "rotation-vector+axes"):
        settings = TrackerSettings(
            weinberg_k=calibrated_k(), particles=300, start_xy=(4.0, 10.0), heading_report=report
        )
        tracker = Tracker(grid=WalkableGrid.from_plan(CORRIDOR), settings=settings)
        estimates = [e for r in skewed for e in tracker.push(r)]
        last[report] = (estimates[-1].heading_deg + 180.0) % 360.0 - 180.0
    assert last["rotation-vector"] == pytest.approx(8.0, abs=0.1)
    assert abs(last["rotation-vector+axes"]) < 2.0
