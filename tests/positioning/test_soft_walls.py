"""Soft walls (``TrackerSettings(wall_floor=ε)``): a step off walkable floor costs ε, not death.

A thin east–west wall (one raster cell, 0.5 m) splits a hall: north of it a corridor, south of
it open floor. The shopper walks east-south-east across the open south; the cloud starts in the
northern corridor, and the radio (a fix at the truth every three steps) says "south". With hard
walls (ε = 0) the wall kills every particle that drifts into it and so teaches the survivors a
heading offset that keeps them north of it, however loudly the radio disagrees (the
wrong-corridor lock); with ε > 0 the particles that step through pay ε once and the radio then
promotes them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from positioning import FloorPlan, Obstacle
from positioning import particles as pf
from positioning.readings import Reading
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from tests.positioning.synthetic import walk_readings

# The wall covers the raster row of cell centres y = 9.75 (cells 9.5–10.0 m).
PLAN = FloorPlan.rectangle(
    "thin wall",
    60.0,
    20.0,
    (
        Obstacle("wall", "wall", shapely.box(0, 9.6, 60, 9.9)),
        Obstacle("north shops", "shops", shapely.box(0, 14, 60, 20)),
    ),
)
GRID = WalkableGrid.from_plan(PLAN)
WALL_NORTH_Y = 10.0
START = (5.0, 8.5)
HEADING_RAD = math.atan2(-8.0, 42.0)  # ≈ −11°: 8 m south over 42 m east
STEP_M = 0.7
STEPS = 60
FIX_EVERY_STEPS = 3
# The fix's kernel: tighter than the product's 6 m so that a few scans tell the two sides apart
# (floored at 5 % like the product's).
FIX_KERNEL_M = 2.0
SEEDS = range(5)


def wrong_side_cloud(rng: np.random.Generator, n: int = 500) -> pf.ParticleCloud:
    """A cloud locked onto the northern corridor (10.25 < y < 14) at the walk's start."""
    x, y = rng.uniform(3.0, 7.0, n), rng.uniform(10.5, 13.5, n)
    return pf.new_cloud((x, y), n, rng, pf.INIT_HEADING_OFFSET_SIGMA_DEG)


def distance_from_truth(cloud: pf.ParticleCloud) -> float:
    """Of the cloud's weighted mean, at the walk's end."""
    x, y = truth_at(STEPS)
    return math.hypot(float(cloud.weight @ cloud.x) - x, float(cloud.weight @ cloud.y) - y)


def truth_at(step: int) -> tuple[float, float]:
    return (
        START[0] + step * STEP_M * math.cos(HEADING_RAD),
        START[1] + step * STEP_M * math.sin(HEADING_RAD),
    )


def walk_south(wall_floor: float, seed: int) -> pf.ParticleCloud:
    """Steps across the open south, a radio fix at the truth every few steps."""
    rng = np.random.default_rng(seed)
    cloud = wrong_side_cloud(rng)
    for k in range(1, STEPS + 1):
        pf.propagate_step(cloud, STEP_M, HEADING_RAD, GRID, rng, wall_floor=wall_floor)
        if k % FIX_EVERY_STEPS == 0:
            truth = np.array([truth_at(k)])
            likelihood = pf.radio_likelihood(cloud.x, cloud.y, truth, np.ones(1), FIX_KERNEL_M)
            pf.reweight(cloud, likelihood)
        pf.resample(cloud, GRID, rng)
    return cloud


def test_a_cloud_on_the_wrong_side_of_a_thin_wall_recovers_with_soft_walls_only() -> None:
    hard = [walk_south(0.0, seed) for seed in SEEDS]
    soft = [walk_south(0.05, seed) for seed in SEEDS]
    # Hard walls: every seed's cloud is still north of the wall, far from the truth.
    assert all(float(c.weight @ c.y) > WALL_NORTH_Y for c in hard)
    assert all(distance_from_truth(c) > 5.0 for c in hard)
    # Soft walls: most seeds' clouds are south of the wall, near the truth.
    assert sum(distance_from_truth(c) < 2.0 for c in soft) >= 4, [
        distance_from_truth(c) for c in soft
    ]


def test_a_zero_wall_floor_keeps_todays_weights_exactly() -> None:
    rng = np.random.default_rng(3)
    cloud = wrong_side_cloud(rng)
    cloud.weight = rng.dirichlet(np.ones(len(cloud)))
    before = cloud.copy()
    pf.propagate_step(cloud, 2.5, -math.pi / 2, GRID, np.random.default_rng(9), wall_floor=0.0)
    # Today's rule, replayed with the same draws: w ← w·[segment on the floor] / Σ.
    replay = before.copy()
    draws = np.random.default_rng(9)
    n = len(replay)
    offset = replay.offset_rad + draws.normal(0.0, math.radians(pf.OFFSET_DRIFT_DEG_PER_STEP), n)
    scale = np.clip(replay.scale + draws.normal(0.0, pf.SCALE_DRIFT_PER_STEP, n), *pf.SCALE_LIMITS)
    length = 2.5 * scale * (1.0 + draws.normal(0.0, pf.STEP_LENGTH_SIGMA, n))
    theta = -math.pi / 2 + offset + draws.normal(0.0, math.radians(pf.STEP_HEADING_SIGMA_DEG), n)
    new_x, new_y = replay.x + length * np.cos(theta), replay.y + length * np.sin(theta)
    ok = GRID.is_free_segment(replay.x, replay.y, new_x, new_y)
    assert 0 < ok.sum() < n  # the 2.5 m steps south put some particles through the wall
    expected = replay.weight * ok / (replay.weight * ok).sum()
    np.testing.assert_array_equal(cloud.weight, expected)
    np.testing.assert_array_equal(cloud.x, new_x)


def test_a_step_off_the_floor_multiplies_the_weight_by_the_wall_floor() -> None:
    rng = np.random.default_rng(4)
    cloud = wrong_side_cloud(rng)
    before = cloud.copy()
    pf.propagate_step(cloud, 2.5, -math.pi / 2, GRID, np.random.default_rng(9), wall_floor=0.01)
    ok = GRID.is_free_segment(before.x, before.y, cloud.x, cloud.y)
    assert 0 < ok.sum() < len(cloud)
    factor = np.where(ok, 1.0, 0.01)
    np.testing.assert_allclose(cloud.weight, before.weight * factor / (before.weight @ factor))


def corridor_walk() -> list[Reading]:
    """East along the northern corridor, hugging the wall (1 m from it)."""
    readings, _ = walk_readings([(4.0, 11.25), (40.0, 11.25)], seed=12)
    return readings


def live_particles_off_the_floor(wall_floor: float) -> int:
    """Most particles standing off the floor with a weight > 0, over the walk's steps."""
    settings = TrackerSettings(
        seed=1, use_radio=False, start_xy=(4.0, 11.25), wall_floor=wall_floor
    )
    tracker = Tracker(None, GRID, settings=settings)
    most = 0
    for reading in corridor_walk():
        if tracker.push(reading) and tracker._cloud is not None:
            cloud = tracker._cloud
            off = ~GRID.is_free(cloud.x, cloud.y) & (cloud.weight > 0)
            most = max(most, int(off.sum()))
    return most


def test_the_tracker_passes_the_wall_floor_to_its_particles() -> None:
    # Hard walls: a particle that steps off the floor has no weight left.
    assert live_particles_off_the_floor(0.0) == 0
    assert live_particles_off_the_floor(0.05) > 0


@pytest.mark.parametrize("wall_floor", [-0.1, 1.0, 1.5, math.nan])
def test_a_wall_floor_outside_zero_to_one_is_refused(wall_floor: float) -> None:
    with pytest.raises(ValueError, match=r"wall_floor must be in \[0, 1\)"):
        Tracker(None, GRID, settings=TrackerSettings(wall_floor=wall_floor))
