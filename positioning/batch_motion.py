"""``StepDetector`` and ``HeadingFilter`` for many shoppers at once, one row per shopper.

Each shopper's motion samples (accelerometer, gyroscope, rotation vector) arrive merged in time
order — the order ``Tracker`` sees them — and padded into ``(rows, columns)`` arrays. The loop runs
over columns (≈ 150 for a second at 50 Hz), each column one numpy operation across every
shopper; the per-row state (filtered |a|, hysteresis, last step; heading, variance, last rotation
vector) carries over from one batch to the next, so the result is the same as the per-shopper
objects fed the same samples one by one (``tests/positioning/test_batch_motion.py``). The
equations are the per-shopper modules' (``positioning.steps``, ``positioning.heading``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from positioning.heading import (
    GYRO_HEADING_VAR_PER_S,
    HEADING_GATE_SIGMA,
    HEADING_MAX_REJECTS,
    ROTVEC_HEADING_VAR,
)
from positioning.steps import (
    GRAVITY,
    LOWPASS_ALPHA,
    MAX_STEP_INTERVAL_MS,
    MIN_STEP_INTERVAL_MS,
    PEAK_THRESHOLD,
    VALLEY_THRESHOLD,
)

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
Mask = NDArray[np.bool_]

# Sample kinds in the merged columns; PAD marks a column past a row's last sample.
PAD, ACCEL, GYRO, ROTATION = -1, 0, 1, 3
# "No time yet" for the per-row last-sample times.
NEVER = np.iinfo(np.int64).min


@dataclass
class MotionColumns:
    """One batch of merged motion samples for some rows: ``kind``/``t_ms`` ``(r, c)``, ``xyz``
    ``(r, c, 3)``; ``rows`` are the state rows they belong to."""

    rows: IntArray
    kind: NDArray[np.int8]
    t_ms: IntArray
    xyz: Array


@dataclass
class MotionSteps:
    """Steps found in a ``MotionColumns``: at ``(row index into columns.rows, column)``, with the
    Weinberg feature and the heading at that instant (NaN: no heading yet)."""

    row: IntArray
    column: IntArray
    t_ms: IntArray
    feature: Array
    heading_rad: Array


def _wrap(angle: Array) -> Array:
    """Angle in [−π, π): ``heading.wrap_rad`` up to rounding and the ±π edge, without trig."""
    return np.asarray(np.remainder(angle + np.pi, 2.0 * np.pi) - np.pi)


class BatchMotion:
    """Per-row step-detector and heading-filter state; ``run`` feeds one batch of columns."""

    def __init__(self, rows: int = 0) -> None:
        self._fields: dict[str, np.ndarray] = {}
        self._defaults = {
            # StepDetector
            "filtered": np.nan,
            "armed": False,
            "peak": -np.inf,
            "valley": np.inf,
            "last_step_ms": NEVER,
            "last_accel_ms": NEVER,
            # HeadingFilter
            "heading": np.nan,
            "var": np.nan,
            "rotvec_x": np.nan,
            "rotvec_y": np.nan,
            "rotvec_z": np.nan,
            "last_gyro_ms": NEVER,
            "last_rotation_ms": NEVER,
            "rejects": 0,
        }
        for name, value in self._defaults.items():
            self._fields[name] = np.full(rows, value)

    def __len__(self) -> int:
        return len(self._fields["armed"])

    def grow(self, rows: int) -> None:
        extra = rows - len(self)
        if extra > 0:
            for name, value in self._defaults.items():
                self._fields[name] = np.concatenate([self._fields[name], np.full(extra, value)])

    def clear(self, rows: Mask) -> None:
        for name, value in self._defaults.items():
            self._fields[name][rows] = value

    def heading_rad(self, rows: IntArray) -> Array:
        """Current heading of the rows (NaN before the first rotation vector)."""
        return np.asarray(self._fields["heading"][rows])

    def run(self, columns: MotionColumns) -> MotionSteps:
        """Feed every column in order; return the steps found."""
        f = {name: values[columns.rows] for name, values in self._fields.items()}
        found: list[tuple[IntArray, int, IntArray, Array, Array]] = []
        for c in range(columns.kind.shape[1]):
            kind, t = columns.kind[:, c], columns.t_ms[:, c]
            x, y, z = columns.xyz[:, c, 0], columns.xyz[:, c, 1], columns.xyz[:, c, 2]
            accel = (kind == ACCEL) & (t >= f["last_accel_ms"])
            if accel.any():
                step = _step_column(f, accel, t, x, y, z)
                if step.any():
                    idx = np.flatnonzero(step)
                    swing = f["_swing"][idx]
                    found.append((idx, c, t[idx], swing**0.25, f["heading"][idx]))
            rotation = (kind == ROTATION) & (t >= f["last_rotation_ms"])
            if rotation.any():
                _rotation_column(f, rotation, t, x, y, z)
            gyro = (kind == GYRO) & (t >= f["last_gyro_ms"])
            if gyro.any():
                _gyro_column(f, gyro, t, x, y, z)
        f.pop("_swing", None)
        for name, values in f.items():
            self._fields[name][columns.rows] = values
        if not found:
            empty = np.zeros(0, dtype=np.int64)
            return MotionSteps(empty, empty, empty, np.zeros(0), np.zeros(0))
        return MotionSteps(
            np.concatenate([idx for idx, *_ in found]),
            np.concatenate([np.full(len(idx), c) for idx, c, *_ in found]),
            np.concatenate([t for _, _, t, _, _ in found]),
            np.concatenate([feature for *_, feature, _ in found]),
            np.concatenate([heading for *_, heading in found]),
        )


def _step_column(f: dict[str, np.ndarray], on: Mask, t: IntArray, x: Array, y: Array,
                 z: Array) -> Mask:  # fmt: skip
    """``StepDetector.push`` on the rows in ``on``; True where a step ends (swing: f["_swing"])."""
    f["last_accel_ms"] = np.where(on, t, f["last_accel_ms"])
    magnitude = np.sqrt(x * x + y * y + z * z) - GRAVITY
    filtered = f["filtered"]
    filtered = np.where(on & np.isnan(filtered), magnitude, filtered)
    filtered = np.where(on, filtered + LOWPASS_ALPHA * (magnitude - filtered), filtered)
    f["filtered"] = a = filtered
    armed = f["armed"].astype(bool)
    idle = on & ~armed
    f["valley"] = np.where(idle, np.minimum(f["valley"], a), f["valley"])
    arming = idle & (a > PEAK_THRESHOLD)
    f["peak"] = np.where(arming, a, f["peak"])
    climbing = on & armed
    f["peak"] = np.where(climbing, np.maximum(f["peak"], a), f["peak"])
    falling = climbing & (a < VALLEY_THRESHOLD)
    f["armed"] = (armed | arming) & ~falling
    f["_swing"] = f["peak"] - np.minimum(f["valley"], a)
    f["valley"] = np.where(falling, a, f["valley"])
    last = f["last_step_ms"]
    interval = np.minimum(MAX_STEP_INTERVAL_MS, t - np.where(last == NEVER, 0, last))
    too_soon = (last != NEVER) & (interval < MIN_STEP_INTERVAL_MS)
    step = falling & ~too_soon
    f["last_step_ms"] = np.where(step, t, last)
    return np.asarray(step)


def _rotation_column(f: dict[str, np.ndarray], on: Mask, t: IntArray, x: Array, y: Array,
                     z: Array) -> None:  # fmt: skip
    """``HeadingFilter.on_rotation_vector``: measured heading π/2 − azimuth, gated update."""
    f["last_rotation_ms"] = np.where(on, t, f["last_rotation_ms"])
    for axis, value in (("rotvec_x", x), ("rotvec_y", y), ("rotvec_z", z)):
        f[axis] = np.where(on, value, f[axis])
    w = np.sqrt(np.maximum(0.0, 1.0 - x * x - y * y - z * z))
    azimuth = np.arctan2(2 * x * y - 2 * z * w, 1 - 2 * x * x - 2 * z * z)
    measured = _wrap(np.pi / 2 - azimuth)
    heading, var = f["heading"], f["var"]
    first = on & np.isnan(heading)
    innovation = _wrap(measured - heading)
    s = var + ROTVEC_HEADING_VAR
    gain = var / s
    normalised = innovation / np.sqrt(s)
    rejects = f["rejects"]
    take = (
        on
        & ~first
        & ((np.abs(normalised) <= HEADING_GATE_SIGMA) | (rejects >= HEADING_MAX_REJECTS))
    )
    gated = on & ~first & ~take
    f["heading"] = np.where(
        first, measured, np.where(take, _wrap(heading + gain * innovation), heading)
    )
    f["var"] = np.where(first, ROTVEC_HEADING_VAR, np.where(take, (1 - gain) * var, var))
    f["rejects"] = np.where(take, 0, np.where(gated, rejects + 1, rejects))


def _gyro_column(f: dict[str, np.ndarray], on: Mask, t: IntArray, x: Array, y: Array,
                 z: Array) -> None:  # fmt: skip
    """``HeadingFilter.on_gyro``: ψ ← ψ + (R·ω)_z·dt, P ← P + q·dt (dt in (0, 1) s)."""
    last = f["last_gyro_ms"]
    f["last_gyro_ms"] = np.where(on, t, last)
    dt = (t - np.where(last == NEVER, t, last)) / 1000.0
    valid = on & (last != NEVER) & ~np.isnan(f["heading"]) & ~np.isnan(f["rotvec_x"])
    valid &= (dt > 0.0) & (dt < 1.0)
    rx, ry, rz = f["rotvec_x"], f["rotvec_y"], f["rotvec_z"]
    w = np.sqrt(np.maximum(0.0, 1.0 - rx * rx - ry * ry - rz * rz))
    yaw_rate = (
        (2 * rx * rz - 2 * ry * w) * x
        + (2 * ry * rz + 2 * rx * w) * y
        + (1 - 2 * rx * rx - 2 * ry * ry) * z
    )
    f["heading"] = np.where(valid, _wrap(f["heading"] + yaw_rate * dt), f["heading"])
    f["var"] = np.where(valid, f["var"] + GYRO_HEADING_VAR_PER_S * dt, f["var"])
