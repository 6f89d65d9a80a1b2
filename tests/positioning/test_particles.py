from __future__ import annotations

import math

import numpy as np

from positioning import particles as pf


def test_geometric_median_minimises_expected_distance() -> None:
    """Weiszfeld against a brute-force search; far from the heaviest single place."""
    rng = np.random.default_rng(7)
    # Three far-apart places of equal weight and a fourth, slightly heavier, off to one side.
    centres = np.array([[0.0, 0.0], [60.0, 0.0], [30.0, 50.0], [120.0, 80.0]])
    counts = [240, 240, 240, 280]
    xy = np.concatenate(
        [c + rng.normal(0.0, 2.0, (n, 2)) for c, n in zip(centres, counts, strict=True)]
    )
    weight = np.full(len(xy), 1.0 / len(xy))
    zeros = np.zeros(len(xy))
    cloud = pf.ParticleCloud(xy[:, 0], xy[:, 1], zeros, zeros + 1.0, weight)

    def expected_distance(px: float, py: float) -> float:
        return float(weight @ np.hypot(xy[:, 0] - px, xy[:, 1] - py))

    mx, my = pf.geometric_median(cloud)
    gx, gy = np.meshgrid(np.arange(-10.0, 130.0, 2.0), np.arange(-10.0, 90.0, 2.0))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    brute = float(
        (
            np.hypot(grid[:, None, 0] - xy[None, :, 0], grid[:, None, 1] - xy[None, :, 1]) @ weight
        ).min()
    )
    assert expected_distance(mx, my) <= brute + 1e-6
    # The heaviest place, which a mode estimate would report, is much worse on average.
    assert expected_distance(120.0, 80.0) > 1.5 * expected_distance(mx, my)


def test_the_early_scale_drift_scales_the_same_draws_and_ends_after_the_first_leg():
    n = 500
    clouds = {}
    for early in (False, True):
        rng = np.random.default_rng(6)
        cloud = pf.new_cloud((np.full(n, 5.0), np.full(n, 5.0)), n, rng, 10.0)
        cloud.scale[:] = 1.0
        pf.propagate_step(cloud, 0.7, 0.0, None, rng, early_scale=early)
        clouds[early] = cloud
    change = {early: cloud.scale - 1.0 for early, cloud in clouds.items()}
    # Step 0: variance q·N, the same normal draws scaled by √N.
    ratio = math.sqrt(pf.EARLY_SCALE_STEPS)
    np.testing.assert_allclose(change[True], ratio * change[False], rtol=1e-9, atol=1e-12)
    late = clouds[True]
    late.steps = pf.EARLY_SCALE_STEPS
    rng_a, rng_b = np.random.default_rng(8), np.random.default_rng(8)
    plain = late.copy()
    pf.propagate_step(late, 0.7, 0.0, None, rng_a, early_scale=True)
    pf.propagate_step(plain, 0.7, 0.0, None, rng_b, early_scale=False)
    np.testing.assert_array_equal(late.scale, plain.scale)
