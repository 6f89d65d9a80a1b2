"""Causal step detection on the accelerometer and Weinberg step length.

A step shows as one bump of the acceleration magnitude |a| above gravity. The detector
low-passes |a|, arms when it rises above ``PEAK_THRESHOLD`` and reports the step when it falls
back through ``VALLEY_THRESHOLD`` (hysteresis), at that falling instant — so a step is only ever
reported from samples up to its own time. Weinberg (2002): step length L = K·(a_max − a_min)^¼,
with K calibrated from survey walks (``calibrate_weinberg_k``) and scaled online by the fusion.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

GRAVITY = 9.80665
# Low-pass on |a|: y ← y + α(x − y). At 50 Hz, α = 0.3 passes walking cadence (1.5–2.5 Hz)
# and removes hand tremor and sensor noise above ≈ 5 Hz.
LOWPASS_ALPHA = 0.3
# Hysteresis on the filtered |a| − g, m/s². Walking with a hand-held phone gives ±1.5–4 m/s²
# bumps; standing, swaying and typing stay under ±0.5.
PEAK_THRESHOLD = 0.9
VALLEY_THRESHOLD = -0.2
# Cadence limits: people do not step faster than 3.3 Hz or treat 2 s apart as one stride.
MIN_STEP_INTERVAL_MS = 300
MAX_STEP_INTERVAL_MS = 2000
# Weinberg K for a hand-held phone before calibration (typical literature value, m·(m/s²)^−¼).
DEFAULT_WEINBERG_K = 0.45
# Step length limits, metres: anything outside is a detector artefact, clamped.
MIN_STEP_M = 0.3
MAX_STEP_M = 1.2


@dataclass(frozen=True, slots=True)
class StepEvent:
    """One detected step, reported at ``t_ms`` (the instant it was recognised)."""

    t_ms: int
    weinberg_feature: float  # (a_max − a_min)^¼ over the step, (m/s²)^¼
    interval_ms: int


def weinberg_length(feature: float, k: float) -> float:
    """L = K·(a_max − a_min)^¼, clamped to plausible step lengths."""
    return min(MAX_STEP_M, max(MIN_STEP_M, k * feature))


class StepDetector:
    """Feed accelerometer samples in time order; ``push`` returns a StepEvent when a step ends."""

    def __init__(self) -> None:
        self._filtered: float | None = None
        self._armed = False
        self._peak = -math.inf
        self._valley = math.inf
        self._last_step_ms: int | None = None
        self._last_t_ms: int | None = None

    def push(self, t_ms: int, x: float, y: float, z: float) -> StepEvent | None:
        if self._last_t_ms is not None and t_ms < self._last_t_ms:
            return None  # a sample from the past: the filter state has moved on
        self._last_t_ms = t_ms
        magnitude = math.sqrt(x * x + y * y + z * z) - GRAVITY
        if self._filtered is None:
            self._filtered = magnitude
        self._filtered += LOWPASS_ALPHA * (magnitude - self._filtered)
        a = self._filtered
        if not self._armed:
            self._valley = min(self._valley, a)
            if a > PEAK_THRESHOLD:
                self._armed, self._peak = True, a
            return None
        self._peak = max(self._peak, a)
        if a >= VALLEY_THRESHOLD:
            return None
        self._armed = False
        swing, self._valley = self._peak - min(self._valley, a), a
        last, interval = self._last_step_ms, MAX_STEP_INTERVAL_MS
        if last is not None:
            interval = min(MAX_STEP_INTERVAL_MS, t_ms - last)
            if interval < MIN_STEP_INTERVAL_MS:
                return None
        self._last_step_ms = t_ms
        return StepEvent(t_ms, swing**0.25, interval)


def detect_steps(samples: Iterable[tuple[int, float, float, float]]) -> list[StepEvent]:
    """Every step in a sequence of ``(t_ms, x, y, z)`` accelerometer samples."""
    detector = StepDetector()
    return [s for s in (detector.push(*sample) for sample in samples) if s is not None]


def path_length_m(points: Sequence[tuple[int, float, float]], start_ms: int, end_ms: int) -> float:
    """Length of the piecewise-linear path through ``(t_ms, x, y)`` points within [start, end]."""
    inside = [(x, y) for t, x, y in points if start_ms <= t <= end_ms]
    return sum(math.dist(a, b) for a, b in itertools.pairwise(inside))


def calibrate_weinberg_k(walks: Iterable[tuple[float, float]]) -> float:
    """K = Σ distance / Σ feature over survey walks given as ``(distance_m, Σ step features)``."""
    distance = feature = 0.0
    for d, f in walks:
        distance, feature = distance + d, feature + f
    return distance / feature if feature > 0 else DEFAULT_WEINBERG_K
