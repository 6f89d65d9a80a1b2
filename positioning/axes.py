"""Corridor axes of a floor plan, and the phone's heading bias learnt against them.

Buildings are built along a few directions: corridors, shop fronts and aisles run parallel to
them, and a shopper walking straight mostly walks along one of them. The phone's heading,
though, carries a per-walk bias of up to ±15° (the magnetometer's calibration of the day, the
grip); on the recordings removing each walk's own bias would cut the median heading error by a
third. ``HeadingBias`` learns that bias online, in the manner of heuristic drift elimination
(Borenstein et al., 2009): whenever the last few steps went straight, the gap between their
heading and the nearest plan axis is one observation of the bias; the estimate is their mean,
shrunk toward zero by a prior worth a few observations. The axes come from the plan alone
(``plan_axes_rad``): peaks of the length-weighted histogram of its walls' directions.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numpy.typing import NDArray

from positioning.floorplan import FloorPlan
from positioning.heading import wrap_rad

# Wall directions are histogrammed modulo 180° in bins this wide, degrees, and smoothed with a
# Gaussian this wide: shop fronts drawn by hand wobble by a degree or two.
AXIS_BIN_DEG = 1.0
AXIS_SMOOTHING_DEG = 2.0
# A direction is an axis when its smoothed wall length is at least this share of the longest
# one's: the building's main directions, not the odd angled shop front.
AXIS_MIN_SHARE = 0.15
# Straight walking: the last STRAIGHT_STEPS step headings all within STRAIGHT_SPREAD_DEG of their
# mean (a step's sway is ±3–5°; a turn or a curve leaves that band within two steps).
STRAIGHT_STEPS = 4
STRAIGHT_SPREAD_DEG = 8.0
# A straight stretch further than this from every axis is a diagonal walk, not a bias, degrees
# (the biases measured on the recordings stay within ±15°).
BIAS_GATE_DEG = 15.0
# Prior of zero bias, worth this many observations: a first straight stretch that happens to
# run along an unplanned diagonal moves the estimate by a sixth of its gap, not all of it.
BIAS_PRIOR_OBSERVATIONS = 5.0


def plan_axes_rad(plan: FloorPlan) -> NDArray[np.float64]:
    """The floor's main wall directions in [0, π), radians (empty for a plan without walls).

    >>> import shapely
    >>> plan = FloorPlan("hall", 40.0, 10.0, shapely.box(0, 0, 40, 10))
    >>> np.round(np.degrees(plan_axes_rad(plan))).tolist()
    [0.0, 90.0]
    """
    angles, lengths = [], []
    for polygon in getattr(plan.walkable, "geoms", [plan.walkable]):
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = np.asarray(ring.coords)
            if xy.ndim != 2 or len(xy) < 2:
                continue  # an empty ring (an empty plan) has no walls
            d = np.diff(xy, axis=0)
            # shifted half a bin so that bin i is centred on i·AXIS_BIN_DEG
            angles.append((np.degrees(np.arctan2(d[:, 1], d[:, 0])) + AXIS_BIN_DEG / 2) % 180.0)
            lengths.append(np.hypot(d[:, 0], d[:, 1]))
    if not angles or sum(len(a) for a in angles) == 0:
        return np.zeros(0)
    bins = round(180.0 / AXIS_BIN_DEG)
    hist, _ = np.histogram(
        np.concatenate(angles), bins=bins, range=(0.0, 180.0), weights=np.concatenate(lengths)
    )
    if hist.max() <= 0:
        return np.zeros(0)
    # Circular smoothing (directions wrap at 180°): h_s[i] = Σ_j h[i − j]·g(j).
    half = 3 * round(AXIS_SMOOTHING_DEG / AXIS_BIN_DEG)
    offsets = np.arange(-half, half + 1)
    kernel = np.exp(-0.5 * (offsets * AXIS_BIN_DEG / AXIS_SMOOTHING_DEG) ** 2)
    smooth = sum(k * np.roll(hist, int(j)) for j, k in zip(offsets, kernel, strict=True))
    peak = (
        (smooth >= np.roll(smooth, 1))
        & (smooth > np.roll(smooth, -1))
        & (smooth >= AXIS_MIN_SHARE * smooth.max())
    )
    return np.radians(np.flatnonzero(peak) * AXIS_BIN_DEG)


def axis_residual_rad(heading_rad: float, axes_rad: NDArray[np.float64]) -> float | None:
    """Signed gap from a heading to the nearest axis either way along it (mod π), or None.

    >>> round(math.degrees(axis_residual_rad(math.radians(-172.0), np.radians([0.0, 90.0]))))
    8
    """
    if len(axes_rad) == 0:
        return None
    # gap mod π: wrap(2·(ψ − a)) / 2 lies in (−π/2, π/2]
    gaps = np.array([wrap_rad(2.0 * (heading_rad - a)) / 2.0 for a in axes_rad])
    return float(gaps[np.argmin(np.abs(gaps))])


class HeadingBias:
    """Online per-walk heading bias against the plan's axes; feed one heading per step."""

    def __init__(self, axes_rad: NDArray[np.float64]) -> None:
        self.axes_rad = axes_rad
        self._recent: deque[float] = deque(maxlen=STRAIGHT_STEPS)
        self._sum = 0.0
        self._count = 0

    @property
    def bias_rad(self) -> float:
        """b = Σ rᵢ / (n + n₀): the mean straight-walk gap, shrunk toward 0 by the prior."""
        return self._sum / (self._count + BIAS_PRIOR_OBSERVATIONS)

    def on_step(self, heading_rad: float) -> None:
        """One step's phone heading; counts a gap when the last steps went straight."""
        self._recent.append(heading_rad)
        if len(self._recent) < STRAIGHT_STEPS:
            return
        recent = np.asarray(self._recent)
        mean = math.atan2(float(np.sin(recent).mean()), float(np.cos(recent).mean()))
        spread = max(abs(wrap_rad(h - mean)) for h in recent)
        if spread >= math.radians(STRAIGHT_SPREAD_DEG):
            return
        gap = axis_residual_rad(mean, self.axes_rad)
        if gap is not None and abs(gap) < math.radians(BIAS_GATE_DEG):
            self._sum += gap
            self._count += 1

    def corrected(self, heading_rad: float) -> float:
        """The heading with the learnt bias removed."""
        return wrap_rad(heading_rad - self.bias_rad)
