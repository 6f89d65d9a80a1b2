"""Map-constrained particle layer: many position hypotheses until map and radio agree.

Each particle is a hypothesis ``(x, y, heading offset δ, step scale s)``. On a step of
Weinberg length L at gyro-steadied heading ψ a particle moves by ``s·L`` along ``ψ + δ`` (both
perturbed); a particle whose move crosses anything off walkable floor anywhere along the step
is dropped (weight 0; times ε with ``wall_floor=ε``, the soft plan) — that is the floor-plan
constraint, and it is what sorts corridors from shop interiors. A radio fix re-weights particles
by a *mixture* likelihood over the fix's candidate reference positions, so two corridors that
sound alike both stay alive until the walk's shape against the walls separates them. A few
particles are re-drawn from each fix (injection), so a cloud that locked onto the wrong corridor
can still be corrected.

All maths are functions over arrays (shape ``(n,)`` per component), so a batched version across
shoppers is a reshape away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from positioning.walkable import WalkableGrid

Array = NDArray[np.float64]

PARTICLES = 2000
# Spread of a fresh hypothesis around a radio candidate, m (≈ the candidate's own error).
INIT_POSITION_SIGMA_M = 6.0
# Rotation-vector heading can be off by a constant (phone held askew, magnetic bias), °.
INIT_HEADING_OFFSET_SIGMA_DEG = 10.0
# A heavier-tailed prior for that offset (``TrackerSettings(offset_prior="mixture")``): with
# prior probability WIDE_OFFSET_MASS the phone is held far askew (sideways, tilted toward the
# shopper), δ ~ N(h, 10°) for h one of WIDE_OFFSETS_DEG; the survey's walk biases are mostly
# within ±20° but a few walks are 30–60° off on their first leg, where N(0, 10°) holds no
# particle at all. A share WIDE_OFFSET_SHARE of the particles carries that component (more
# particles than its mass, so each hypothesis has ~30 particles for the walls and the radio to
# promote), each weighted by mass / share (importance weights: the report sees the prior's mass,
# so a right main mode is not dragged by them).
WIDE_OFFSETS_DEG = (-90.0, -60.0, -30.0, 30.0, 60.0, 90.0)
WIDE_OFFSET_MASS = 0.05
WIDE_OFFSET_SHARE = 0.10
# The mixture is a question for the first leg only: held straight or askew? It is settled for
# good (``settle_wide_offsets``) as soon as the evidence either way is strong — a Bayes factor
# of 10 (Jeffreys' "strong") against the prior odds — or, at the latest, this many
# steps (≈ 20 m) after the cloud was drawn, for whichever has more posterior mass. Left open,
# askew hypotheses drifting in an open atrium outlive a right main mode that stumbles on a
# wall the plan draws a metre off, and inherit the track.
WIDE_OFFSET_BAYES_FACTOR = 10.0
WIDE_OFFSET_DECIDE_STEPS = 30
# Weinberg K is calibrated on other people's steps: allow ±15 % for this shopper.
INIT_SCALE_SIGMA = 0.15
# Per-step noise: heading jitter of a single step, °; length noise, fraction of the step.
STEP_HEADING_SIGMA_DEG = 8.0
STEP_LENGTH_SIGMA = 0.15
# Random walks letting the offset and the scale drift with the phone grip and the gait.
OFFSET_DRIFT_DEG_PER_STEP = 1.0
SCALE_DRIFT_PER_STEP = 0.01
SCALE_LIMITS = (0.6, 1.5)
# ``propagate_step(early_scale=True)`` (``TrackerSettings(scale_drift="early")``): the scale's
# random-walk variance on the cloud's k-th step is q·max(1, N/(k + 1)) with N this many steps
# (≈ 20 m, the first leg): the walk's own stride is learnt while the first corridor ends and
# scans arrive, the extra spread ≈ q·N·ln N (SD ≈ 0.1) on top of the prior's 0.15.
EARLY_SCALE_STEPS = 30
# ``propagate_step(wall_floor=ε)`` (``TrackerSettings(wall_floor=ε)``): a step that leaves
# walkable floor anywhere along it multiplies the particle's weight by ε instead of killing it.
# 0 is the hard plan (today's); ε must stay below 1, where the plan would say nothing.
WALL_FLOOR_DEFAULT = 0.0
# Radio likelihood kernel around each candidate reference, m: reference positions are
# interpolated along survey paths and RSSI varies over a few metres.
RADIO_KERNEL_M = 6.0
# With the single-Gaussian fix likelihood, the fix's own 1σ times this.
FIX_SIGMA_SCALE = 1.0
# Heavy tail of the radio likelihood: a fix this (relative) likely everywhere, so one bad scan
# cannot wipe out the true hypothesis.
RADIO_OUTLIER_FLOOR = 0.05
# Share of particles re-drawn from each radio fix's candidates: keeps other places alive.
INJECTION_SHARE = 0.03
# Resample when the effective sample size drops below this share of the particles.
RESAMPLE_ESS_SHARE = 0.5
# Jitter after resampling, m: keeps duplicated particles from collapsing onto one point.
RESAMPLE_JITTER_M = 0.15
# The reported position is the mean of the strongest cluster: particles within this radius of
# the heaviest cell of a grid this coarse.
CLUSTER_CELL_M = 4.0
CLUSTER_RADIUS_M = 12.0


@dataclass
class ParticleCloud:
    """Particle states and normalised weights."""

    x: Array
    y: Array
    offset_rad: Array
    scale: Array
    weight: Array
    # Each particle's recent evidence (decayed sum of log likelihoods along its own path; see
    # ``positioning.hypotheses``): carried through resampling, not part of the weight.
    evidence: Array = field(default_factory=lambda: np.zeros(0))
    # Which particles carry the heading-offset prior's wide component (``new_cloud``), until
    # ``settle_wide_offsets`` ends the mixture; and the steps walked since the cloud was drawn.
    wide: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    steps: int = 0

    def __post_init__(self) -> None:
        if len(self.evidence) != len(self.x):
            self.evidence = np.zeros(len(self.x))
        if len(self.wide) != len(self.x):
            self.wide = np.zeros(len(self.x), dtype=bool)

    def __len__(self) -> int:
        return len(self.x)

    def copy(self) -> ParticleCloud:
        return ParticleCloud(
            self.x.copy(),
            self.y.copy(),
            self.offset_rad.copy(),
            self.scale.copy(),
            self.weight.copy(),
            self.evidence.copy(),
            self.wide.copy(),
            self.steps,
        )


def sample_around(
    centres_xy: Array,
    centre_weights: Array,
    n: int,
    sigma_m: float,
    grid: WalkableGrid | None,
    rng: np.random.Generator,
    tries: int = 6,
) -> tuple[Array, Array]:
    """``n`` walkable points drawn from a Gaussian mixture over ``centres_xy``.

    Points that land off the floor are redrawn up to ``tries`` times, then snapped to the
    nearest free cell centre of their candidate (so the result is always walkable).
    """
    pick = rng.choice(len(centres_xy), size=n, p=centre_weights)
    x = centres_xy[pick, 0] + rng.normal(0.0, sigma_m, n)
    y = centres_xy[pick, 1] + rng.normal(0.0, sigma_m, n)
    if grid is None:
        return x, y
    for _ in range(tries):
        bad = ~grid.is_free(x, y)
        if not bad.any():
            return x, y
        x[bad] = centres_xy[pick[bad], 0] + rng.normal(0.0, sigma_m, bad.sum())
        y[bad] = centres_xy[pick[bad], 1] + rng.normal(0.0, sigma_m, bad.sum())
    bad = ~grid.is_free(x, y)
    if bad.any():
        free = grid.free_cells_xy()
        for i in np.flatnonzero(bad):
            nearest = np.argmin((free[:, 0] - x[i]) ** 2 + (free[:, 1] - y[i]) ** 2)
            x[i], y[i] = free[nearest]
    return x, y


def new_cloud(
    xy: tuple[Array, Array],
    n: int,
    rng: np.random.Generator,
    offset_sigma_deg: float,
    wide_offsets: bool = False,
) -> ParticleCloud:
    """Fresh hypotheses at the given positions with prior heading offsets and step scales.

    ``wide_offsets``: the offset prior is the mixture (1 − m)·N(0, σ) + m·mean_h N(h, σ) over
    ``WIDE_OFFSETS_DEG``, m = ``WIDE_OFFSET_MASS``; every 1/``WIDE_OFFSET_SHARE``-th particle
    draws the wide component (the hypotheses in turn), the others the main one, and weights
    are prior / proposal: m / share for the wide ones, (1 − m) / (1 − share) for the rest. It
    draws the same random numbers as without (the wide particles' δ is h plus the same normal
    draw), so the particles' positions, scales and later noise are unchanged.
    """
    offset = rng.normal(0.0, math.radians(offset_sigma_deg), n)
    weight = np.full(n, 1.0 / n)
    wide = np.zeros(n, dtype=bool)
    if wide_offsets and n >= 2:
        picked = np.arange(0, n, round(1.0 / WIDE_OFFSET_SHARE))
        hypotheses = np.radians(np.array(WIDE_OFFSETS_DEG))
        offset[picked] += hypotheses[np.arange(len(picked)) % len(hypotheses)]
        wide[picked] = True
        share = len(picked) / n
        weight[:] = (1.0 - WIDE_OFFSET_MASS) / (1.0 - share)
        weight[wide] = WIDE_OFFSET_MASS / share
        weight /= weight.sum()
    return ParticleCloud(
        xy[0],
        xy[1],
        offset,
        np.clip(rng.normal(1.0, INIT_SCALE_SIGMA, n), *SCALE_LIMITS),
        weight,
        wide=wide,
    )


def settle_wide_offsets(
    cloud: ParticleCloud, grid: WalkableGrid | None, rng: np.random.Generator
) -> None:
    """End the offset prior's mixture once the first leg has answered "straight or askew?".

    With W the wide particles' posterior mass and m its prior, the Bayes factor for "askew" is
    B = (W / (1 − W)) / (m / (1 − m)), Wald's sequential test: B ≥ WIDE_OFFSET_BAYES_FACTOR
    keeps the wide particles and drops the others, B ≤ 1/WIDE_OFFSET_BAYES_FACTOR the reverse;
    undecided once the cloud has walked WIDE_OFFSET_DECIDE_STEPS, keep the component holding
    more mass (the MAP model) and drop the other. Dropped particles are resampled away at once;
    the survivors go on as ordinary particles (no more mixture). A no-op once settled.
    """
    if not cloud.wide.any():
        return
    wide_mass = float(cloud.weight[cloud.wide].sum())
    prior_odds = WIDE_OFFSET_MASS / (1.0 - WIDE_OFFSET_MASS)
    bayes_factor = wide_mass / max(1.0 - wide_mass, 1e-300) / prior_odds
    strong = max(bayes_factor, 1.0 / max(bayes_factor, 1e-300)) >= WIDE_OFFSET_BAYES_FACTOR
    if not strong and cloud.steps < WIDE_OFFSET_DECIDE_STEPS:
        return
    keep = cloud.wide if (bayes_factor >= 1.0 if strong else wide_mass > 0.5) else ~cloud.wide
    kept = np.where(keep, cloud.weight, 0.0)
    cloud.wide = np.zeros(len(cloud), dtype=bool)
    if kept.sum() <= 0:
        return
    cloud.weight = kept / kept.sum()
    resample(cloud, grid, rng, force=True)


def propagate_step(
    cloud: ParticleCloud,
    step_m: float,
    heading_rad: float,
    grid: WalkableGrid | None,
    rng: np.random.Generator,
    early_scale: bool = False,
    wall_floor: float = WALL_FLOOR_DEFAULT,
) -> tuple[float, float]:
    """Move every particle by one step; drop those that leave the floor. Returns the mean move.

    x ← x + s·L·(1 + ε_L)·cos(ψ + δ + ε_ψ), y likewise with sin; δ, s random-walk.
    If every particle would leave the floor the move is kept without the constraint (a gap in
    the plan, not a reason to lose the shopper). ``early_scale``: the scale's random walk is
    wider over the first EARLY_SCALE_STEPS (the same normal draws, scaled). ``wall_floor`` ε:
    w ← w·ε, not 0, for a step through or onto anything off the floor (a soft plan: the walls
    become a likelihood with a floor, like the radio's, so a cloud on the wrong side of a wall
    or a plan drawn a metre off does not kill the truth for good; k steps off the floor cost
    εᵏ, so a shop block is still crossed by nobody).
    """
    n = len(cloud)
    cloud.offset_rad += rng.normal(0.0, math.radians(OFFSET_DRIFT_DEG_PER_STEP), n)
    drift = SCALE_DRIFT_PER_STEP
    if early_scale:
        drift *= math.sqrt(max(1.0, EARLY_SCALE_STEPS / (cloud.steps + 1)))
    cloud.scale = np.clip(cloud.scale + rng.normal(0.0, drift, n), *SCALE_LIMITS)
    length = step_m * cloud.scale * (1.0 + rng.normal(0.0, STEP_LENGTH_SIGMA, n))
    theta = (
        heading_rad + cloud.offset_rad + rng.normal(0.0, math.radians(STEP_HEADING_SIGMA_DEG), n)
    )
    dx, dy = length * np.cos(theta), length * np.sin(theta)
    new_x, new_y = cloud.x + dx, cloud.y + dy
    if grid is not None:
        ok = grid.is_free_segment(cloud.x, cloud.y, new_x, new_y)
        # p(step | plan) = 1 on the floor, ε through or onto a wall; ε = 0 is the hard plan.
        survivors = cloud.weight * np.where(ok, 1.0, wall_floor)
        total = survivors.sum()
        if total > 0:
            cloud.weight = survivors / total
    cloud.x, cloud.y = new_x, new_y
    cloud.steps += 1
    w = cloud.weight
    return float(w @ dx), float(w @ dy)


def radio_likelihood(
    x: Array, y: Array, candidates_xy: Array, candidate_weights: Array, kernel_m: float
) -> Array:
    """p(fix | particle) ∝ (1 − ε)·Σ_c w_c·exp(−|p − c|²/2σ²) / max + ε  (heavy-tailed mixture)."""
    d2 = (x[:, None] - candidates_xy[None, :, 0]) ** 2 + (
        y[:, None] - candidates_xy[None, :, 1]
    ) ** 2
    mixture = np.exp(-0.5 * d2 / kernel_m**2) @ candidate_weights
    peak = mixture.max()
    relative = mixture / peak if peak > 0 else mixture
    return (1.0 - RADIO_OUTLIER_FLOOR) * relative + RADIO_OUTLIER_FLOOR


def tempered(log_likelihood: Array) -> Array:
    """exp(log L − max), floored like ``radio_likelihood`` so one bad scan cannot kill the truth."""
    relative = np.exp(log_likelihood - log_likelihood.max())
    return (1.0 - RADIO_OUTLIER_FLOOR) * relative + RADIO_OUTLIER_FLOOR


def reweight(cloud: ParticleCloud, likelihood: Array) -> None:
    """Bayes: w ← w·p(z|x) / Σ."""
    w = cloud.weight * likelihood
    total = w.sum()
    cloud.weight = w / total if total > 0 else np.full(len(cloud), 1.0 / len(cloud))


def effective_sample_size(weight: Array) -> float:
    """ESS = 1 / Σ w²."""
    return float(1.0 / np.sum(weight**2))


def systematic_resample(weight: Array, rng: np.random.Generator) -> NDArray[np.int64]:
    """Indices by systematic resampling (one uniform draw, n evenly spaced pointers)."""
    n = len(weight)
    positions = (rng.random() + np.arange(n)) / n
    cumulative = np.cumsum(weight)
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, positions)


def resample(
    cloud: ParticleCloud, grid: WalkableGrid | None, rng: np.random.Generator, force: bool = False
) -> None:
    """Resample when degenerate (or ``force``), with a little walkable jitter."""
    if not force and effective_sample_size(cloud.weight) >= RESAMPLE_ESS_SHARE * len(cloud):
        return
    idx = systematic_resample(cloud.weight, rng)
    n = len(idx)
    x = cloud.x[idx] + rng.normal(0.0, RESAMPLE_JITTER_M, n)
    y = cloud.y[idx] + rng.normal(0.0, RESAMPLE_JITTER_M, n)
    if grid is not None:
        off = ~grid.is_free(x, y)
        x[off], y[off] = cloud.x[idx][off], cloud.y[idx][off]
    cloud.x, cloud.y = x, y
    cloud.offset_rad = cloud.offset_rad[idx]
    cloud.scale = cloud.scale[idx]
    cloud.evidence = cloud.evidence[idx]
    cloud.wide = cloud.wide[idx]
    cloud.weight = np.full(n, 1.0 / n)


def inject(
    cloud: ParticleCloud,
    candidates_xy: Array,
    candidate_weights: Array,
    share: float,
    grid: WalkableGrid | None,
    rng: np.random.Generator,
    sigma_m: float = INIT_POSITION_SIGMA_M,
    mass: float | None = None,
) -> None:
    """Replace the lightest ``share`` of particles with draws from the radio candidates.

    They take the cloud's mean weight of the replaced ones (or, given ``mass``, that share of
    the total weight between them, the rest scaled to 1 − mass) and the cloud's median offset
    and scale, so they are new places, not new gaits. ``sigma_m``: spread around each centre.
    """
    m = round(share * len(cloud))
    if m == 0:
        return
    lightest = np.argpartition(cloud.weight, m - 1)[:m]
    x, y = sample_around(candidates_xy, candidate_weights, m, sigma_m, grid, rng)
    cloud.x[lightest], cloud.y[lightest] = x, y
    cloud.offset_rad[lightest] = np.median(cloud.offset_rad)
    cloud.scale[lightest] = np.median(cloud.scale)
    # New places have no path yet: they start with the cloud's typical evidence, neither
    # favoured nor condemned.
    cloud.evidence[lightest] = np.median(cloud.evidence)
    cloud.wide[lightest] = False  # the median offset: the main component's
    if mass is None:
        cloud.weight[lightest] = cloud.weight[lightest].mean()
        cloud.weight /= cloud.weight.sum()
        return
    cloud.weight[lightest] = 0.0
    kept = cloud.weight.sum()
    if kept > 0:
        cloud.weight *= (1.0 - mass) / kept
    cloud.weight[lightest] = mass / m if kept > 0 else 1.0 / m
    cloud.weight /= cloud.weight.sum()


def onto_floor(cloud: ParticleCloud, x: float, y: float, grid: WalkableGrid) -> tuple[float, float]:
    """The point itself if walkable, else the nearest particle (a mean of two aisles can fall
    on the shelf between them; an estimate should stand where a shopper can)."""
    if grid.is_free(np.array([x]), np.array([y]))[0]:
        return x, y
    d2 = np.where(cloud.weight > 0, (cloud.x - x) ** 2 + (cloud.y - y) ** 2, np.inf)
    nearest = int(np.argmin(d2))
    return float(cloud.x[nearest]), float(cloud.y[nearest])


def geometric_median(
    cloud: ParticleCloud, iterations: int = 50, start: tuple[float, float] | None = None
) -> tuple[float, float]:
    """The weighted geometric median of the particles (Weiszfeld's iteration).

    argmin_m Σ wᵢ·|pᵢ − m|: the point of least expected distance to the truth when no single
    hypothesis stands out (e.g. the whole survey before any radio fix), where the mode is a
    coin toss among far-apart places. ``start``: where the iteration begins (default the
    weighted mean); the minimum is unique (a convex sum), so it only changes how soon it stops.
    """
    return weighted_geometric_median(cloud.x, cloud.y, cloud.weight, iterations, start)


def weighted_geometric_median(
    x: Array,
    y: Array,
    weight: Array,
    iterations: int = 50,
    start: tuple[float, float] | None = None,
    tolerance_m: float = 1e-3,
) -> tuple[float, float]:
    """argmin_m Σ wᵢ·|pᵢ − m| by Weiszfeld with Vardi and Zhang's (2000) fix at data points.

    Weiszfeld: T = Σ(wᵢ/dᵢ)·pᵢ / Σ(wᵢ/dᵢ), dᵢ = |pᵢ − m|. An iterate on a data point (weight η
    there) would stick to it; Vardi–Zhang moves on by m ← (1 − γ)·T + γ·m, γ = min(1, η/r), with
    T and R = Σ(wᵢ/dᵢ)·(pᵢ − m) over the other points and r = |R| (stays when r ≤ η: then the
    point is the median).
    """
    total = float(weight.sum())
    mx, my = start if start is not None else (float(weight @ x) / total, float(weight @ y) / total)
    for _ in range(iterations):
        d = np.hypot(x - mx, y - my)
        on = d < 1e-9
        k = np.where(on, 0.0, weight / np.where(on, 1.0, d))
        ksum = float(k.sum())
        if ksum == 0.0:
            return mx, my  # every point is here
        tx, ty = float(k @ x) / ksum, float(k @ y) / ksum
        eta = float(weight[on].sum())
        r = ksum * math.hypot(tx - mx, ty - my)  # |R| = Σk·|T − m|
        gamma = min(1.0, eta / r) if r > 0 else 1.0
        nx, ny = (1 - gamma) * tx + gamma * mx, (1 - gamma) * ty + gamma * my
        if math.hypot(nx - mx, ny - my) < tolerance_m:
            return nx, ny
        mx, my = nx, ny
    return mx, my


def cluster_estimate(cloud: ParticleCloud) -> tuple[float, float, float]:
    """(x, y, accuracy_m) of the heaviest particle cluster.

    The heaviest ``CLUSTER_CELL_M`` cell picks the mode; the estimate is the weighted mean of the
    particles within ``CLUSTER_RADIUS_M`` of it (a mean over two corridors would sit in a shop).
    Accuracy is the weighted RMS distance of *all* particles from it: it stays large while other
    hypotheses carry weight.
    """
    w = cloud.weight
    cx = np.floor(cloud.x / CLUSTER_CELL_M).astype(np.int64)
    cy = np.floor(cloud.y / CLUSTER_CELL_M).astype(np.int64)
    key = cx * 1_000_003 + cy
    uniq, inverse = np.unique(key, return_inverse=True)
    mass = np.bincount(inverse, weights=w, minlength=len(uniq))
    heavy = inverse == int(np.argmax(mass))
    hw = w[heavy] / w[heavy].sum()
    mx, my = float(hw @ cloud.x[heavy]), float(hw @ cloud.y[heavy])
    near = (cloud.x - mx) ** 2 + (cloud.y - my) ** 2 <= CLUSTER_RADIUS_M**2
    nw = w[near] / w[near].sum()
    x, y = float(nw @ cloud.x[near]), float(nw @ cloud.y[near])
    return x, y, rms_distance(cloud, x, y)


def rms_distance(cloud: ParticleCloud, x: float, y: float) -> float:
    """√(Σ wᵢ·|pᵢ − (x, y)|²): how far the whole cloud lies from a reported point."""
    return math.sqrt(float(cloud.weight @ ((cloud.x - x) ** 2 + (cloud.y - y) ** 2)))
