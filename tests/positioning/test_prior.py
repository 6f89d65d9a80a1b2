"""The prior cloud before any radio fix, and how the first fix takes over from it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from positioning import FloorPlan, Obstacle
from positioning.particles import ParticleCloud
from positioning.prior import advert_log_likelihood, hand_over, walkable_prior
from positioning.readings import BeaconReading, Reading, WifiReading
from positioning.scoring import score_walk
from positioning.survey import Survey, build_survey
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from positioning.walkfile import Walk, Waypoint
from tests.positioning.synthetic import walk_readings

HALL = FloorPlan.rectangle("hall", 40.0, 40.0)
HALL_APS = {
    f"ap{i}": (float(x), float(y), -35.0)
    for i, (x, y) in enumerate(np.random.default_rng(5).uniform(0, 40, (12, 2)))
}
# One beacon in the south-west, where the shopper starts: alone it is too few for a
# fingerprint, but an advert heard loud says "near it".
BEACON = {"door": (8.0, 4.0, -59.0)}
NO_WIFI_MS = 10_000


def test_walkable_prior_covers_the_walkable_floor_only() -> None:
    plan = FloorPlan.rectangle(
        "two rooms", 20.0, 10.0, (Obstacle("w", "wall", shapely.box(9, 0, 11, 10)),)
    )
    grid = WalkableGrid.from_plan(plan)
    x, y = walkable_prior(grid, 4000, np.random.default_rng(0))
    assert grid.is_free(x, y).all()
    # Both rooms, in proportion to their areas (equal here), spread over their whole width.
    assert (x < 9).mean() == pytest.approx(0.5, abs=0.05)
    assert x.min() < 0.5
    assert x.max() > 19.5


def test_hand_over_keeps_the_prior_places_the_fix_agrees_with_and_adds_fresh_ones() -> None:
    n = 1000
    x = np.where(np.arange(n) < n // 2, 5.0, 30.0)
    cloud = ParticleCloud(x, np.zeros(n), np.full(n, 0.1), np.full(n, 1.2), np.full(n, 1.0 / n))
    likelihood = np.where(x < 10.0, 1.0, 0.0)  # the fix rules the eastern place out
    fresh = (np.full(300, 50.0), np.zeros(300))
    out = hand_over(cloud, likelihood, fresh, np.random.default_rng(0))
    assert len(out) == n
    assert out.weight == pytest.approx(np.full(n, 1.0 / n))
    assert (out.x == 5.0).sum() == n - 300  # every kept particle from the agreeing place
    assert (out.x == 50.0).sum() == 300
    assert out.offset_rad == pytest.approx(0.1)  # the gait learnt so far goes to all
    assert out.scale == pytest.approx(1.2)


@pytest.fixture(scope="module")
def hall_survey() -> Survey:
    survey = []
    for row, y in enumerate(range(4, 40, 6)):
        ends = [(2.0, float(y)), (38.0, float(y))]
        path = ends if row % 2 == 0 else ends[::-1]
        readings, waypoints = walk_readings(
            path, seed=10 + row, access_points=HALL_APS, beacons=BEACON
        )
        survey.append(Walk(f"s{row}", tuple(readings), tuple(waypoints)))
    return build_survey(survey)


def test_the_map_models_the_beacon_near_where_it_is_loudest(hall_survey: Survey) -> None:
    x, y = np.array([8.0, 30.0]), np.array([4.0, 30.0])
    log_l = advert_log_likelihood(hall_survey.radio_map, "door", -62.0, x, y)
    assert log_l is not None
    assert log_l[0] > log_l[1] + 2.0  # loud: near the door, not across the hall
    assert advert_log_likelihood(hall_survey.radio_map, "unknown", -62.0, x, y) is None


@pytest.fixture(scope="module")
def late_wifi_walk() -> tuple[list[Reading], list[Waypoint]]:
    """East along y = 7 from the beacon's corner; the phone's first Wi-Fi scan comes 10 s in."""
    readings, waypoints = walk_readings(
        [(5.0, 7.0), (35.0, 7.0)], seed=80, access_points=HALL_APS, beacons=BEACON
    )
    t0 = readings[0].t_ms
    late = [r for r in readings if not (isinstance(r, WifiReading) and r.t_ms < t0 + NO_WIFI_MS)]
    assert any(isinstance(r, BeaconReading) for r in late if r.t_ms < t0 + NO_WIFI_MS)
    return late, waypoints


def prior_errors(
    survey: Survey, walk: tuple[list[Reading], list[Waypoint]], prior: str
) -> list[float]:
    """Errors at the waypoints before the first Wi-Fi scan."""
    readings, waypoints = walk
    settings = TrackerSettings(weinberg_k=survey.weinberg_k, prior=prior)
    tracker = Tracker(survey.radio_map, WalkableGrid.from_plan(HALL), settings=settings)
    estimates = [e for r in readings for e in tracker.push(r)]
    t0 = readings[0].t_ms
    early = [w for w in waypoints if t0 + 2000 <= w.t_ms < t0 + NO_WIFI_MS]
    assert len(early) >= 2
    return list(score_walk(estimates, early).position_m)


def test_adverts_heard_before_the_first_scan_pull_the_prior_to_the_shopper(
    hall_survey: Survey, late_wifi_walk: tuple[list[Reading], list[Waypoint]]
) -> None:
    with_adverts = prior_errors(hall_survey, late_wifi_walk, "survey+adverts")
    survey_only = prior_errors(hall_survey, late_wifi_walk, "survey")
    assert max(with_adverts) < 6.0
    assert np.mean(with_adverts) < 0.5 * np.mean(survey_only)


def test_the_advert_prior_is_causal(
    hall_survey: Survey, late_wifi_walk: tuple[list[Reading], list[Waypoint]]
) -> None:
    readings, _ = late_wifi_walk

    def run(stream: list[Reading]) -> list[tuple[int, float, float]]:
        settings = TrackerSettings(weinberg_k=hall_survey.weinberg_k, seed=4)
        tracker = Tracker(hall_survey.radio_map, WalkableGrid.from_plan(HALL), settings=settings)
        return [(e.t_ms, e.x, e.y) for r in stream for e in tracker.push(r)]

    full = run(readings)
    cut = next(i for i, r in enumerate(readings) if r.t_ms > readings[0].t_ms + 6000)
    truncated = run(readings[:cut])
    assert len(truncated) > 5
    assert truncated == full[: len(truncated)]


def test_unknown_prior_report_and_handover_settings_are_refused() -> None:
    for setting in ("prior", "report", "handover"):
        with pytest.raises(ValueError, match=setting):
            Tracker(settings=TrackerSettings(**{setting: "magic"}))


def test_adverts_heard_before_the_prior_starts_still_count(
    hall_survey: Survey, late_wifi_walk: tuple[list[Reading], list[Waypoint]]
) -> None:
    """Only the adverts of the first 1.5 s are kept: the prior cloud starts at 1.8 s and must
    still be weighed by them."""
    readings, waypoints = late_wifi_walk
    t0 = readings[0].t_ms
    early_only = [r for r in readings if not isinstance(r, BeaconReading) or r.t_ms < t0 + 1500]
    assert any(isinstance(r, BeaconReading) for r in early_only)
    first = {}
    for prior in ("survey", "survey+adverts"):
        settings = TrackerSettings(weinberg_k=hall_survey.weinberg_k, prior=prior)
        tracker = Tracker(hall_survey.radio_map, WalkableGrid.from_plan(HALL), settings=settings)
        estimates = [e for r in early_only for e in tracker.push(r)]
        first[prior] = estimates[0]
    truth = waypoints[0]
    error = {k: math.hypot(e.x - truth.x, e.y - truth.y) for k, e in first.items()}
    assert error["survey+adverts"] < error["survey"] - 5.0  # dropped, they would be equal
