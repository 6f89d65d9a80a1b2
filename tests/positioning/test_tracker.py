import math

import numpy as np
import pytest
import shapely

from positioning import FloorPlan, Obstacle
from positioning.beacons import BeaconMap, PathLossModel
from positioning.injection import INJECTIONS
from positioning.radiomap import RadioMap
from positioning.readings import AccelReading, BeaconReading, GyroReading, WifiReading
from positioning.scoring import score_walk
from positioning.steps import calibrate_weinberg_k
from positioning.survey import build_survey, step_sums
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from positioning.walkfile import Walk
from tests.positioning.synthetic import hall_survey_walks, walk_readings

# An 80 m × 20 m store: shop blocks north and south leave a 4 m corridor along y = 10.
CORRIDOR = FloorPlan.rectangle(
    "corridor",
    80.0,
    20.0,
    (
        Obstacle("south", "south shops", shapely.box(0, 0, 80, 8)),
        Obstacle("north", "north shops", shapely.box(0, 12, 80, 20)),
    ),
)
BEACONS = {f"b{i}": (5.0 + 10.0 * i, 12.0, -59.0) for i in range(8)}
PATH = [(4.0, 10.0), (76.0, 10.0)]
# What a store with beacons every 10 m should give a shopper walking its corridor.
CORRIDOR_MEDIAN_ERROR_M = 1.0
CORRIDOR_P90_ERROR_M = 2.0


def calibrated_k() -> float:
    readings, waypoints = walk_readings([(4.0, 10.0), (40.0, 10.0)], seed=99)
    return calibrate_weinberg_k([step_sums(Walk("survey", tuple(readings), tuple(waypoints)))])


@pytest.fixture(scope="module")
def corridor_walk():
    return walk_readings(PATH, seed=7, beacons=BEACONS)


def corridor_tracker(seed: int = 0) -> Tracker:
    return Tracker(
        grid=WalkableGrid.from_plan(CORRIDOR),
        beacon_map=BeaconMap(BEACONS, PathLossModel(exponent=2.0, sigma_db=3.0)),
        settings=TrackerSettings(weinberg_k=calibrated_k(), seed=seed, particles=500),
    )


def run(tracker, readings):
    return [e for r in readings for e in tracker.push(r)]


def test_corridor_walk_with_known_beacons_is_positioned_within_the_stated_error(corridor_walk):
    readings, waypoints = corridor_walk
    estimates = run(corridor_tracker(), readings)
    errors = score_walk(estimates, waypoints)
    assert errors.missing <= 1  # only a waypoint at the very first instant may lack one
    assert np.median(errors.position_m) < CORRIDOR_MEDIAN_ERROR_M
    assert np.percentile(errors.position_m, 90) < CORRIDOR_P90_ERROR_M
    assert np.median(errors.heading_deg) < 15.0
    xs, ys = np.array([e.x for e in estimates]), np.array([e.y for e in estimates])
    assert WalkableGrid.from_plan(CORRIDOR).is_free(xs, ys).all()  # never inside a shop


def test_estimates_never_look_ahead_truncation_leaves_earlier_estimates_unchanged(corridor_walk):
    readings, _ = corridor_walk
    full = run(corridor_tracker(seed=3), readings)
    for cut in (len(readings) // 3, len(readings) // 2 + 17):
        cut_time = readings[cut - 1].t_ms
        truncated = run(corridor_tracker(seed=3), readings[:cut])
        assert len(truncated) > 10
        assert truncated == full[: len(truncated)]
        assert all(e.t_ms <= cut_time for e in truncated)
        assert all(e.t_ms >= cut_time for e in full[len(truncated) :])


def test_estimate_times_never_precede_the_readings_they_use(corridor_walk):
    readings, _ = corridor_walk
    tracker = corridor_tracker()
    latest = -math.inf
    for r in readings:
        latest = max(latest, r.t_ms)
        for e in tracker.push(r):
            assert e.t_ms == latest


def test_bad_readings_are_skipped_and_counted_not_raised(corridor_walk):
    readings, _ = corridor_walk
    tracker = corridor_tracker()
    run(tracker, readings[:600])
    t = readings[599].t_ms
    assert tracker.push(AccelReading(t + 20, math.nan, 0.0, 9.8)) == []
    assert tracker.push(BeaconReading(t + 20, "b1", math.inf)) == []
    assert tracker.push(GyroReading(t - 5_000, 0.0, 0.0, 0.0)) == []
    assert tracker.skipped == {"non-finite value": 2, "sensor sample out of order": 1}
    assert run(tracker, readings[600:700])  # and it carries on


def test_no_radio_and_no_start_gives_no_estimate():
    readings, _ = walk_readings(PATH[:2], seed=1)
    assert run(Tracker(grid=WalkableGrid.from_plan(CORRIDOR)), readings) == []


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="radio_likelihood"):
        Tracker(settings=TrackerSettings(radio_likelihood="magic"))
    with pytest.raises(ValueError, match="heading_report"):
        Tracker(settings=TrackerSettings(heading_report="compass"))
    with pytest.raises(ValueError, match="motion_heading"):
        Tracker(settings=TrackerSettings(motion_heading="compass"))


HALL = FloorPlan.rectangle("hall", 40.0, 40.0)
HALL_APS = {
    f"ap{i}": (float(x), float(y), -35.0)
    for i, (x, y) in enumerate(np.random.default_rng(5).uniform(0, 40, (12, 2)))
}


@pytest.fixture(scope="module")
def hall_survey():
    survey = hall_survey_walks(HALL_APS)
    return build_survey(survey)


def test_wifi_survey_map_positions_a_new_walk_in_an_open_hall(hall_survey):
    assert isinstance(hall_survey.radio_map, RadioMap)
    assert len(hall_survey.radio_map) > 50
    path = [(5.0, 7.0), (35.0, 7.0), (35.0, 30.0)]
    readings, waypoints = walk_readings(path, seed=77, access_points=HALL_APS)
    settings = TrackerSettings(weinberg_k=hall_survey.weinberg_k)
    tracker = Tracker(hall_survey.radio_map, WalkableGrid.from_plan(HALL), settings=settings)
    errors = score_walk(run(tracker, readings), waypoints)
    assert np.median(errors.position_m) < 3.0
    for fix in tracker.fixes:
        assert fix.sigma_m >= 1.0


def test_without_a_fix_in_two_seconds_the_prior_gives_an_honestly_vague_estimate(hall_survey):
    readings, _ = walk_readings([(5.0, 7.0), (35.0, 7.0)], seed=78, access_points=HALL_APS)
    t0 = readings[0].t_ms
    late_wifi = [r for r in readings if not (isinstance(r, WifiReading) and r.t_ms < t0 + 8000)]
    settings = TrackerSettings(weinberg_k=hall_survey.weinberg_k)
    tracker = Tracker(hall_survey.radio_map, WalkableGrid.from_plan(HALL), settings=settings)
    estimates = run(tracker, late_wifi)
    assert estimates[0].t_ms - t0 <= 2000  # a shopper has an estimate from 2 s on
    assert estimates[0].accuracy_m > 8.0  # and it says how little it knows
    after_fix = [e for e in estimates if e.t_ms > t0 + 12000]
    assert after_fix
    assert after_fix[-1].accuracy_m < estimates[0].accuracy_m


def test_a_first_fix_heard_seconds_ago_starts_the_track_where_the_shopper_is_now(hall_survey):
    """The first scan arrives 12 s in but lists access points last heard 10 s earlier, 12.5 m
    back along the walk: the track must start where the shopper has walked to since."""
    path = [(5.0, 7.0), (35.0, 7.0)]
    readings, _ = walk_readings(path, seed=79, access_points=HALL_APS)
    t0 = readings[0].t_ms
    heard, arrives = t0 + 2000, t0 + 12000
    late_scan = [
        WifiReading(arrives, r.bssid, r.rssi_dbm, r.last_seen_ms)
        for r in readings
        if isinstance(r, WifiReading) and r.t_ms == heard
    ]
    motion = [r for r in readings if not isinstance(r, WifiReading)]
    stream = sorted(motion + late_scan, key=lambda r: r.t_ms)
    settings = TrackerSettings(weinberg_k=hall_survey.weinberg_k)
    tracker = Tracker(hall_survey.radio_map, WalkableGrid.from_plan(HALL), settings=settings)
    estimates = run(tracker, stream)
    assert tracker.fixes
    assert tracker.fixes[0].heard_ms < heard
    first_fix_ms = tracker.fixes[0].t_ms
    x_now = 5.0 + 1.25 * (first_fix_ms - t0) / 1000.0
    at_fix = [e for e in estimates if first_fix_ms <= e.t_ms <= first_fix_ms + 1000]
    assert at_fix
    assert abs(at_fix[0].x - x_now) < 4.0  # not the 12.5 m back where the scan was heard


@pytest.mark.parametrize(
    ("likelihood", "first_fix"), [("projected+gp", "field"), ("gp", "candidates")]
)
def test_gp_field_settings_position_a_new_walk_in_an_open_hall(hall_survey, likelihood, first_fix):
    path = [(5.0, 7.0), (35.0, 7.0), (35.0, 30.0)]
    readings, waypoints = walk_readings(path, seed=77, access_points=HALL_APS)
    settings = TrackerSettings(
        weinberg_k=hall_survey.weinberg_k, radio_likelihood=likelihood, first_fix=first_fix
    )
    tracker = Tracker(hall_survey.radio_map, WalkableGrid.from_plan(HALL), settings=settings)
    assert tracker.radio_field is not None
    errors = score_walk(run(tracker, readings), waypoints)
    assert np.median(errors.position_m) < 3.0


@pytest.mark.parametrize("injection", INJECTIONS)
def test_gp_field_tracker_never_looks_ahead(hall_survey, injection):
    readings, _ = walk_readings([(5.0, 7.0), (35.0, 7.0)], seed=80, access_points=HALL_APS)
    settings = TrackerSettings(
        weinberg_k=hall_survey.weinberg_k,
        radio_likelihood="projected+gp",
        first_fix="field",
        injection=injection,
    )
    grid = WalkableGrid.from_plan(HALL)
    field = Tracker(hall_survey.radio_map, grid, settings=settings).radio_field
    full = run(Tracker(hall_survey.radio_map, grid, settings=settings, radio_field=field), readings)
    cut = len(readings) // 2 + 11
    tracker = Tracker(hall_survey.radio_map, grid, settings=settings, radio_field=field)
    truncated = run(tracker, readings[:cut])
    assert len(truncated) > 10
    assert truncated == full[: len(truncated)]
