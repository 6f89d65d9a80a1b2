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
from positioning import particles as pf
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
CORRIDOR_HALF_WIDTH_M = 2.0
# Recovered: in the right corridor by this many seconds of walking (≈ 10 scans) and from then
# on within this of where a tracker started at the truth puts the shopper (the synthetic radio
# map, surveyed along one line, leaves both a few metres off along the corridor).
RECOVER_BY_S = 15.0
RECOVERED_M = 4.0
# The kidnapped-robot case: the cloud fits for this long, then is carried into the wrong
# corridor, and must be back in the right one within the next few scans.
KIDNAP_AT_S = 16.0
RECOVER_AFTER_KIDNAP_S = 10.0


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
def south_walk() -> list[Reading]:
    readings, _ = walk_readings(WALK, seed=41, access_points=APS)
    return readings


def tracker_for(
    survey: Survey, injection: str, seed: int, start: tuple[float, float] = WRONG_START
) -> Tracker:
    settings = TrackerSettings(
        weinberg_k=survey.weinberg_k, seed=seed, injection=injection, start_xy=start
    )
    return Tracker(survey.radio_map, WalkableGrid.from_plan(PLAN), settings=settings)


def estimates_of(tracker: Tracker, readings: list[Reading], kidnap_at_s: float | None = None):
    """(seconds into the walk, estimate, adaptive share after it) of every estimate; at
    ``kidnap_at_s`` the whole cloud is carried 20 m north into the wrong corridor (the
    textbook's kidnapped robot)."""
    t0 = readings[0].t_ms
    out = []
    for reading in readings:
        if kidnap_at_s is not None and reading.t_ms - t0 >= 1000 * kidnap_at_s:
            assert tracker._cloud is not None
            tracker._cloud.y = tracker._cloud.y + 20.0
            kidnap_at_s = None
        for e in tracker.push(reading):
            out.append(((e.t_ms - t0) / 1000.0, e, tracker.recovery.share))
    return out


def in_south_corridor_from(estimates) -> float | None:
    """The first time from which every later estimate is in the southern corridor."""
    since = None
    for t_s, e, _ in estimates:
        if abs(e.y - WALK[0][1]) <= CORRIDOR_HALF_WIDTH_M:
            since = t_s if since is None else since
        else:
            since = None
    return since


def test_the_survey_names_only_the_northern_corridor(north_survey: Survey) -> None:
    fix = north_survey.radio_map.match(Fingerprint(0, 0, levels_at(30.0, 10.0)))
    assert fix is not None
    assert np.all(fix.candidates_xy[:, 1] > 28.0)  # the candidates cannot name the truth


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_cloud_locked_onto_the_wrong_corridor_is_recovered_by_field_injection(
    north_survey: Survey, south_walk: list[Reading], seed: int
) -> None:
    estimates = estimates_of(tracker_for(north_survey, "field", seed), south_walk)
    since = in_south_corridor_from(estimates)
    assert since is not None
    assert since <= RECOVER_BY_S
    # Back where a tracker that never lost the shopper puts them.
    truth_started = estimates_of(tracker_for(north_survey, "field", seed, WALK[0]), south_walk)
    reference = {round(t_s, 3): e for t_s, e, _ in truth_started}
    gaps = [
        math.dist((e.x, e.y), (reference[round(t_s, 3)].x, reference[round(t_s, 3)].y))
        for t_s, e, _ in estimates
        if t_s > RECOVER_BY_S
    ]
    assert np.median(gaps) < RECOVERED_M
    # From the candidates new particles land around the corridor the survey walked; only
    # the odd tail draw reaches the truth, later if ever.
    candidates = estimates_of(tracker_for(north_survey, "candidates", seed), south_walk)
    later = in_south_corridor_from(candidates)
    assert later is None or later > since


@pytest.mark.parametrize("seed", [0, 1])
def test_the_adaptive_rate_is_zero_while_the_scans_fit_and_rises_after_a_kidnap(
    north_survey: Survey, south_walk: list[Reading], seed: int
) -> None:
    tracker = tracker_for(north_survey, "field+adaptive", seed, WALK[0])
    estimates = estimates_of(tracker, south_walk, kidnap_at_s=KIDNAP_AT_S)
    before = [share for t_s, _, share in estimates if t_s < KIDNAP_AT_S]
    after = [share for t_s, _, share in estimates if t_s >= KIDNAP_AT_S]
    assert before
    assert max(before) == 0.0  # a cloud that fits keeps its particles
    assert max(after) > 0.05  # scans that stop fitting re-seed it
    since = in_south_corridor_from(estimates)
    assert since is not None
    assert since <= KIDNAP_AT_S + RECOVER_AFTER_KIDNAP_S
    assert after[-1] == 0.0  # and once it fits again, injection stops


def test_recovery_rate_follows_augmented_mcl() -> None:
    rate = RecoveryRate()
    assert all(rate.update(0.4) == 0.0 for _ in range(100))  # steady fit: nothing injected
    w_slow, w_fast = rate.w_slow, rate.w_fast
    first = rate.update(0.3)  # the scans fit a little less
    # share = 1 − w_fast/w_slow with w ← w + α·(a − w), α_fast = 0.5, α_slow = 0.05.
    expected = 1 - (w_fast + 0.5 * (0.3 - w_fast)) / (w_slow + 0.05 * (0.3 - w_slow))
    assert first == pytest.approx(expected)
    assert 0.0 < first < rate.cap
    assert rate.update(0.01) == pytest.approx(rate.cap)  # they stop fitting: capped
    assert rate.update(0.4) < rate.cap  # fitting again: the share falls
    assert [rate.update(0.4) for _ in range(3)][-1] == 0.0  # and stops with w_fast ≥ w_slow


def test_agreement_is_the_clouds_mean_relative_likelihood() -> None:
    weight = np.array([0.5, 0.25, 0.25])
    assert agreement(weight, np.array([1.0, 1.0, 1.0])) == pytest.approx(1.0)
    assert agreement(weight, np.array([0.2, 0.0, 0.4])) == pytest.approx(0.2)


def test_kidnap_mass_is_bayes_for_the_mixture_prior() -> None:
    # Lost cloud (every particle on the 5 % floor), scan density covering 1 % of the floor.
    q = kidnap_mass(0.3, 0.0, 0.01, 0.05)
    assert q == pytest.approx(0.3 * 0.95 * 0.01 / (0.3 * 0.95 * 0.01 + 0.7 * 0.05))
    # A cloud that fits gives the same draws far less mass; no share, no mass.
    assert kidnap_mass(0.3, 0.5, 0.01, 0.05) < q / 5
    assert kidnap_mass(0.0, 0.0, 0.01, 0.05) == 0.0


def test_inject_with_a_mass_gives_the_new_particles_exactly_that_mass() -> None:
    rng = np.random.default_rng(0)
    n = 200
    cloud = pf.new_cloud((np.zeros(n), np.zeros(n)), n, rng, 10.0)
    cloud.weight = rng.uniform(0.5, 1.5, n)
    cloud.weight /= cloud.weight.sum()
    before = cloud.weight.copy()
    pf.inject(cloud, np.array([[50.0, 50.0]]), np.ones(1), 0.1, None, rng, sigma_m=1.0, mass=0.2)
    new = np.hypot(cloud.x - 50.0, cloud.y - 50.0) < 10.0
    assert new.sum() == 20
    assert cloud.weight[new].sum() == pytest.approx(0.2)
    assert cloud.weight.sum() == pytest.approx(1.0)
    # The kept particles keep their proportions.
    kept = ~new
    assert np.allclose(
        cloud.weight[kept] / cloud.weight[kept].sum(), before[kept] / before[kept].sum()
    )


def test_an_unknown_injection_is_refused() -> None:
    with pytest.raises(ValueError, match="injection"):
        Tracker(settings=TrackerSettings(injection="everywhere"))
