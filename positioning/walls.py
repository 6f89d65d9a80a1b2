"""Wall crossings for a multi-wall radio mean (COST-231 / Motley–Keenan).

The multi-wall model adds to the log-distance path loss a loss per wall the direct ray crosses:
``rssi = P₁ − 10·n·log₁₀ d − L·k``, with k the number of walls between source and phone. The
walls here are the floor plan's obstacle boundaries (shops, wall blocks, voids) as already
rasterised for the walkable mask (``WalkableGrid.free``): k is the number of free ↔ blocked
changes met along the straight line, sampled every half cell. A ray through a shop crosses two
walls, a source inside a shop one to get out; two shops sharing a wall merge into one blocked
run on the raster, so that shared wall is not counted (the plan's polygons are not kept with
the raster).

``fit_wall_loss`` fits L per floor, with each source's P₁ and n, by robust least squares over
the survey's heard (reference, source) pairs — the survey only, never positioning results.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

# Samples per raster cell along a ray: one per cell catches every wall one cell thick but corner
# clips (a shop's outline is many cells thick); a mall ray of 200 m on a 0.5 m raster is 400
# samples.
SAMPLES_PER_CELL = 1
# Points per chunk of the (points × samples) lookup, to keep it within a few MB.
CHUNK_POINTS = 2048
# Weak prior on the per-wall loss, dB: indoor partitions lose 3–10 dB each (COST-231 gives
# 3.4 dB for light walls, 6.9 dB for thick ones); the prior only matters with few crossings.
WALL_LOSS_PRIOR_DB = 3.0
WALL_LOSS_PRIOR_SIGMA_DB = 3.0
WALL_LOSS_LIMITS_DB = (0.0, 15.0)
# Crossings beyond this many add no more loss: the ray's last walls are diffracted around
# (the multi-wall model's known overestimate through many walls). On held-out survey scans of
# the recordings (``benchmarks/wall_residual.py``) a cap of 2 fits better than 1 or 6.
MAX_WALLS = 2
FIT_ROUNDS = 8


def wall_crossings(
    free: NDArray[np.bool_], cell_m: float, source_xy: tuple[float, float], points: Array
) -> NDArray[np.int64]:
    """Walls crossed by the straight ray from ``source_xy`` to each point of ``points`` (n, 2).

    ``free[row, col]`` is the walkable raster (row 0 south, cell side ``cell_m``; outside it is
    blocked). The ray is sampled at i/S for i < S (S from the longest ray) and its end is taken
    as free — the phone stands on the floor even where a coarse cell centre does not — so a
    point in the open beside an open-floor source counts 0, and k = Σ [sᵢ ≠ sᵢ₊₁].

    >>> free = np.ones((1, 8), bool); free[0, 3:5] = False
    >>> wall_crossings(free, 1.0, (0.5, 0.5), np.array([[2.5, 0.5], [7.5, 0.5]])).tolist()
    [0, 2]
    """
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    out = np.zeros(len(points), dtype=np.int64)
    if len(points) == 0:
        return out
    sx, sy = source_xy
    # A blocked border one cell wide: every sample outside the raster is clipped onto it, so the
    # lookup is one flat take.
    rows, cols = free.shape[0] + 2, free.shape[1] + 2
    padded = np.zeros((rows, cols), dtype=bool)
    padded[1:-1, 1:-1] = free
    flat = padded.ravel()
    # Points by distance, in chunks sampled by their own longest ray.
    dist = np.hypot(points[:, 0] - sx, points[:, 1] - sy)
    order = np.argsort(dist, kind="stable")
    for start in range(0, len(points), CHUNK_POINTS):
        pick = order[start : start + CHUNK_POINTS]
        p = points[pick]
        samples = max(2, math.ceil(float(dist[pick].max()) * SAMPLES_PER_CELL / cell_m))
        f = np.arange(samples) / samples
        x = (sx + f[None, :] * (p[:, 0:1] - sx)) / cell_m + 1.0
        y = (sy + f[None, :] * (p[:, 1:2] - sy)) / cell_m + 1.0
        c = np.clip(np.floor(x), 0, cols - 1).astype(np.int64)
        r = np.clip(np.floor(y), 0, rows - 1).astype(np.int64)
        state = flat.take(r * cols + c)
        state = np.concatenate([state, np.ones((len(p), 1), dtype=bool)], axis=1)
        out[pick] = (state[:, 1:] != state[:, :-1]).sum(axis=1)
    return out


def wall_term(k: NDArray[np.int64]) -> Array:
    """The loss regressor: walls crossed, capped at MAX_WALLS."""
    return np.minimum(k, MAX_WALLS).astype(np.float64)


def fit_level_given_walls(
    z: Array,
    log_d: Array,
    walls: Array,
    wall_loss_db: float,
    exponent_prior: float,
    exponent_sigma: float,
    sigma_db: float,
    huber_db: float,
    exponent_limits: tuple[float, float],
) -> tuple[float, float]:
    """(P₁, n) of one source given L: Huber-IRLS least squares of z + L·k = P₁ − 10·n·log₁₀ d
    with the prior n ~ N(exponent_prior, exponent_sigma²) as a pseudo-observation."""
    target = z + wall_loss_db * walls
    design = np.column_stack([np.ones_like(log_d), -10.0 * log_d])
    w = np.full(len(z), 1.0 / sigma_db**2)
    theta = np.array([float(np.mean(target + 10.0 * exponent_prior * log_d)), exponent_prior])
    prior = np.diag([1e-6, 1.0 / exponent_sigma**2])
    for _ in range(4):
        normal = design.T @ (w[:, None] * design) + prior
        rhs = design.T @ (w * target) + prior @ np.array([0.0, exponent_prior])
        theta = np.linalg.solve(normal, rhs)
        theta[1] = float(np.clip(theta[1], *exponent_limits))
        e = target - design @ theta
        w = np.minimum(1.0, huber_db / np.maximum(np.abs(e), 1e-9)) / sigma_db**2
    return float(theta[0]), float(theta[1])


def fit_wall_loss(
    pairs: list[tuple[Array, Array, Array]],
    exponent_prior: float,
    exponent_sigma: float,
    sigma_db: float,
    huber_db: float,
    exponent_limits: tuple[float, float],
) -> float:
    """One per-wall loss L for a floor, from several sources' heard references.

    ``pairs`` holds per source (z, log₁₀ d, walls crossed). Alternates: each source's (P₁, n)
    given L (``fit_level_given_walls``), then L given them in closed form,
    L = Σ w·k·(m₀ − z) / (Σ w·k² + 1/σ_L²) with m₀ = P₁ − 10·n·log₁₀ d and the prior's mean
    added to the numerator, w the Huber weights; clipped to WALL_LOSS_LIMITS_DB.
    """
    loss = WALL_LOSS_PRIOR_DB
    args = (exponent_prior, exponent_sigma, sigma_db, huber_db, exponent_limits)
    for _ in range(FIT_ROUNDS):
        num = WALL_LOSS_PRIOR_DB / WALL_LOSS_PRIOR_SIGMA_DB**2
        den = 1.0 / WALL_LOSS_PRIOR_SIGMA_DB**2
        for z, log_d, walls in pairs:
            p1, n = fit_level_given_walls(z, log_d, walls, loss, *args)
            free_space = p1 - 10.0 * n * log_d
            e = z - (free_space - loss * walls)
            w = np.minimum(1.0, huber_db / np.maximum(np.abs(e), 1e-9)) / sigma_db**2
            num += float((w * walls * (free_space - z)).sum())
            den += float((w * walls * walls).sum())
        loss = float(np.clip(num / den, *WALL_LOSS_LIMITS_DB))
    return loss
