"""One shopper's batch of readings as arrays (``SensorBatch``), and many of them sensor by sensor.

A phone sends about a second of sensing at a time, one time-ordered series per sensor. The batched
tracker takes those series as numpy arrays, never as one object per reading; ``motion_samples``
concatenates many shoppers' series, sensor by sensor, for ``BatchMotion.run`` (which works out
the merged time order itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from positioning.batch_motion import MotionSamples, SensorSamples

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


def motion_samples(rows: IntArray, batches: Sequence[SensorBatch]) -> MotionSamples:
    """Each sensor's samples of every batch, concatenated row by row (no merge, no padding)."""
    return MotionSamples(
        np.asarray(rows, dtype=np.int64),
        _concatenated([b.accel for b in batches]),
        _concatenated([b.gyro for b in batches]),
        _concatenated([b.rotation for b in batches]),
    )


def _concatenated(series: Sequence[Series3]) -> SensorSamples:
    if not series:
        return SensorSamples(EMPTY3.t_ms, EMPTY3.t_ms, EMPTY3.xyz)
    lengths = np.fromiter((len(s.t_ms) for s in series), dtype=np.int64, count=len(series))
    row = np.repeat(np.arange(len(series)), lengths)
    t_ms = np.concatenate([s.t_ms for s in series])
    # BatchMotion reads the merged order off (row, time) keys: a series must not go backwards.
    if ((np.diff(t_ms) < 0) & (row[1:] == row[:-1])).any():
        raise ValueError("a sensor series goes back in time (samples must be in time order)")
    return SensorSamples(row, t_ms, np.concatenate([s.xyz for s in series]))
