"""A magnetic-field likelihood from the survey walks (issue 3; an option, not the default).

Steel in a building bends the earth's field over metres, so the field's strength is a (weak)
location signal. The magnetometer reads the field in the phone's axes; the rotation vector turns
it into East-North-Up, B_enu = R·B_phone (``heading.rotation_matrix``). The rotation vector's yaw
is itself taken from the magnetometer, so the horizontal direction carries nothing (it points
north by construction); what is left are the rotation-invariant magnitudes. We use the total
|B|: on the recordings it is the most repeatable of up, horizontal and total (docs/positioning.md,
"Session 4: magnetic field"), and it needs no rotation at all.

The map (``MagneticMap``) is a 1 m raster of a Gaussian-process-like posterior of |B| from the
survey windows (1 s means placed at their interpolated survey position), per cell:

    each survey walk j contributes its kernel-weighted mean m_j (Gaussian kernel, ℓ = 1.5 m) with
    weight w_j = min(Σ kernel, 1) — one pass of one walk is one observation, however slowly the
    surveyor walked (its windows share the walk's calibration offset);
    μ = m₀ + Σ w_j (m_j − m₀) / (W + ρ),  W = Σ w_j,  ρ = σ_n² / σ_s²
    v = σ_s² ρ / (W + ρ) + σ_n²

so where nobody walked W = 0, μ = m₀ and v = σ_s² + σ_n² at every cell: the likelihood there is
the same everywhere and penalises no particle against another unsurveyed one. m₀, σ_s² and σ_n²
come from the survey itself: σ_n² is half the mean squared difference between windows of two
different walks less than 1 m apart (the nugget: sensor noise, the walks' calibration offsets,
interpolation error), σ_s² + σ_n² the variance of all windows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter
from scipy.spatial import cKDTree

from positioning.heading import rotation_matrix
from positioning.radiomap import interpolate_position
from positioning.readings import MagReading, Reading
from positioning.walkfile import Walk

Array = NDArray[np.float64]

# A feature is the mean |B| over this window: 50 Hz samples average out the hand's shake, and
# at walking pace a window covers ≈ 1.3 m, about the map's kernel.
WINDOW_MS = 1000
# Map raster and kernel, m: the field decorrelates over a few metres (the survey's variogram
# rises over 1–8 m) and interpolated survey positions are good to about a metre.
CELL_M = 1.0
KERNEL_M = 1.5
# Windows of two walks closer than this are "the same place" for the nugget, m.
NUGGET_PAIR_M = 1.0
# The signal variance is never taken below this share of the total (a survey with no repeated
# place would otherwise claim σ_s = 0 or less).
MIN_SIGNAL_SHARE = 0.05


def earth_field(
    rotation_vector: tuple[float, float, float], field: tuple[float, float, float]
) -> Array:
    """The phone-frame field turned into East-North-Up, µT: R(rotation vector)·B."""
    return rotation_matrix(*rotation_vector) @ np.asarray(field, dtype=float)


def field_features(
    rotation_vector: tuple[float, float, float], field: tuple[float, float, float]
) -> tuple[float, float, float]:
    """(up, horizontal, total) magnitudes of the field, µT: invariant to how the phone is held."""
    b = earth_field(rotation_vector, field)
    return float(b[2]), float(math.hypot(b[0], b[1])), float(np.linalg.norm(b))


class FieldWindow:
    """Causal: mean |B| over consecutive ``WINDOW_MS`` windows of magnetometer samples.

    |B| is the same in the phone's axes as in the earth frame (a rotation keeps lengths), so
    the window needs no attitude: |R·B| = |B| (``field_features`` gives the up and horizontal
    parts, which do need it). ``push`` takes readings in arrival order; ``take()`` returns the
    mean of the window just completed (once), or None.
    """

    def __init__(self, window_ms: int = WINDOW_MS) -> None:
        self.window_ms = window_ms
        self._start: int | None = None
        self._sum = 0.0
        self._count = 0
        self._ready: tuple[int, float] | None = None

    def push(self, reading: Reading) -> None:
        if not isinstance(reading, MagReading):
            return
        if self._start is None:
            self._start = reading.t_ms
        if reading.t_ms - self._start >= self.window_ms:
            if self._count:
                self._ready = (self._start + self.window_ms // 2, self._sum / self._count)
            self._start, self._sum, self._count = reading.t_ms, 0.0, 0
        self._sum += math.sqrt(
            reading.x * reading.x + reading.y * reading.y + reading.z * reading.z
        )
        self._count += 1

    def take(self) -> tuple[int, float] | None:
        """(mid-time ms, mean |B| µT) of the last completed window, once."""
        ready, self._ready = self._ready, None
        return ready


def walk_windows(
    readings: Iterable[Reading], window_ms: int = WINDOW_MS
) -> list[tuple[int, float]]:
    """Every completed window of a walk: (mid-time ms, mean |B| µT)."""
    window = FieldWindow(window_ms)
    out = []
    for r in readings:
        window.push(r)
        ready = window.take()
        if ready is not None:
            out.append(ready)
    return out


def survey_windows(walk: Walk, window_ms: int = WINDOW_MS) -> Array:
    """A survey walk's windows placed by its waypoints: rows (x, y, |B|); (0, 3) if none."""
    waypoints = sorted(walk.waypoints, key=lambda w: w.t_ms)
    rows = []
    for t_ms, value in walk_windows(sorted(walk.readings, key=_time), window_ms):
        xy = interpolate_position(waypoints, t_ms)
        if xy is not None:
            rows.append((xy[0], xy[1], value))
    return np.array(rows, dtype=float).reshape(-1, 3)


def _time(reading: Reading) -> int:
    return reading.t_ms


@dataclass(frozen=True)
class FieldHyper:
    """The map's prior: mean m₀, signal variance σ_s², nugget σ_n² (µT, µT²)."""

    mean: float
    signal_var: float
    noise_var: float


def fit_hyper(windows: Sequence[Array]) -> FieldHyper:
    """m₀, σ_s², σ_n² from the survey windows (one array per walk), as the module says."""
    rows = np.vstack([w for w in windows if len(w)]) if windows else np.zeros((0, 3))
    if len(rows) < 2:
        return FieldHyper(float(rows[:, 2].mean()) if len(rows) else 0.0, 1.0, 1.0)
    walk_of = np.concatenate([np.full(len(w), i) for i, w in enumerate(windows) if len(w)])
    total = float(rows[:, 2].var())
    pairs = cKDTree(rows[:, :2]).query_pairs(NUGGET_PAIR_M, output_type="ndarray")
    pairs = pairs[walk_of[pairs[:, 0]] != walk_of[pairs[:, 1]]]
    if len(pairs):
        noise = 0.5 * float(np.mean((rows[pairs[:, 0], 2] - rows[pairs[:, 1], 2]) ** 2))
    else:
        noise = total
    noise = min(noise, total * (1 - MIN_SIGNAL_SHARE))
    return FieldHyper(float(rows[:, 2].mean()), total - noise, max(noise, 1e-6))


@dataclass(frozen=True)
class MagneticMap:
    """|B| on a raster: posterior mean ``mu`` and predictive variance ``var`` per cell."""

    origin: tuple[float, float]
    cell_m: float
    mu: Array  # (ny, nx)
    var: Array  # (ny, nx)
    hyper: FieldHyper

    @classmethod
    def from_windows(
        cls,
        windows: Mapping[str, Array],
        cell_m: float = CELL_M,
        kernel_m: float = KERNEL_M,
    ) -> MagneticMap:
        """The map from survey windows per walk name (rows x, y, |B|)."""
        per_walk = [w for w in windows.values() if len(w)]
        hyper = fit_hyper(per_walk)
        if not per_walk:
            empty = np.zeros((1, 1))
            return cls((0.0, 0.0), cell_m, empty + hyper.mean, empty + 1.0, hyper)
        rows = np.vstack(per_walk)
        pad = 3 * kernel_m + cell_m
        x0, y0 = rows[:, 0].min() - pad, rows[:, 1].min() - pad
        nx = math.ceil((rows[:, 0].max() + pad - x0) / cell_m) + 1
        ny = math.ceil((rows[:, 1].max() + pad - y0) / cell_m) + 1
        sigma_cells = kernel_m / cell_m
        # Gaussian-filtered sums: mode="constant" so nothing leaks back in from the edges.
        # The filter normalises its kernel to 1; × 2πσ² (in cells) restores the unnormalised
        # Σ exp(−d²/2ℓ²) so that one sample sitting on a cell counts as 1.
        scale = 2 * math.pi * sigma_cells**2
        weight_sum = np.zeros((ny, nx))
        value_sum = np.zeros((ny, nx))
        for w in per_walk:
            ix = np.clip(np.round((w[:, 0] - x0) / cell_m).astype(int), 0, nx - 1)
            iy = np.clip(np.round((w[:, 1] - y0) / cell_m).astype(int), 0, ny - 1)
            count = np.zeros((ny, nx))
            total = np.zeros((ny, nx))
            np.add.at(count, (iy, ix), 1.0)
            np.add.at(total, (iy, ix), w[:, 2] - hyper.mean)
            k = gaussian_filter(count, sigma_cells, mode="constant", truncate=3.0) * scale
            s = gaussian_filter(total, sigma_cells, mode="constant", truncate=3.0) * scale
            walk_weight = np.minimum(k, 1.0)
            walk_mean = np.divide(s, k, out=np.zeros_like(s), where=k > 1e-9)
            weight_sum += walk_weight
            value_sum += walk_weight * walk_mean
        rho = hyper.noise_var / hyper.signal_var
        mu = hyper.mean + value_sum / (weight_sum + rho)
        var = hyper.signal_var * rho / (weight_sum + rho) + hyper.noise_var
        return cls((float(x0), float(y0)), cell_m, mu, var, hyper)

    @classmethod
    def from_walks(cls, walks: Iterable[Walk]) -> MagneticMap:
        """The map from survey walks (those with waypoints)."""
        return cls.from_windows({w.name: survey_windows(w) for w in walks if len(w.waypoints) >= 2})

    def at(self, x: Array, y: Array) -> tuple[Array, Array]:
        """(μ, v) at points; the prior (m₀, σ_s² + σ_n²) off the raster."""
        ny, nx = self.mu.shape
        ix = np.round((np.asarray(x) - self.origin[0]) / self.cell_m).astype(int)
        iy = np.round((np.asarray(y) - self.origin[1]) / self.cell_m).astype(int)
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        h = self.hyper
        mu = np.full(ix.shape, h.mean)
        var = np.full(ix.shape, h.signal_var + h.noise_var)
        mu[inside] = self.mu[iy[inside], ix[inside]]
        var[inside] = self.var[iy[inside], ix[inside]]
        return mu, var

    def log_likelihood(self, value: float, x: Array, y: Array) -> Array:
        """log N(value; μ(x, y), v(x, y)) per point (constant term left out)."""
        mu, var = self.at(x, y)
        return -0.5 * (value - mu) ** 2 / var - 0.5 * np.log(var)
