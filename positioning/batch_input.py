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
        return cls(np.asarray(t_ms, dtype=np.int64), np.array((x, y, z), dtype=float).T)


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
    """Each batch's motion samples merged in time order, padded to the longest row.

    One sort for all rows: by row, then time, then sensor (accelerometer, gyroscope, rotation
    vector: the stable order ``heapq.merge`` gives at equal times), then the sensor's own order.
    """
    series = [s for b in batches for s in (b.accel, b.gyro, b.rotation)]
    lengths = np.array([len(s.t_ms) for s in series], dtype=np.int64).reshape(-1, 3)
    t = np.concatenate([s.t_ms for s in series]) if series else np.zeros(0, dtype=np.int64)
    xyz = np.concatenate([s.xyz for s in series]) if series else np.zeros((0, 3))
    kind_codes = np.tile(np.array([ACCEL, GYRO, ROTATION], dtype=np.int8), len(batches))
    kind = np.repeat(kind_codes, lengths.ravel())
    per_row = lengths.sum(axis=1)
    row = np.repeat(np.arange(len(batches)), per_row)
    # One int64 key (row, time since the push's first sample, sensor); a stable sort keeps each
    # sensor's own order at equal keys. Each row is three sorted runs: timsort merges them fast.
    # Batches span minutes at most (the server refuses older readings): 2³⁴ ms is 200 days.
    since = t - (t.min() if len(t) else 0)
    key = (row << 36) | (since << 2) | kind
    order = np.argsort(key, kind="stable")
    starts = np.concatenate([[0], np.cumsum(per_row)[:-1]]) if len(batches) else per_row
    sorted_row = row[order]
    column = np.arange(len(order)) - starts[sorted_row]
    width = int(per_row.max(initial=0))
    kinds = np.full((len(batches), width), PAD, dtype=np.int8)
    times = np.zeros((len(batches), width), dtype=np.int64)
    values = np.zeros((len(batches), width, 3))
    kinds[sorted_row, column] = kind[order]
    times[sorted_row, column] = t[order]
    values[sorted_row, column] = xyz[order]
    return MotionColumns(np.asarray(rows, dtype=np.int64), kinds, times, values)
