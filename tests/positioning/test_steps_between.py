"""Estimates between steps: a step is reported when it ends, so a held estimate lags the walker.

``between_steps="extrapolate"`` moves the last estimate on along the last step at its pace every
100 ms. On a corridor walked at constant speed it must remove the held estimate's lag, add
estimates without changing the step and fix estimates, and stay causal.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from positioning import FloorPlan, Obstacle
from positioning.estimate import Estimate
from positioning.readings import Reading
from positioning.scoring import last_at_or_before
from positioning.steps import calibrate_weinberg_k
from positioning.survey import step_sums
from positioning.tracker import BETWEEN_STEPS_EVERY_MS, Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from positioning.walkfile import Walk, Waypoint
from tests.positioning.synthetic import walk_readings

CORRIDOR = FloorPlan.rectangle(
    "corridor",
    80.0,
    20.0,
    (
        Obstacle("south", "south shops", shapely.box(0, 0, 80, 8)),
        Obstacle("north", "north shops", shapely.box(0, 12, 80, 20)),
    ),
)
PATH = [(4.0, 10.0), (76.0, 10.0)]


@pytest.fixture(scope="module")
def corridor_walk() -> tuple[list[Reading], list[Waypoint], float]:
    survey, survey_waypoints = walk_readings([(4.0, 10.0), (40.0, 10.0)], seed=99)
    k = calibrate_weinberg_k([step_sums(Walk("survey", tuple(survey), tuple(survey_waypoints)))])
    # Waypoints every 0.7 s: at many phases of the step cycle.
    readings, waypoints = walk_readings(PATH, seed=7, waypoint_every_ms=700)
    return readings, waypoints, k


def pdr_run(walk: tuple[list[Reading], list[Waypoint], float], between: str) -> list[Estimate]:
    readings, waypoints, k = walk
    settings = TrackerSettings(
        weinberg_k=k,
        seed=2,
        particles=500,
        use_radio=False,
        start_xy=(waypoints[0].x, waypoints[0].y),
        between_steps=between,
    )
    tracker = Tracker(None, WalkableGrid.from_plan(CORRIDOR), settings=settings)
    return [e for r in readings for e in tracker.push(r)]


def along_track_errors(estimates: list[Estimate], waypoints: list[Waypoint]) -> np.ndarray:
    """Estimated minus true x at each waypoint (the walk runs east along y = 10)."""
    times = np.array([e.t_ms for e in estimates])
    out = []
    for w in waypoints:
        i = last_at_or_before(times, w.t_ms)
        if i >= 0:
            out.append(estimates[i].x - w.x)
    return np.array(out)


def test_extrapolating_removes_the_lag_of_holding_the_last_step(corridor_walk) -> None:
    held = along_track_errors(pdr_run(corridor_walk, "hold"), corridor_walk[1])
    moved = along_track_errors(pdr_run(corridor_walk, "extrapolate"), corridor_walk[1])
    # Same seed, same particles: only what happens between steps differs. Held, the estimate
    # trails by about half a step (1.25 m/s · ½ · 0.53 s ≈ 0.33 m) on top of the PDR's own error.
    lag_held = float(np.mean(held))
    lag_moved = float(np.mean(moved))
    assert lag_moved - lag_held > 0.15
    assert float(np.mean(np.abs(moved))) < float(np.mean(np.abs(held)))


def test_extrapolating_only_adds_estimates_between_the_steps(corridor_walk) -> None:
    held = pdr_run(corridor_walk, "hold")
    moved = pdr_run(corridor_walk, "extrapolate")
    assert len(moved) > 3 * len(held)
    step_times = {e.t_ms for e in held}
    assert [e for e in moved if e.t_ms in step_times] == held
    between = [e for e in moved if e.t_ms not in step_times]
    gaps = np.diff([e.t_ms for e in moved])
    assert gaps.min() > 0
    # In-between estimates come at most every BETWEEN_STEPS_EVERY_MS after any estimate.
    times = [e.t_ms for e in moved]
    for e in between:
        i = times.index(e.t_ms)
        assert e.t_ms - times[i - 1] >= BETWEEN_STEPS_EVERY_MS
    # Each stays between its step's estimate and one more step ahead (at most 1.2 m).
    step_x = {e.t_ms: e.x for e in held}
    last_step_x = None
    for e in moved:
        if e.t_ms in step_x:
            last_step_x = step_x[e.t_ms]
        elif last_step_x is not None:
            assert last_step_x <= e.x <= last_step_x + 1.2


def test_extrapolated_estimates_never_look_ahead(corridor_walk) -> None:
    readings = corridor_walk[0]
    full = pdr_run(corridor_walk, "extrapolate")
    cut = len(readings) // 2 + 17
    truncated = pdr_run((readings[:cut], corridor_walk[1], corridor_walk[2]), "extrapolate")
    assert len(truncated) > 10
    assert truncated == full[: len(truncated)]
    assert all(e.t_ms <= readings[cut - 1].t_ms for e in truncated)


def test_an_unknown_between_steps_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="between_steps must be one of"):
        Tracker(settings=TrackerSettings(between_steps="predict"))
