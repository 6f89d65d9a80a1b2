"""One shopper's batch of readings as arrays (``SensorBatch``), and many of them as padded columns.

A phone sends about a second of sensing at a time, one time-ordered series per sensor. The batched
tracker takes those series as numpy arrays, never as one object per reading; ``motion_columns``
merges each shopper's motion series in time order — ties in the order accelerometer, gyroscope,
rotation vector, as ``heapq.merge`` over the series gives ``Tracker`` — and pads the shoppers
into ``(rows, columns)`` arrays for ``BatchMotion.run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from positioning.batch_motion import ACCEL, GYRO, PAD, ROTATION, MotionColumns

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Series3:
    """A 3-axis sensor series: ``t_ms`` (n,) in time order and ``xyz`` (n, 3)."""

    t_ms: IntArray
    xyz: Array

    @classmethod
    def of(cls, t_ms: Sequence[int], x: Sequence[float], y: Sequence[float],
           z: Sequence[float]) -> Series3:  # fmt: skip
        return cls(np.asarray(t_ms, dtype=np.int64), np.column_stack([x, y, z]).astype(float))


EMPTY3 = Series3(np.zeros(0, dtype=np.int64), np.zeros((0, 3)))


@dataclass(frozen=True)
class SensorBatch:
    """About a second of one phone's readings; ``latest_ms`` is its latest reading time."""

    latest_ms: int
    accel: Series3 = EMPTY3
    gyro: Series3 = EMPTY3
    rotation: Series3 = EMPTY3
    beacon_id: Sequence[str] = ()
    beacon_rssi_dbm: Array = field(default_factory=lambda: np.zeros(0))


def motion_columns(rows: IntArray, batches: Sequence[SensorBatch]) -> MotionColumns:
    """Each batch's motion samples merged in time order, padded to the longest row."""
    merged = []
    for batch in batches:
        series = (batch.accel, batch.gyro, batch.rotation)
        t = np.concatenate([s.t_ms for s in series])
        kind = np.concatenate(
            [
                np.full(len(s.t_ms), k, dtype=np.int8)
                for s, k in zip(series, (ACCEL, GYRO, ROTATION), strict=True)
            ]
        )
        xyz = np.concatenate([s.xyz for s in series])
        order = np.argsort(t, kind="stable")  # stable: ties keep accel, gyro, rotation order
        merged.append((kind[order], t[order], xyz[order]))
    width = max((len(t) for _, t, _ in merged), default=0)
    kinds = np.full((len(merged), width), PAD, dtype=np.int8)
    times = np.zeros((len(merged), width), dtype=np.int64)
    values = np.zeros((len(merged), width, 3))
    for i, (kind, t, xyz) in enumerate(merged):
        kinds[i, : len(t)], times[i, : len(t)], values[i, : len(t)] = kind, t, xyz
    return MotionColumns(np.asarray(rows, dtype=np.int64), kinds, times, values)
