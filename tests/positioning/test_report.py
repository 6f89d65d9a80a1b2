"""The reported point as the Bayes estimate under absolute-error loss: the geometric median.

A cloud split between two corridors reports the point of least expected distance to the truth,
argmin_m Σ wᵢ·|pᵢ − m|; checked against scipy's general-purpose minimiser on the same points.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from positioning import particles as pf
from positioning.hypotheses import median_of_hypotheses, split
from positioning.tracker import Tracker, TrackerSettings


def cloud_of(xy: np.ndarray, weight: np.ndarray) -> pf.ParticleCloud:
    n = len(xy)
    w = weight / weight.sum()
    return pf.ParticleCloud(xy[:, 0].copy(), xy[:, 1].copy(), np.zeros(n), np.ones(n), w)


def expected_distance(xy: np.ndarray, weight: np.ndarray, m: np.ndarray) -> float:
    return float(weight @ np.hypot(xy[:, 0] - m[0], xy[:, 1] - m[1])) / float(weight.sum())


def scipy_median(xy: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The textbook answer: minimise the expected distance directly (Nelder–Mead, tight)."""
    start = (weight @ xy) / weight.sum()
    result = minimize(
        lambda m: expected_distance(xy, weight, m),
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-6, "fatol": 1e-10, "maxiter": 4000},
    )
    return np.asarray(result.x)


def two_corridors(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A heavier group at (10, 10), a lighter one 20 m north, and a third 30 m east; unequal
    particle weights, so it is the weights, not the counts, that must count."""
    xy = np.vstack(
        [
            rng.normal((10.0, 10.0), (3.0, 0.6), (500, 2)),
            rng.normal((10.0, 30.0), (3.0, 0.6), (300, 2)),
            rng.normal((40.0, 10.0), (0.6, 3.0), (200, 2)),
        ]
    )
    weight = np.concatenate([np.full(500, 0.4 / 500), np.full(300, 0.35 / 300), rng.random(200)])
    weight[800:] *= 0.25 / weight[800:].sum()
    return xy, weight


def test_weiszfeld_gives_the_weighted_geometric_median_of_a_split_cloud() -> None:
    xy, weight = two_corridors(np.random.default_rng(3))
    cloud = cloud_of(xy, weight)
    heaviest = pf.cluster_estimate(cloud)[:2]
    m = np.array(pf.geometric_median(cloud, iterations=500, start=heaviest))
    reference = scipy_median(xy, weight)
    assert m == pytest.approx(reference, abs=0.02)
    assert expected_distance(xy, weight, m) <= expected_distance(xy, weight, reference) + 1e-6
    # It hedges: well away from the heaviest group's mean, and nearer the truth on average.
    assert np.hypot(*(m - np.array(heaviest))) > 3.0
    assert expected_distance(xy, weight, m) < expected_distance(xy, weight, np.array(heaviest))


def test_the_start_point_does_not_change_the_median() -> None:
    xy, weight = two_corridors(np.random.default_rng(4))
    cloud = cloud_of(xy, weight)
    a = pf.geometric_median(cloud, iterations=500, start=(10.0, 30.0))
    b = pf.geometric_median(cloud, iterations=500, start=(40.0, 10.0))
    assert a == pytest.approx(b, abs=0.01)


def test_a_one_mode_cloud_reports_its_mean() -> None:
    rng = np.random.default_rng(5)
    xy = rng.normal((25.0, 12.0), 1.5, (2000, 2))
    cloud = cloud_of(xy, np.ones(2000))
    m = pf.geometric_median(cloud, start=pf.cluster_estimate(cloud)[:2])
    # A symmetric blob's median and mean coincide (up to the sampling of 2000 points).
    assert m == pytest.approx((float(xy[:, 0].mean()), float(xy[:, 1].mean())), abs=0.1)


def test_the_clusters_median_is_the_median_of_their_means_by_mass() -> None:
    xy, weight = two_corridors(np.random.default_rng(6))
    cloud = cloud_of(xy, weight)
    named = split(cloud)
    assert [round(h.mass, 2) for h in named] == [0.4, 0.35, 0.25]
    means = np.array([[h.x, h.y] for h in named])
    masses = np.array([h.mass for h in named])
    m = np.array(median_of_hypotheses(cloud, min_mass=0.05))
    assert m == pytest.approx(scipy_median(means, masses), abs=0.02)


def test_the_clusters_median_reports_a_majority_cluster_as_it_is() -> None:
    rng = np.random.default_rng(7)
    xy = np.vstack(
        [rng.normal((10.0, 10.0), 1.0, (600, 2)), rng.normal((60.0, 10.0), 1.0, (400, 2))]
    )
    cloud = cloud_of(xy, np.ones(1000))
    heaviest = split(cloud)[0]
    assert median_of_hypotheses(cloud, 0.05) == pytest.approx((heaviest.x, heaviest.y), abs=0.01)


def test_stray_particles_under_the_mass_floor_do_not_move_the_clusters_median() -> None:
    rng = np.random.default_rng(8)
    xy = np.vstack(
        [
            rng.normal((10.0, 10.0), 1.0, (450, 2)),
            rng.normal((60.0, 10.0), 1.0, (450, 2)),
            rng.uniform(0.0, 200.0, (100, 2)) + np.array([0.0, 100.0]),  # far strays, 10 %
        ]
    )
    cloud = cloud_of(xy, np.ones(1000))
    x, y = median_of_hypotheses(cloud, min_mass=0.05)
    # Between the two equal corridors, on their line; the strays 100 m+ north pull nothing.
    assert abs(y - 10.0) < 0.5
    assert 9.0 < x < 61.0


@pytest.mark.parametrize("report", ["median", "median-clusters"])
def test_the_report_settings_are_accepted_and_a_typo_is_refused(report: str) -> None:
    assert Tracker(settings=TrackerSettings(report=report)).settings.report == report
    with pytest.raises(ValueError, match="report must be one of"):
        Tracker(settings=TrackerSettings(report="mean"))
