"""True motion of a shopper: where they are, which way they face and where in the step cycle.

A visit is a list of legs: walk a route polyline, then stand at a stop (a shelf, a screen, the
checkout) facing it. The walk integrates a speed that wanders around the shopper's preferred
speed, accelerates from standstill and brakes before the stop; the body turns toward a point a
little ahead on the route at a limited turn rate; the step phase advances one per step length
walked, so steps = distance / step length by construction (the accelerometer shows them).
Sampled at ``SAMPLE_HZ`` (Android SENSOR_DELAY_GAME, as the recordings, ~50 Hz).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SAMPLE_HZ = 50
SAMPLE_MS = 1000 // SAMPLE_HZ
# Preferred walking speeds of shoppers: 0.8–1.5 m/s (slower than the ~1.3–1.4 m/s of commuters:
# shoppers look at shelves while walking).
SPEED_RANGE_MPS = (0.8, 1.5)
# Cadence rises with speed: ~1.6 steps/s at 0.8 m/s to ~2.0 at 1.5 m/s (gait studies report
# 1.6–2.0 Hz for comfortable walking), so step length runs ~0.50–0.75 m.
CADENCE_AT_SLOWEST_HZ, CADENCE_AT_FASTEST_HZ = 1.6, 2.0
CADENCE_SPREAD_HZ = 0.05
# Natural speed variation within a walk: an Ornstein–Uhlenbeck factor, σ 7 % with 4 s memory.
SPEED_WANDER_SIGMA = 0.07
SPEED_WANDER_TAU_S = 4.0
# Walking starts and stops take about a step: 1 m/s² up, 0.8 m/s² down.
ACCEL_MPS2, BRAKE_MPS2 = 1.0, 0.8
# Braking follows v = √(2·b·remaining); this floor only ends the approach (the last millimetres).
ARRIVE_SPEED_MPS = 0.02
# The body aims at the route this far ahead, so corners are rounded rather than pivoted.
LOOKAHEAD_M = 0.8
# People turn their body at up to ~150 °/s when walking a corner; the lag smooths the start.
MAX_TURN_DPS = 150.0
TURN_LAG_S = 0.25
# While browsing, the gaze sweeps along the shelf: ±12° over a ~7 s cycle.
BROWSE_SWEEP_DEG, BROWSE_PERIOD_S = 12.0, 7.0
# Amplitude of the step's vertical acceleration for a phone held in the hand, per shopper.
# With the heel-strike spike on top (motion_sensors) the smoothed |a| peaks reach ~5 m/s² above
# g, as in the recordings (median peak 4.9–5.2 m/s² per floor with the same detector).
STEP_ACCEL_RANGE_MPS2 = (2.0, 3.2)
STEP_ACCEL_SPREAD = 0.12
# Below this speed the step impacts fade out (the first and last half step are gentle).
STEP_FADE_SPEED_MPS = 0.3


@dataclass(frozen=True)
class Gait:
    """How one shopper walks."""

    speed_mps: float
    step_length_m: float
    step_accel_mps2: float

    @property
    def cadence_hz(self) -> float:
        return self.speed_mps / self.step_length_m


def make_gait(rng: np.random.Generator) -> Gait:
    """A shopper's gait: speed 0.8–1.5 m/s (mode ~1.1), cadence from speed, step length = v / f."""
    lo, hi = SPEED_RANGE_MPS
    speed = float(np.clip(rng.normal(1.12, 0.17), lo, hi))
    cadence = CADENCE_AT_SLOWEST_HZ + (CADENCE_AT_FASTEST_HZ - CADENCE_AT_SLOWEST_HZ) * (
        speed - lo
    ) / (hi - lo)
    cadence += float(rng.normal(0.0, CADENCE_SPREAD_HZ))
    return Gait(speed, speed / cadence, float(rng.uniform(*STEP_ACCEL_RANGE_MPS2)))


@dataclass(frozen=True)
class Stop:
    """Where a leg ends: stand at (x, y) facing ``facing_deg`` for ``dwell_s`` (0 = walk on)."""

    x: float
    y: float
    facing_deg: float | None
    dwell_s: float
    activity: str  # browse | screen | queue | pay | leave
    zone_id: str | None = None


@dataclass(frozen=True)
class Trajectory:
    """The sampled ground truth of one visit (arrays of one length, one row per sample)."""

    t_ms: np.ndarray  # int64
    x: np.ndarray
    y: np.ndarray
    heading_deg: np.ndarray  # map heading, 0 = +x (east), counter-clockwise; unwrapped
    speed_mps: np.ndarray
    step_phase: np.ndarray  # steps taken so far (heel strikes at k + 0.5)
    step_accel_mps2: np.ndarray  # heel-strike amplitude of the current step; 0 when standing
    gait: Gait

    @property
    def start_ms(self) -> int:
        return int(self.t_ms[0])

    @property
    def end_ms(self) -> int:
        return int(self.t_ms[-1])

    def distance_m(self) -> float:
        return float(np.hypot(np.diff(self.x), np.diff(self.y)).sum())

    def window(self, t0_ms: int, t1_ms: int) -> Trajectory:
        """Samples with ``t0_ms <= t < t1_ms`` (what a live phone would sense in that interval)."""
        lo, hi = np.searchsorted(self.t_ms, [t0_ms, t1_ms])
        s = slice(int(lo), int(hi))
        return Trajectory(
            self.t_ms[s],
            self.x[s],
            self.y[s],
            self.heading_deg[s],
            self.speed_mps[s],
            self.step_phase[s],
            self.step_accel_mps2[s],
            self.gait,
        )

    def pose_at(self, t_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Interpolated (x, y, heading_deg) at any times (radio packets fall between samples)."""
        return (
            np.interp(t_ms, self.t_ms, self.x),
            np.interp(t_ms, self.t_ms, self.y),
            np.interp(t_ms, self.t_ms, self.heading_deg),
        )


def _along(path: np.ndarray, cumulative: np.ndarray, s: float) -> tuple[float, float]:
    s = min(max(s, 0.0), float(cumulative[-1]))
    return (
        float(np.interp(s, cumulative, path[:, 0])),
        float(np.interp(s, cumulative, path[:, 1])),
    )


def _turn_toward(heading: float, target: float, dt: float) -> float:
    """One step of a rate-limited first-order turn (degrees, unwrapped)."""
    error = (target - heading + 180.0) % 360.0 - 180.0
    rate = np.clip(error / TURN_LAG_S, -MAX_TURN_DPS, MAX_TURN_DPS)
    return heading + float(rate) * dt


class _Walker:
    """Accumulates samples leg by leg (state: position, heading, speed factor, step phase)."""

    def __init__(self, x: float, y: float, heading: float, gait: Gait, rng: np.random.Generator):
        self.gait, self.rng = gait, rng
        self.x, self.y, self.heading, self.speed, self.phase = x, y, heading, 0.0, 0.0
        self.wander = 0.0
        self.rows: list[tuple[float, float, float, float, float, bool]] = []
        self.dt = 1.0 / SAMPLE_HZ

    def _emit(self, walking: bool) -> None:
        self.rows.append((self.x, self.y, self.heading, self.speed, self.phase, walking))

    def _wander_step(self) -> float:
        # OU: dw = −w/τ dt + σ√(2/τ) dW
        a = self.dt / SPEED_WANDER_TAU_S
        self.wander += -self.wander * a + SPEED_WANDER_SIGMA * math.sqrt(2 * a) * float(
            self.rng.normal()
        )
        return self.gait.speed_mps * (1.0 + self.wander)

    def walk(self, path: np.ndarray) -> None:
        steps = np.hypot(*np.diff(path, axis=0).T)
        cumulative = np.concatenate([[0.0], np.cumsum(steps)])
        length = float(cumulative[-1])
        s = 0.0
        while s < length:
            target_speed = self._wander_step()
            remaining = length - s
            braking = math.sqrt(2 * BRAKE_MPS2 * remaining)
            self.speed = min(
                target_speed, self.speed + ACCEL_MPS2 * self.dt, max(braking, ARRIVE_SPEED_MPS)
            )
            s = min(s + self.speed * self.dt, length)
            self.x, self.y = _along(path, cumulative, s)
            ax, ay = _along(path, cumulative, s + LOOKAHEAD_M)
            if math.hypot(ax - self.x, ay - self.y) > 0.05:
                target = math.degrees(math.atan2(ay - self.y, ax - self.x))
                self.heading = _turn_toward(self.heading, target, self.dt)
            self.phase += self.speed * self.dt / self.gait.step_length_m
            self._emit(True)
        self.speed = 0.0

    def stand(self, stop: Stop) -> None:
        sweep_phase = float(self.rng.uniform(0, 2 * math.pi))
        n = max(1, round(stop.dwell_s * SAMPLE_HZ))
        for k in range(n):
            if stop.facing_deg is not None:
                sweep = 0.0
                if stop.activity == "browse":
                    sweep = BROWSE_SWEEP_DEG * math.sin(
                        2 * math.pi * k * self.dt / BROWSE_PERIOD_S + sweep_phase
                    )
                self.heading = _turn_toward(self.heading, stop.facing_deg + sweep, self.dt)
            self._emit(False)


def build_trajectory(
    start: tuple[float, float],
    legs: list[tuple[np.ndarray, Stop]],
    gait: Gait,
    start_ms: int,
    rng: np.random.Generator,
) -> Trajectory:
    """Walk every (route, stop) leg in turn from ``start``; the first sample is at ``start_ms``."""
    first_path = legs[0][0]
    dx, dy = first_path[min(1, len(first_path) - 1)] - first_path[0]
    heading = math.degrees(math.atan2(dy, dx)) if (dx or dy) else 90.0
    walker = _Walker(start[0], start[1], heading, gait, rng)
    walker._emit(False)
    for path, stop in legs:
        if len(path) > 1:
            walker.walk(path)
        walker.stand(stop)
    table = np.array(walker.rows, dtype=float)
    n = len(table)
    phase = table[:, 4]
    walking = table[:, 5] > 0.5
    # One amplitude per step: heel strikes differ by ~12 % from step to step.
    amplitudes = gait.step_accel_mps2 * (
        1.0 + STEP_ACCEL_SPREAD * rng.standard_normal(int(phase[-1]) + 2)
    )
    # Steps fade in and out with speed, so starting and stopping show no jump.
    envelope = np.clip(table[:, 3] / STEP_FADE_SPEED_MPS, 0.0, 1.0)
    step_accel = np.where(walking, amplitudes[np.floor(phase).astype(int)] * envelope, 0.0)
    return Trajectory(
        t_ms=start_ms + SAMPLE_MS * np.arange(n, dtype=np.int64),
        x=table[:, 0],
        y=table[:, 1],
        heading_deg=table[:, 2],
        speed_mps=table[:, 3],
        step_phase=phase,
        step_accel_mps2=step_accel,
        gait=gait,
    )
