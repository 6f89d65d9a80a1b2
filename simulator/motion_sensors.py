"""Accelerometer, gyroscope, magnetometer and rotation vector from true motion, in Android's frame.

The phone is held flat in front of the body, screen up, its top pointing where the shopper
walks: device x to the right, y forward, z up out of the screen. Its attitude is
R = Rz(α)·Rx(pitch)·Ry(roll) (device → East-North-Up) with α = map heading − 90°, so Android's
azimuth (clockwise from north) is −α = 90° − map heading. Pitch and roll are a small hand tilt
that trembles and bobs with the steps.

Android reports specific force (the accelerometer reads +9.81 on z lying flat), angular rate in
the device frame, the magnetic field in the device frame (µT), and the rotation vector as the
(x, y, z) of the unit quaternion device → ENU with w ≥ 0 (Android recovers
w = √(1 − x² − y² − z²)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter
from scipy.spatial.transform import Rotation

from positioning.walkfile import ACCELEROMETER, GYROSCOPE, MAGNETIC_FIELD, ROTATION_VECTOR, WalkRow
from simulator.fields import RandomFields
from simulator.walking import SAMPLE_HZ, Trajectory

GRAVITY_MPS2 = 9.80665
# Earth's field in ENU, µT: horizontal 33 north, 36 down (total ~49 µT, inclination ~47°, like
# eastern China where the recordings were made; WMM gives 45–50 µT there).
EARTH_FIELD_ENU_UT = np.array([0.0, 33.0, -36.0])
# Hand tilt per shopper: the recordings' mean accelerometer gives pitch 1° (10–90 %: −2…3°)
# and roll ~3.5°; then tremor (OU σ, memory) and the step bob on top.
HAND_PITCH_MEAN_DEG, HAND_PITCH_SPREAD_DEG = 1.0, 2.0
HAND_ROLL_SPREAD_DEG = 2.5
TREMOR_DEG, TREMOR_TAU_S = 1.2, 0.5
STEP_BOB_PITCH_DEG, STEP_SWAY_ROLL_DEG = 1.0, 1.5
# The trunk and the hand twist with each stride: ±3° of yaw at the stride frequency (half the
# cadence) gives the ~10 °/s median |gyro z| of the recordings' straight walking.
STRIDE_YAW_DEG = 3.0
# Shape of the body's acceleration over a step (fractions of the heel-strike amplitude):
# forward surge at the step frequency, lateral sway at the stride (half step) frequency.
SURGE_SHARE, SWAY_SHARE = 0.3, 0.2
# The heel strike itself: a sharp pulse (σ 30 ms) of this share of the amplitude on top of the
# smooth vertical oscillation (the recordings' raw |a| has spikes to ~10 m/s² above g).
HEEL_STRIKE_SHARE, HEEL_STRIKE_WIDTH_S = 0.8, 0.03
# Hand jitter on top of the body motion: OU, σ 0.08 m/s², 0.2 s memory.
HAND_JITTER_MPS2, HAND_JITTER_TAU_S = 0.08, 0.2
# Sensor white noise (per sample, 50 Hz): consumer MEMS IMUs (e.g. Bosch BMI160: 180 µg/√Hz,
# 0.007 °/s/√Hz; AKM AK09911: 0.6 µT resolution) plus handling noise.
ACCEL_NOISE_MPS2 = 0.03
GYRO_NOISE_RADPS = 0.004
MAG_NOISE_UT = 0.4
# Gyro bias random walk after Android's calibration: 0.0001 rad/s per √s (~0.1 °/s after
# 5 minutes, the bias instability of consumer MEMS gyros).
GYRO_BIAS_WALK_RADPS = 1e-4
# The rotation vector fuses the magnetometer: its heading error follows the local magnetic
# anomaly, low-passed by the gyro (fusion time constant ~5 s), plus a slow residual wander.
FUSION_TAU_S = 5.0
HEADING_WANDER_DEG, HEADING_WANDER_TAU_S = 2.0, 30.0
ROTATION_NOISE_DEG = 0.3
# Android SensorManager.SENSOR_STATUS_ACCURACY_HIGH, what the recordings mostly show.
ACCURACY_HIGH = 3


@dataclass(frozen=True)
class ImuErrors:
    """One phone's fixed sensor errors."""

    accel_bias_mps2: tuple[float, float, float]
    gyro_bias_radps: tuple[float, float, float]
    mag_offset_ut: tuple[float, float, float]
    hand_pitch_deg: float
    hand_roll_deg: float


def _triple(rng: np.random.Generator, sigma: float) -> tuple[float, float, float]:
    x, y, z = rng.normal(0.0, sigma, 3).tolist()
    return (x, y, z)


def make_imu_errors(rng: np.random.Generator) -> ImuErrors:
    """Residual errors after Android's own calibration: accel 0.05 m/s², gyro 0.001 rad/s
    (~0.06 °/s), magnetometer hard iron 2 µT per axis (σ)."""
    return ImuErrors(
        _triple(rng, 0.05),
        _triple(rng, 0.001),
        _triple(rng, 2.0),
        float(rng.normal(HAND_PITCH_MEAN_DEG, HAND_PITCH_SPREAD_DEG)),
        float(rng.normal(0.0, HAND_ROLL_SPREAD_DEG)),
    )


def _ou(state: float, sigma: float, tau_s: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of an Ornstein–Uhlenbeck process at SAMPLE_HZ continuing from ``state``:
    xₖ = a·xₖ₋₁ + σ√(1−a²)·εₖ, a = exp(−dt/τ)."""
    a = math.exp(-1.0 / (SAMPLE_HZ * tau_s))
    shocks = sigma * math.sqrt(1 - a * a) * rng.standard_normal(n)
    return _first_order(shocks, a, state)


def _first_order(inputs: np.ndarray, a: float, state: float) -> np.ndarray:
    """yₖ = a·yₖ₋₁ + uₖ from y₋₁ = ``state`` (an IIR filter, run by scipy's lfilter)."""
    out, _ = lfilter([1.0], [1.0, -a], inputs, zi=[a * state])
    return np.asarray(out, dtype=float)


def device_attitude(
    heading_deg: np.ndarray, pitch_deg: np.ndarray, roll_deg: np.ndarray
) -> Rotation:
    """Device → ENU rotation for a phone whose top points along map ``heading_deg``."""
    return Rotation.from_euler(
        "ZXY", np.column_stack([np.asarray(heading_deg) - 90.0, pitch_deg, roll_deg]), degrees=True
    )


class MotionSensors:
    """Stateful IMU of one phone: feed consecutive trajectory windows, get sensor rows."""

    def __init__(self, errors: ImuErrors, magnetic_anomaly: RandomFields, rng: np.random.Generator):
        self.errors, self.anomaly, self.rng = errors, magnetic_anomaly, rng
        self.tremor = np.zeros(2)
        self.jitter = np.zeros(3)
        self.gyro_drift = np.zeros(3)
        self.wander_deg = 0.0
        self.fused_anomaly_deg: float | None = None
        self.previous: tuple[float, float, Rotation] | None = None  # speed, heading, attitude

    def _hand(self, window: Trajectory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(window.t_ms)
        pitch_tremor = _ou(self.tremor[0], TREMOR_DEG, TREMOR_TAU_S, n, self.rng)
        roll_tremor = _ou(self.tremor[1], TREMOR_DEG, TREMOR_TAU_S, n, self.rng)
        self.tremor = np.array([pitch_tremor[-1], roll_tremor[-1]])
        # Bob and sway scale with the step impacts, which fade in and out with speed.
        stepping = window.step_accel_mps2 / window.gait.step_accel_mps2
        u = np.pi * window.step_phase
        pitch = (
            self.errors.hand_pitch_deg
            + pitch_tremor
            + stepping * STEP_BOB_PITCH_DEG * np.sin(2 * u)
        )
        roll = self.errors.hand_roll_deg + roll_tremor + stepping * STEP_SWAY_ROLL_DEG * np.sin(u)
        yaw = stepping * STRIDE_YAW_DEG * np.sin(u + 0.4)
        return pitch, roll, yaw

    def _body_accel_enu(
        self, window: Trajectory, speed_prev: float, heading_prev: float
    ) -> np.ndarray:
        dt = 1.0 / SAMPLE_HZ
        amp = window.step_accel_mps2
        u = 2 * np.pi * (window.step_phase - 0.5)  # heel strikes at phase k + 0.5
        # Time from the nearest heel strike: phase distance over the step rate.
        from_strike = (window.step_phase % 1.0 - 0.5) / window.gait.cadence_hz
        strike = HEEL_STRIKE_SHARE * np.exp(-0.5 * (from_strike / HEEL_STRIKE_WIDTH_S) ** 2)
        vertical = amp * (np.cos(u) + 0.25 * np.cos(2 * u + 0.6) + strike)
        surge = SURGE_SHARE * amp * np.sin(u) + np.diff(window.speed_mps, prepend=speed_prev) / dt
        turn_rate = np.radians(np.diff(window.heading_deg, prepend=heading_prev)) / dt
        lateral = SWAY_SHARE * amp * np.sin(u / 2) - window.speed_mps * turn_rate  # centripetal
        h = np.radians(window.heading_deg)
        forward = np.column_stack([np.cos(h), np.sin(h), np.zeros_like(h)])
        right = np.column_stack([np.sin(h), -np.cos(h), np.zeros_like(h)])
        accel = forward * surge[:, None] + right * lateral[:, None]
        accel[:, 2] += vertical
        jitter = np.column_stack(
            [
                _ou(self.jitter[i], HAND_JITTER_MPS2, HAND_JITTER_TAU_S, len(h), self.rng)
                for i in range(3)
            ]
        )
        self.jitter = jitter[-1]
        return accel + jitter

    def _rotation_error_deg(self, window: Trajectory, anomaly_enu: np.ndarray) -> np.ndarray:
        """Heading error of the fused rotation vector: the anomaly's rotation of apparent north,
        low-passed, plus a slow wander and per-sample noise."""
        north = EARTH_FIELD_ENU_UT[:2]
        apparent = north[None, :] + anomaly_enu[:, :2]
        # δ = angle (CCW) from true to apparent north = atan2(north × apparent, north · apparent);
        # the phone takes apparent north for north, so its headings read low by δ.
        cross = north[0] * apparent[:, 1] - north[1] * apparent[:, 0]
        skew = np.degrees(np.arctan2(cross, apparent @ north))
        a = math.exp(-1.0 / (SAMPLE_HZ * FUSION_TAU_S))
        # The fusion low-passes it: fₖ = a·fₖ₋₁ + (1 − a)·skewₖ.
        start = skew[0] if self.fused_anomaly_deg is None else self.fused_anomaly_deg
        fused = _first_order((1 - a) * skew, a, start)
        self.fused_anomaly_deg = float(fused[-1])
        wander = _ou(self.wander_deg, HEADING_WANDER_DEG, HEADING_WANDER_TAU_S, len(skew), self.rng)
        self.wander_deg = float(wander[-1])
        return -fused + wander + ROTATION_NOISE_DEG * self.rng.standard_normal(len(skew))

    def sense(self, window: Trajectory) -> list[WalkRow]:
        """Sensor rows for every sample of ``window`` (four per sample, recordings' order)."""
        n = len(window.t_ms)
        if n == 0:
            return []
        speed_prev, heading_prev, attitude_prev = self.previous or (
            float(window.speed_mps[0]),
            float(window.heading_deg[0]),
            None,
        )
        pitch, roll, yaw = self._hand(window)
        attitude = device_attitude(window.heading_deg + yaw, pitch, roll)
        e = self.errors
        # Accelerometer: specific force f = a − g_vec = a + (0, 0, g) in ENU, into the device frame.
        force = self._body_accel_enu(window, speed_prev, heading_prev)
        force[:, 2] += GRAVITY_MPS2
        accel = attitude.apply(force, inverse=True) + np.array(e.accel_bias_mps2)
        accel += ACCEL_NOISE_MPS2 * self.rng.standard_normal((n, 3))
        # Gyroscope: body rate over each sample interval, ω = log(Rₖ₋₁ᵀ Rₖ) / dt.
        before = Rotation.concatenate([attitude_prev or attitude[0], attitude[:-1]])
        rate = (before.inv() * attitude).as_rotvec() * SAMPLE_HZ
        drift = np.cumsum(
            GYRO_BIAS_WALK_RADPS / math.sqrt(SAMPLE_HZ) * self.rng.standard_normal((n, 3)), axis=0
        )
        drift += self.gyro_drift
        self.gyro_drift = drift[-1]
        gyro = (
            rate
            + np.array(e.gyro_bias_radps)
            + drift
            + GYRO_NOISE_RADPS * self.rng.standard_normal((n, 3))
        )
        # Magnetometer: (Earth + anomaly at this spot) into the device frame, plus hard iron.
        anomaly = self.anomaly.all_at(window.x, window.y).T
        mag = attitude.apply(EARTH_FIELD_ENU_UT + anomaly, inverse=True) + np.array(e.mag_offset_ut)
        mag += MAG_NOISE_UT * self.rng.standard_normal((n, 3))
        # Rotation vector: the fused attitude, off in heading by the fusion's error.
        error = Rotation.from_euler(
            "z", self._rotation_error_deg(window, anomaly)[:, None], degrees=True
        )
        quat = (error * attitude).as_quat()  # (x, y, z, w)
        quat *= np.where(quat[:, 3:4] < 0, -1.0, 1.0)
        self.previous = (float(window.speed_mps[-1]), float(window.heading_deg[-1]), attitude[-1])
        rows = []
        for k in range(n):
            t = int(window.t_ms[k])
            rows.append(WalkRow(t, ACCELEROMETER, (*accel[k].tolist(), ACCURACY_HIGH)))
            rows.append(WalkRow(t, MAGNETIC_FIELD, (*mag[k].tolist(), ACCURACY_HIGH)))
            rows.append(WalkRow(t, GYROSCOPE, (*gyro[k].tolist(), ACCURACY_HIGH)))
            rows.append(WalkRow(t, ROTATION_VECTOR, (*quat[k, :3].tolist(), ACCURACY_HIGH)))
        return rows
