"""The particle layer's hypotheses: clusters of particles, each a place the shopper may be.

A cloud that has not made up its mind holds a few far-apart groups (two corridors that sound
alike, the same aisle in two wings). ``split`` names them: the heaviest ``CLUSTER_CELL_M`` cell
picks a centre, the particles within ``CLUSTER_RADIUS_M`` of that cell's mean are one hypothesis
(the same rule as ``particles.cluster_estimate``), and the rest are split again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from positioning.particles import (
    CLUSTER_CELL_M,
    CLUSTER_RADIUS_M,
    ParticleCloud,
    weighted_geometric_median,
)

# Hypotheses lighter than this share of the weight are not named (a few stray particles from
# injection are not a place); at most this many are.
MIN_HYPOTHESIS_MASS = 0.01
MAX_HYPOTHESES = 8


@dataclass(frozen=True)
class Hypothesis:
    """One cluster: its weighted mean, its share of the weight, which particles it holds."""

    x: float
    y: float
    mass: float
    members: NDArray[np.bool_]


def split(cloud: ParticleCloud) -> list[Hypothesis]:
    """The cloud's hypotheses, heaviest first (each particle in at most one)."""
    w = cloud.weight
    left = w > 0
    out: list[Hypothesis] = []
    while left.any() and len(out) < MAX_HYPOTHESES:
        cx, cy = _heaviest_cell_mean(cloud, left)
        members = left & ((cloud.x - cx) ** 2 + (cloud.y - cy) ** 2 <= CLUSTER_RADIUS_M**2)
        mass = float(w[members].sum())
        if mass < MIN_HYPOTHESIS_MASS:
            break
        mw = w[members] / mass
        out.append(
            Hypothesis(float(mw @ cloud.x[members]), float(mw @ cloud.y[members]), mass, members)
        )
        left &= ~members
    return out


def median_of_hypotheses(cloud: ParticleCloud, min_mass: float) -> tuple[float, float]:
    """The weighted geometric median of the hypotheses' means holding ≥ ``min_mass`` each.

    argmin_m Σ_h mass_h·|μ_h − m| over the named places only: it hedges between far-apart
    corridors in proportion to their weight, as the whole cloud's median does, but a spread-out
    tail of stray particles (injection, the first fix's outliers) has no say. One hypothesis
    holding more than half the weight is reported as it is (the median of weighted points sits
    on any point holding a majority).
    """
    named = [h for h in split(cloud) if h.mass >= min_mass] or split(cloud)[:1]
    x = np.array([h.x for h in named])
    y = np.array([h.y for h in named])
    mass = np.array([h.mass for h in named])
    # A handful of points: iterate to a micrometre (Weiszfeld creeps near a data point).
    start = (named[0].x, named[0].y)
    return weighted_geometric_median(x, y, mass, iterations=2000, start=start, tolerance_m=1e-6)


def _heaviest_cell_mean(cloud: ParticleCloud, among: NDArray[np.bool_]) -> tuple[float, float]:
    """Weighted mean of the particles (of ``among``) in the heaviest CLUSTER_CELL_M cell."""
    x, y, w = cloud.x[among], cloud.y[among], cloud.weight[among]
    inverse = cell_index(x, y)
    heavy = inverse == int(np.argmax(np.bincount(inverse, weights=w)))
    hw = w[heavy] / w[heavy].sum()
    return float(hw @ x[heavy]), float(hw @ y[heavy])


# Evidence is a decayed sum: a term τ seconds old counts e⁻¹ as much as a fresh one. Long enough
# to hold several scans (one every ~2 s) and a turn or two, short enough that an early mistake
# of the radio is forgotten.
EVIDENCE_TAU_S = 15.0
# Floor on a cell's wall-survival share, as the radio likelihood's floor: one step into a gap
# of the plan must not condemn a place for good.
SURVIVAL_FLOOR = 0.05
# Only hypotheses holding at least this share of the weight may be reported: a handful of
# injected particles that happen to agree with one scan is not a place yet.
REPORT_MIN_MASS = 0.05
# score = mean evidence + MASS_WEIGHT·log(mass): 0 scores a hypothesis by its path alone;
# 1 is the posterior's own ranking (mass) tilted toward the recently consistent path.
MASS_WEIGHT = 0.0


class PathEvidence:
    """Scores hypotheses by how well their particles' own recent paths fit the radio and walls.

    The weight of a hypothesis after resampling is its particle count, which carries everything
    that ever happened to it — how many first-fix candidates fell there, injections, a scan long
    forgotten. Each particle instead keeps ``evidence``: the decayed sum of the log likelihood of
    every scan at its own position and of the log share of its 4 m neighbours that survived each
    step (a corridor that turns where the shopper turned keeps its particles; one that does not
    loses them to the walls). A hypothesis scores its particles' weighted mean evidence, which
    does not depend on how many particles it holds, and the estimate reports the best one.
    """

    def __init__(self) -> None:
        self._last_ms: int | None = None

    def on_fix(self, cloud: ParticleCloud, likelihood: NDArray[np.float64], t_ms: int) -> None:
        """Add each particle's log radio likelihood (relative to the best, floored)."""
        self._decay(cloud, t_ms)
        cloud.evidence += np.log(likelihood / likelihood.max())

    def on_step(
        self,
        cloud: ParticleCloud,
        x0: NDArray[np.float64],
        y0: NDArray[np.float64],
        alive_before: NDArray[np.bool_],
        t_ms: int,
    ) -> None:
        """Add the log share of each particle's start cell that survived the step's walls."""
        self._decay(cloud, t_ms)
        cloud.evidence += np.log(
            np.maximum(survival_share(x0, y0, alive_before, cloud.weight > 0), SURVIVAL_FLOOR)
        )

    def choose(self, cloud: ParticleCloud) -> Hypothesis | None:
        """The reportable hypothesis whose particles' paths fit best (None: no hypothesis)."""
        best, best_score = None, -np.inf
        for h in split(cloud):
            if h.mass < REPORT_MIN_MASS and best is not None:
                continue
            w = cloud.weight[h.members]
            score = float(w @ cloud.evidence[h.members] / w.sum()) + MASS_WEIGHT * np.log(h.mass)
            if score > best_score:
                best, best_score = h, score
        return best

    def _decay(self, cloud: ParticleCloud, t_ms: int) -> None:
        if self._last_ms is not None and t_ms > self._last_ms:
            cloud.evidence *= np.exp(-(t_ms - self._last_ms) / 1000.0 / EVIDENCE_TAU_S)
        self._last_ms = t_ms if self._last_ms is None else max(self._last_ms, t_ms)


def survival_share(
    x0: NDArray[np.float64],
    y0: NDArray[np.float64],
    alive_before: NDArray[np.bool_],
    alive_after: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """For each particle, the share of the live particles of its start cell still alive.

    Cells are CLUSTER_CELL_M squares of the positions before the step; a particle dead before
    the step gets its cell's share too (it is resampled away anyway).
    """
    inverse = cell_index(x0, y0)
    before = np.bincount(inverse, weights=alive_before.astype(float))
    after = np.bincount(inverse, weights=(alive_before & alive_after).astype(float))
    share = np.divide(after, before, out=np.ones_like(after), where=before > 0)
    return share[inverse]


def cell_index(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
    """Each point's CLUSTER_CELL_M cell, numbered 0…cells−1 in order of the cells' keys."""
    key = np.floor(x / CLUSTER_CELL_M).astype(np.int64) * 1_000_003 + np.floor(
        y / CLUSTER_CELL_M
    ).astype(np.int64)
    return np.unique(key, return_inverse=True)[1]
