"""Which way the phone points: heading from the rotation vector, steadied with the gyroscope.

Android's rotation vector is the vector part of the unit quaternion turning phone axes into the
East-North-Up world frame. ``getOrientation`` gives the azimuth of the phone's +y axis clockwise
from north: ``azimuth = atan2(R[0][1], R[1][1])``. The floor frame has +x east, +y north and
heading counter-clockwise from +x, so for a phone held flat and pointing ahead

    heading = 90° − azimuth        (checked on the recordings: see docs/positioning.md)

The rotation vector leans on the magnetometer, which steel shelving and escalators bend for a
few seconds at a time; the gyroscope does not drift that fast. ``HeadingFilter`` is a scalar
Kalman filter: the gyroscope's world yaw rate predicts, the rotation-vector heading updates with
a gate, so a short magnetic disturbance is ridden out on the gyroscope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Gyroscope heading noise, rad²/s: a consumer MEMS gyro integrates to ≈ 1°/√s of random walk
# plus turn-rate scale error during turns.
GYRO_HEADING_VAR_PER_S = math.radians(1.5) ** 2
# Rotation-vector heading noise, rad²: ±10° is typical indoors, where iron bends the field.
ROTVEC_HEADING_VAR = math.radians(10.0) ** 2
# Innovation gate, in standard deviations: a rotation-vector heading this far from the
# gyroscope's prediction is a magnetic disturbance, not a turn.
HEADING_GATE_SIGMA = 4.0
# After this many gated-out updates in a row the gyroscope has lost its way: accept the
# rotation vector again (divergence recovery).
HEADING_MAX_REJECTS = 25


def wrap_rad(angle: float) -> float:
    """Angle in (−π, π]."""
    return math.atan2(math.sin(angle), math.cos(angle))


def wrap_deg(angle: float) -> float:
    """Angle in [0, 360)."""
    return angle % 360.0


def rotation_matrix(x: float, y: float, z: float) -> NDArray[np.float64]:
    """Android ``getRotationMatrixFromVector``: phone axes → East-North-Up."""
    w = math.sqrt(max(0.0, 1.0 - x * x - y * y - z * z))
    return np.array(
        [
            [1 - 2 * y * y - 2 * z * z, 2 * x * y - 2 * z * w, 2 * x * z + 2 * y * w],
            [2 * x * y + 2 * z * w, 1 - 2 * x * x - 2 * z * z, 2 * y * z - 2 * x * w],
            [2 * x * z - 2 * y * w, 2 * y * z + 2 * x * w, 1 - 2 * x * x - 2 * y * y],
        ]
    )


def android_azimuth_rad(x: float, y: float, z: float) -> float:
    """Android ``getOrientation`` azimuth: clockwise from north to the phone's +y axis."""
    w = math.sqrt(max(0.0, 1.0 - x * x - y * y - z * z))
    r01 = 2 * x * y - 2 * z * w
    r11 = 1 - 2 * x * x - 2 * z * z
    return math.atan2(r01, r11)


def map_heading_rad(x: float, y: float, z: float) -> float:
    """Floor-frame heading (counter-clockwise from +x) of the phone's +y axis: π/2 − azimuth."""
    return wrap_rad(math.pi / 2 - android_azimuth_rad(x, y, z))


def world_yaw_rate(rotvec: tuple[float, float, float], gyro: tuple[float, float, float]) -> float:
    """Rate of turn about the world up axis, rad/s, counter-clockwise positive: (R·ω)_z."""
    x, y, z = rotvec
    w = math.sqrt(max(0.0, 1.0 - x * x - y * y - z * z))
    gx, gy, gz = gyro
    return (
        (2 * x * z - 2 * y * w) * gx
        + (2 * y * z + 2 * x * w) * gy
        + (1 - 2 * x * x - 2 * y * y) * gz
    )


@dataclass
class HeadingState:
    """Heading estimate (rad, counter-clockwise from +x) and its variance (rad²)."""

    heading_rad: float
    var_rad2: float


def heading_predict(state: HeadingState, yaw_rate: float, dt_s: float) -> HeadingState:
    """Kalman predict, F = 1: ψ ← ψ + ω·dt, P ← P + q·dt."""
    return HeadingState(
        wrap_rad(state.heading_rad + yaw_rate * dt_s),
        state.var_rad2 + GYRO_HEADING_VAR_PER_S * dt_s,
    )


def heading_update(
    state: HeadingState, measured_rad: float, meas_var: float = ROTVEC_HEADING_VAR
) -> tuple[HeadingState, float]:
    """Kalman update, H = 1: ν = z − ψ (wrapped), S = P + R, K = P/S, ψ ← ψ + Kν, P ← (1 − K)P.

    Returns the new state and the normalised innovation ν/√S (for gating by the caller).
    """
    innovation = wrap_rad(measured_rad - state.heading_rad)
    s = state.var_rad2 + meas_var
    gain = state.var_rad2 / s
    new = HeadingState(wrap_rad(state.heading_rad + gain * innovation), (1 - gain) * state.var_rad2)
    return new, innovation / math.sqrt(s)


class HeadingFilter:
    """Gyroscope-propagated, rotation-vector-corrected heading; feed readings in time order."""

    def __init__(self) -> None:
        self.state: HeadingState | None = None
        self._rotvec: tuple[float, float, float] | None = None
        self._last_gyro_ms: int | None = None
        self._rejects = 0
        self.measured_rad: float | None = None  # the latest rotation-vector heading, unfiltered

    @property
    def heading_rad(self) -> float | None:
        return None if self.state is None else self.state.heading_rad

    def on_rotation_vector(self, t_ms: int, x: float, y: float, z: float) -> None:
        self._rotvec = (x, y, z)
        measured = map_heading_rad(x, y, z)
        self.measured_rad = measured
        if self.state is None:
            self.state = HeadingState(measured, ROTVEC_HEADING_VAR)
            return
        updated, normalised = heading_update(self.state, measured, ROTVEC_HEADING_VAR)
        if abs(normalised) <= HEADING_GATE_SIGMA or self._rejects >= HEADING_MAX_REJECTS:
            self.state, self._rejects = updated, 0
        else:
            self._rejects += 1

    def on_gyro(self, t_ms: int, x: float, y: float, z: float) -> None:
        last, self._last_gyro_ms = self._last_gyro_ms, t_ms
        if self.state is None or self._rotvec is None or last is None:
            return
        dt_s = (t_ms - last) / 1000.0
        if not 0.0 < dt_s < 1.0:  # a gap or a repeat: nothing to integrate safely
            return
        self.state = heading_predict(self.state, world_yaw_rate(self._rotvec, (x, y, z)), dt_s)
