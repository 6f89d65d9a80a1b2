from __future__ import annotations

import numpy as np

from positioning.walkable import WalkableGrid


def _walled_grid() -> WalkableGrid:
    """4 m × 1 m corridor in 0.5 m cells, a wall one cell thick at 1.0 ≤ x < 1.5."""
    free = np.ones((2, 8), dtype=bool)
    free[:, 2] = False
    return WalkableGrid(free, 0.5, 4.0, 1.0)


def test_a_step_through_a_thin_wall_is_blocked_though_its_end_and_midpoint_are_free() -> None:
    grid = _walled_grid()
    x0, y0, x1, y1 = np.array([0.2]), np.array([0.5]), np.array([1.6]), np.array([0.5])
    mid_and_end = grid.is_free((x0 + x1) / 2, (y0 + y1) / 2) & grid.is_free(x1, y1)
    assert mid_and_end.all()  # the old end + midpoint test let this step through the wall
    assert not grid.is_free_segment(x0, y0, x1, y1).any()
    assert grid.is_free_segment(np.array([2.0]), y0, np.array([3.9]), y1).all()


def test_segment_check_matches_dense_sampling_on_random_moves() -> None:
    rng = np.random.default_rng(4)
    free = rng.random((40, 40)) > 0.15
    grid = WalkableGrid(free, 0.5, 20.0, 20.0)
    n = 2000
    x0, y0 = rng.uniform(0, 20, n), rng.uniform(0, 20, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    length = rng.uniform(0.2, 1.2, n)
    x1, y1 = x0 + length * np.cos(angle), y0 + length * np.sin(angle)
    dense = np.ones(n, dtype=bool)
    for f in np.linspace(0.0, 1.0, 401)[1:]:
        dense &= grid.is_free(x0 + f * (x1 - x0), y0 + f * (y1 - y0))
    fast = grid.is_free_segment(x0, y0, x1, y1)
    assert not (~fast & dense).any()  # never blocks a move that stays on the floor
    # It may miss corner clips under a quarter cell: rare even on this floor of scattered
    # single-cell obstacles (15 % of cells), far denser in corners than a shop plan.
    assert (fast & ~dense).mean() < 0.05
    assert not fast[~grid.is_free(x1, y1)].any()  # a move ending off the floor never passes
