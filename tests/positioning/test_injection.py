"""Recovery of a cloud locked onto the wrong corridor (``positioning.injection``).

Two parallel east–west corridors, y = 10 (south) and y = 30 (north), shops between them. The
access points stand in the southern shops (y = 5), so the radio tells the corridors apart; but
only the northern corridor was surveyed, so every k-NN fix lands there. The shopper walks the
southern corridor east while the cloud starts locked onto the northern one: drawing new
particles from the fix's candidates can only re-draw the wrong corridor, drawing them from the
scan's density over the radio field's floor cells can reach the right one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from positioning import FloorPlan, Obstacle
from positioning.injection import RecoveryRate, agreement, kidnap_mass
from positioning.radiomap import RadioMap, SurveyFingerprint
from positioning.readings import Reading
from positioning.scans import Fingerprint
from positioning.steps import calibrate_weinberg_k
from positioning.survey import Survey, step_sums
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from positioning.walkfile import Walk
from tests.positioning.synthetic import walk_readings

PLAN = FloorPlan.rectangle(
    "two corridors",
    70.0,
    40.0,
    (
        Obstacle("south", "shops", shapely.box(0, 0, 70, 8)),
        Obstacle("mid", "shops", shapely.box(0, 12, 70, 28)),
        Obstacle("north", "shops", shapely.box(0, 32, 70, 40)),
    ),
)
APS = {f"s{i}": (float(x), 5.0, -35.0) for i, x in enumerate(range(0, 71, 10))} | {
    f"n{i}": (float(x), 35.0, -35.0) for i, x in enumerate(range(5, 71, 10))
}
WALK = [(6.0, 10.0), (64.0, 10.0)]
WRONG_START = (6.0, 30.0)
# Back within this of the truth once recovered: the corridor's half-width plus a step or two.
RECOVERED_M = 4.0
# Recovery must come within this many seconds of walking (≈ 10 scans).
RECOVER_BY_S = 25.0


def levels_at(x: float, y: float) -> dict[str, float]:
    """What ``walk_readings`` hears at (x, y), without its noise: −35 dBm at 1 m, n = 2."""
    return {
        ap: p1 - 20.0 * math.log10(max(1.0, math.hypot(x - ax, y - ay)))
        for ap, (ax, ay, p1) in APS.items()
    }


@pytest.fixture(scope="module")
def north_survey() -> Survey:
    """References every 0.5 m along the northern corridor only."""
    survey = [
        SurveyFingerprint(f"north{i // 20}", i / 2, 30.0, Fingerprint(i, i, levels_at(i / 2, 30)))
        for i in range(4, 137)
    ]
    readings, waypoints = walk_readings([(4.0, 10.0), (40.0, 10.0)], seed=99)
    k = calibrate_weinberg_k([step_sums(Walk("gait", tuple(readings), tuple(waypoints)))])
    return Survey(RadioMap.from_survey(survey, frozenset()), k, ())


@pytest.fixture(scope="module")
def south_walk() -> tuple[list[Reading], int]:
    readings, _ = walk_readings(WALK, seed=41, access_points=APS)
    return readings, readings[0].t_ms


def tracker_for(
    survey: Survey, injection: str, seed: int, start: tuple[float, float] = WRONG_START
) -> Tracker:
    settings = TrackerSettings(
        weinberg_k=survey.weinberg_k, seed=seed, injection=injection, start_xy=start
    )
    return Tracker(survey.radio_map, WalkableGrid.from_plan(PLAN), settings=settings)


def errors_by_time(tracker: Tracker, readings: list[Reading], t0: int) -> list[tuple[float, float]]:
    """(seconds into the walk, error m) of every estimate, the truth at 1.25 m/s along WALK."""
    out = []
    for reading in readings:
        for e in tracker.push(reading):
            t_s = (e.t_ms - t0) / 1000.0
            truth_x = min(WALK[0][0] + 1.25 * t_s, WALK[1][0])
            out.append((t_s, math.hypot(e.x - truth_x, e.y - WALK[0][1])))
    return out
