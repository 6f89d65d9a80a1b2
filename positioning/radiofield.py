"""A coverage-aware radio field: per source, a log-distance mean and a Gaussian-process residual.

Each radio source j (Wi-Fi BSSID or beacon) gets

- a **propagation model** fitted to every reference that heard it, not tied to where the
  surveyor walked: position (xⱼ, yⱼ), 1 m level P₁ⱼ and exponent nⱼ of
  ``m(p) = P₁ − 10·n·log₁₀ √(|p − sⱼ|² + h²)`` by robust (Huber) Gauss–Newton, with weak priors
  (n near 2.5, the position near the strongest references' centroid) and the position kept
  inside the floor's bounds (``fit_source_models``);
- a **Gaussian process** over what the model misses, r = RSSI − m(p), with a squared-exponential
  kernel ``σ_f²·exp(−|p − p'|²/2ℓ²)`` and reading noise σ_n². ℓ, σ_f and σ_n are fitted per
  map by maximum marginal likelihood over its own references (``fit_field_hyper``), never
  against positioning results.

The field predicts, at any place p, a Gaussian for the level a phone there would hear:
mean μⱼ(p) = m(p) + k(p)ᵀ(K + N)⁻¹r and variance vⱼ(p) = σ_f² − k(p)ᵀ(K + N)⁻¹k(p) + σ_n².
Near references the variance is small and the likelihood sharp; away from them it grows to
σ_f² + σ_n², so an aisle no survey walked is neither favoured nor condemned by the residual —
only the propagation model speaks there (coverage-aware), instead of the survey path pulling
the cloud onto itself.

References heard the same source at nearly the same place many times (walks overlap): they are
averaged into support bins of ``SUPPORT_BIN_M`` (noise σ_n²/count), coarser for sources heard
almost everywhere, so each source's GP solves at most ``MAX_SUPPORT`` points. The field is
evaluated on a raster of ``FIELD_CELL_M`` cells of walkable floor, one source at a time when
first needed (``RadioField.prepare`` computes a list ahead), and the scan likelihood reads it
at the particles' cells.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.spatial import cKDTree

from positioning.radiomap import (
    EFFECTIVE_SOURCES,
    MIN_COMMON_SOURCES,
    MIN_REFERENCES_FOR_MODEL,
    MISSING_DBM,
    SOURCE_MODEL_SIGMA_DB,
    RadioMap,
)
from positioning.rssi_offset import marginal_log_likelihood
from positioning.scans import Fingerprint
from positioning.walkable import WalkableGrid
from positioning.walls import fit_level_given_walls, fit_wall_loss, wall_crossings, wall_term

Array = NDArray[np.float64]

# -- propagation model fit ---------------------------------------------------------------------
# Height of the source above the phone, m: √(d² + h²) is a smooth max(d, 1) and keeps the
# gradient finite when a reference stands under the source.
SOURCE_HEIGHT_M = 1.0
# Indoor path-loss exponents run 1.6 (corridor wave-guiding) to 4 (through shelving): the prior
# keeps a source heard from a short stretch from fitting an absurd exponent.
EXPONENT_PRIOR = 2.5
EXPONENT_PRIOR_SIGMA = 0.5
EXPONENT_LIMITS = (1.5, 5.0)
# A source heard only along one corridor cannot be told from its mirror image across it: a weak
# prior toward the strongest references' centroid settles that, m.
POSITION_PRIOR_SIGMA_M = 20.0
# RSSI scatter of one reading about the model, dB (weights the data against the priors), and
# the Huber threshold beyond which a residual (a body-shadowed reading) counts linearly.
FIT_RSSI_SIGMA_DB = 6.0
HUBER_DB = 6.0
FIT_ITERATIONS = 15
# Largest move of a source per Gauss–Newton step, m (a trust region).
MAX_STEP_M = 10.0
# Margin around the references' bounding box when no floor plan gives the bounds, m.
BOUNDS_MARGIN_M = 20.0

# -- Gaussian process ----------------------------------------------------------------------------
# Candidate length scales, m, and noise-to-signal variance ratios σ_n²/σ_f² searched by the
# marginal likelihood (σ_f² then has a closed form); spans indoor decorrelation from a shelf
# (2 m) to an open atrium (24 m).
LENGTH_SCALES_M = (2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0)
NOISE_RATIOS = (0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)
# The marginal likelihood is summed over this many sources (every k-th of those ranked by how
# many references heard them): one fit per map, not one per source.
HYPER_SOURCES = 60
HYPER_MIN_SUPPORT = 8
# Support bins, m; doubled for a source until it has at most MAX_SUPPORT bins.
SUPPORT_BIN_M = 2.0
MAX_SUPPORT = 64
# Raster of the field, m: finer than the 6 m k-NN kernel, coarse enough to hold a source's
# field (mean and variance, float32) over a 17,000 m² floor in 45 kB.
FIELD_CELL_M = 2.0
# Beyond this many length scales from every support point the residual has no say (k < 1e-2).
REACH_LENGTHS = 3.0
# The multi-wall mean's per-wall loss is fitted over this many well-heard sources (as the GP's
# hyperparameters: every k-th by coverage).
WALL_FIT_SOURCES = 60


@dataclass(frozen=True)
class SourceModels:
    """Per map column: source position, 1 m level, path-loss exponent; ``fitted`` False where
    too few references heard it (its other values are then meaningless)."""

    xy: Array  # (sources, 2)
    p1: Array  # (sources,)
    exponent: Array  # (sources,)
    fitted: NDArray[np.bool_]  # (sources,)

    def level_dbm(self, col: int, x: Array, y: Array) -> Array:
        """m(p) = P₁ − 10·n·log₁₀ √(|p − s|² + h²) for one source at points (x, y)."""
        d2 = (x - self.xy[col, 0]) ** 2 + (y - self.xy[col, 1]) ** 2 + SOURCE_HEIGHT_M**2
        return self.p1[col] - 5.0 * self.exponent[col] * np.log10(d2)


@dataclass(frozen=True)
class FieldHyper:
    """The GP's kernel length scale ℓ, signal σ_f and reading noise σ_n."""

    length_m: float
    signal_db: float
    noise_db: float


def fit_source_models(
    rssi: NDArray[np.float32],
    positions: Array,
    start_xy: Array,
    bounds: tuple[float, float, float, float],
) -> SourceModels:
    """Robust Gauss–Newton fit of (x, y, P₁, n) per source over every reference that heard it.

    Residual e = z − m(p); Jacobian of m: ∂/∂x_s = −(10n/ln 10)·(x_s − x)/d², likewise y,
    ∂/∂P₁ = 1, ∂/∂n = −10·log₁₀ d. Huber weights w = min(1, c/|e|) (IRLS); priors
    n ~ N(2.5, 0.5²) and s ~ N(start, 20 m²) enter as pseudo-observations; the step is
    (JᵀWJ/σ² + Λ)⁻¹(JᵀWe/σ² + Λ(prior − θ)), positions clipped to ``bounds``
    (x_min, y_min, x_max, y_max). All sources at once, over the heard (reference, source) pairs.
    """
    heard_all = rssi > MISSING_DBM
    fitted = heard_all.sum(axis=0) >= MIN_REFERENCES_FOR_MODEL
    n_src = rssi.shape[1]
    xy = np.asarray(start_xy, dtype=float).copy()
    p1 = np.full(n_src, np.nan)
    exponent = np.full(n_src, EXPONENT_PRIOR)
    cols = np.flatnonzero(fitted)
    if len(cols) == 0 or len(positions) == 0:
        return SourceModels(xy, p1, exponent, fitted)
    # The heard (reference, source) pairs only: a scan hears a tenth of a mall's sources.
    ref, src = np.nonzero(heard_all[:, cols])
    z = rssi[ref, cols[src]].astype(np.float64)
    px, py = positions[ref, 0], positions[ref, 1]
    count = np.bincount(src, minlength=len(cols)).astype(float)
    x0, y0 = xy[cols, 0].copy(), xy[cols, 1].copy()
    sx = np.clip(x0, bounds[0], bounds[2])
    sy = np.clip(y0, bounds[1], bounds[3])
    n = np.full(len(cols), EXPONENT_PRIOR)

    def per_source(values: Array) -> Array:
        return np.bincount(src, weights=values, minlength=len(cols)).astype(np.float64)

    # P₁ given the rest is the heard references' mean of z + 10·n·log₁₀ d.
    d2 = (sx[src] - px) ** 2 + (sy[src] - py) ** 2 + SOURCE_HEIGHT_M**2
    p = per_source(z + 5.0 * n[src] * np.log10(d2)) / count
    prior_pos = 1.0 / POSITION_PRIOR_SIGMA_M**2
    prior_n = 1.0 / EXPONENT_PRIOR_SIGMA**2
    for _ in range(FIT_ITERATIONS):
        dx, dy = sx[src] - px, sy[src] - py
        d2 = dx**2 + dy**2 + SOURCE_HEIGHT_M**2
        logd = 0.5 * np.log10(d2)
        e = z - (p[src] - 10.0 * n[src] * logd)
        w = np.minimum(1.0, HUBER_DB / np.maximum(np.abs(e), 1e-9)) / FIT_RSSI_SIGMA_DB**2
        slope = -10.0 * n[src] / math.log(10.0) / d2
        jac = (slope * dx, slope * dy, np.ones_like(d2), -10.0 * logd)
        normal = np.empty((len(cols), 4, 4))
        for a in range(4):
            for b in range(a, 4):
                normal[:, a, b] = normal[:, b, a] = per_source(w * jac[a] * jac[b])
        grad = np.column_stack([per_source(w * j * e) for j in jac])
        normal[:, 0, 0] += prior_pos
        normal[:, 1, 1] += prior_pos
        normal[:, 3, 3] += prior_n
        grad[:, 0] += prior_pos * (x0 - sx)
        grad[:, 1] += prior_pos * (y0 - sy)
        grad[:, 3] += prior_n * (EXPONENT_PRIOR - n)
        # A little Levenberg damping keeps near-singular systems (collinear references) tame.
        normal += 1e-6 * np.eye(4)[None]
        step = np.linalg.solve(normal, grad[..., None])[..., 0]
        move = np.hypot(step[:, 0], step[:, 1])
        shrink = np.minimum(1.0, MAX_STEP_M / np.maximum(move, 1e-9))
        sx = np.clip(sx + shrink * step[:, 0], bounds[0], bounds[2])
        sy = np.clip(sy + shrink * step[:, 1], bounds[1], bounds[3])
        p = p + step[:, 2]
        n = np.clip(n + step[:, 3], *EXPONENT_LIMITS)
    xy[cols, 0], xy[cols, 1] = sx, sy
    p1[cols], exponent[cols] = p, n
    return SourceModels(xy, p1, exponent, fitted)


def support_points(xy: Array, residual: Array, bin_m: float) -> tuple[Array, Array, Array]:
    """Readings averaged per ``bin_m`` square: (mean position (b, 2), mean residual, count)."""
    key = np.floor(xy / bin_m).astype(np.int64)
    _, inverse, count = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    mean_xy = np.column_stack([np.bincount(inverse, weights=xy[:, k]) / count for k in range(2)])
    return mean_xy, np.bincount(inverse, weights=residual) / count, count.astype(float)


def compact_support(xy: Array, residual: Array) -> tuple[Array, Array, Array]:
    """``support_points`` at SUPPORT_BIN_M, coarser until at most MAX_SUPPORT bins."""
    bin_m = SUPPORT_BIN_M
    support = support_points(xy, residual, bin_m)
    while len(support[0]) > MAX_SUPPORT:
        bin_m *= 2.0
        support = support_points(xy, residual, bin_m)
    return support


def _unit_kernel(a: Array, b: Array, length_m: float) -> Array:
    """exp(−|a − b|²/2ℓ²) between point sets (n, 2) and (m, 2)."""
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    return np.exp(-0.5 * d2 / length_m**2)


def fit_field_hyper(supports: list[tuple[Array, Array, Array]]) -> FieldHyper:
    """Maximum marginal likelihood (ℓ, σ_f, σ_n) over several sources' residual supports.

    With Σ = σ_f²·(K₁ + ρ·diag(1/count)) (K₁ the unit kernel, ρ = σ_n²/σ_f²) the marginal
    likelihood's best σ_f² for given (ℓ, ρ) is Σ rᵀ(K₁ + ρD)⁻¹r / N, leaving
    −2 log L = N·log σ_f² + log|K₁ + ρD| + N (+ const) to compare on the (ℓ, ρ) grid.
    """
    best: tuple[float, FieldHyper] | None = None
    total = sum(len(r) for _, r, _ in supports)
    if total == 0:
        return FieldHyper(LENGTH_SCALES_M[2], FIT_RSSI_SIGMA_DB, FIT_RSSI_SIGMA_DB)
    for length in LENGTH_SCALES_M:
        units = [_unit_kernel(xy, xy, length) for xy, _, _ in supports]
        for ratio in NOISE_RATIOS:
            quad, logdet = 0.0, 0.0
            for unit, (_, r, count) in zip(units, supports, strict=True):
                chol = cholesky(unit + np.diag(ratio / count), lower=True)
                a = solve_triangular(chol, r, lower=True)
                quad += float(a @ a)
                logdet += 2.0 * float(np.log(np.diag(chol)).sum())
            signal2 = quad / total
            score = total * math.log(signal2) + logdet
            if best is None or score < best[0]:
                hyper = FieldHyper(length, math.sqrt(signal2), math.sqrt(ratio * signal2))
                best = (score, hyper)
    assert best is not None
    return best[1]


class RadioField:
    """The GP radio field of one radio map on a raster of the floor (see the module notes)."""

    def __init__(
        self, radio_map: RadioMap, grid: WalkableGrid | None = None, walls: bool = False
    ) -> None:
        """``walls``: the multi-wall mean (``positioning.walls``): m(p) − L·k(source, p), with
        L fitted per floor and each source's P₁, n refitted given it (needs ``grid``)."""
        self.radio_map = radio_map
        self.grid = grid
        positions = radio_map.positions
        if grid is not None:
            bounds = (0.0, 0.0, grid.width_m, grid.height_m)
        elif len(positions):
            lo = positions.min(axis=0) - BOUNDS_MARGIN_M
            hi = positions.max(axis=0) + BOUNDS_MARGIN_M
            bounds = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
        else:
            bounds = (0.0, 0.0, 1.0, 1.0)
        self.bounds = bounds
        self.models = fit_source_models(radio_map.rssi, positions, radio_map.source_xy, bounds)
        self._cells_xy, self._cell_index = _field_raster(bounds, grid)
        # Per source: (P₁, n, walls crossed to each heard reference) of the multi-wall mean.
        self._wall_fits: dict[int, tuple[float, float, Array]] = {}
        self._cell_walls: dict[int, Array] = {}
        self.wall_loss_db: float | None = None
        if walls and grid is not None:
            self.wall_loss_db = self._fit_wall_loss()
        self.hyper = fit_field_hyper(self._hyper_supports())
        self._fields: dict[int, tuple[NDArray[np.float32], NDArray[np.float32]]] = {}

    def _residual_support(self, col: int) -> tuple[Array, Array, Array]:
        heard = self.radio_map.rssi[:, col] > MISSING_DBM
        xy = self.radio_map.positions[heard]
        z = self.radio_map.rssi[heard, col].astype(np.float64)
        if self.wall_loss_db is None:
            return compact_support(xy, z - self.models.level_dbm(col, xy[:, 0], xy[:, 1]))
        p1, n, walls = self._wall_fit(col)
        level = p1 - 10.0 * n * self._log_d(col, xy) - self.wall_loss_db * walls
        return compact_support(xy, z - level)

    def _ranked_sources(self, count: int) -> list[int]:
        """``count`` well-heard fitted sources, every k-th by how many references heard them."""
        heard = (self.radio_map.rssi > MISSING_DBM).sum(axis=0)
        ranked = [
            int(c)
            for c in np.argsort(-heard, kind="stable")
            if self.models.fitted[c] and heard[c] >= HYPER_MIN_SUPPORT
        ]
        stride = max(1, len(ranked) // count)
        return ranked[::stride][:count]

    def _hyper_supports(self) -> list[tuple[Array, Array, Array]]:
        """The residual supports of HYPER_SOURCES well-heard sources (every k-th by coverage)."""
        supports = [self._residual_support(c) for c in self._ranked_sources(HYPER_SOURCES)]
        return [s for s in supports if len(s[1]) >= HYPER_MIN_SUPPORT]

    # -- the multi-wall mean ---------------------------------------------------------------

    def _log_d(self, col: int, xy: Array) -> Array:
        """log₁₀ √(|p − s|² + h²) from source ``col`` to points (n, 2)."""
        d2 = (
            (xy[:, 0] - self.models.xy[col, 0]) ** 2
            + (xy[:, 1] - self.models.xy[col, 1]) ** 2
            + SOURCE_HEIGHT_M**2
        )
        return 0.5 * np.log10(d2)

    def walls_to(self, col: int, xy: Array) -> Array:
        """Walls crossed from source ``col``'s fitted position to points (n, 2), capped: read at
        the field cell holding each point (one ray per cell, computed once per source)."""
        walls = self._cell_walls.get(col)
        if walls is None:
            assert self.grid is not None
            source = (float(self.models.xy[col, 0]), float(self.models.xy[col, 1]))
            k = wall_crossings(self.grid.free, self.grid.cell_m, source, self._cells_xy)
            walls = wall_term(k)
            self._cell_walls[col] = walls
        return walls[self.cell_of(xy[:, 0], xy[:, 1])]

    def _source_pairs(self, col: int) -> tuple[Array, Array, Array]:
        """(z, log₁₀ d, walls) over the references that heard source ``col``."""
        heard = self.radio_map.rssi[:, col] > MISSING_DBM
        xy = self.radio_map.positions[heard]
        z = self.radio_map.rssi[heard, col].astype(np.float64)
        return z, self._log_d(col, xy), self.walls_to(col, xy)

    def _fit_wall_loss(self) -> float:
        """L per floor over WALL_FIT_SOURCES sources (source positions as fitted free-space)."""
        pairs = [self._source_pairs(c) for c in self._ranked_sources(WALL_FIT_SOURCES)]
        return fit_wall_loss(pairs, *self._level_fit_args())

    def _level_fit_args(self) -> tuple[float, float, float, float, tuple[float, float]]:
        return (EXPONENT_PRIOR, EXPONENT_PRIOR_SIGMA, FIT_RSSI_SIGMA_DB, HUBER_DB, EXPONENT_LIMITS)

    def _wall_fit(self, col: int) -> tuple[float, float, Array]:
        """(P₁, n, walls to each heard reference) of source ``col`` given L (memoised)."""
        cached = self._wall_fits.get(col)
        if cached is None:
            assert self.wall_loss_db is not None
            z, log_d, walls = self._source_pairs(col)
            p1, n = fit_level_given_walls(
                z, log_d, walls, self.wall_loss_db, *self._level_fit_args()
            )
            cached = (p1, n, walls)
            self._wall_fits[col] = cached
        return cached

    def mean_level(self, col: int, xy: Array) -> Array:
        """The field's mean without the residual at points (n, 2): m(p), less L·k(p) with walls."""
        if self.wall_loss_db is None:
            return self.models.level_dbm(col, xy[:, 0], xy[:, 1])
        p1, n, _ = self._wall_fit(col)
        return p1 - 10.0 * n * self._log_d(col, xy) - self.wall_loss_db * self.walls_to(col, xy)

    @property
    def cells_xy(self) -> Array:
        """Centres of the field's floor cells, (cells, 2)."""
        return self._cells_xy

    def cell_of(self, x: Array, y: Array) -> NDArray[np.int64]:
        """Index of the raster cell holding each point (off-floor: the nearest floor cell's)."""
        rows, cols = self._cell_index.shape
        col = np.clip(((x - self.bounds[0]) / FIELD_CELL_M).astype(np.int64), 0, cols - 1)
        row = np.clip(((y - self.bounds[1]) / FIELD_CELL_M).astype(np.int64), 0, rows - 1)
        return self._cell_index[row, col]

    def source_field(self, col: int) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """(mean dBm, variance dB²) of map column ``col`` at every raster cell (memoised)."""
        cached = self._fields.get(col)
        if cached is not None:
            return cached
        h = self.hyper
        cells = self._cells_xy
        mean = self.mean_level(col, cells)
        var = np.full(len(cells), h.signal_db**2 + h.noise_db**2)
        support_xy, r, count = self._residual_support(col)
        # (K + N)α = r with K = σ_f²·K₁ and N = σ_n²·diag(1/count).
        chol = cholesky(
            h.signal_db**2 * _unit_kernel(support_xy, support_xy, h.length_m)
            + np.diag(h.noise_db**2 / count),
            lower=True,
        )
        # (K + N)⁻¹ once; the variance's quadratic form is then a matrix product per cell.
        inverse = cho_solve((chol, True), np.eye(len(r)), check_finite=False)
        alpha = inverse @ r
        dist, _ = cKDTree(support_xy).query(cells, distance_upper_bound=REACH_LENGTHS * h.length_m)
        near = np.isfinite(dist)
        k = h.signal_db**2 * _unit_kernel(cells[near], support_xy, h.length_m)
        mean[near] += k @ alpha  # μ = m + kᵀ(K + N)⁻¹r
        quadratic = ((k @ inverse) * k).sum(axis=1)  # kᵀ(K + N)⁻¹k
        var[near] = h.signal_db**2 - quadratic + h.noise_db**2
        field = (mean.astype(np.float32), var.astype(np.float32))
        self._fields[col] = field
        return field

    def prepare(self, sources: Iterable[str]) -> None:
        """Compute the fields of these sources now (e.g. every source a store's phones hear)."""
        for source in sources:
            col = self.radio_map.column.get(source)
            if col is not None and self.models.fitted[col]:
                self.source_field(col)

    def log_likelihood(
        self,
        fingerprint: Fingerprint,
        x: Array,
        y: Array,
        residual: bool = True,
        source_discount: float = 1.0,
        offset_var_db2: float = 0.0,
    ) -> Array | None:
        """log p(scan | phone at (x, y)), per point, from the heard sources' fields.

        log p = Σⱼ [−(zⱼ − μⱼ(p))²/2vⱼ(p) − ½·log vⱼ(p)] / max(1, |sources| / EFFECTIVE_SOURCES):
        the sources of one scan share the body's shadow and the phone's offset, so their sum is
        discounted to about EFFECTIVE_SOURCES independent witnesses (the propagation-model
        likelihood's rule). Sources not heard by the scan say nothing (an unheard access point is
        as often a missed scan as a far one). None when the map knows too few of the sources.
        ``residual`` False: the fitted propagation models alone, μ = m(p), v = (7 dB)² (the old
        model's rule with the sources placed by the fit, to tell the two parts apart).
        ``source_discount`` γ: the divisor is max(1, |sources| / EFFECTIVE_SOURCES)^γ (γ = 1 the
        rule above, γ = 0 the plain sum; ``positioning.tempering`` fits it per map).
        ``offset_var_db2`` τ² > 0: a phone offset common to the scan's sources, N(0, τ²), is
        integrated out (``positioning.rssi_offset.marginal_log_likelihood``).
        """
        cols, levels = self.known_sources(fingerprint)
        if len(cols) < MIN_COMMON_SOURCES:
            return None
        cell, inverse = np.unique(self.cell_of(x, y), return_inverse=True)
        if offset_var_db2 > 0.0:
            quad, log_var, a, c = self._scan_sums(cols, levels, cell, residual)
            total = marginal_log_likelihood(quad, log_var, a, c, offset_var_db2)
        else:
            total = np.zeros(len(cell))
            for m, v, z in self._cell_fields(cols, levels, cell, residual):
                total += -0.5 * (z - m) ** 2 / v - 0.5 * np.log(v)
        total /= max(1.0, len(cols) / EFFECTIVE_SOURCES) ** source_discount
        return total[inverse.ravel()]

    def offset_evidence(
        self, fingerprint: Fingerprint, x: Array, y: Array, residual: bool = True
    ) -> tuple[Array, Array, float] | None:
        """(a, c, discount) per point for ``positioning.rssi_offset``: a = Σ (zⱼ − μⱼ)/vⱼ and
        c = Σ 1/vⱼ over the scan's modelled sources, and the scan's source discount
        max(1, |sources| / EFFECTIVE_SOURCES). None when the map knows too few sources."""
        cols, levels = self.known_sources(fingerprint)
        if len(cols) < MIN_COMMON_SOURCES:
            return None
        cell, inverse = np.unique(self.cell_of(x, y), return_inverse=True)
        _, _, a, c = self._scan_sums(cols, levels, cell, residual)
        inverse = inverse.ravel()
        return a[inverse], c[inverse], max(1.0, len(cols) / EFFECTIVE_SOURCES)

    def _cell_fields(
        self, cols: list[int], levels: list[float], cell: NDArray[np.int64], residual: bool
    ) -> Iterable[tuple[Array, Array, float]]:
        """(μ, v, z) per heard source at the given cells: the field's, or with ``residual``
        False the fitted propagation model and (7 dB)²."""
        cell_x, cell_y = self._cells_xy[cell, 0], self._cells_xy[cell, 1]
        for col, z in zip(cols, levels, strict=True):
            if residual:
                mean, var = self.source_field(col)
                yield mean[cell].astype(np.float64), var[cell].astype(np.float64), z
            else:
                m = self.models.level_dbm(col, cell_x, cell_y)
                yield m, np.full(len(cell), SOURCE_MODEL_SIGMA_DB**2), z

    def _scan_sums(
        self, cols: list[int], levels: list[float], cell: NDArray[np.int64], residual: bool
    ) -> tuple[Array, Array, Array, Array]:
        """Σ e²/v, Σ log v, Σ e/v and Σ 1/v with e = z − μ, per cell."""
        quad, log_var, a, c = (np.zeros(len(cell)) for _ in range(4))
        for m, v, z in self._cell_fields(cols, levels, cell, residual):
            e = z - m
            quad += e * e / v
            log_var += np.log(v)
            a += e / v
            c += 1.0 / v
        return quad, log_var, a, c

    def known_sources(self, fingerprint: Fingerprint) -> tuple[list[int], list[float]]:
        """Map columns of the scan's sources that have a fitted model, and their levels, dBm."""
        cols, levels = [], []
        for source, value in fingerprint.rssi_dbm.items():
            col = self.radio_map.column.get(source)
            if col is not None and self.models.fitted[col]:
                cols.append(col)
                levels.append(max(value, MISSING_DBM))
        return cols, levels


def _field_raster(
    bounds: tuple[float, float, float, float], grid: WalkableGrid | None
) -> tuple[Array, NDArray[np.int64]]:
    """Centres of the field's cells (those holding walkable floor, all without a plan), and a
    raster over ``bounds`` giving each cell's index, off-floor cells the nearest floor cell's."""
    cols = max(1, math.ceil((bounds[2] - bounds[0]) / FIELD_CELL_M))
    rows = max(1, math.ceil((bounds[3] - bounds[1]) / FIELD_CELL_M))
    floor = np.ones((rows, cols), dtype=bool)
    if grid is not None:
        # A field cell is floor if any of the plan's finer cells inside it is walkable.
        r, c = np.nonzero(grid.free)
        fr = np.minimum(((r + 0.5) * grid.cell_m / FIELD_CELL_M).astype(np.int64), rows - 1)
        fc = np.minimum(((c + 0.5) * grid.cell_m / FIELD_CELL_M).astype(np.int64), cols - 1)
        floor[:] = False
        floor[fr, fc] = True
        if not floor.any():
            floor[:] = True
    index = np.full((rows, cols), -1, dtype=np.int64)
    index[floor] = np.arange(int(floor.sum()))
    # Every off-floor cell borrows the index of its nearest floor cell.
    _, (near_r, near_c) = ndimage.distance_transform_edt(~floor, return_indices=True)
    index = index[near_r, near_c]
    fr, fc = np.nonzero(floor)
    centres = np.column_stack(
        [bounds[0] + (fc + 0.5) * FIELD_CELL_M, bounds[1] + (fr + 0.5) * FIELD_CELL_M]
    )
    return centres, index
