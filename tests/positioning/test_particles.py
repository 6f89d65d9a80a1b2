from __future__ import annotations

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
