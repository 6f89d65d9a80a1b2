"""Hypotheses of the particle layer, and two corridors that sound alike.

The floor has two parallel east–west corridors, y = 10 and y = 30, with the access points on
the line between them (y = 20): every scan is heard alike in both. A spur leaves the southern
corridor at x = 50 and runs south; the northern corridor has no opening there. A shopper walks
the southern corridor east and turns into the spur: only the turn can tell the corridors apart,
and once it is walked the tracker must report the southern one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from positioning import FloorPlan, Obstacle
from positioning.hypotheses import PathEvidence, split, survival_share
from positioning.particles import ParticleCloud
from positioning.radiomap import RadioMap, SurveyFingerprint
from positioning.readings import Reading
from positioning.scans import Fingerprint
from positioning.steps import calibrate_weinberg_k
from positioning.survey import Survey, step_sums
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from positioning.walkfile import Walk
from tests.positioning.synthetic import walk_readings

TWIN = FloorPlan.rectangle(
    "twin corridors",
    70.0,
    40.0,
    (
        # South of the southern corridor, leaving the spur x = 48…52 open down to y = 1.
        Obstacle("sw", "shops", shapely.box(0, 0, 48, 8)),
        Obstacle("se", "shops", shapely.box(52, 0, 70, 8)),
        Obstacle("mid", "shops", shapely.box(0, 12, 70, 28)),
        Obstacle("north", "shops", shapely.box(0, 32, 70, 40)),
    ),
)
# On the mirror line y = 20: a scan at (x, 10) and one at (x, 30) hear the same levels.
TWIN_APS = {f"ap{i}": (float(x), 20.0, -35.0) for i, x in enumerate(range(0, 71, 10))}
WALK = [(6.0, 10.0), (50.0, 10.0), (50.0, 2.0)]
TURN_AT_S = 44.0 / 1.25  # the walk reaches the spur after 44 m at 1.25 m/s


def cloud_of(xy: np.ndarray, weight: np.ndarray | None = None) -> ParticleCloud:
    n = len(xy)
    w = np.full(n, 1.0 / n) if weight is None else weight / weight.sum()
    return ParticleCloud(xy[:, 0].copy(), xy[:, 1].copy(), np.zeros(n), np.ones(n), w)


def test_split_names_far_apart_groups_heaviest_first() -> None:
    rng = np.random.default_rng(0)
    west = rng.normal((10.0, 10.0), 1.0, (700, 2))
    east = rng.normal((60.0, 10.0), 1.0, (300, 2))
    hypotheses = split(cloud_of(np.vstack([west, east])))
    assert len(hypotheses) == 2
    assert hypotheses[0].mass == pytest.approx(0.7)
    assert (hypotheses[0].x, hypotheses[0].y) == pytest.approx((10.0, 10.0), abs=0.3)
    assert (hypotheses[1].x, hypotheses[1].y) == pytest.approx((60.0, 10.0), abs=0.3)
    assert not (hypotheses[0].members & hypotheses[1].members).any()


def test_survival_share_is_per_cell_of_the_start_positions() -> None:
    x0 = np.array([1.0, 1.5, 2.0, 3.0, 21.0, 22.0])
    y0 = np.full(6, 1.0)
    alive_before = np.array([True, True, True, True, True, False])
    alive_after = np.array([True, False, False, False, True, False])
    share = survival_share(x0, y0, alive_before, alive_after)
    assert share.tolist() == [0.25, 0.25, 0.25, 0.25, 1.0, 1.0]


def test_evidence_prefers_the_hypothesis_whose_path_fits_not_the_heavier_one() -> None:
    """Two groups; the western one holds more weight but just lost 90 % of its particles to
    the walls, the eastern one none."""
    rng = np.random.default_rng(1)
    west = rng.normal((10.0, 10.0), 1.0, (600, 2))
    xy = np.vstack([west, rng.normal((60.0, 10.0), 1.0, (400, 2))])
    cloud = cloud_of(xy)
    survived = np.arange(1000) >= 540
    cloud.weight = np.where(survived, cloud.weight, 0.0) / survived.mean()
    PathEvidence().on_step(cloud, xy[:, 0], xy[:, 1], np.ones(1000, bool), 0)
    # Each western cell lost about 90 % (cells of a few particles vary): log 0.1 ≈ −2.3.
    assert float(np.median(cloud.evidence[:600])) == pytest.approx(np.log(0.1), abs=0.2)
    assert cloud.evidence[600:] == pytest.approx(0.0)
    # Resampled, with an earlier scan's favour: the western group is the heavier.
    cloud.weight = np.where(np.arange(1000) < 600, 0.8 / 600, 0.2 / 400)
    assert split(cloud)[0].x == pytest.approx(10.0, abs=0.5)
    chosen = PathEvidence().choose(cloud)
    assert chosen is not None
    assert chosen.x == pytest.approx(60.0, abs=0.5)


def levels_at(x: float, y: float) -> dict[str, float]:
    """What ``walk_readings`` hears at (x, y), without its noise: −35 dBm at 1 m, n = 2."""
    return {
        ap: p1 - 20.0 * math.log10(max(1.0, math.hypot(x - ax, y - ay)))
        for ap, (ax, ay, p1) in TWIN_APS.items()
    }


@pytest.fixture(scope="module")
def twin_survey() -> Survey:
    """References every 0.5 m along both corridors, each with a mirror twin that hears exactly
    the same: nothing in the radio can tell the corridors apart."""
    survey = [
        SurveyFingerprint(f"{side}{i // 20}", i / 2, y, Fingerprint(i, i, levels_at(i / 2, y)))
        for side, y in (("south", 10.0), ("north", 30.0))
        for i in range(8, 133)
    ]
    readings, waypoints = walk_readings([(4.0, 10.0), (40.0, 10.0)], seed=99)
    k = calibrate_weinberg_k([step_sums(Walk("gait", tuple(readings), tuple(waypoints)))])
    return Survey(RadioMap.from_survey(survey, frozenset()), k, ())


@pytest.fixture(scope="module")
def twin_walk() -> list[Reading]:
    readings, _ = walk_readings(WALK, seed=31, access_points=TWIN_APS)
    return readings


def twin_tracker(survey: Survey, report: str, seed: int) -> Tracker:
    settings = TrackerSettings(weinberg_k=survey.weinberg_k, seed=seed, report=report)
    return Tracker(survey.radio_map, WalkableGrid.from_plan(TWIN), settings=settings)


def test_the_corridors_sound_alike(twin_survey: Survey) -> None:
    radio_map = twin_survey.radio_map
    south = radio_map.positions[:, 1] < 20.0
    assert south.sum() == (~south).sum() > 100
    assert np.array_equal(radio_map.rssi[south], radio_map.rssi[~south])
    assert np.allclose(radio_map.source_xy[:, 1], 20.0)  # the sources' models sit between


@pytest.mark.parametrize("report", ["heaviest", "evidence", "median", "median-clusters"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_turn_only_one_corridor_allows_decides_which_is_reported(
    twin_survey: Survey, twin_walk: list[Reading], report: str, seed: int
) -> None:
    t0 = twin_walk[0].t_ms
    tracker = twin_tracker(twin_survey, report, seed)
    estimates = [e for r in twin_walk for e in tracker.push(r)]
    after_turn = [e for e in estimates if e.t_ms > t0 + 1000 * (TURN_AT_S + 4.0)]
    assert after_turn
    # Four metres into the spur, every estimate is in it, none in the northern corridor.
    assert all(e.y < 9.0 and abs(e.x - 50.0) < 4.0 for e in after_turn)
    # Before the turn the radio could not say which corridor: both must still be held.
    before = tracker_hypotheses_before_turn(twin_survey, twin_walk, report, seed)
    assert min(abs(h - 10.0) for h in before) < 3.0
    assert min(abs(h - 30.0) for h in before) < 3.0


def tracker_hypotheses_before_turn(
    survey: Survey, readings: list[Reading], report: str, seed: int
) -> list[float]:
    """The y of each hypothesis holding ≥ 5 % of the weight 3 s before the turn."""
    tracker = twin_tracker(survey, report, seed)
    cut = readings[0].t_ms + 1000 * (TURN_AT_S - 3.0)
    for r in readings:
        if r.t_ms > cut:
            break
        tracker.push(r)
    assert tracker._cloud is not None
    return [h.y for h in split(tracker._cloud) if h.mass >= 0.05]


def test_reporting_by_evidence_stays_causal(twin_survey: Survey, twin_walk: list[Reading]) -> None:
    whole = twin_tracker(twin_survey, "evidence", 5)
    full = [e for r in twin_walk for e in whole.push(r)]
    for cut in (len(twin_walk) // 2, len(twin_walk) * 5 // 6 + 7):
        tracker = twin_tracker(twin_survey, "evidence", 5)
        truncated = [e for r in twin_walk[:cut] for e in tracker.push(r)]
        assert len(truncated) > 10
        assert truncated == full[: len(truncated)]
